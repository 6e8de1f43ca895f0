//! `cargo xtask train | eval | predict --task forecast` as a user runs them: a small CSV with a
//! date column, a small model, the run folder with the naive baselines in its report, the
//! config that reproduces it, resume, and bad input (one line naming the file, exit code 2,
//! nothing written).

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::{assert_refused, scratch, text, xtask};

/// 240 days of two seasonal columns (period 12) with a trend, dated, all positive.
fn write_series(dir: &Path, rows: usize) -> PathBuf {
    let mut csv = String::from("day,sales,price\n");
    for t in 0..rows {
        let season = (t as f64 * std::f64::consts::TAU / 12.0).sin();
        csv.push_str(&format!(
            "day-{t:04},{:.3},{:.3}\n",
            100.0 + 0.2 * t as f64 + 10.0 * season,
            50.0 + 5.0 * season
        ));
    }
    let path = dir.join("sales.csv");
    std::fs::write(&path, csv).expect("write csv");
    path
}

/// A small, quick run of `data` (flags after these override them).
fn small(data: &str, out: &str, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = [
        "train",
        "--task",
        "forecast",
        "--data",
        data,
        "--out",
        out,
        "--hidden-size",
        "8",
        "--batch-size",
        "16",
        "--progress",
        "quiet",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for (flag, default) in [("--lookback", "12"), ("--epochs", "3")] {
        if !extra.contains(&flag) {
            args.extend([flag.to_string(), default.to_string()]);
        }
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

fn run(args: &[String], dir: &Path) -> Output {
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    xtask(&refs, dir)
}

#[test]
fn train_eval_predict_with_naive_baselines_and_reproducible_config() {
    let dir = scratch("forecast_cli", "train");
    write_series(&dir, 240);
    let args = small(
        "sales.csv",
        "run",
        &[
            "--target",
            "sales,price",
            "--date-column",
            "day",
            "--horizon",
            "2",
            "--transform",
            "diff",
            "--attention",
            "additive",
            "--encoder",
            "gru",
            "--season",
            "12",
        ],
    );
    let trained = run(&args, &dir);
    assert!(trained.status.success(), "{}", text(&trained.stderr));
    let run_dir = dir.join("run");
    for file in [
        "config.json",
        "transform.json",
        "model.bpk",
        "report.md",
        "test_scores.json",
        "forecast.png",
        "loss.png",
        "metrics.jsonl",
    ] {
        assert!(run_dir.join(file).is_file(), "{file} missing");
    }
    let report = std::fs::read_to_string(run_dir.join("report.md")).unwrap();
    for row in [
        "| model |",
        "| naive (last value) |",
        "| seasonal naive (m = 12) |",
    ] {
        assert!(report.contains(row), "{row} not in {report}");
    }
    let config = std::fs::read_to_string(run_dir.join("config.json")).unwrap();
    assert!(config.contains("\"task\": \"forecast\""), "{config}");
    // A periodic series: the seasonal naive forecast is nearly exact (only the trend is off).
    let scores: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run_dir.join("test_scores.json")).unwrap())
            .unwrap();
    let seasonal_mae = scores["scores"][2]["mae"].as_f64().unwrap();
    let naive_mae = scores["scores"][1]["mae"].as_f64().unwrap();
    assert!(seasonal_mae < naive_mae, "{scores}");
    // summary.json, the form every task writes, carries the same scores.
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run_dir.join("summary.json")).unwrap())
            .unwrap();
    assert_eq!(summary["task"], "forecast");
    assert_eq!(
        summary["test"]["naive_mae"].as_f64(),
        Some(naive_mae),
        "{summary}"
    );
    assert_eq!(
        summary["test"]["seasonal_mae"].as_f64(),
        Some(seasonal_mae),
        "{summary}"
    );
    assert_eq!(
        summary["test"]["mae"].as_f64(),
        scores["scores"][0]["mae"].as_f64(),
        "{summary}"
    );

    // eval prints the same table as the report.
    let eval = xtask(&["eval", "--run", "run"], &dir);
    assert!(eval.status.success(), "{}", text(&eval.stderr));
    let table = text(&eval.stdout);
    let model_row = |s: &str| {
        s.lines()
            .find(|l| l.starts_with("| model |"))
            .map(String::from)
    };
    assert_eq!(model_row(&table), model_row(&report), "{table}");

    // eval on a whole file with the run's columns: every window after the first season.
    let other = xtask(&["eval", "--run", "run", "--data", "sales.csv"], &dir);
    assert!(other.status.success(), "{}", text(&other.stderr));
    assert!(
        text(&other.stdout).starts_with("sales.csv: 226 windows"),
        "{}",
        text(&other.stdout)
    );

    // predict: the next 2 steps of both targets after the last date.
    let predict = xtask(&["predict", "--run", "run"], &dir);
    assert!(predict.status.success(), "{}", text(&predict.stderr));
    let out = text(&predict.stdout);
    let lines: Vec<&str> = out.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(lines.len(), 4, "{out}");
    assert!(lines[0].starts_with("t+1\tsales\t"), "{out}");
    assert!(lines[3].starts_with("t+2\tprice\t"), "{out}");
    let value: f64 = lines[0].split('\t').nth(2).unwrap().parse().unwrap();
    assert!(
        (100.0..200.0).contains(&value),
        "sales forecast {value} far off"
    );
    assert!(
        out.starts_with("# sales.csv: 2 steps after index day-0239"),
        "{out}"
    );

    // The run's config.json reproduces it.
    let again = xtask(
        &[
            "train",
            "--config",
            "run/config.json",
            "--out",
            "again",
            "--progress",
            "quiet",
        ],
        &dir,
    );
    assert!(again.status.success(), "{}", text(&again.stderr));
    let first = std::fs::read_to_string(run_dir.join("test_scores.json")).unwrap();
    let second = std::fs::read_to_string(dir.join("again/test_scores.json")).unwrap();
    let strip = |s: &str| {
        let mut v: serde_json::Value = serde_json::from_str(s).unwrap();
        v["seconds_per_epoch"] = serde_json::Value::Null;
        v
    };
    assert_eq!(strip(&first), strip(&second));

    // A finished run is kept.
    assert_refused(&run(&args, &dir), "a finished run is there");
}

#[test]
fn resume_continues_to_more_epochs() {
    let dir = scratch("forecast_cli", "resume");
    write_series(&dir, 150);
    let first = run(&small("sales.csv", "run", &["--target", "sales"]), &dir);
    assert!(first.status.success(), "{}", text(&first.stderr));
    let resumed = xtask(
        &[
            "train",
            "--resume",
            "--out",
            "run",
            "--epochs",
            "5",
            "--progress",
            "quiet",
        ],
        &dir,
    );
    assert!(resumed.status.success(), "{}", text(&resumed.stderr));
    let metrics = std::fs::read_to_string(dir.join("run/metrics.jsonl")).unwrap();
    assert_eq!(metrics.lines().count(), 5, "{metrics}");
    // Flags that change the run are refused on resume.
    assert_refused(
        &xtask(
            &[
                "train",
                "--resume",
                "--out",
                "run",
                "--epochs",
                "6",
                "--lookback",
                "4",
            ],
            &dir,
        ),
        "--lookback",
    );
}

#[test]
fn bundled_sunspots_runs_with_its_default_season() {
    let dir = scratch("forecast_cli", "sunspots");
    let out = run(
        &small("sunspots", "run", &["--epochs", "2", "--lookback", "22"]),
        &dir,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report = std::fs::read_to_string(dir.join("run/report.md")).unwrap();
    assert!(report.contains("seasonal naive (m = 11)"), "{report}");
}

#[test]
fn bad_input_is_one_line_naming_the_file_with_exit_code_2() {
    let dir = scratch("forecast_cli", "bad");
    write_series(&dir, 120);
    std::fs::write(dir.join("text.csv"), "day,sales\n1,3.5\n2,n/a\n3,4\n").unwrap();
    std::fs::write(dir.join("hole.csv"), "day,sales\n1,3.5\n2,\n3,4\n").unwrap();
    std::fs::write(
        dir.join("short.csv"),
        "day,sales\n1,3.5\n2,3\n3,4\n4,5\n5,6\n",
    )
    .unwrap();
    let with = |data: &str, extra: &[&str]| {
        let mut flags = vec!["--target", "sales", "--date-column", "day"];
        flags.extend_from_slice(extra);
        run(&small(data, "run", &flags), &dir)
    };
    assert_refused(
        &with("text.csv", &[]),
        "text.csv:3:2: column \"sales\": expected a number, found \"n/a\"",
    );
    assert_refused(
        &with("hole.csv", &[]),
        "hole.csv:3:2: column \"sales\": missing value",
    );
    assert_refused(&with("hole.csv", &[]), "--fill forward|linear");
    assert_refused(
        &run(&small("sales.csv", "run", &["--target", "volume"]), &dir),
        "sales.csv: missing column \"volume\"",
    );
    assert_refused(
        &with("sales.csv", &["--horizon", "500"]),
        "sales.csv: horizon 500 is longer than the series (120 rows)",
    );
    assert_refused(&with("short.csv", &["--lookback", "6"]), "short.csv");
    assert_refused(
        &with("sales.csv", &["--lookback", "118"]),
        "sales.csv: the valid split has no window",
    );
    assert_refused(
        &with("sales.csv", &["--transform", "ratio"]),
        "unknown transform \"ratio\"",
    );
    assert_refused(
        &with("sales.csv", &["--attention", "dot"]),
        "unknown attention \"dot\"",
    );
    assert_refused(&with("sales.csv", &["--season", "400"]), "--season");
    assert_refused(&with("nowhere.csv", &[]), "--data nowhere.csv");
    assert_refused(
        &run(&small("sales.csv", "run", &[]), &dir),
        "name a column with --target COL",
    );
    assert!(!dir.join("run").exists(), "a refused run wrote its folder");
}

#[test]
fn gaps_in_the_file_are_filled_when_asked() {
    let dir = scratch("forecast_cli", "fill");
    let path = write_series(&dir, 120);
    // Empty the `sales` cell of row 50: an error by default, interpolated with --fill linear.
    let csv = std::fs::read_to_string(&path).expect("read csv");
    let holed: Vec<String> = csv
        .lines()
        .enumerate()
        .map(|(i, line)| {
            if i == 51 {
                let mut cells: Vec<&str> = line.split(',').collect();
                cells[1] = "";
                cells.join(",")
            } else {
                line.to_string()
            }
        })
        .collect();
    std::fs::write(&path, holed.join("\n") + "\n").expect("write csv");
    let flags = ["--target", "sales", "--date-column", "day"];
    assert_refused(
        &run(&small("sales.csv", "run", &flags), &dir),
        "sales.csv:52:2",
    );
    let mut filled = flags.to_vec();
    filled.extend(["--fill", "linear"]);
    let output = run(&small("sales.csv", "run", &filled), &dir);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let config = std::fs::read_to_string(dir.join("run/config.json")).expect("config.json");
    assert!(config.contains("\"fill\": \"linear\""), "{config}");
}

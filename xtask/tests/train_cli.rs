//! `cargo xtask train | eval | predict` as a user runs them: a small CSV, a small model, the
//! run folder, reruns, bad input (one line, exit code 2, nothing overwritten) and a training
//! process killed with SIGKILL that resumes to the same weights as an uninterrupted run.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const XTASK: &str = env!("CARGO_BIN_EXE_xtask");

/// A fresh folder for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("train_cli")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}

/// 240 short "reviews": positive ones use words from one list, negative ones from another,
/// with shared filler words, so that a small model learns them in a few epochs.
fn write_reviews(dir: &Path) -> PathBuf {
    let good = ["great", "fine", "lovely", "superb", "moving", "funny"];
    let bad = ["dull", "awful", "boring", "weak", "messy", "tired"];
    let filler = ["the", "film", "plot", "was", "a", "very", "story", "cast"];
    let mut csv = String::from("id,review,sentiment\n");
    let mut state = 12345u32;
    let mut next = |n: usize| {
        state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
        (state >> 16) as usize % n
    };
    for i in 0..240 {
        let positive = i % 2 == 0;
        let words = if positive { &good } else { &bad };
        let mut text = Vec::new();
        for _ in 0..(3 + next(6)) {
            text.push(filler[next(filler.len())]);
        }
        let at = next(text.len() + 1);
        text.insert(at, words[next(words.len())]);
        let label = if positive { "pos" } else { "neg" };
        csv.push_str(&format!("{i},\"{}\",{label}\n", text.join(" ")));
    }
    let path = dir.join("reviews.csv");
    std::fs::write(&path, csv).expect("write csv");
    path
}

/// A small model and a short schedule (the defaults are the rt-polarity recipe).
fn write_config(dir: &Path, data: &Path, epochs: usize) -> PathBuf {
    let config = format!(
        r#"{{
  "task": "classify",
  "backend": "flex",
  "devices": 1,
  "data": {{
    "source": "{}",
    "text_column": "review",
    "label_column": "sentiment",
    "split": {{"kind": "stratified", "train": 0.7, "valid": 0.15, "test": 0.15, "seed": 3}},
    "min_freq": 1
  }},
  "model": {{
    "embedding_dim": 8,
    "embedding_dropout": 0.1,
    "encoder": {{"kind": "lstm", "hidden_size": 8, "bidirectional": true}},
    "pooling": "max",
    "feature_dropout": 0.1
  }},
  "train": {{
    "epochs": {epochs},
    "batch_size": 16,
    "seed": 5,
    "optimizer": {{"kind": "adam", "lr": 0.02}},
    "monitor": {{"metric": "accuracy", "mode": "max"}}
  }}
}}"#,
        data.display()
    );
    let path = dir.join("small.json");
    std::fs::write(&path, config).expect("write config");
    path
}

fn xtask(args: &[&str], dir: &Path) -> Output {
    Command::new(XTASK)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("xtask runs")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A refused run: exit code 2, one line on stderr naming `needle`, no panic or backtrace.
fn assert_refused(output: &Output, needle: &str) {
    let err = stderr(output);
    assert_eq!(output.status.code(), Some(2), "exit code; stderr: {err}");
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line, got: {err}");
    assert!(lines[0].starts_with("error: "), "{err}");
    assert!(err.contains(needle), "expected `{needle}` in: {err}");
    assert!(
        !err.contains("panicked") && !err.contains("backtrace"),
        "{err}"
    );
}

#[test]
fn bad_input_is_one_line_with_exit_code_2() {
    let dir = scratch("bad-input");
    let data = write_reviews(&dir);
    let config = write_config(&dir, &data, 2);
    let config = config.to_str().expect("utf-8 path");
    let out = ["--out", "run"];

    let with = |extra: &[&str]| {
        let mut args = vec!["train", "--config", config];
        args.extend_from_slice(extra);
        args.extend_from_slice(&out);
        xtask(&args, &dir)
    };
    assert_refused(&with(&["--backend", "cuda"]), "`backend`");
    assert_refused(&with(&["--data", "nowhere.csv"]), "--data nowhere.csv");
    assert_refused(&with(&["--text-column", "body"]), "missing column \"body\"");
    assert_refused(&with(&["--pooling", "median"]), "median");
    assert_refused(&with(&["--lr", "0"]), "optimizer.lr");

    std::fs::write(dir.join("empty.csv"), "").expect("write");
    assert_refused(&with(&["--data", "empty.csv"]), "empty.csv");
    std::fs::write(
        dir.join("ragged.csv"),
        "id,review,sentiment\n1,good,pos\n2,bad,neg,extra\n",
    )
    .expect("write");
    assert_refused(&with(&["--data", "ragged.csv"]), "ragged.csv:3");
    std::fs::write(
        dir.join("one-class.csv"),
        "id,review,sentiment\n1,a,pos\n2,b,pos\n",
    )
    .expect("write");
    assert_refused(&with(&["--data", "one-class.csv"]), "at least 2 classes");

    let zero = std::fs::read_to_string(config)
        .expect("read")
        .replace("\"hidden_size\": 8", "\"hidden_size\": 0");
    std::fs::write(dir.join("zero.json"), zero).expect("write");
    assert_refused(
        &xtask(&["train", "--config", "zero.json", "--out", "run"], &dir),
        "hidden_size",
    );
    std::fs::write(dir.join("broken.json"), "{\"task\": \"classify\",").expect("write");
    assert_refused(
        &xtask(&["train", "--config", "broken.json", "--out", "run"], &dir),
        "broken.json",
    );
    assert_refused(
        &xtask(&["train", "--resume", "--out", "no-such-run"], &dir),
        "no run there",
    );
    assert_refused(
        &xtask(&["eval", "--run", "no-such-run"], &dir),
        "no run there",
    );
    // Nothing was written by any of them.
    assert!(!dir.join("run").exists());
    // clap's own usage errors use exit code 2 as well.
    let unknown = xtask(&["train", "--encoder", "tcn"], &dir);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(stderr(&unknown).contains("possible values"));
    let unknown = xtask(&["train", "--task", "translate"], &dir);
    assert_eq!(unknown.status.code(), Some(2));
}

/// A `--config` file may give only what differs from the default recipe (even the task), and
/// `--lr` sets the optimiser's learning rate; both end up complete in the run's config.json.
#[test]
fn a_partial_config_and_lr_flag_make_a_complete_config() {
    let dir = scratch("partial");
    let data = write_reviews(&dir);
    let partial = format!(
        r#"{{"data": {{"source": "{}", "text_column": "review", "label_column": "sentiment",
             "min_freq": 1}},
           "model": {{"embedding_dim": 8, "encoder": {{"hidden_size": 8}}}},
           "train": {{"epochs": 1, "batch_size": 32}}}}"#,
        data.display()
    );
    std::fs::write(dir.join("partial.json"), partial).expect("write");
    let trained = xtask(
        &[
            "train",
            "--config",
            "partial.json",
            "--lr",
            "0.004",
            "--out",
            "run",
        ],
        &dir,
    );
    assert!(trained.status.success(), "{}", stderr(&trained));
    let config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("run/config.json")).expect("config.json"))
            .expect("config JSON");
    assert_eq!(config["task"], "classify");
    assert_eq!(config["backend"], "flex");
    assert_eq!(config["train"]["epochs"], 1);
    assert_eq!(config["train"]["batch_size"], 32);
    assert_eq!(config["train"]["optimizer"]["kind"], "adam");
    assert_eq!(config["train"]["optimizer"]["lr"], 0.004);
    assert_eq!(config["model"]["encoder"]["hidden_size"], 8);
    // Left out, so the default recipe's: a bidirectional LSTM, max-pooled.
    assert_eq!(config["model"]["encoder"]["bidirectional"], true);
    assert_eq!(config["model"]["pooling"], "max");
    // --lr changes the config, so --resume refuses it.
    let resumed = xtask(&["train", "--resume", "--out", "run", "--lr", "0.1"], &dir);
    assert_refused(&resumed, "--lr");
}

#[test]
fn train_eval_predict_and_a_finished_run_is_kept() {
    let dir = scratch("run");
    let data = write_reviews(&dir);
    let config = write_config(&dir, &data, 3);
    let config = config.to_str().expect("utf-8 path");
    let trained = xtask(&["train", "--config", config, "--out", "run"], &dir);
    assert!(trained.status.success(), "{}", stderr(&trained));
    let stdout = String::from_utf8_lossy(&trained.stdout);
    assert!(stdout.contains("test: accuracy"), "{stdout}");
    let run = dir.join("run");
    for file in [
        "config.json",
        "vocab.json",
        "labels.json",
        "metrics.jsonl",
        "model.bpk",
        "model.safetensors",
        "report.md",
        "loss.png",
        "metrics.png",
        "confusion.png",
        "checkpoint/last.json",
    ] {
        assert!(run.join(file).is_file(), "{file} missing");
    }
    let lines = std::fs::read_to_string(run.join("metrics.jsonl")).expect("metrics");
    assert_eq!(lines.lines().count(), 3);
    let report = std::fs::read_to_string(run.join("report.md")).expect("report");
    assert!(
        report.contains("| accuracy |") && report.contains("| seed | 5 |"),
        "{report}"
    );
    // The same scores for scripts, with the run's costs.
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run.join("summary.json")).expect("summary.json"))
            .expect("summary JSON");
    assert_eq!(summary["task"], "classify");
    assert_eq!(summary["seed"], 5);
    let accuracy = summary["test"]["accuracy"].as_f64().expect("accuracy");
    assert!(
        report.contains(&format!("| accuracy | {accuracy:.2} % |")),
        "{accuracy} vs {report}"
    );
    assert!(
        summary["peak_rss_bytes"]
            .as_u64()
            .is_some_and(|b| b > 1 << 20)
    );

    // The same command again: refused, the finished run untouched.
    let again = xtask(&["train", "--config", config, "--out", "run"], &dir);
    assert_refused(&again, "--force");
    assert_eq!(
        std::fs::read_to_string(run.join("report.md")).expect("report"),
        report
    );

    // The run's own config reproduces it, bit for bit.
    let rerun = xtask(
        &["train", "--config", "run/config.json", "--out", "rerun"],
        &dir,
    );
    assert!(rerun.status.success(), "{}", stderr(&rerun));
    // (model.bpk holds random parameter ids; model.safetensors holds names and values only.)
    assert_eq!(
        std::fs::read(run.join("model.safetensors")).expect("model"),
        std::fs::read(dir.join("rerun/model.safetensors")).expect("model"),
        "a rerun from config.json gives other weights"
    );

    let eval = xtask(&["eval", "--run", "run"], &dir);
    assert!(eval.status.success(), "{}", stderr(&eval));
    let eval_out = String::from_utf8_lossy(&eval.stdout);
    assert!(
        eval_out.contains("accuracy") && eval_out.contains("pos"),
        "{eval_out}"
    );

    let mut child = Command::new(XTASK)
        .args(["predict", "--run", "run"])
        .current_dir(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("predict starts");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin
            .write_all(b"a great and lovely film\n\nthe plot was dull and boring\n")
            .expect("write stdin");
    }
    let predicted = child.wait_with_output().expect("predict ends");
    assert!(predicted.status.success(), "{}", stderr(&predicted));
    let predicted = String::from_utf8_lossy(&predicted.stdout);
    let rows: Vec<Vec<&str>> = predicted.lines().map(|l| l.split('\t').collect()).collect();
    assert_eq!(rows.len(), 2, "one line per non-blank input: {predicted}");
    for row in &rows {
        assert!(row[0] == "pos" || row[0] == "neg", "{predicted}");
        let p: f64 = row[1].parse().expect("a probability");
        assert!((0.5..=1.0).contains(&p), "{predicted}");
    }

    // Fine-tuning from the run's exported weights starts where it ended: its first epoch's
    // validation loss is below the first epoch's of the run that started from scratch.
    let tuned = xtask(
        &[
            "train",
            "--config",
            config,
            "--out",
            "tuned",
            "--epochs",
            "1",
            "--init-from",
            "run/model.safetensors",
        ],
        &dir,
    );
    assert!(tuned.status.success(), "{}", stderr(&tuned));
    let first_valid_loss = |path: PathBuf| {
        let text = std::fs::read_to_string(path).expect("metrics");
        let line = text.lines().next().expect("one epoch");
        serde_json::from_str::<serde_json::Value>(line).expect("json")["valid"]["Loss"]
            .as_f64()
            .expect("valid loss")
    };
    assert!(
        first_valid_loss(dir.join("tuned/metrics.jsonl"))
            < first_valid_loss(run.join("metrics.jsonl"))
    );
    let wrong = xtask(
        &[
            "train",
            "--config",
            config,
            "--out",
            "wrong",
            "--init-from",
            "run/config.json",
        ],
        &dir,
    );
    assert_refused(&wrong, "run/config.json");
    assert!(!dir.join("wrong").exists());

    // --force replaces it.
    let forced = xtask(
        &["train", "--config", config, "--out", "run", "--force"],
        &dir,
    );
    assert!(forced.status.success(), "{}", stderr(&forced));
}

/// Reads the last completed epoch from the run's marker, if any.
fn completed_epoch(run: &Path) -> Option<usize> {
    let text = std::fs::read_to_string(run.join("checkpoint/last.json")).ok()?;
    let value: serde_json::Value = serde_json::from_str(&text).ok()?;
    value.get("epoch")?.as_u64().map(|e| e as usize)
}

#[test]
fn a_killed_run_resumes_to_the_weights_of_an_uninterrupted_one() {
    let dir = scratch("killed");
    let data = write_reviews(&dir);
    let config = write_config(&dir, &data, 12);
    let config = config.to_str().expect("utf-8 path");

    let whole = xtask(&["train", "--config", config, "--out", "whole"], &dir);
    assert!(whole.status.success(), "{}", stderr(&whole));

    let mut child = Command::new(XTASK)
        .args(["train", "--config", config, "--out", "killed"])
        .current_dir(&dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("train starts");
    let run = dir.join("killed");
    let started = Instant::now();
    while completed_epoch(&run).is_none_or(|e| e < 2) {
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "no epoch completed"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");
    let done = completed_epoch(&run).expect("a marker");
    assert!(done < 12, "the run finished before it was killed");
    assert!(!run.join("report.md").exists());

    // Without --resume the unfinished run is not overwritten.
    let refused = xtask(&["train", "--config", config, "--out", "killed"], &dir);
    assert_refused(&refused, "--resume");

    let resumed = xtask(&["train", "--resume", "--out", "killed"], &dir);
    assert!(resumed.status.success(), "{}", stderr(&resumed));
    assert_eq!(
        std::fs::read(dir.join("whole/model.safetensors")).expect("model"),
        std::fs::read(run.join("model.safetensors")).expect("model"),
        "killed after epoch {done} and resumed: other weights than the uninterrupted run"
    );
    let epochs: Vec<u64> = std::fs::read_to_string(run.join("metrics.jsonl"))
        .expect("metrics")
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).expect("json")["epoch"]
                .as_u64()
                .expect("epoch")
        })
        .collect();
    assert_eq!(epochs, (1..=12).collect::<Vec<u64>>());
}

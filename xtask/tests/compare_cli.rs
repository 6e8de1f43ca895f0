//! `cargo xtask compare` end to end on a small plan: the forecast row of the method table for
//! two encoders and the DAX case study, two seeds, `--quick` epochs; then the same command
//! again, which reuses every finished run; and the refusals.

mod common;

use common::{assert_ok, assert_refused, scratch, text, xtask};

#[test]
fn compares_encoders_and_the_stock_study_then_reuses_finished_runs() {
    let dir = scratch("compare_cli", "small");
    let args = [
        "compare",
        "--quick",
        "--tasks",
        "forecast",
        "--encoders",
        "rnn,lstm",
        "--indices",
        "DAX",
        "--seeds",
        "2",
        "--out",
        "runs",
        "--doc",
        "report/comparison.md",
    ];
    let first = xtask(&args, &dir);
    assert_ok(&first);
    // 2 encoders × 2 seeds, and 2 transforms × 2 methods × 2 seeds.
    let stdout = text(&first.stdout);
    assert!(stdout.contains("[ 12/12]"), "{stdout}");

    let md = std::fs::read_to_string(dir.join("report/comparison.md")).expect("comparison.md");
    for needle in [
        "### forecast (sunspots)",
        "| rnn |",
        "| lstm |",
        "*naive (last value)*",
        "| DAX | levels | lstm+attention |",
        "| DAX | log-return | rnn |",
        "MAE reduction %",
        "![method table](figures/comparison.png)",
        "![case study](figures/stock-study.png)",
    ] {
        assert!(md.contains(needle), "`{needle}` missing from:\n{md}");
    }
    for picture in ["comparison.png", "stock-study.png"] {
        let bytes = std::fs::read(dir.join("report/figures").join(picture)).expect(picture);
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{picture}");
    }

    let json: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.join("runs/comparison.json")).expect("comparison.json"),
    )
    .expect("valid JSON");
    let table = json["table"].as_array().expect("table rows");
    assert_eq!(table.len(), 2);
    for row in table {
        assert_eq!(row["score"]["n"], 2);
        let mae = row["score"]["mean"].as_f64().expect("mean");
        assert!(mae.is_finite() && mae > 0.0, "{row}");
        assert!(row["naive"].as_f64().is_some_and(|n| n > 0.0), "{row}");
        assert!(row["parameters"].as_u64().is_some_and(|p| p > 0), "{row}");
        assert!(row["latency_ms"].as_f64().is_some_and(|l| l > 0.0), "{row}");
        assert!(row["peak_mib"].as_f64().is_some_and(|m| m > 1.0), "{row}");
    }
    let study = json["study"].as_array().expect("study cells");
    assert_eq!(study.len(), 4, "2 transforms × 2 methods");
    for cell in study {
        assert_eq!(cell["per_seed"].as_array().map(Vec::len), Some(2), "{cell}");
    }
    assert_eq!(json["runs"].as_array().map(Vec::len), Some(12));

    // The same command again trains nothing.
    let again = xtask(&args, &dir);
    assert_ok(&again);
    let stdout = text(&again.stdout);
    assert_eq!(
        stdout.matches("(finished run reused)").count(),
        12,
        "{stdout}"
    );
}

#[test]
fn refuses_unknown_encoders_indices_and_zero_seeds() {
    let dir = scratch("compare_cli", "refusals");
    assert_refused(
        &xtask(&["compare", "--encoders", "lstm,foo"], &dir),
        "unknown encoder `foo`",
    );
    assert_refused(
        &xtask(&["compare", "--indices", "NIKKEI"], &dir),
        "unknown index `NIKKEI`",
    );
    assert_refused(&xtask(&["compare", "--seeds", "0"], &dir), "--seeds");
    assert!(
        !dir.join("runs").exists(),
        "a refused comparison writes nothing"
    );
}

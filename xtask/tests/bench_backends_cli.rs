//! `cargo xtask bench-backends`: a tiny real run (one layer, both modes, the quick sweep on
//! flex) whose JSON and PNG are checked, and the refusal of a plot without a sweep.

mod common;

use common::{assert_ok, scratch, text, xtask};

/// A finite, positive number at `key` of `row`.
#[track_caller]
fn positive(row: &serde_json::Value, key: &str) -> f64 {
    let value = row[key]
        .as_f64()
        .unwrap_or_else(|| panic!("{key} is not a number in {row}"));
    assert!(value.is_finite() && value > 0.0, "{key} = {value} in {row}");
    value
}

#[test]
fn a_quick_run_writes_rows_with_finite_positive_timings_ratios_and_rates() {
    let dir = scratch("bench_backends_cli", "quick");
    let out = xtask(
        &[
            "bench-backends",
            "--quick",
            "--backend",
            "flex",
            "--layers",
            "lstm,qrnn",
            "--json",
            "bench.json",
        ],
        &dir,
    );
    assert_ok(&out);
    let stdout = text(&out.stdout);
    assert!(stdout.contains("peak: estimated"), "{stdout}");
    assert!(stdout.contains("burn/seq"), "{stdout}");

    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("bench.json")).expect("--json written"),
    )
    .expect("valid JSON");
    positive(&json["peak"], "gemm_gflops");
    assert!(json["peak"]["estimated_gflops"].as_f64().is_some());
    let rows = json["rows"].as_array().expect("rows");
    let table: Vec<_> = rows.iter().filter(|r| r["case"] == "layers").collect();
    // lstm and qrnn, forward and train; lstm also has Burn's built-in.
    assert_eq!(table.len(), 2 * 2 + 2, "{table:#?}");
    for row in rows {
        for key in ["median_ms", "min_ms", "max_ms", "gflops", "gemm_fraction"] {
            positive(row, key);
        }
        assert!(row["min_ms"].as_f64() <= row["median_ms"].as_f64(), "{row}");
        assert!(row["median_ms"].as_f64() <= row["max_ms"].as_f64(), "{row}");
        assert!(row["spread"].as_f64().is_some_and(|s| s >= 0.0), "{row}");
        assert!(row["runs"].as_u64().is_some_and(|n| n >= 1), "{row}");
        for key in ["batch", "time", "width"] {
            assert!(row["shape"][key].as_u64().is_some_and(|n| n > 0), "{row}");
        }
        assert_eq!(row["device"], "flex");
    }
    let lstm_train: Vec<_> = table
        .iter()
        .filter(|r| r["layer"] == "lstm" && r["mode"] == "train")
        .collect();
    let impls: Vec<_> = lstm_train.iter().map(|r| r["impl"].clone()).collect();
    assert_eq!(impls, ["seqmodel", "burn-builtin"]);
    let ratio = positive(lstm_train[0], "ratio");
    assert_eq!(
        lstm_train[1]["ratio"].as_f64(),
        Some(ratio),
        "one ratio per pair"
    );
    let qrnn = table
        .iter()
        .find(|r| r["layer"] == "qrnn")
        .expect("qrnn row");
    assert!(qrnn["ratio"].is_null(), "no built-in QRNN: {qrnn}");
    // The quick sweep: lengths 16 … 1024 and batches 1 … 256, forward only.
    let lengths: Vec<_> = rows
        .iter()
        .filter(|r| r["case"] == "sweep-length" && r["layer"] == "lstm")
        .map(|r| r["shape"]["time"].as_u64().expect("time"))
        .collect();
    assert_eq!(lengths.first(), Some(&16), "{lengths:?}");
    assert!(rows.iter().any(|r| r["case"] == "sweep-batch"));
    assert!(json["skipped"].is_array());
    // The plot goes next to the JSON by default.
    let png = std::fs::read(dir.join("bench.png")).expect("bench.png drawn");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 5000,
        "{}",
        png.len()
    );
}

#[test]
fn a_plot_without_a_sweep_is_refused_with_the_fix() {
    let dir = scratch("bench_backends_cli", "plot-refused");
    let out = xtask(
        &[
            "bench-backends",
            "--quick",
            "--cases",
            "layers",
            "--layers",
            "rnn",
            "--modes",
            "forward",
            "--plot",
            "x.png",
        ],
        &dir,
    );
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("add `sweep` to --cases"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(!dir.join("x.png").exists());
}

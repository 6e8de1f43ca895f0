//! `cargo xtask train | eval | predict --task seq2seq` as a user runs them: a small TSV of
//! letter strings → their letters reversed (space-separated symbols), a small encoder–decoder,
//! the run folder with its heatmaps, resume, and bad input (one line, exit code 2, nothing
//! written).

mod common;

use std::path::{Path, PathBuf};

use common::{assert_ok, assert_refused, scratch, text, xtask};

/// 300 rows `abdc<TAB>C D B A`: 3–6 letters of `abcd`, the target their capitals reversed.
fn write_pairs(dir: &Path) -> PathBuf {
    let mut state = 11u32;
    let mut next = |n: usize| {
        state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
        (state >> 16) as usize % n
    };
    let mut text = String::from("word\tspelled\n");
    for _ in 0..300 {
        let len = 3 + next(4);
        let word: String = (0..len).map(|_| b"abcd"[next(4)] as char).collect();
        let reversed: Vec<String> = word
            .chars()
            .rev()
            .map(|c| c.to_ascii_uppercase().to_string())
            .collect();
        text.push_str(&format!("{word}\t{}\n", reversed.join(" ")));
    }
    let path = dir.join("pairs.tsv");
    std::fs::write(&path, text).expect("write pairs");
    path
}

/// A tiny model and a short schedule.
fn write_config(dir: &Path, data: &Path, epochs: usize) -> PathBuf {
    let config = format!(
        r#"{{
  "task": "seq2seq",
  "backend": "flex",
  "data": {{
    "source": "{}",
    "source_column": "word",
    "target_column": "spelled",
    "source_tokens": "chars",
    "target_tokens": "symbols",
    "split": {{"kind": "random", "train": 0.8, "valid": 0.1, "test": 0.1, "seed": 1}}
  }},
  "model": {{"embedding_dim": 12, "hidden_size": 16, "dropout": 0.0, "max_decode_len": 10}},
  "decode": {{"beam_width": 3, "heatmaps": 2}},
  "train": {{
    "epochs": {epochs},
    "batch_size": 16,
    "seed": 3,
    "optimizer": {{"kind": "adam", "lr": 0.01}},
    "clip_grad_norm": 5.0,
    "monitor": {{"metric": "error_rate", "mode": "min"}}
  }}
}}"#,
        data.display()
    );
    let path = dir.join("tiny.json");
    std::fs::write(&path, config).expect("write config");
    path
}

#[test]
fn train_eval_predict_resume_and_heatmaps() {
    let dir = scratch("seq2seq_cli", "reverse");
    let data = write_pairs(&dir);
    let config = write_config(&dir, &data, 3);
    let run = dir.join("run");
    let run_arg = run.to_str().expect("utf-8 path");
    let out = xtask(
        &[
            "train",
            "--config",
            config.to_str().expect("utf-8"),
            "--out",
            run_arg,
            "--progress",
            "quiet",
        ],
        &dir,
    );
    assert_ok(&out);
    for file in [
        "config.json",
        "source.json",
        "target.json",
        "metrics.jsonl",
        "model.bpk",
        "report.md",
        "test-predictions.tsv",
        "attention-1.png",
        "attention-2.png",
        "loss.png",
        "summary.json",
    ] {
        assert!(run.join(file).is_file(), "{file} missing");
    }
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run.join("summary.json")).expect("summary"))
            .expect("summary JSON");
    assert_eq!(summary["task"], "seq2seq");
    for score in [
        "greedy_error_rate",
        "beam_error_rate",
        "greedy_exact",
        "beam_bleu",
    ] {
        let value = summary["test"][score].as_f64();
        assert!(value.is_some_and(f64::is_finite), "{score} in {summary}");
    }
    let metrics = std::fs::read_to_string(run.join("metrics.jsonl")).expect("metrics");
    assert_eq!(metrics.lines().count(), 3, "{metrics}");
    assert!(metrics.contains("\"error_rate\""), "{metrics}");
    assert!(metrics.contains("\"exact_match\""), "{metrics}");
    let report = std::fs::read_to_string(run.join("report.md")).expect("report");
    for needle in [
        "| greedy |",
        "| beam 3 |",
        "by source length",
        "![attention-1.png]",
    ] {
        assert!(report.contains(needle), "{needle} in {report}");
    }
    // A tenth of the distinct words, one row each after the header: source, greedy, beam,
    // references.
    let predictions = std::fs::read_to_string(run.join("test-predictions.tsv")).expect("tsv");
    assert!(predictions.lines().count() > 10, "{predictions}");
    for line in predictions.lines() {
        assert_eq!(line.split('\t').count(), 4, "{line}");
    }

    let out = xtask(
        &[
            "train",
            "--resume",
            "--out",
            run_arg,
            "--epochs",
            "4",
            "--progress",
            "quiet",
        ],
        &dir,
    );
    assert_ok(&out);
    let metrics = std::fs::read_to_string(run.join("metrics.jsonl")).expect("metrics");
    assert_eq!(metrics.lines().count(), 4, "{metrics}");

    let out = xtask(&["eval", "--run", run_arg], &dir);
    assert_ok(&out);
    let printed = text(&out.stdout);
    assert!(printed.contains("greedy   error rate"), "{printed}");
    assert!(printed.contains("beam 3"), "{printed}");

    // One output line per input line; a line without a token gives an empty line.
    let input = dir.join("input.txt");
    std::fs::write(&input, "abc\n\ndcba\n").expect("input");
    let out = xtask(
        &["predict", "--run", run_arg, input.to_str().expect("utf-8")],
        &dir,
    );
    assert_ok(&out);
    let printed = text(&out.stdout);
    let lines: Vec<&str> = printed.lines().collect();
    assert_eq!(lines.len(), 3, "{printed}");
    assert!(lines[1].is_empty(), "{printed}");
    for symbol in lines[0]
        .split_whitespace()
        .chain(lines[2].split_whitespace())
    {
        assert!(["A", "B", "C", "D", "<unk>"].contains(&symbol), "{printed}");
    }
}

#[test]
fn bad_input_is_one_line_with_exit_code_2_and_nothing_written() {
    let dir = scratch("seq2seq_cli", "bad");
    let run = dir.join("run");
    let run_arg = run.to_str().expect("utf-8");

    let empty_cell = dir.join("empty.tsv");
    std::fs::write(&empty_cell, "source\ttarget\nab\tB A\n\tX\n").expect("write");
    let out = xtask(
        &[
            "train",
            "--task",
            "seq2seq",
            "--data",
            empty_cell.to_str().expect("utf-8"),
            "--out",
            run_arg,
        ],
        &dir,
    );
    assert_refused(&out, "empty.tsv:3");
    assert!(!run.exists(), "nothing may be written");

    let data = write_pairs(&dir);
    let data_arg = data.to_str().expect("utf-8");
    let out = xtask(
        &[
            "train", "--task", "seq2seq", "--data", data_arg, "--out", run_arg,
        ],
        &dir,
    );
    assert_refused(&out, "source");
    assert!(!run.exists(), "nothing may be written");

    for (flag, value, needle) in [
        ("--beam-width", "0", "decode.beam_width"),
        ("--source-tokens", "bytes", "--source-tokens"),
        ("--attention", "luong", "--attention"),
        ("--lookback", "5", "only --task forecast reads it"),
        ("--encoder", "qrnn", "no qrnn encoder–decoder"),
    ] {
        let out = xtask(
            &[
                "train",
                "--task",
                "seq2seq",
                "--data",
                data_arg,
                "--source-column",
                "word",
                "--target-column",
                "spelled",
                flag,
                value,
                "--out",
                run_arg,
            ],
            &dir,
        );
        assert_refused(&out, needle);
        assert!(!run.exists(), "nothing may be written");
    }
    let out = xtask(
        &[
            "train",
            "--task",
            "classify",
            "--beam-width",
            "3",
            "--out",
            run_arg,
        ],
        &dir,
    );
    assert_refused(&out, "only --task seq2seq reads it");
}

#[test]
fn the_transformer_trains_through_the_same_pipeline() {
    let dir = scratch("seq2seq_cli", "transformer");
    let data = write_pairs(&dir);
    let config = write_config(&dir, &data, 2);
    let text = std::fs::read_to_string(&config).expect("config");
    let text = text.replace(
        r#""model": {"#,
        r#""model": {"architecture": "transformer", "transformer": {"d_model": 16, "num_heads": 2, "encoder_layers": 1, "decoder_layers": 1, "d_ff": 32},"#,
    );
    std::fs::write(&config, text).expect("write config");
    let run = dir.join("run");
    let out = xtask(
        &[
            "train",
            "--config",
            config.to_str().expect("utf-8"),
            "--out",
            run.to_str().expect("utf-8"),
            "--progress",
            "quiet",
        ],
        &dir,
    );
    assert_ok(&out);
    let report = std::fs::read_to_string(run.join("report.md")).expect("report");
    assert!(
        report.contains("Transformer, width 16, 2 heads"),
        "{report}"
    );
    // The heatmap is the last layer's cross-attention averaged over heads.
    assert!(run.join("attention-1.png").is_file());
}

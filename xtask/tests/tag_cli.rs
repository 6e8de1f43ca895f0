//! `cargo xtask train | eval | predict --task tag` as a user runs them: a small two-column IOB2
//! file and a small CoNLL-U file, a small tagger, the run folder, resume, and bad input (one
//! line, exit code 2, nothing written).

mod common;

use std::path::{Path, PathBuf};

use common::{assert_ok, assert_refused, scratch, text, xtask};

/// A deterministic pseudo-random index below `n`.
fn lcg(state: &mut u32, n: usize) -> usize {
    *state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
    (*state >> 16) as usize % n
}

/// 120 sentences of filler words with one person (B-PER [I-PER]) or place (B-LOC) each, in
/// two-column IOB2 (token TAB tag, blank line between sentences).
fn write_iob2(dir: &Path) -> PathBuf {
    let people = [("Anna", "Smith"), ("Bob", "Jones"), ("Carl", "Brown")];
    let places = ["Paris", "Rome", "Oslo", "Lima"];
    let filler = [
        "the", "man", "went", "to", "see", "a", "friend", "in", "today",
    ];
    let mut text = String::new();
    let mut state = 7u32;
    for i in 0..120 {
        let mut rows: Vec<(String, &str)> = Vec::new();
        for _ in 0..(2 + lcg(&mut state, 4)) {
            rows.push((filler[lcg(&mut state, filler.len())].into(), "O"));
        }
        let at = lcg(&mut state, rows.len() + 1);
        if i % 2 == 0 {
            let (first, last) = people[lcg(&mut state, people.len())];
            rows.insert(at, (last.into(), "I-PER"));
            rows.insert(at, (first.into(), "B-PER"));
        } else {
            rows.insert(at, (places[lcg(&mut state, places.len())].into(), "B-LOC"));
        }
        for (token, tag) in rows {
            text.push_str(&format!("{token}\t{tag}\n"));
        }
        text.push('\n');
    }
    let path = dir.join("ner.txt");
    std::fs::write(&path, text).expect("write iob2");
    path
}

/// A tiny tagger and a short schedule (the defaults are the EWT recipe).
fn write_config(dir: &Path, data: &Path, chars: &str, epochs: usize) -> PathBuf {
    let config = format!(
        r#"{{
  "task": "tag",
  "backend": "flex",
  "data": {{
    "source": "{}",
    "split": {{"kind": "random", "train": 0.7, "valid": 0.15, "test": 0.15, "seed": 1}},
    "min_freq": 1
  }},
  "model": {{
    "embedding_dim": 8,
    "chars": {{"kind": "{chars}", "embedding_dim": 4, "hidden_size": 6, "kernel_size": 3}},
    "casing_dim": 2,
    "dropout": 0.1,
    "encoder": {{"kind": "lstm", "hidden_size": 8, "bidirectional": true}}
  }},
  "train": {{
    "epochs": {epochs},
    "batch_size": 16,
    "seed": 5,
    "optimizer": {{"kind": "adam", "lr": 0.02}},
    "monitor": {{"metric": "entity_f1", "mode": "max"}}
  }}
}}"#,
        data.display()
    );
    let path = dir.join(format!("tiny-{chars}.json"));
    std::fs::write(&path, config).expect("write config");
    path
}

#[test]
fn ner_train_eval_predict_and_resume() {
    let dir = scratch("tag_cli", "ner");
    let data = write_iob2(&dir);
    let config = write_config(&dir, &data, "cnn", 2);
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
        "words.json",
        "chars.json",
        "tags.json",
        "metrics.jsonl",
        "model.bpk",
        "report.md",
        "summary.json",
    ] {
        assert!(run.join(file).is_file(), "{file} missing");
    }
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run.join("summary.json")).expect("summary"))
            .expect("summary JSON");
    for score in ["accuracy", "entity_f1", "entity_f1_strict"] {
        let value = summary["test"][score].as_f64();
        assert!(
            value.is_some_and(|v| (0.0..=100.0).contains(&v)),
            "{score} in {summary}"
        );
    }
    assert_eq!(summary["epochs_run"], 2);
    let metrics = std::fs::read_to_string(run.join("metrics.jsonl")).expect("metrics");
    assert_eq!(metrics.lines().count(), 2, "{metrics}");
    for name in ["\"accuracy\"", "\"entity_f1\"", "\"entity_f1_strict\""] {
        assert!(metrics.contains(name), "{name} in {metrics}");
    }
    let report = std::fs::read_to_string(run.join("report.md")).expect("report");
    assert!(report.contains("Token accuracy"), "{report}");
    assert!(report.contains("seqeval strict, IOB2"), "{report}");
    assert!(report.contains("| PER |"), "{report}");
    let saved = std::fs::read_to_string(run.join("config.json")).expect("config");
    assert!(saved.contains("\"task\": \"tag\""), "{saved}");

    // Two more epochs on the same run.
    let out = xtask(
        &[
            "train",
            "--resume",
            "--out",
            run_arg,
            "--epochs",
            "3",
            "--progress",
            "quiet",
        ],
        &dir,
    );
    assert_ok(&out);
    let metrics = std::fs::read_to_string(run.join("metrics.jsonl")).expect("metrics");
    assert_eq!(metrics.lines().count(), 3, "{metrics}");

    let out = xtask(&["eval", "--run", run_arg], &dir);
    assert_ok(&out);
    let printed = text(&out.stdout);
    assert!(printed.contains("token accuracy"), "{printed}");
    assert!(printed.contains("entities (strict IOB2)"), "{printed}");

    let input = dir.join("input.txt");
    std::fs::write(&input, "Anna Smith went to Paris\n\nthe man in Rome\n").expect("input");
    let out = xtask(
        &["predict", "--run", run_arg, input.to_str().expect("utf-8")],
        &dir,
    );
    assert_ok(&out);
    let printed = text(&out.stdout);
    let sentences: Vec<&str> = printed.trim_end().split("\n\n").collect();
    assert_eq!(sentences.len(), 2, "{printed}");
    let first: Vec<&str> = sentences[0].lines().collect();
    assert_eq!(first.len(), 5, "{printed}");
    assert!(first[0].starts_with("Anna\t"), "{printed}");
    for line in printed.lines().filter(|l| !l.is_empty()) {
        let tag = line.split('\t').nth(1).expect("token TAB tag");
        assert!(["O", "B-PER", "I-PER", "B-LOC"].contains(&tag), "{line}");
    }
}

#[test]
fn conllu_with_char_lstm_reports_accuracy_only() {
    let dir = scratch("tag_cli", "conllu");
    let mut conllu = String::new();
    let mut state = 3u32;
    let words = [
        ("the", "DET"),
        ("dog", "NOUN"),
        ("cat", "NOUN"),
        ("runs", "VERB"),
    ];
    for s in 0..60 {
        conllu.push_str(&format!("# sent_id = {s}\n"));
        for i in 0..(2 + lcg(&mut state, 4)) {
            let (form, tag) = words[lcg(&mut state, words.len())];
            conllu.push_str(&format!("{}\t{form}\t_\t{tag}\t_\t_\t0\t_\t_\t_\n", i + 1));
        }
        conllu.push('\n');
    }
    let data = dir.join("pos.conllu");
    std::fs::write(&data, conllu).expect("write conllu");
    let config = write_config(&dir, &data, "lstm", 1)
        .to_str()
        .expect("utf-8")
        .to_string();
    let run = dir.join("run");
    let out = xtask(
        &[
            "train",
            "--config",
            &config,
            "--data",
            data.to_str().expect("utf-8"),
            "--out",
            run.to_str().expect("utf-8"),
            "--progress",
            "quiet",
        ],
        &dir,
    );
    assert_ok(&out);
    let metrics = std::fs::read_to_string(run.join("metrics.jsonl")).expect("metrics");
    assert!(metrics.contains("\"accuracy\""), "{metrics}");
    assert!(!metrics.contains("entity_f1"), "{metrics}");
    let saved = std::fs::read_to_string(run.join("config.json")).expect("config");
    assert!(saved.contains("\"metric\": \"accuracy\""), "{saved}");
}

#[test]
fn bad_input_is_one_line_with_exit_code_2_and_nothing_written() {
    let dir = scratch("tag_cli", "bad");
    let bad = dir.join("bad.txt");
    std::fs::write(&bad, "Anna\tB-PER\nwent\tO\n\nto\tO\nSmith\tI-PER\n").expect("write");
    let run = dir.join("run");
    let run_arg = run.to_str().expect("utf-8");
    let out = xtask(
        &[
            "train",
            "--task",
            "tag",
            "--data",
            bad.to_str().expect("utf-8"),
            "--out",
            run_arg,
        ],
        &dir,
    );
    assert_refused(
        &out,
        "bad.txt:5:2: invalid IOB2 transition \"O\" -> \"I-PER\"",
    );
    assert!(!run.exists(), "nothing may be written");

    let data = write_iob2(&dir);
    let out = xtask(
        &[
            "train",
            "--task",
            "tag",
            "--data",
            data.to_str().expect("utf-8"),
            "--char-features",
            "gru",
            "--out",
            run_arg,
        ],
        &dir,
    );
    assert_refused(&out, "--char-features");
    assert!(!run.exists(), "nothing may be written");

    let out = xtask(
        &[
            "train",
            "--task",
            "classify",
            "--char-features",
            "cnn",
            "--out",
            run_arg,
        ],
        &dir,
    );
    assert_refused(&out, "only --task tag reads it");
}

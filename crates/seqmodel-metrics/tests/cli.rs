//! End-to-end tests of the `seq-score` binary: outputs equal to sacrebleu's CLI on small files,
//! JSON output, and exit code 2 with a one-line message on bad input.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A fresh scratch directory for one test.
fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("seq-score-cli-{}-{test}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir is writable");
    dir
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let p = dir.join(name);
    std::fs::write(&p, bytes).expect("temp file is writable");
    p.to_string_lossy().into_owned()
}

fn seq_score(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_seq-score"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn stdout(o: &Output) -> String {
    assert!(
        o.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout.clone()).expect("UTF-8 output")
}

const HYP: &[u8] = b"the cat sat on the mat\nA quick brown fox jumps.\n";
const REF: &[u8] = b"the cat sat on a mat\nThe quick brown fox jumped.\n";
const REF_B: &[u8] = b"a cat sat on the mat\nA fast brown fox jumps.\n";

/// Expected lines are the output of `sacrebleu r.txt [r2.txt] -i h.txt -f text ...` (2.6.0).
#[test]
fn bleu_and_chrf_print_sacrebleu_lines() {
    let d = scratch("sacrebleu");
    let (h, r, r2) = (
        write(&d, "h.txt", HYP),
        write(&d, "r.txt", REF),
        write(&d, "r2.txt", REF_B),
    );
    let o = seq_score(&["bleu", "-r", &r, &h, "-w", "2"]);
    assert_eq!(
        stdout(&o),
        "BLEU|nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0 = 39.13 75.0/50.0/37.5/16.7 \
         (BP = 1.000 ratio = 1.000 hyp_len = 12 ref_len = 12)\n"
    );
    let o = seq_score(&[
        "bleu", "-r", &r, "-r", &r2, &h, "-w", "3", "-t", "intl", "-l",
    ]);
    assert_eq!(
        stdout(&o),
        "BLEU|nrefs:2|case:lc|eff:no|tok:intl|smooth:exp|version:2.6.0 = 83.290 91.7/90.0/87.5/66.7 \
         (BP = 1.000 ratio = 1.000 hyp_len = 12 ref_len = 12)\n"
    );
    let o = seq_score(&["chrf", "-r", &r, &h, "--word-order", "2"]);
    assert_eq!(
        stdout(&o),
        "chrF2++|nrefs:1|case:mixed|eff:yes|nc:6|nw:2|space:no|version:2.6.0 = 70.4\n"
    );
    let o = seq_score(&["bleu", "-r", &r, &h, "--sentence-level"]);
    assert_eq!(
        stdout(&o),
        "BLEU|nrefs:1|case:mixed|eff:yes|tok:13a|smooth:exp|version:2.6.0 = 53.7 83.3/60.0/50.0/33.3 \
         (BP = 1.000 ratio = 1.000 hyp_len = 6 ref_len = 6)\n\
         BLEU|nrefs:1|case:mixed|eff:yes|tok:13a|smooth:exp|version:2.6.0 = 32.5 66.7/40.0/25.0/16.7 \
         (BP = 1.000 ratio = 1.000 hyp_len = 6 ref_len = 6)\n"
    );
}

#[test]
fn bleu_reads_stdin_and_prints_json() {
    let d = scratch("json");
    let r = write(&d, "r.txt", REF);
    let mut child = Command::new(env!("CARGO_BIN_EXE_seq-score"))
        .args(["bleu", "-r", &r, "--json"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("the binary runs");
    {
        use std::io::Write;
        child
            .stdin
            .take()
            .expect("piped stdin")
            .write_all(HYP)
            .expect("write stdin");
    }
    let o = child.wait_with_output().expect("finishes");
    // sacrebleu.corpus_bleu(hyps, [refs]).score == 39.12711450183219
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("valid JSON");
    assert!(
        (v["score"].as_f64().expect("score") - 39.12711450183219).abs() < 1e-9,
        "{v}"
    );
    assert_eq!(v["sys_len"], 12);
    assert_eq!(v["counts"][0], 9.0);
}

#[test]
fn classify_ner_regression_rouge() {
    let d = scratch("others");
    let g = write(&d, "g.txt", b"a\nb\nc\na\n");
    let p = write(&d, "p.txt", b"a\nc\nc\nb\n");
    let v: serde_json::Value = serde_json::from_str(&stdout(&seq_score(&[
        "classify", "--gold", &g, "--pred", &p, "--json",
    ])))
    .expect("JSON");
    assert_eq!(v["accuracy"], 0.5);
    assert_eq!(
        v["confusion_matrix"],
        serde_json::json!([[1, 1, 0], [0, 0, 1], [0, 0, 1]])
    );
    // class a: P 1, R 1/2, F 2/3; b: 0; c: P 1/2, R 1, F 2/3 -> macro F1 = 4/9.
    assert!((v["macro"]["f1"].as_f64().expect("f1") - 4.0 / 9.0).abs() < 1e-12);

    let gold = write(
        &d,
        "g.conll",
        b"-DOCSTART- O\n\nEU B-ORG\nrejects O\n\nPeter B-PER\nBlackburn I-PER\n",
    );
    let pred = write(
        &d,
        "p.conll",
        b"-DOCSTART- O\n\nEU B-ORG\nrejects O\n\nPeter B-PER\nBlackburn O\n",
    );
    let v: serde_json::Value = serde_json::from_str(&stdout(&seq_score(&[
        "ner", "--gold", &gold, "--pred", &pred, "--json",
    ])))
    .expect("JSON");
    assert_eq!(v["micro"]["precision"], 0.5);
    assert_eq!(v["per_type"]["ORG"]["f1"], 1.0);
    assert_eq!(v["token_accuracy"], 0.75);

    let y = write(&d, "y.txt", b"1\n2.5\n0\n");
    let yh = write(&d, "yh.txt", b"1.5\n2\n0\n");
    let v: serde_json::Value = serde_json::from_str(&stdout(&seq_score(&[
        "regression",
        "--gold",
        &y,
        "--pred",
        &yh,
        "--json",
    ])))
    .expect("JSON");
    assert!((v["mae"].as_f64().expect("mae") - 1.0 / 3.0).abs() < 1e-12);
    assert_eq!(v["count"], 3);

    let t = write(&d, "t.txt", b"the cat sat<n>on the mat\n");
    let pr = write(&d, "pr.txt", b"the cat sat<n>on the mat\n");
    let v: serde_json::Value = serde_json::from_str(&stdout(&seq_score(&[
        "rouge",
        "-r",
        &t,
        &pr,
        "--json",
        "--sentence-marker",
        "<n>",
    ])))
    .expect("JSON");
    assert_eq!(v["mean"]["rougeLsum"]["fmeasure"], 1.0);
}

/// Runs a command that must fail with status 2 and a one-line message containing `needle`.
fn fails_with(args: &[&str], needle: &str) {
    let o = seq_score(args);
    assert_eq!(o.status.code(), Some(2), "status of {args:?}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(
        err.trim_end().lines().count(),
        1,
        "one line expected, got {err:?}"
    );
    assert!(err.starts_with("seq-score: error: "), "{err:?}");
    assert!(err.contains(needle), "{err:?} should contain {needle:?}");
}

#[test]
fn bad_input_exits_2_with_one_line() {
    let d = scratch("bad");
    let h = write(&d, "h.txt", HYP);
    let short = write(&d, "short.txt", b"only one line\n");
    let empty = write(&d, "empty.txt", b"");
    let bad_utf8 = write(&d, "bad.txt", b"fine\n\xff\xfe\n");
    let missing = d.join("missing.txt").to_string_lossy().into_owned();
    fails_with(&["bleu", "-r", &short, &h], "line count mismatch");
    fails_with(&["bleu", "-r", &h, &empty], "empty input");
    fails_with(&["chrf", "-r", &missing, &h], "missing.txt");
    fails_with(&["bleu", "-r", &h, &bad_utf8], "bad.txt:2: invalid UTF-8");
    fails_with(&["rouge", "-r", &h, &bad_utf8], "bad.txt:2");
    let nums = write(&d, "n.txt", b"1\nx\n");
    let nums2 = write(&d, "n2.txt", b"1\n2\n");
    fails_with(
        &["regression", "--gold", &nums2, "--pred", &nums],
        "n.txt:2: expected a finite number",
    );
    fails_with(
        &["classify", "--gold", &nums2, "--pred", &short],
        "line count mismatch",
    );
    let g = write(&d, "g.conll", b"EU B-ORG\n");
    let p = write(&d, "p.conll", b"EU E-ORG\n");
    fails_with(
        &["ner", "--gold", &g, "--pred", &p, "--mode", "strict"],
        "p.conll:1",
    );
    fails_with(
        &["bleu", "-r", &h, &h, "-t", "ja-mecab"],
        "unknown BLEU tokenizer",
    );
    fails_with(&["bleu", &h, &h], "no -i");
    fails_with(&["ter", &h], "no reference file");
    fails_with(
        &["sacrebleu", &h, "-i", &h, "-m", "bleu", "ter", "-sl"],
        "only one metric",
    );
}

const HYP_ZH: &[u8] = "我爱北京天安门。\n今天天气很好，我们去公园吧！\n".as_bytes();
const REF_ZH: &[u8] = "我爱北京。\n今天的天气很好，我们去公园散步吧！\n".as_bytes();

/// Expected lines are sacrebleu 2.6.0's CLI output (`sacrebleu REF... -i HYP -f text ...`),
/// reached with sacrebleu's own spellings (`REF -i HYP`, `-tok`, `-lc`, `--ter-*`, `-m`).
#[test]
fn ter_zh_and_sacrebleu_spellings() {
    let d = scratch("ter-zh");
    let (h, r, r2) = (
        write(&d, "h.txt", HYP),
        write(&d, "r.txt", REF),
        write(&d, "r2.txt", REF_B),
    );
    let (hz, rz) = (write(&d, "hz.txt", HYP_ZH), write(&d, "rz.txt", REF_ZH));
    assert_eq!(
        stdout(&seq_score(&[
            "bleu", &rz, "-i", &hz, "-tok", "zh", "-w", "2"
        ])),
        "BLEU|nrefs:1|case:mixed|eff:no|tok:zh|smooth:exp|version:2.6.0 = 64.01 86.4/70.0/55.6/50.0 \
         (BP = 1.000 ratio = 1.000 hyp_len = 22 ref_len = 22)\n"
    );
    assert_eq!(
        stdout(&seq_score(&[
            "ter",
            &rz,
            "-i",
            &hz,
            "-w",
            "2",
            "--ter-asian-support",
            "--ter-normalized"
        ])),
        "TER|nrefs:1|case:lc|tok:tercom|norm:yes|punct:yes|asian:yes|version:2.6.0 = 27.27\n"
    );
    assert_eq!(
        stdout(&seq_score(&[
            "ter",
            "-r",
            &r,
            &h,
            "-w",
            "4",
            "--ter-case-sensitive",
            "--no-punct"
        ])),
        "TER|nrefs:1|case:mixed|tok:tercom|norm:no|punct:no|asian:no|version:2.6.0 = 27.2727\n"
    );
    assert_eq!(
        stdout(&seq_score(&["ter", "-r", &r, &h, "-sl"])),
        "TER|nrefs:1|case:lc|tok:tercom|norm:no|punct:yes|asian:no|version:2.6.0 = 16.7\n\
         TER|nrefs:1|case:lc|tok:tercom|norm:no|punct:yes|asian:no|version:2.6.0 = 40.0\n"
    );
    // -lc and -tok are sacrebleu's spellings of -l and -t.
    let sacrebleu_style = stdout(&seq_score(&[
        "bleu", &r, &r2, "-i", &h, "-lc", "-tok", "intl",
    ]));
    let ours = stdout(&seq_score(&[
        "bleu", "-r", &r, "-r", &r2, &h, "-l", "-t", "intl",
    ]));
    assert_eq!(sacrebleu_style, ours);
    assert!(sacrebleu_style.contains("|case:lc|"), "{sacrebleu_style}");
    assert_eq!(
        stdout(&seq_score(&["chrf", &r, "-i", &h, "-cw", "2"])),
        stdout(&seq_score(&["chrf", "-r", &r, &h, "--word-order", "2"]))
    );
    // Several metrics, aligned on " = " and in sacrebleu's order whatever the order of -m.
    assert_eq!(
        stdout(&seq_score(&[
            "sacrebleu",
            &r,
            &r2,
            "-i",
            &h,
            "-m",
            "ter",
            "chrf",
            "bleu",
            "-lc",
            "-w",
            "3"
        ])),
        "           BLEU|nrefs:2|case:lc|eff:no|tok:13a|smooth:exp|version:2.6.0 = 83.290 \
         91.7/90.0/87.5/66.7 (BP = 1.000 ratio = 1.000 hyp_len = 12 ref_len = 12)\n      \
         chrF2|nrefs:2|case:mixed|eff:yes|nc:6|nw:0|space:no|version:2.6.0 = 79.480\n\
         TER|nrefs:2|case:lc|tok:tercom|norm:no|punct:yes|asian:no|version:2.6.0 = 18.182\n"
    );
    let v: serde_json::Value = serde_json::from_str(&stdout(&seq_score(&[
        "sacrebleu",
        &r,
        "-i",
        &h,
        "--metrics",
        "bleu",
        "ter",
        "-f",
        "json",
    ])))
    .expect("a JSON array");
    assert_eq!(v[1]["name"], "TER");
    assert!((v[0]["score"].as_f64().expect("score") - 39.12711450183219).abs() < 1e-9);
}

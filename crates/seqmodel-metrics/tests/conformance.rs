//! Runs every reference case in `tests/fixtures/metrics/cases.json` (values produced by
//! sacrebleu, rouge-score, scikit-learn, seqeval and numpy; schema in the README there),
//! `tests/fixtures/metrics/ter_zh_cases.json` (TER and BLEU with the `zh` tokeniser, from
//! sacrebleu) and the file named by `SEQMODEL_METRICS_CASES`, if set. Scores must agree within
//! `1e-9 * max(1, |expected|)`; counts exactly.

use std::collections::BTreeMap;
use std::path::PathBuf;

use seqmodel_metrics::{
    Average, BleuConfig, BleuTokenizer, ChrfConfig, ChunkMode, ClassificationAccumulator,
    PrfConfig, RougeScorer, RougeType, Scheme, SmoothMethod, TerConfig, TerScore, ZeroDivision,
    corpus_bleu, corpus_chrf, corpus_ter, entity_report, perplexity_from_log_probs,
    perplexity_from_logits, regression_scores, sentence_bleu, sentence_chrf, sentence_ter,
};
use serde_json::Value;

type Outputs = BTreeMap<String, f64>;

fn strs(v: &Value) -> Vec<String> {
    v.as_array()
        .expect("an array of strings")
        .iter()
        .map(|s| s.as_str().expect("a string").to_string())
        .collect()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("an array of numbers")
        .iter()
        .map(|x| x.as_f64().expect("a number"))
        .collect()
}

fn bleu_config(p: &Value, sentence: bool) -> BleuConfig {
    let base = if sentence {
        BleuConfig::sentence()
    } else {
        BleuConfig::corpus()
    };
    base.with_tokenizer(
        p["tokenize"]
            .as_str()
            .expect("tokenize")
            .parse::<BleuTokenizer>()
            .expect("known tokenizer"),
    )
    .with_lowercase(p["lowercase"].as_bool().expect("lowercase"))
    .with_smoothing(
        p["smooth_method"]
            .as_str()
            .expect("smooth_method")
            .parse::<SmoothMethod>()
            .expect("known method"),
        p["smooth_value"].as_f64(),
    )
    .with_effective_order(
        p["use_effective_order"]
            .as_bool()
            .expect("use_effective_order"),
    )
}

fn bleu_outputs(s: &seqmodel_metrics::BleuScore) -> Outputs {
    let mut o = Outputs::new();
    o.insert("score".into(), s.score);
    o.insert("bp".into(), s.bp);
    o.insert("sys_len".into(), s.sys_len as f64);
    o.insert("ref_len".into(), s.ref_len as f64);
    for n in 0..s.precisions.len() {
        o.insert(format!("precision_{}", n + 1), s.precisions[n]);
        o.insert(format!("counts_{}", n + 1), s.counts[n]);
        o.insert(format!("totals_{}", n + 1), s.totals[n]);
    }
    o
}

fn chrf_config(p: &Value) -> ChrfConfig {
    ChrfConfig {
        char_order: p["char_order"].as_u64().expect("char_order") as usize,
        word_order: p["word_order"].as_u64().expect("word_order") as usize,
        beta: p["beta"].as_u64().expect("beta") as u32,
        lowercase: p["lowercase"].as_bool().unwrap_or(false),
        whitespace: p["whitespace"].as_bool().unwrap_or(false),
        eps_smoothing: p["eps_smoothing"].as_bool().unwrap_or(false),
    }
}

fn ter_config(p: &Value) -> TerConfig {
    let flag = |k: &str| p[k].as_bool().unwrap_or_else(|| panic!("TER param {k}"));
    TerConfig {
        normalized: flag("normalized"),
        no_punct: flag("no_punct"),
        asian_support: flag("asian_support"),
        case_sensitive: flag("case_sensitive"),
    }
}

fn ter_outputs(s: &TerScore) -> Outputs {
    Outputs::from([
        ("score".to_string(), s.score),
        ("num_edits".to_string(), s.num_edits as f64),
        ("ref_length".to_string(), s.ref_length),
    ])
}

fn rouge_outputs(s: &seqmodel_metrics::RougeScores) -> Outputs {
    let mut o = Outputs::new();
    for (t, v) in &s.scores {
        o.insert(format!("{t}.precision"), v.precision);
        o.insert(format!("{t}.recall"), v.recall);
        o.insert(format!("{t}.fmeasure"), v.fmeasure);
    }
    o
}

fn rouge_scorer(p: &Value) -> RougeScorer {
    let types: Vec<RougeType> = strs(&p["rouge_types"])
        .iter()
        .map(|t| t.parse().expect("known rouge type"))
        .collect();
    RougeScorer::new(types, p["use_stemmer"].as_bool().expect("use_stemmer")).expect("valid scorer")
}

/// A label as it appears in the JSON: an integer or a string (each case uses one kind).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Label {
    Int(i64),
    Str(String),
}

impl Label {
    fn from(v: &Value) -> Label {
        match v {
            Value::String(s) => Label::Str(s.clone()),
            other => Label::Int(other.as_i64().expect("an integer or string label")),
        }
    }

    fn key(&self) -> String {
        match self {
            Label::Int(i) => i.to_string(),
            Label::Str(s) => s.clone(),
        }
    }
}

fn labels(v: &Value) -> Vec<Label> {
    v.as_array()
        .expect("an array of labels")
        .iter()
        .map(Label::from)
        .collect()
}

fn classification(metric: &str, p: &Value, inputs: &Value) -> Outputs {
    let mut acc = ClassificationAccumulator::new();
    acc.update(&labels(&inputs["y_true"]), &labels(&inputs["y_pred"]))
        .expect("aligned labels");
    let mut o = Outputs::new();
    match metric {
        "accuracy" => {
            o.insert("accuracy".into(), acc.accuracy().expect("non-empty"));
        }
        "confusion_matrix" => {
            let given = p.get("labels").filter(|v| !v.is_null()).map(labels);
            let cm = acc
                .confusion_matrix(given.as_deref())
                .expect("valid labels");
            for (i, row) in cm.iter().enumerate() {
                for (j, &c) in row.iter().enumerate() {
                    o.insert(format!("cm.{i}.{j}"), c as f64);
                }
            }
        }
        _ => {
            let zero_division = match p["zero_division"].as_f64() {
                Some(1.0) => ZeroDivision::One,
                Some(0.0) => ZeroDivision::Zero,
                _ => ZeroDivision::Nan,
            };
            let config = PrfConfig {
                labels: p.get("labels").filter(|v| !v.is_null()).map(labels),
                zero_division,
                beta: p["beta"].as_f64().unwrap_or(1.0),
            };
            match p["average"].as_str() {
                None => {
                    for (l, s) in acc.per_class(&config).expect("valid config") {
                        let k = l.key();
                        o.insert(format!("precision.{k}"), s.precision);
                        o.insert(format!("recall.{k}"), s.recall);
                        o.insert(format!("f1.{k}"), s.f_score);
                        o.insert(format!("support.{k}"), s.support as f64);
                    }
                }
                Some(avg) => {
                    let average = match avg {
                        "binary" => Average::Binary {
                            pos_label: Label::from(&p["pos_label"]),
                        },
                        "micro" => Average::Micro,
                        "macro" => Average::Macro,
                        "weighted" => Average::Weighted,
                        other => panic!("unknown average {other}"),
                    };
                    let s = acc
                        .precision_recall_fscore(&average, &config)
                        .expect("valid config");
                    o.insert("precision".into(), s.precision);
                    o.insert("recall".into(), s.recall);
                    o.insert("f1".into(), s.f_score);
                }
            }
        }
    }
    o
}

fn seqeval(p: &Value, inputs: &Value) -> Outputs {
    let sents = |v: &Value| -> Vec<Vec<String>> {
        v.as_array().expect("sentences").iter().map(strs).collect()
    };
    let mode = match p["mode"].as_str() {
        Some("strict") => ChunkMode::Strict(
            p["scheme"]
                .as_str()
                .expect("scheme")
                .parse::<Scheme>()
                .expect("known scheme"),
        ),
        _ => ChunkMode::Default,
    };
    let r = entity_report(&sents(&inputs["y_true"]), &sents(&inputs["y_pred"]), mode)
        .expect("valid tags");
    let mut o = Outputs::new();
    let mut put = |name: &str, s: &seqmodel_metrics::ClassScores| {
        o.insert(format!("{name}.precision"), s.precision);
        o.insert(format!("{name}.recall"), s.recall);
        o.insert(format!("{name}.f1"), s.f_score);
        o.insert(format!("{name}.support"), s.support as f64);
    };
    for (k, s) in &r.per_type {
        put(k, s);
    }
    put("micro", &r.micro);
    put("macro", &r.macro_avg);
    put("weighted", &r.weighted);
    o.insert("token_accuracy".into(), r.token_accuracy);
    o
}

fn run_case(case: &Value) -> Outputs {
    let metric = case["metric"].as_str().expect("metric");
    let p = &case["params"];
    let inputs = &case["inputs"];
    match metric {
        "bleu_corpus" => {
            let hyps = strs(&inputs["hypotheses"]);
            let refs: Vec<Vec<String>> = inputs["references_per_hypothesis"]
                .as_array()
                .expect("refs")
                .iter()
                .map(strs)
                .collect();
            bleu_outputs(
                &corpus_bleu(&hyps, &refs, &bleu_config(p, false)).expect("valid BLEU input"),
            )
        }
        "bleu_sentence" => {
            let hyp = inputs["hypothesis"].as_str().expect("hypothesis");
            bleu_outputs(
                &sentence_bleu(hyp, &strs(&inputs["references"]), &bleu_config(p, true))
                    .expect("valid"),
            )
        }
        "chrf_corpus" => {
            let hyps = strs(&inputs["hypotheses"]);
            let refs: Vec<Vec<String>> = inputs["references_per_hypothesis"]
                .as_array()
                .expect("refs")
                .iter()
                .map(strs)
                .collect();
            let s = corpus_chrf(&hyps, &refs, &chrf_config(p)).expect("valid chrF input");
            Outputs::from([("score".to_string(), s.score)])
        }
        "chrf_sentence" => {
            let hyp = inputs["hypothesis"].as_str().expect("hypothesis");
            let s =
                sentence_chrf(hyp, &strs(&inputs["references"]), &chrf_config(p)).expect("valid");
            Outputs::from([("score".to_string(), s.score)])
        }
        "ter_corpus" => {
            let hyps = strs(&inputs["hypotheses"]);
            let refs: Vec<Vec<String>> = inputs["references_per_hypothesis"]
                .as_array()
                .expect("refs")
                .iter()
                .map(strs)
                .collect();
            ter_outputs(&corpus_ter(&hyps, &refs, &ter_config(p)).expect("valid TER input"))
        }
        "ter_sentence" => {
            let hyp = inputs["hypothesis"].as_str().expect("hypothesis");
            ter_outputs(
                &sentence_ter(hyp, &strs(&inputs["references"]), &ter_config(p)).expect("valid"),
            )
        }
        "rouge" => rouge_outputs(&rouge_scorer(p).score(
            inputs["target"].as_str().expect("target"),
            inputs["prediction"].as_str().expect("prediction"),
        )),
        "rouge_multi" => rouge_outputs(
            &rouge_scorer(p)
                .score_multi(
                    &strs(&inputs["targets"]),
                    inputs["prediction"].as_str().expect("prediction"),
                )
                .expect("targets"),
        ),
        "accuracy" | "precision_recall_f1" | "confusion_matrix" => {
            classification(metric, p, inputs)
        }
        "seqeval" => seqeval(p, inputs),
        "regression" => {
            let r = regression_scores(&floats(&inputs["y_true"]), &floats(&inputs["y_pred"]))
                .expect("valid");
            Outputs::from([
                ("mae".to_string(), r.mae),
                ("mse".to_string(), r.mse),
                ("rmse".to_string(), r.rmse),
                ("mape".to_string(), r.mape),
                ("smape".to_string(), r.smape),
            ])
        }
        "perplexity_logprobs" => {
            let lp: Vec<Vec<f64>> = inputs["log_probs"]
                .as_array()
                .expect("rows")
                .iter()
                .map(floats)
                .collect();
            let mask: Option<Vec<Vec<bool>>> = inputs["mask"].as_array().map(|rows| {
                rows.iter()
                    .map(|r| floats(r).into_iter().map(|m| m != 0.0).collect())
                    .collect()
            });
            let r = perplexity_from_log_probs(&lp, mask.as_deref()).expect("valid");
            let mut o = Outputs::from([
                ("perplexity".to_string(), r.perplexity),
                ("mean_nll".to_string(), r.mean_nll),
                ("num_tokens".to_string(), r.num_tokens as f64),
            ]);
            for (i, v) in r.per_sequence.iter().enumerate() {
                o.insert(format!("seq_perplexity.{i}"), *v);
            }
            o
        }
        "perplexity_logits" => {
            let batches = inputs["logits"].as_array().expect("batch");
            let (b, t) = (batches.len(), batches[0].as_array().expect("time").len());
            let mut flat = Vec::new();
            let mut vocab = 0;
            for row in batches {
                for pos in row.as_array().expect("time") {
                    let v = floats(pos);
                    vocab = v.len();
                    flat.extend(v);
                }
            }
            let targets: Vec<i64> = inputs["targets"]
                .as_array()
                .expect("targets")
                .iter()
                .flat_map(|r| {
                    r.as_array()
                        .expect("row")
                        .iter()
                        .map(|x| x.as_i64().expect("int"))
                })
                .collect();
            let ignore = p["ignore_index"].as_i64();
            let r = perplexity_from_logits(&flat, &targets, [b, t, vocab], ignore, None)
                .expect("valid");
            Outputs::from([
                ("perplexity".to_string(), r.perplexity),
                ("mean_nll".to_string(), r.mean_nll),
                ("num_tokens".to_string(), r.num_tokens as f64),
            ])
        }
        other => panic!("case {}: unknown metric {other}", case["id"]),
    }
}

fn is_count(key: &str) -> bool {
    key.starts_with("counts_")
        || key.starts_with("totals_")
        || key.ends_with("_len")
        || key.contains("support")
        || key.starts_with("cm.")
        || key == "num_tokens"
        || key == "num_edits"
}

fn check_file(path: &PathBuf, failures: &mut Vec<String>) -> usize {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let cases: Vec<Value> =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    for case in &cases {
        let id = case["id"].as_str().expect("id");
        let got = run_case(case);
        for (key, exp) in case["expected"].as_object().expect("expected") {
            let exp = exp.as_f64().expect("a number");
            let Some(&g) = got.get(key) else {
                failures.push(format!("{id}: {key}: not computed"));
                continue;
            };
            // Counts with add-k smoothing can be fractional; integral counts must match exactly.
            let ok = if is_count(key) && exp.fract() == 0.0 {
                g == exp
            } else if exp.is_nan() {
                g.is_nan()
            } else {
                (g - exp).abs() <= 1e-9 * exp.abs().max(1.0)
            };
            if !ok {
                failures.push(format!("{id}: {key}: got {g:?}, expected {exp:?}"));
            }
        }
    }
    cases.len()
}

#[test]
fn reference_cases() {
    let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/metrics");
    let mut files = vec![
        fixtures.join("cases.json"),
        fixtures.join("ter_zh_cases.json"),
    ];
    if let Some(extra) = std::env::var_os("SEQMODEL_METRICS_CASES") {
        files.push(PathBuf::from(extra));
    }
    let mut failures = Vec::new();
    let mut checked = 0;
    for f in &files {
        checked += check_file(f, &mut failures);
    }
    println!("checked {checked} cases");
    assert!(checked > 0, "no reference case was checked");
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

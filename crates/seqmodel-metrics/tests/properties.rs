//! Invariants of every metric, checked with proptest: bounds, perfect scores, streaming equals
//! one-shot for any split into batches, and merge is associative and commutative.

use proptest::prelude::*;
use seqmodel_metrics::{
    Accumulator, Average, BleuAccumulator, BleuConfig, BleuTokenizer, ChrfAccumulator, ChrfConfig,
    ChunkMode, ClassificationAccumulator, EntityAccumulator, PerplexityAccumulator, PrfConfig,
    RegressionAccumulator, RougeAccumulator, RougeScorer, Scheme, SmoothMethod, corpus_bleu,
    corpus_chrf, entity_report, sentence_bleu, sentence_chrf,
};

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

/// A sentence of 1..12 words over a small vocabulary (so that n-grams repeat and match).
fn sentence() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop::sample::select(vec![
            "the", "cat", "sat", "on", "a", "mat", "dog", "ran", ",", ".", "Big", "1,000",
        ]),
        1..12,
    )
    .prop_map(|w| w.join(" "))
}

/// Aligned hypotheses and 1..3 references each.
fn corpus() -> impl Strategy<Value = (Vec<String>, Vec<Vec<String>>)> {
    prop::collection::vec((sentence(), prop::collection::vec(sentence(), 1..3)), 1..12)
        .prop_map(|pairs| pairs.into_iter().unzip())
}

fn bleu_config() -> impl Strategy<Value = BleuConfig> {
    (
        prop::sample::select(vec![
            BleuTokenizer::Thirteen,
            BleuTokenizer::Intl,
            BleuTokenizer::Char,
            BleuTokenizer::None,
        ]),
        prop::sample::select(vec![
            SmoothMethod::Exp,
            SmoothMethod::Floor,
            SmoothMethod::AddK,
            SmoothMethod::None,
        ]),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(t, s, lc, eff)| {
            BleuConfig::corpus()
                .with_tokenizer(t)
                .with_smoothing(s, None)
                .with_lowercase(lc)
                .with_effective_order(eff)
        })
}

/// Cut points that split `n` items into consecutive batches.
fn splits(n: usize, cuts: &[usize]) -> Vec<std::ops::Range<usize>> {
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (n + 1)).collect();
    points.push(0);
    points.push(n);
    points.sort_unstable();
    points.dedup();
    points.windows(2).map(|w| w[0]..w[1]).collect()
}

fn labels() -> impl Strategy<Value = (Vec<u8>, Vec<u8>)> {
    prop::collection::vec((0u8..4, 0u8..4), 1..40).prop_map(|p| p.into_iter().unzip())
}

fn tag_sentences() -> impl Strategy<Value = (Vec<Vec<String>>, Vec<Vec<String>>)> {
    let tag = prop::sample::select(vec![
        "O", "O", "B-PER", "I-PER", "B-LOC", "I-LOC", "E-LOC", "S-PER",
    ]);
    prop::collection::vec(prop::collection::vec((tag.clone(), tag), 1..10), 1..8).prop_map(
        |sents| {
            sents
                .into_iter()
                .map(|s| {
                    let (g, p): (Vec<&str>, Vec<&str>) = s.into_iter().unzip();
                    (
                        g.into_iter().map(String::from).collect(),
                        p.into_iter().map(String::from).collect(),
                    )
                })
                .unzip()
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn bleu_bounds((hyps, refs) in corpus(), config in bleu_config()) {
        let s = corpus_bleu(&hyps, &refs, &config).expect("valid corpus");
        prop_assert!((0.0..=100.0 + 1e-9).contains(&s.score), "BLEU {} outside 0..=100", s.score);
        prop_assert!((0.0..=1.0).contains(&s.bp), "BP {} outside 0..=1", s.bp);
        for p in &s.precisions {
            prop_assert!((0.0..=100.0 + 1e-9).contains(p), "precision {p} outside 0..=100");
        }
        for (c, t) in s.counts.iter().zip(&s.totals) {
            prop_assert!(c <= t, "matches {c} exceed totals {t}");
        }
    }

    #[test]
    fn bleu_of_identical_text_is_100(hyp in sentence(), more in prop::collection::vec(sentence(), 0..5)) {
        let s = sentence_bleu(&hyp, std::slice::from_ref(&hyp), &BleuConfig::sentence()).expect("valid");
        prop_assert!(close(s.score, 100.0), "sentence BLEU(h, h) = {}", s.score);
        // Corpus BLEU without effective order: 100 as soon as some segment has 4 tokens.
        let mut hyps = more;
        hyps.push("w x y z".to_string());
        let refs: Vec<Vec<String>> = hyps.iter().map(|h| vec![h.clone()]).collect();
        let s = corpus_bleu(&hyps, &refs, &BleuConfig::corpus()).expect("valid");
        prop_assert!(close(s.score, 100.0), "corpus BLEU(h, h) = {}", s.score);
    }

    #[test]
    fn bleu_streaming_equals_one_shot((hyps, refs) in corpus(), config in bleu_config(), cuts in prop::collection::vec(any::<usize>(), 0..4)) {
        let whole = corpus_bleu(&hyps, &refs, &config).expect("valid");
        let mut acc = BleuAccumulator::new(config.clone()).expect("valid config");
        for r in splits(hyps.len(), &cuts) {
            acc.update(&hyps[r.clone()], &refs[r]).expect("valid batch");
        }
        prop_assert_eq!(acc.compute().expect("non-empty"), whole);
    }

    #[test]
    fn bleu_merge_associative_commutative((hyps, refs) in corpus(), cuts in prop::collection::vec(any::<usize>(), 2..3)) {
        let parts: Vec<BleuAccumulator> = splits(hyps.len(), &cuts).into_iter().map(|r| {
            let mut a = BleuAccumulator::new(BleuConfig::corpus()).expect("valid config");
            a.update(&hyps[r.clone()], &refs[r]).expect("valid batch");
            a
        }).collect();
        let merged = |order: &[usize]| {
            let mut m = BleuAccumulator::new(BleuConfig::corpus()).expect("valid config");
            for &i in order { m.merge(&parts[i]).expect("same config"); }
            m
        };
        let forward: Vec<usize> = (0..parts.len()).collect();
        let backward: Vec<usize> = forward.iter().rev().copied().collect();
        let (f, b) = (merged(&forward), merged(&backward));
        prop_assert_eq!(f.stats(), b.stats());
        // (a + b) + c == a + (b + c)
        if parts.len() == 3 {
            let mut left = parts[0].clone(); left.merge(&parts[1]).expect("ok"); left.merge(&parts[2]).expect("ok");
            let mut bc = parts[1].clone(); bc.merge(&parts[2]).expect("ok");
            let mut right = parts[0].clone(); right.merge(&bc).expect("ok");
            prop_assert_eq!(left.compute().expect("ok"), right.compute().expect("ok"));
        }
    }

    #[test]
    fn chrf_bounds_identity_and_streaming((hyps, refs) in corpus(), plus in any::<bool>(), cuts in prop::collection::vec(any::<usize>(), 0..4)) {
        let config = if plus { ChrfConfig::chrf_plus_plus() } else { ChrfConfig::chrf() };
        let whole = corpus_chrf(&hyps, &refs, &config).expect("valid");
        prop_assert!((0.0..=100.0 + 1e-9).contains(&whole.score), "chrF {} outside 0..=100", whole.score);
        let same = sentence_chrf(&hyps[0], &[hyps[0].clone()], &config).expect("valid");
        prop_assert!(close(same.score, 100.0), "chrF(h, h) = {}", same.score);
        let mut acc = ChrfAccumulator::new(config.clone()).expect("valid config");
        let mut parts = Vec::new();
        for r in splits(hyps.len(), &cuts) {
            acc.update(&hyps[r.clone()], &refs[r.clone()]).expect("valid");
            let mut p = ChrfAccumulator::new(config.clone()).expect("valid config");
            p.update(&hyps[r.clone()], &refs[r]).expect("valid");
            parts.push(p);
        }
        prop_assert_eq!(acc.compute().expect("ok"), whole.clone());
        let mut rev = ChrfAccumulator::new(config).expect("valid config");
        for p in parts.iter().rev() { rev.merge(p).expect("same config"); }
        prop_assert_eq!(rev.compute().expect("ok"), whole);
    }

    #[test]
    fn rouge_bounds_identity_and_streaming((preds, targets) in corpus(), stem in any::<bool>(), cuts in prop::collection::vec(any::<usize>(), 0..4)) {
        let scorer = RougeScorer::all(stem);
        for (p, t) in preds.iter().zip(&targets) {
            for (_, s) in scorer.score(&t[0], p).scores {
                for v in [s.precision, s.recall, s.fmeasure] {
                    prop_assert!((0.0..=1.0).contains(&v), "ROUGE value {v} outside 0..=1");
                }
            }
        }
        let same = scorer.score("the big cat sat", "the big cat sat");
        prop_assert!(same.scores.iter().all(|(_, s)| s.fmeasure == 1.0));
        let mut whole = RougeAccumulator::new(scorer.clone());
        whole.update(&preds, &targets).expect("valid");
        let mut parts = Vec::new();
        for r in splits(preds.len(), &cuts) {
            let mut p = RougeAccumulator::new(scorer.clone());
            p.update(&preds[r.clone()], &targets[r]).expect("valid");
            parts.push(p);
        }
        let mut fwd = RougeAccumulator::new(scorer.clone());
        for p in &parts { fwd.merge(p).expect("same scorer"); }
        let mut rev = RougeAccumulator::new(scorer);
        for p in parts.iter().rev() { rev.merge(p).expect("same scorer"); }
        let (w, f, b) = (whole.compute().expect("ok"), fwd.compute().expect("ok"), rev.compute().expect("ok"));
        for ((x, y), z) in w.scores.iter().zip(&f.scores).zip(&b.scores) {
            prop_assert!(close(x.1.fmeasure, y.1.fmeasure) && close(y.1.fmeasure, z.1.fmeasure), "streamed ROUGE differs");
            prop_assert!(close(x.1.precision, y.1.precision) && close(x.1.recall, z.1.recall), "streamed ROUGE differs");
        }
    }

    #[test]
    fn classification_bounds_and_streaming((gold, pred) in labels(), cuts in prop::collection::vec(any::<usize>(), 0..4)) {
        let mut whole = ClassificationAccumulator::new();
        whole.update(&gold, &pred).expect("aligned");
        let report = whole.report(&PrfConfig::default()).expect("non-empty");
        for s in report.per_class.iter().map(|(_, s)| s).chain([&report.micro, &report.macro_avg, &report.weighted]) {
            for v in [s.precision, s.recall, s.f_score] {
                prop_assert!((0.0..=1.0).contains(&v), "score {v} outside 0..=1");
            }
        }
        prop_assert!(close(report.micro.f_score, report.accuracy), "micro F1 over all labels must equal accuracy");
        let cm = whole.confusion_matrix(None).expect("ok");
        prop_assert_eq!(cm.iter().flatten().sum::<u64>(), gold.len() as u64);
        let mut parts = Vec::new();
        for r in splits(gold.len(), &cuts) {
            let mut p = ClassificationAccumulator::new();
            p.update(&gold[r.clone()], &pred[r]).expect("aligned");
            parts.push(p);
        }
        let mut rev = ClassificationAccumulator::new();
        for p in parts.iter().rev() { rev.merge(p).expect("ok"); }
        prop_assert_eq!(&rev, &whole);
        let mut fwd = ClassificationAccumulator::new();
        for p in &parts { fwd.merge(p).expect("ok"); }
        prop_assert_eq!(fwd.precision_recall_fscore(&Average::Macro, &PrfConfig::default()).expect("ok"),
            whole.precision_recall_fscore(&Average::Macro, &PrfConfig::default()).expect("ok"));
    }

    #[test]
    fn entity_bounds_and_streaming((gold, pred) in tag_sentences(), strict in any::<bool>(), cuts in prop::collection::vec(any::<usize>(), 0..4)) {
        let mode = if strict { ChunkMode::Strict(Scheme::Iobes) } else { ChunkMode::Default };
        let whole = entity_report(&gold, &pred, mode).expect("valid tags");
        for s in whole.per_type.iter().map(|(_, s)| s).chain([&whole.micro, &whole.weighted]) {
            for v in [s.precision, s.recall, s.f_score] {
                prop_assert!((0.0..=1.0).contains(&v), "entity score {v} outside 0..=1");
            }
        }
        prop_assert!((0.0..=1.0).contains(&whole.token_accuracy));
        let perfect = entity_report(&gold, &gold, mode).expect("valid tags");
        prop_assert!(perfect.per_type.iter().all(|(_, s)| s.f_score == 1.0 || s.support == 0));
        let mut parts = Vec::new();
        for r in splits(gold.len(), &cuts) {
            let mut p = EntityAccumulator::new(mode);
            p.update(&gold[r.clone()], &pred[r]).expect("valid");
            parts.push(p);
        }
        let mut rev = EntityAccumulator::new(mode);
        for p in parts.iter().rev() { rev.merge(p).expect("same mode"); }
        let rev = rev.compute().expect("non-empty");
        prop_assert_eq!(&rev.per_type, &whole.per_type);
        prop_assert_eq!(rev.micro, whole.micro);
        prop_assert!(close(rev.macro_avg.f_score, whole.macro_avg.f_score) || (rev.macro_avg.f_score.is_nan() && whole.macro_avg.f_score.is_nan()));
    }

    #[test]
    fn regression_bounds_and_streaming(pairs in prop::collection::vec((-1e3f64..1e3, -1e3f64..1e3), 1..40), cuts in prop::collection::vec(any::<usize>(), 0..4)) {
        let (gold, pred): (Vec<f64>, Vec<f64>) = pairs.into_iter().unzip();
        let mut whole = RegressionAccumulator::new();
        whole.update(&gold, &pred).expect("finite");
        let w = whole.compute().expect("non-empty");
        prop_assert!(w.mae >= 0.0 && w.mape >= 0.0);
        prop_assert!(w.rmse + 1e-9 >= w.mae, "RMSE {} < MAE {}", w.rmse, w.mae);
        prop_assert!((0.0..=200.0 + 1e-9).contains(&w.smape), "SMAPE {} outside 0..=200", w.smape);
        let mut rev = RegressionAccumulator::new();
        for r in splits(gold.len(), &cuts).into_iter().rev() {
            let mut p = RegressionAccumulator::new();
            p.update(&gold[r.clone()], &pred[r]).expect("finite");
            rev.merge(&p).expect("ok");
        }
        let r = rev.compute().expect("non-empty");
        for (a, b) in [(r.mae, w.mae), (r.mse, w.mse), (r.rmse, w.rmse), (r.mape, w.mape), (r.smape, w.smape)] {
            prop_assert!(close(a, b), "streamed {a} vs one-shot {b}");
        }
    }

    #[test]
    fn perplexity_bounds_and_streaming(rows in prop::collection::vec(prop::collection::vec(-20.0f64..=0.0, 1..10), 1..8), cuts in prop::collection::vec(any::<usize>(), 0..4)) {
        let mut whole = PerplexityAccumulator::new();
        whole.update_log_probs(&rows, None).expect("valid");
        let w = whole.compute().expect("tokens");
        prop_assert!(w.perplexity >= 1.0, "perplexity {} < 1", w.perplexity);
        let mut parts = Vec::new();
        for r in splits(rows.len(), &cuts) {
            let mut p = PerplexityAccumulator::new();
            if !r.is_empty() { p.update_log_probs(&rows[r], None).expect("valid"); }
            parts.push(p);
        }
        let mut fwd = PerplexityAccumulator::new();
        for p in &parts { fwd.merge(p).expect("ok"); }
        let mut rev = PerplexityAccumulator::new();
        for p in parts.iter().rev() { rev.merge(p).expect("ok"); }
        let (f, b) = (fwd.compute().expect("ok"), rev.compute().expect("ok"));
        prop_assert_eq!(f.num_tokens, w.num_tokens);
        prop_assert!(close(f.perplexity, w.perplexity) && close(b.perplexity, w.perplexity));
        prop_assert_eq!(f.per_sequence.len(), rows.len());
    }
}

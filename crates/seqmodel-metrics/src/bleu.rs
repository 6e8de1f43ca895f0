//! BLEU (Papineni et al., 2002) exactly as sacrebleu 2.6.0 computes it.
//!
//! Segments are lower-cased (optionally), right-stripped and tokenised ([`BleuTokenizer`]);
//! n-grams of order 1..=4 are counted and clipped by the maximum count over the references;
//! the reference length of a segment is the one closest to the hypothesis length (ties go to
//! the shorter reference); counts and lengths are summed over the corpus and BLEU is computed
//! once from the totals with the chosen [`SmoothMethod`].
//!
//! The corner cases follow sacrebleu, not the paper: no unigram match gives 0 with all
//! precisions reported as 0; without effective order a missing n-gram order makes the score
//! 0 (`log 0` is taken as `-9999999999`); `add-k` adds `k` to the reported counts and totals of
//! orders 2 and up.

use std::fmt;
use std::str::FromStr;

use crate::bleu_counting::corpus_stats;
use crate::bleu_tokenizer::{BleuTokenizer, TokenizerScratch};
use crate::error::check_same_len;
use crate::pytext::{py_lower, py_rstrip};
use crate::{Accumulator, Error, Result};

/// The sacrebleu version whose behaviour this module reproduces (shown in signatures).
pub const SACREBLEU_VERSION: &str = "2.6.0";

/// The highest n-gram order [`BleuConfig::max_ngram_order`] accepts.
pub const MAX_SUPPORTED_NGRAM_ORDER: usize = 16;

/// How zero n-gram matches are smoothed (Chen & Cherry, 2014), as sacrebleu's `smooth_method`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SmoothMethod {
    /// No smoothing: a zero precision makes BLEU 0.
    None,
    /// Method 1: a zero-match precision becomes `smooth_value / total` (default value 0.1).
    Floor,
    /// Method 2: add `smooth_value` (default 1) to counts and totals of orders >= 2.
    AddK,
    /// Method 3 (NIST, mteval-v13a): the k-th zero-match order gets precision `1 / (2^k total)`.
    #[default]
    Exp,
}

impl SmoothMethod {
    /// sacrebleu's name of the method.
    pub fn name(self) -> &'static str {
        match self {
            SmoothMethod::None => "none",
            SmoothMethod::Floor => "floor",
            SmoothMethod::AddK => "add-k",
            SmoothMethod::Exp => "exp",
        }
    }

    /// The value used when none is given (`floor`: 0.1, `add-k`: 1), or `None` when the method
    /// takes no value.
    pub fn default_value(self) -> Option<f64> {
        match self {
            SmoothMethod::Floor => Some(0.1),
            SmoothMethod::AddK => Some(1.0),
            SmoothMethod::None | SmoothMethod::Exp => None,
        }
    }
}

impl FromStr for SmoothMethod {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "none" => Ok(SmoothMethod::None),
            "floor" => Ok(SmoothMethod::Floor),
            "add-k" => Ok(SmoothMethod::AddK),
            "exp" => Ok(SmoothMethod::Exp),
            other => Err(Error::InvalidConfig(format!(
                "unknown smoothing method {other:?}: expected one of none, floor, add-k, exp"
            ))),
        }
    }
}

impl fmt::Display for SmoothMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Settings of a BLEU computation (sacrebleu's `BLEU(...)` arguments).
#[derive(Debug, Clone, PartialEq)]
pub struct BleuConfig {
    /// Tokeniser applied to hypotheses and references (default `13a`).
    pub tokenizer: BleuTokenizer,
    /// Lower-case everything before tokenising (default false).
    pub lowercase: bool,
    /// Smoothing method (default `exp`).
    pub smooth_method: SmoothMethod,
    /// Smoothing value for `floor` and `add-k`; `None` uses the method's default.
    pub smooth_value: Option<f64>,
    /// Average only over the orders for which the hypothesis has n-grams (default false for
    /// corpus BLEU, true for [`BleuConfig::sentence`]).
    pub effective_order: bool,
    /// Highest n-gram order (default 4).
    pub max_ngram_order: usize,
}

impl Default for BleuConfig {
    fn default() -> Self {
        Self::corpus()
    }
}

impl BleuConfig {
    /// sacrebleu's `corpus_bleu` defaults: 13a, mixed case, `exp`, no effective order, order 4.
    pub fn corpus() -> Self {
        Self {
            tokenizer: BleuTokenizer::Thirteen,
            lowercase: false,
            smooth_method: SmoothMethod::Exp,
            smooth_value: None,
            effective_order: false,
            max_ngram_order: 4,
        }
    }

    /// sacrebleu's `sentence_bleu` defaults: as [`BleuConfig::corpus`] with effective order.
    pub fn sentence() -> Self {
        Self {
            effective_order: true,
            ..Self::corpus()
        }
    }

    /// Sets the tokeniser.
    pub fn with_tokenizer(mut self, tokenizer: BleuTokenizer) -> Self {
        self.tokenizer = tokenizer;
        self
    }

    /// Sets lower-casing.
    pub fn with_lowercase(mut self, lowercase: bool) -> Self {
        self.lowercase = lowercase;
        self
    }

    /// Sets the smoothing method and (optionally) its value.
    pub fn with_smoothing(mut self, method: SmoothMethod, value: Option<f64>) -> Self {
        self.smooth_method = method;
        self.smooth_value = value;
        self
    }

    /// Sets effective order.
    pub fn with_effective_order(mut self, effective_order: bool) -> Self {
        self.effective_order = effective_order;
        self
    }

    /// Sets the highest n-gram order.
    pub fn with_max_ngram_order(mut self, order: usize) -> Self {
        self.max_ngram_order = order;
        self
    }

    /// Checks the settings; called by every entry point.
    pub fn validate(&self) -> Result<()> {
        if self.max_ngram_order == 0 || self.max_ngram_order > MAX_SUPPORTED_NGRAM_ORDER {
            return Err(Error::InvalidConfig(format!(
                "max_ngram_order = {}: expected 1..={MAX_SUPPORTED_NGRAM_ORDER}",
                self.max_ngram_order
            )));
        }
        if let Some(v) = self.smooth_value
            && (!v.is_finite() || v < 0.0)
        {
            return Err(Error::InvalidConfig(format!(
                "smooth_value = {v}: expected a finite value >= 0"
            )));
        }
        Ok(())
    }

    /// The smoothing value actually used (the given one or the method's default).
    pub fn effective_smooth_value(&self) -> Option<f64> {
        self.smooth_value.or(self.smooth_method.default_value())
    }

    /// sacrebleu's reproducibility signature, e.g.
    /// `nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0`.
    pub fn signature(&self, nrefs: RefCount) -> String {
        let mut smooth = self.smooth_method.name().to_string();
        if let Some(default) = self.smooth_method.default_value() {
            smooth.push_str(&format!("[{:.2}]", self.smooth_value.unwrap_or(default)));
        }
        format!(
            "nrefs:{nrefs}|case:{}|eff:{}|tok:{}|smooth:{smooth}|version:{SACREBLEU_VERSION}",
            if self.lowercase { "lc" } else { "mixed" },
            if self.effective_order { "yes" } else { "no" },
            self.tokenizer.name(),
        )
    }

    /// Lower-cases (if asked), right-strips and tokenises one segment into `out` (tokens are
    /// its whitespace-separated fields).
    pub(crate) fn tokenize_into(
        &self,
        segment: &str,
        out: &mut String,
        scratch: &mut TokenizerScratch,
    ) {
        if self.lowercase {
            let lowered = py_lower(segment);
            self.tokenizer
                .tokenize_into(py_rstrip(&lowered), out, scratch);
        } else {
            self.tokenizer
                .tokenize_into(py_rstrip(segment), out, scratch);
        }
    }
}

/// The number of references per segment, as shown in signatures (`nrefs:2`, `nrefs:var`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RefCount {
    /// Every segment had this many references.
    Fixed(usize),
    /// Segments had different numbers of references.
    Variable,
}

impl RefCount {
    /// Combines the counts of two parts of a corpus.
    pub fn combine(self, other: RefCount) -> RefCount {
        match (self, other) {
            (RefCount::Fixed(a), RefCount::Fixed(b)) if a == b => self,
            _ => RefCount::Variable,
        }
    }
}

impl fmt::Display for RefCount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RefCount::Fixed(n) => write!(f, "{n}"),
            RefCount::Variable => f.write_str("var"),
        }
    }
}

/// BLEU's sufficient statistics: lengths and n-gram counts summed over segments.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BleuStats {
    /// Total hypothesis length in tokens.
    pub sys_len: u64,
    /// Total closest-reference length in tokens.
    pub ref_len: u64,
    /// Clipped n-gram matches per order (`[order]`, index 0 = unigrams).
    pub matches: Vec<u64>,
    /// Hypothesis n-grams per order (`[order]`).
    pub totals: Vec<u64>,
}

impl BleuStats {
    /// Zero statistics for n-gram orders `1..=order`.
    pub fn zeros(order: usize) -> Self {
        Self {
            sys_len: 0,
            ref_len: 0,
            matches: vec![0; order],
            totals: vec![0; order],
        }
    }

    /// Adds another set of statistics (same order) to this one.
    pub fn add(&mut self, other: &BleuStats) {
        self.sys_len += other.sys_len;
        self.ref_len += other.ref_len;
        for (a, b) in self.matches.iter_mut().zip(&other.matches) {
            *a += b;
        }
        for (a, b) in self.totals.iter_mut().zip(&other.totals) {
            *a += b;
        }
    }
}

/// A BLEU result with everything sacrebleu reports.
#[derive(Debug, Clone, PartialEq)]
pub struct BleuScore {
    /// BLEU in percent, 0..=100.
    pub score: f64,
    /// Matched n-grams per order (with `add-k`, including the added `k` for orders >= 2).
    pub counts: Vec<f64>,
    /// Hypothesis n-grams per order (with `add-k`, including the added `k` for orders >= 2).
    pub totals: Vec<f64>,
    /// n-gram precisions in percent.
    pub precisions: Vec<f64>,
    /// Brevity penalty.
    pub bp: f64,
    /// Hypothesis length in tokens.
    pub sys_len: u64,
    /// Reference length in tokens.
    pub ref_len: u64,
}

impl BleuScore {
    /// `sys_len / ref_len`, or 0 when the reference length is 0.
    pub fn ratio(&self) -> f64 {
        if self.ref_len == 0 {
            0.0
        } else {
            self.sys_len as f64 / self.ref_len as f64
        }
    }

    /// sacrebleu's verbose part: `83.3/60.0/50.0/33.3 (BP = 1.000 ratio = 1.000 hyp_len = 6 ref_len = 6)`.
    pub fn verbose(&self) -> String {
        let prec: Vec<String> = self.precisions.iter().map(|p| format!("{p:.1}")).collect();
        format!(
            "{} (BP = {:.3} ratio = {:.3} hyp_len = {} ref_len = {})",
            prec.join("/"),
            self.bp,
            self.ratio(),
            self.sys_len,
            self.ref_len
        )
    }

    /// sacrebleu's text line, e.g. `BLEU|nrefs:1|...|version:2.6.0 = 53.7 83.3/60.0/...`.
    pub fn format(&self, width: usize, signature: &str) -> String {
        format!(
            "BLEU|{signature} = {:.width$} {}",
            self.score,
            self.verbose()
        )
    }

    /// Computes BLEU from summed statistics, as sacrebleu's `BLEU.compute_bleu`.
    pub fn from_stats(stats: &BleuStats, config: &BleuConfig) -> Result<BleuScore> {
        config.validate()?;
        let order = config.max_ngram_order;
        if stats.matches.len() != order || stats.totals.len() != order {
            return Err(Error::InvalidInput(format!(
                "BLEU statistics have {} orders, the configuration expects {order}",
                stats.matches.len()
            )));
        }
        let mut counts: Vec<f64> = stats.matches.iter().map(|&c| c as f64).collect();
        let mut totals: Vec<f64> = stats.totals.iter().map(|&c| c as f64).collect();
        let (sys_len, ref_len) = (stats.sys_len, stats.ref_len);
        let bp = if sys_len < ref_len {
            if sys_len > 0 {
                (1.0 - ref_len as f64 / sys_len as f64).exp()
            } else {
                0.0
            }
        } else {
            1.0
        };
        let mut precisions = vec![0.0; order];
        let result = |score, counts, totals, precisions| BleuScore {
            score,
            counts,
            totals,
            precisions,
            bp,
            sys_len,
            ref_len,
        };
        if stats.matches.iter().all(|&c| c == 0) {
            return Ok(result(0.0, counts, totals, precisions));
        }
        let smooth_value = config.effective_smooth_value().unwrap_or(0.0);
        let mut smooth_mteval = 1.0_f64;
        let mut eff_order = order;
        for n in 0..order {
            if config.smooth_method == SmoothMethod::AddK && n > 0 {
                counts[n] += smooth_value;
                totals[n] += smooth_value;
            }
            if totals[n] == 0.0 {
                break;
            }
            if config.effective_order {
                eff_order = n + 1;
            }
            if counts[n] == 0.0 {
                match config.smooth_method {
                    SmoothMethod::Exp => {
                        smooth_mteval *= 2.0;
                        precisions[n] = 100.0 / (smooth_mteval * totals[n]);
                    }
                    SmoothMethod::Floor => precisions[n] = 100.0 * smooth_value / totals[n],
                    SmoothMethod::None | SmoothMethod::AddK => {}
                }
            } else {
                precisions[n] = 100.0 * counts[n] / totals[n];
            }
        }
        let log_sum: f64 = precisions[..eff_order]
            .iter()
            .map(|&p| if p == 0.0 { -9_999_999_999.0 } else { p.ln() })
            .sum();
        let score = bp * (log_sum / eff_order as f64).exp();
        Ok(result(score, counts, totals, precisions))
    }
}

/// Validates the references of each hypothesis and returns the signature's reference count.
fn check_refs<R: AsRef<[S]>, S: AsRef<str>>(refs: &[R]) -> Result<RefCount> {
    let mut count: Option<RefCount> = None;
    for (i, r) in refs.iter().enumerate() {
        let n = r.as_ref().len();
        if n == 0 {
            return Err(Error::InvalidInput(format!(
                "hypothesis {i} has no reference: expected at least one"
            )));
        }
        count = Some(count.map_or(RefCount::Fixed(n), |c| c.combine(RefCount::Fixed(n))));
    }
    count.ok_or_else(|| Error::EmptyInput("no segments".into()))
}

/// Corpus BLEU: `hyps[i]` is scored against `refs[i]` (one or more references per hypothesis,
/// any number per segment).
///
/// This is sacrebleu's `corpus_bleu(hyps, streams)` with the references transposed; see
/// [`transpose_streams`] for sacrebleu's stream layout.
///
/// ```
/// use seqmodel_metrics::{corpus_bleu, BleuConfig};
/// let hyps = ["the cat sat on the mat"];
/// let refs = [vec!["the cat sat on a mat"]];
/// let bleu = corpus_bleu(&hyps, &refs, &BleuConfig::corpus())?;
/// assert!((bleu.score - 53.7284965911771).abs() < 1e-9);
/// assert_eq!(bleu.verbose(), "83.3/60.0/50.0/33.3 (BP = 1.000 ratio = 1.000 hyp_len = 6 ref_len = 6)");
/// # Ok::<(), seqmodel_metrics::Error>(())
/// ```
pub fn corpus_bleu<H, R, S>(hyps: &[H], refs: &[R], config: &BleuConfig) -> Result<BleuScore>
where
    H: AsRef<str> + Sync,
    R: AsRef<[S]> + Sync,
    S: AsRef<str> + Sync,
{
    let mut acc = BleuAccumulator::new(config.clone())?;
    acc.update(hyps, refs)?;
    acc.compute()
}

/// Sentence BLEU of one hypothesis against its references (sacrebleu's `sentence_bleu`; use
/// [`BleuConfig::sentence`] for its defaults).
///
/// ```
/// use seqmodel_metrics::{sentence_bleu, BleuConfig};
/// let s = sentence_bleu("a b c d", &["a b c d"], &BleuConfig::sentence())?;
/// assert!((s.score - 100.0).abs() < 1e-9);
/// # Ok::<(), seqmodel_metrics::Error>(())
/// ```
pub fn sentence_bleu<S: AsRef<str> + Sync>(
    hyp: &str,
    refs: &[S],
    config: &BleuConfig,
) -> Result<BleuScore> {
    let refs: Vec<&str> = refs.iter().map(|r| r.as_ref()).collect();
    corpus_bleu(&[hyp], &[refs], config)
}

/// Turns sacrebleu's reference streams (`streams[k][i]` = k-th reference of segment `i`;
/// `None` = no such reference) into one list of references per segment.
pub fn transpose_streams<S: AsRef<str>>(streams: &[Vec<Option<S>>]) -> Result<Vec<Vec<String>>> {
    let Some(first) = streams.first() else {
        return Ok(Vec::new());
    };
    let n = first.len();
    for (k, s) in streams.iter().enumerate() {
        check_same_len(&format!("reference stream {k} vs stream 0"), s.len(), n)?;
    }
    Ok((0..n)
        .map(|i| {
            streams
                .iter()
                .filter_map(|s| s[i].as_ref().map(|r| r.as_ref().to_string()))
                .collect()
        })
        .collect())
}

/// Streaming corpus BLEU: [`update`](BleuAccumulator::update) with batches of segments,
/// [`merge`](Accumulator::merge) partial results from several workers,
/// [`compute`](Accumulator::compute) the corpus score. Equal to [`corpus_bleu`] on the
/// concatenation of the batches (the statistics are integer sums).
#[derive(Debug, Clone, PartialEq)]
pub struct BleuAccumulator {
    config: BleuConfig,
    stats: BleuStats,
    nrefs: Option<RefCount>,
    segments: u64,
}

impl BleuAccumulator {
    /// An empty accumulator.
    pub fn new(config: BleuConfig) -> Result<Self> {
        config.validate()?;
        let stats = BleuStats::zeros(config.max_ngram_order);
        Ok(Self {
            config,
            stats,
            nrefs: None,
            segments: 0,
        })
    }

    /// Adds a batch of hypotheses with their references (`refs[i]` belongs to `hyps[i]`).
    pub fn update<H, R, S>(&mut self, hyps: &[H], refs: &[R]) -> Result<()>
    where
        H: AsRef<str> + Sync,
        R: AsRef<[S]> + Sync,
        S: AsRef<str> + Sync,
    {
        check_same_len("hypotheses vs references", hyps.len(), refs.len())?;
        if hyps.is_empty() {
            return Ok(());
        }
        let nrefs = check_refs(refs)?;
        let stats = corpus_stats(&self.config, hyps, refs);
        self.stats.add(&stats);
        self.nrefs = Some(self.nrefs.map_or(nrefs, |c| c.combine(nrefs)));
        self.segments += hyps.len() as u64;
        Ok(())
    }

    /// The summed statistics so far.
    pub fn stats(&self) -> &BleuStats {
        &self.stats
    }

    /// The configuration.
    pub fn config(&self) -> &BleuConfig {
        &self.config
    }

    /// Number of segments seen.
    pub fn segments(&self) -> u64 {
        self.segments
    }

    /// The signature of the data seen so far (`nrefs:var` when the counts differed).
    pub fn signature(&self) -> String {
        self.config
            .signature(self.nrefs.unwrap_or(RefCount::Fixed(1)))
    }
}

impl Accumulator for BleuAccumulator {
    type Output = BleuScore;

    fn compute(&self) -> Result<BleuScore> {
        if self.segments == 0 {
            return Err(Error::EmptyInput(
                "BLEU of an empty corpus is undefined".into(),
            ));
        }
        BleuScore::from_stats(&self.stats, &self.config)
    }

    fn merge(&mut self, other: &Self) -> Result<()> {
        if self.config != other.config {
            return Err(Error::IncompatibleMerge(format!(
                "BLEU configurations differ: {:?} vs {:?}",
                self.config, other.config
            )));
        }
        self.stats.add(&other.stats);
        self.nrefs = match (self.nrefs, other.nrefs) {
            (Some(a), Some(b)) => Some(a.combine(b)),
            (a, b) => a.or(b),
        };
        self.segments += other.segments;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * b.abs().max(1.0)
    }

    /// sacrebleu: `corpus_bleu(["the cat sat on the mat"], [["the cat sat on a mat"]])` =
    /// 53.7284965911771: precisions 5/6, 3/5, 2/4, 1/3; BP 1;
    /// exp((ln(5/6) + ln(3/5) + ln(1/2) + ln(1/3)) / 4) = 0.537284965911771.
    #[test]
    fn hand_computed_corpus_score() {
        let s = corpus_bleu(
            &["the cat sat on the mat"],
            &[["the cat sat on a mat"]],
            &BleuConfig::corpus(),
        )
        .expect("valid input");
        let mean_log =
            ((5.0_f64 / 6.0).ln() + 0.6_f64.ln() + 0.5_f64.ln() + (1.0_f64 / 3.0).ln()) / 4.0;
        assert!(close(s.score, 100.0 * mean_log.exp()));
        assert!(close(s.score, 53.7284965911771));
        assert_eq!(s.counts, vec![5.0, 3.0, 2.0, 1.0]);
        assert_eq!(s.totals, vec![6.0, 5.0, 4.0, 3.0]);
    }

    #[test]
    fn closest_reference_length_ties_go_to_shorter() {
        // hyp has 5 tokens, refs 4 and 6 tokens: ref_len = 4.
        let s = corpus_bleu(
            &["a b c d e"],
            &[["a b c d", "a b c d e f"]],
            &BleuConfig::corpus(),
        )
        .expect("valid input");
        assert_eq!(s.ref_len, 4);
        assert_eq!(s.sys_len, 5);
    }

    #[test]
    fn signature_formats() {
        let c = BleuConfig::corpus();
        assert_eq!(
            c.signature(RefCount::Fixed(1)),
            "nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0"
        );
        let c = BleuConfig::sentence()
            .with_lowercase(true)
            .with_smoothing(SmoothMethod::Floor, None)
            .with_tokenizer(BleuTokenizer::Intl);
        assert_eq!(
            c.signature(RefCount::Variable),
            "nrefs:var|case:lc|eff:yes|tok:intl|smooth:floor[0.10]|version:2.6.0"
        );
    }

    #[test]
    fn empty_corpus_and_missing_refs_are_errors() {
        let empty: [&str; 0] = [];
        let no_refs: [Vec<&str>; 0] = [];
        assert!(matches!(
            corpus_bleu(&empty, &no_refs, &BleuConfig::corpus()),
            Err(Error::EmptyInput(_))
        ));
        let refs: [Vec<&str>; 1] = [vec![]];
        assert!(matches!(
            corpus_bleu(&["a"], &refs, &BleuConfig::corpus()),
            Err(Error::InvalidInput(_))
        ));
        assert!(matches!(
            corpus_bleu(&["a", "b"], &[["a"]], &BleuConfig::corpus()),
            Err(Error::LengthMismatch { .. })
        ));
    }

    #[test]
    fn merge_rejects_different_configs() {
        let mut a = BleuAccumulator::new(BleuConfig::corpus()).expect("valid config");
        let b = BleuAccumulator::new(BleuConfig::sentence()).expect("valid config");
        assert!(matches!(a.merge(&b), Err(Error::IncompatibleMerge(_))));
    }

    /// Order 5 takes the general (slice-keyed) path; its first four orders must agree with the
    /// packed fast path.
    #[test]
    fn packed_and_general_paths_agree() {
        let hyps = ["a b a b c d e a b", "x y , z . x y", "the the the cat"];
        let refs = [
            vec!["a b c a b d e", "b a b c"],
            vec!["x y z x"],
            vec!["the cat the"],
        ];
        let fast = corpus_bleu(&hyps, &refs, &BleuConfig::corpus()).expect("valid");
        let general = corpus_bleu(&hyps, &refs, &BleuConfig::corpus().with_max_ngram_order(5))
            .expect("valid");
        assert_eq!(fast.counts[..], general.counts[..4]);
        assert_eq!(fast.totals[..], general.totals[..4]);
        assert_eq!(
            (fast.sys_len, fast.ref_len),
            (general.sys_len, general.ref_len)
        );
    }

    /// Many distinct one-character tokens spread over many references: the interner must
    /// grow beyond its size estimate. Every reference token occurs once, so with the `char`
    /// tokenizer the unigram matches are the hypothesis characters found in some reference.
    #[test]
    fn interner_grows_with_many_distinct_tokens() {
        let chars: Vec<char> = (33u8..127).map(char::from).collect();
        let refs: Vec<String> = chars.iter().map(|c| c.to_string()).collect();
        let hyp: String = chars.iter().take(10).collect();
        let config = BleuConfig::sentence().with_tokenizer(BleuTokenizer::Char);
        let s = sentence_bleu(&hyp, &refs, &config).expect("valid");
        assert_eq!(s.counts[0], 10.0);
        assert_eq!(s.totals[0], 10.0);
        assert_eq!(s.ref_len, 1);
    }

    #[test]
    fn transpose_streams_skips_missing_refs() {
        let streams = vec![vec![Some("a"), Some("b")], vec![None, Some("c")]];
        let t = transpose_streams(&streams).expect("same lengths");
        assert_eq!(
            t,
            vec![
                vec!["a".to_string()],
                vec!["b".to_string(), "c".to_string()]
            ]
        );
    }
}

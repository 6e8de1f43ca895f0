//! TER, translation edit rate (Snover et al., 2006), exactly as sacrebleu 2.6.0's `TER`
//! computes it (a near-exact port of Tercom).
//!
//! Each segment is right-stripped and normalised ([`TerConfig`]: lower-cased unless
//! `case_sensitive`, optionally Tercom-normalised and stripped of punctuation) and split on
//! whitespace. Against each of its references the hypothesis gets a number of edits: word
//! insertions, deletions and substitutions plus block shifts (see `ter_edits.rs` for the
//! search). A segment contributes its fewest edits over the references and its **average**
//! reference length; the corpus score is `100 · Σ edits / Σ average reference lengths` (100
//! when the references are all empty and some hypothesis is not, 0 when both are empty).
//! Lower is better; the score can exceed 100.

use crate::bleu::{RefCount, SACREBLEU_VERSION};
use crate::error::check_same_len;
use crate::pytext::py_rstrip;
use crate::ter_edits::translation_edit_rate;
use crate::{Accumulator, Error, Result};

/// Settings of a TER computation (sacrebleu's `TER(...)` arguments; the defaults replicate
/// Tercom's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TerConfig {
    /// Tercom's normalisation: unescape `&quot; &amp; &lt; &gt;`, split punctuation and
    /// symbols, split `'s`, split `.`/`,` unless next to a digit, and `-` after a digit.
    pub normalized: bool,
    /// Remove the punctuation `.,?:;!"()` (and, with `asian_support`, CJK and full-width
    /// punctuation).
    pub no_punct: bool,
    /// With `normalized`, split CJK characters into tokens of their own; with `no_punct`,
    /// also remove CJK punctuation. No effect without one of them.
    pub asian_support: bool,
    /// Keep case (default false: everything is lower-cased).
    pub case_sensitive: bool,
}

impl TerConfig {
    /// sacrebleu's reproducibility signature, e.g.
    /// `nrefs:1|case:lc|tok:tercom|norm:no|punct:yes|asian:no|version:2.6.0`.
    pub fn signature(&self, nrefs: RefCount) -> String {
        let yes_no = |b: bool| if b { "yes" } else { "no" };
        format!(
            "nrefs:{nrefs}|case:{}|tok:tercom|norm:{}|punct:{}|asian:{}|version:{SACREBLEU_VERSION}",
            if self.case_sensitive { "mixed" } else { "lc" },
            yes_no(self.normalized),
            yes_no(!self.no_punct),
            yes_no(self.asian_support),
        )
    }

    /// `(fewest edits over the references, average reference length)` of one segment
    /// (sacrebleu's `_compute_segment_statistics`). `refs` must not be empty.
    fn segment_stats<S: AsRef<str>>(&self, hyp: &str, refs: &[S]) -> (u64, f64) {
        let mut hyp_words = Vec::new();
        self.tokenize(py_rstrip(hyp), &mut hyp_words);
        let mut ref_words = Vec::new();
        let mut best = u64::MAX;
        let mut ref_lengths = 0usize;
        for r in refs {
            self.tokenize(py_rstrip(r.as_ref()), &mut ref_words);
            let (edits, len) = translation_edit_rate(&hyp_words, &ref_words);
            ref_lengths += len;
            best = best.min(edits);
        }
        (best, ref_lengths as f64 / refs.len() as f64)
    }
}

/// A TER result as sacrebleu's `TERScore`.
#[derive(Debug, Clone, PartialEq)]
pub struct TerScore {
    /// TER in percent (0 = identical; can exceed 100).
    pub score: f64,
    /// Total number of edits (shifts and word edits).
    pub num_edits: u64,
    /// Sum over segments of the average reference length, in tokens.
    pub ref_length: f64,
}

impl TerScore {
    /// The score of summed statistics (sacrebleu's `_compute_score_from_stats`).
    pub fn from_stats(num_edits: u64, ref_length: f64) -> TerScore {
        let rate = if ref_length > 0.0 {
            num_edits as f64 / ref_length
        } else if num_edits > 0 {
            1.0
        } else {
            0.0
        };
        TerScore {
            score: 100.0 * rate,
            num_edits,
            ref_length,
        }
    }

    /// sacrebleu's text line, e.g. `TER|nrefs:1|case:lc|...|version:2.6.0 = 25.0`.
    pub fn format(&self, width: usize, signature: &str) -> String {
        format!("TER|{signature} = {:.width$}", self.score)
    }
}

/// Below this many segments the work is not split across threads.
const PARALLEL_THRESHOLD: usize = 64;

/// The statistics of each segment, in order, using all cores for large inputs.
fn segment_stats<H, R, S>(config: &TerConfig, hyps: &[H], refs: &[R]) -> Vec<(u64, f64)>
where
    H: AsRef<str> + Sync,
    R: AsRef<[S]> + Sync,
    S: AsRef<str> + Sync,
{
    let run = |hyps: &[H], refs: &[R]| -> Vec<(u64, f64)> {
        hyps.iter()
            .zip(refs)
            .map(|(h, r)| config.segment_stats(h.as_ref(), r.as_ref()))
            .collect()
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if threads <= 1 || hyps.len() < PARALLEL_THRESHOLD {
        return run(hyps, refs);
    }
    let chunk = hyps.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = hyps
            .chunks(chunk)
            .zip(refs.chunks(chunk))
            .map(|(h, r)| scope.spawn(move || run(h, r)))
            .collect();
        let mut all = Vec::with_capacity(hyps.len());
        for h in handles {
            match h.join() {
                Ok(part) => all.extend(part),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        all
    })
}

/// Streaming corpus TER: [`update`](TerAccumulator::update) with batches of segments,
/// [`merge`](Accumulator::merge) partial results, [`compute`](Accumulator::compute) the
/// score. The edits are an integer sum; the reference lengths are summed in segment order as
/// sacrebleu does, so one accumulator fed in order equals [`corpus_ter`] exactly (merging
/// workers adds their sums, which with several references per segment can differ from the
/// sequential sum in the last bit).
#[derive(Debug, Clone, PartialEq)]
pub struct TerAccumulator {
    config: TerConfig,
    num_edits: u64,
    ref_length: f64,
    nrefs: Option<RefCount>,
    segments: u64,
}

impl TerAccumulator {
    /// An empty accumulator.
    pub fn new(config: TerConfig) -> Self {
        Self {
            config,
            num_edits: 0,
            ref_length: 0.0,
            nrefs: None,
            segments: 0,
        }
    }

    /// Adds a batch of hypotheses with their references (`refs[i]` belongs to `hyps[i]`, at
    /// least one each).
    pub fn update<H, R, S>(&mut self, hyps: &[H], refs: &[R]) -> Result<()>
    where
        H: AsRef<str> + Sync,
        R: AsRef<[S]> + Sync,
        S: AsRef<str> + Sync,
    {
        check_same_len("hypotheses vs references", hyps.len(), refs.len())?;
        let mut nrefs = self.nrefs;
        for (i, r) in refs.iter().enumerate() {
            let n = r.as_ref().len();
            if n == 0 {
                return Err(Error::InvalidInput(format!(
                    "hypothesis {i} has no reference: expected at least one"
                )));
            }
            nrefs = Some(nrefs.map_or(RefCount::Fixed(n), |c| c.combine(RefCount::Fixed(n))));
        }
        for (edits, ref_len) in segment_stats(&self.config, hyps, refs) {
            self.num_edits += edits;
            self.ref_length += ref_len;
        }
        self.nrefs = nrefs;
        self.segments += hyps.len() as u64;
        Ok(())
    }

    /// The configuration.
    pub fn config(&self) -> &TerConfig {
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

impl Accumulator for TerAccumulator {
    type Output = TerScore;

    fn compute(&self) -> Result<TerScore> {
        if self.segments == 0 {
            return Err(Error::EmptyInput(
                "TER of an empty corpus is undefined".into(),
            ));
        }
        Ok(TerScore::from_stats(self.num_edits, self.ref_length))
    }

    fn merge(&mut self, other: &Self) -> Result<()> {
        if self.config != other.config {
            return Err(Error::IncompatibleMerge(format!(
                "TER configurations differ: {:?} vs {:?}",
                self.config, other.config
            )));
        }
        self.num_edits += other.num_edits;
        self.ref_length += other.ref_length;
        self.nrefs = match (self.nrefs, other.nrefs) {
            (Some(a), Some(b)) => Some(a.combine(b)),
            (a, b) => a.or(b),
        };
        self.segments += other.segments;
        Ok(())
    }
}

/// Corpus TER: `hyps[i]` is scored against `refs[i]` (one or more references each), as
/// sacrebleu's `TER(...).corpus_score(hyps, streams)` with the references transposed.
///
/// ```
/// use seqmodel_metrics::{corpus_ter, TerConfig};
/// let hyps = ["the cat sat on the mat", "a b"];
/// let refs = [["on the mat the cat sat"], ["a c"]];
/// let ter = corpus_ter(&hyps, &refs, &TerConfig::default())?;
/// // One shift in the first segment, one substitution in the second, over 6 + 2 words.
/// assert_eq!((ter.num_edits, ter.ref_length, ter.score), (2, 8.0, 25.0));
/// # Ok::<(), seqmodel_metrics::Error>(())
/// ```
pub fn corpus_ter<H, R, S>(hyps: &[H], refs: &[R], config: &TerConfig) -> Result<TerScore>
where
    H: AsRef<str> + Sync,
    R: AsRef<[S]> + Sync,
    S: AsRef<str> + Sync,
{
    let mut acc = TerAccumulator::new(*config);
    acc.update(hyps, refs)?;
    acc.compute()
}

/// TER of one hypothesis against its references (sacrebleu's `TER(...).sentence_score`).
///
/// ```
/// use seqmodel_metrics::{sentence_ter, TerConfig};
/// let s = sentence_ter("The cat sat", &["the cat sat down"], &TerConfig::default())?;
/// assert_eq!(s.score, 25.0); // case-insensitive by default: one insertion over 4 words
/// # Ok::<(), seqmodel_metrics::Error>(())
/// ```
pub fn sentence_ter<S: AsRef<str> + Sync>(
    hyp: &str,
    refs: &[S],
    config: &TerConfig,
) -> Result<TerScore> {
    let refs: Vec<&str> = refs.iter().map(|r| r.as_ref()).collect();
    corpus_ter(&[hyp], &[refs], config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_like_sacrebleu() {
        assert_eq!(
            TerConfig::default().signature(RefCount::Fixed(1)),
            "nrefs:1|case:lc|tok:tercom|norm:no|punct:yes|asian:no|version:2.6.0"
        );
        let all = TerConfig {
            normalized: true,
            no_punct: true,
            asian_support: true,
            case_sensitive: true,
        };
        assert_eq!(
            all.signature(RefCount::Fixed(2)),
            "nrefs:2|case:mixed|tok:tercom|norm:yes|punct:no|asian:yes|version:2.6.0"
        );
    }

    #[test]
    fn empty_references_and_hypotheses() {
        let c = TerConfig::default();
        assert_eq!(sentence_ter("a b", &[""], &c).expect("valid").score, 100.0);
        assert_eq!(sentence_ter("", &[""], &c).expect("valid").score, 0.0);
        assert!(matches!(
            corpus_ter(&["a"], &[Vec::<&str>::new()], &c),
            Err(Error::InvalidInput(_))
        ));
        assert!(matches!(
            TerAccumulator::new(c).compute(),
            Err(Error::EmptyInput(_))
        ));
    }

    /// Two references: the fewest edits, and the mean of the reference lengths.
    #[test]
    fn multiple_references() {
        let s = sentence_ter("a b c", &["a b c d", "x y"], &TerConfig::default()).expect("ok");
        assert_eq!((s.num_edits, s.ref_length), (1, 3.0));
    }

    #[test]
    fn streaming_equals_one_shot() {
        let hyps = ["a b c", "d e f g", "h"];
        let refs = [["a c b"], ["d f e g"], ["h i"]];
        let c = TerConfig::default();
        let one = corpus_ter(&hyps, &refs, &c).expect("ok");
        let mut a = TerAccumulator::new(c);
        a.update(&hyps[..1], &refs[..1]).expect("ok");
        let mut b = TerAccumulator::new(c);
        b.update(&hyps[1..], &refs[1..]).expect("ok");
        a.merge(&b).expect("same config");
        assert_eq!(a.compute().expect("ok"), one);
        let other = TerAccumulator::new(TerConfig {
            normalized: true,
            ..c
        });
        assert!(a.merge(&other).is_err());
    }
}

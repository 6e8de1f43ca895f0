//! Entity-level precision, recall and F1 for sequence labelling, as seqeval 1.2.2.
//!
//! Two chunking modes:
//! - [`ChunkMode::Default`] (seqeval's default, conlleval-like): lenient; a chunk starts at
//!   `B-`, `S-`, at an `I-`/`E-` after `O`, `E-` or `S-`, or at any tag whose type differs from
//!   the previous one, so ill-formed sequences still yield entities. IOB1, IOB2 and IOBES tags
//!   are all understood.
//! - [`ChunkMode::Strict`] with a [`Scheme`] (`mode='strict'`): only entities that are well
//!   formed under the scheme count, in the gold tags as well as the predictions; a tag whose
//!   prefix the scheme does not allow is an error.
//!
//! Sentences are chunked independently. (seqeval itself concatenates the sentences with an `O`
//! between them; the results are identical for tags whose first letter is `B`, `I`, `E`, `S` or
//! `O`. For a malformed tag with another first letter and no type, such as a bare `X`, seqeval can
//! build an entity that spans two sentences; this module never does.) An entity is `(type, sentence, start, end)` and
//! matches only if all four are equal. The report lists every type seen in gold or
//! predictions (a predicted-only type has support 0 and still counts in the macro average).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use crate::averaging::{ClassScores, Mean, ZeroDivision};
use crate::error::check_same_len;
use crate::{Accumulator, Error, Result};

/// A tagging scheme for strict mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// `B-` begins, `I-` continues, `O` outside.
    Iob2,
    /// IOB2 plus `E-` (end) and `S-` (single).
    Iobes,
    /// `B-`, `I-`, `L-` (last), `U-` (unit), `O`.
    Bilou,
}

impl FromStr for Scheme {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_uppercase().as_str() {
            "IOB2" => Ok(Scheme::Iob2),
            "IOBES" => Ok(Scheme::Iobes),
            "BILOU" => Ok(Scheme::Bilou),
            _ => Err(Error::InvalidConfig(format!(
                "unknown tagging scheme {s:?}: expected IOB2, IOBES or BILOU"
            ))),
        }
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Scheme::Iob2 => "IOB2",
            Scheme::Iobes => "IOBES",
            Scheme::Bilou => "BILOU",
        })
    }
}

/// How tags are turned into entities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ChunkMode {
    /// seqeval's default, conlleval-like lenient chunking.
    #[default]
    Default,
    /// seqeval's `mode='strict'` with the given scheme.
    Strict(Scheme),
}

/// One entity of one sentence: tokens `start..end` (end exclusive) of type `kind`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Entity {
    /// The entity type (`PER`, `LOC`, ...; `_` when the tag has none).
    pub kind: String,
    /// First token.
    pub start: usize,
    /// One past the last token.
    pub end: usize,
}

/// seqeval's default-mode split of a tag into (prefix character, type).
fn default_parts(tag: &str) -> Result<(char, &str)> {
    let mut chars = tag.chars();
    let prefix = chars.next().ok_or_else(|| {
        Error::InvalidInput("empty tag: expected a tag such as O, B-PER or I-LOC".into())
    })?;
    let rest = chars.as_str();
    let kind = match rest.split_once('-') {
        Some((_, after)) => after,
        None => rest,
    };
    Ok((prefix, if kind.is_empty() { "_" } else { kind }))
}

fn end_of_chunk(prev_tag: char, tag: char, prev_type: &str, kind: &str) -> bool {
    matches!(prev_tag, 'E' | 'S')
        || (matches!(prev_tag, 'B' | 'I') && matches!(tag, 'B' | 'S' | 'O'))
        || (prev_tag != 'O' && prev_tag != '.' && prev_type != kind)
}

fn start_of_chunk(prev_tag: char, tag: char, prev_type: &str, kind: &str) -> bool {
    matches!(tag, 'B' | 'S')
        || (matches!(prev_tag, 'E' | 'S' | 'O') && matches!(tag, 'E' | 'I'))
        || (tag != 'O' && tag != '.' && prev_type != kind)
}

fn default_entities<S: AsRef<str>>(tags: &[S]) -> Result<Vec<Entity>> {
    let mut out = Vec::new();
    let (mut prev_tag, mut prev_type) = ('O', String::new());
    let mut begin = 0;
    for i in 0..=tags.len() {
        let (tag, kind) = if i < tags.len() {
            default_parts(tags[i].as_ref()).map_err(|e| at_token(e, i))?
        } else {
            ('O', "_")
        };
        if end_of_chunk(prev_tag, tag, &prev_type, kind) {
            out.push(Entity {
                kind: prev_type.clone(),
                start: begin,
                end: i,
            });
        }
        if start_of_chunk(prev_tag, tag, &prev_type, kind) {
            begin = i;
        }
        prev_tag = tag;
        prev_type = kind.to_string();
    }
    Ok(out)
}

fn at_token(e: Error, i: usize) -> Error {
    match e {
        Error::InvalidInput(m) => Error::InvalidInput(format!("token {i}: {m}")),
        other => other,
    }
}

/// A tag parsed for strict mode: prefix letter and type.
#[derive(Debug)]
struct StrictToken<'a> {
    prefix: char,
    kind: &'a str,
}

fn strict_token(tag: &str, scheme: Scheme) -> Result<StrictToken<'_>> {
    let mut chars = tag.chars();
    let prefix = chars.next().ok_or_else(|| {
        Error::InvalidInput("empty tag: expected a tag such as O or B-PER".into())
    })?;
    let allowed: &[char] = match scheme {
        Scheme::Iob2 => &['I', 'O', 'B'],
        Scheme::Iobes => &['I', 'O', 'B', 'E', 'S'],
        Scheme::Bilou => &['B', 'I', 'L', 'O', 'U'],
    };
    if !allowed.contains(&prefix) {
        return Err(Error::InvalidInput(format!(
            "invalid tag {tag:?} for scheme {scheme}: expected a prefix among {allowed:?}"
        )));
    }
    let kind = chars.as_str().trim_matches('-');
    Ok(StrictToken {
        prefix,
        kind: if kind.is_empty() { "_" } else { kind },
    })
}

/// Whether `cur` starts an entity (seqeval `start_patterns`, which accept any previous token).
fn strict_is_start(scheme: Scheme, cur: &StrictToken<'_>) -> bool {
    match scheme {
        Scheme::Iob2 => cur.prefix == 'B',
        Scheme::Iobes => matches!(cur.prefix, 'B' | 'S'),
        Scheme::Bilou => matches!(cur.prefix, 'B' | 'U'),
    }
}

/// Whether `cur` continues the entity of `prev` (seqeval `inside_patterns`).
fn strict_is_inside(scheme: Scheme, prev: &StrictToken<'_>, cur: &StrictToken<'_>) -> bool {
    let same = prev.kind == cur.kind;
    same && match scheme {
        Scheme::Iob2 => matches!(prev.prefix, 'B' | 'I') && cur.prefix == 'I',
        Scheme::Iobes => matches!(prev.prefix, 'B' | 'I') && matches!(cur.prefix, 'I' | 'E'),
        Scheme::Bilou => matches!(prev.prefix, 'B' | 'I') && matches!(cur.prefix, 'I' | 'L'),
    }
}

/// Whether the entity ending at `prev` is complete when followed by `cur` (seqeval
/// `end_patterns`).
fn strict_is_end(scheme: Scheme, prev: &StrictToken<'_>, cur: &StrictToken<'_>) -> bool {
    let same = prev.kind == cur.kind;
    match scheme {
        Scheme::Iob2 => match (prev.prefix, cur.prefix) {
            ('I', 'O') | ('I', 'B') | ('B', 'O') | ('B', 'B') => true,
            ('I', 'I') | ('B', 'I') => !same,
            _ => false,
        },
        Scheme::Iobes => matches!(prev.prefix, 'S' | 'E'),
        Scheme::Bilou => matches!(prev.prefix, 'U' | 'L'),
    }
}

fn strict_entities<S: AsRef<str>>(tags: &[S], scheme: Scheme) -> Result<Vec<Entity>> {
    let outside = StrictToken {
        prefix: 'O',
        kind: "_",
    };
    // seqeval's start patterns do not depend on the previous token, so only the inside and
    // end patterns look back.
    let mut toks = Vec::with_capacity(tags.len() + 1);
    for (i, t) in tags.iter().enumerate() {
        toks.push(strict_token(t.as_ref(), scheme).map_err(|e| at_token(e, i))?);
    }
    toks.push(outside);
    let mut out = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        let tok = &toks[i];
        if strict_is_start(scheme, tok) {
            // Walk forward while tokens are inside the entity.
            let mut end = toks.len() - 1;
            let mut p = tok;
            for (k, t) in toks.iter().enumerate().skip(i + 1) {
                if strict_is_inside(scheme, p, t) {
                    p = t;
                } else {
                    end = k;
                    break;
                }
            }
            if strict_is_end(scheme, &toks[end - 1], &toks[end]) {
                out.push(Entity {
                    kind: tok.kind.to_string(),
                    start: i,
                    end,
                });
            }
            i = end;
        } else {
            i += 1;
        }
    }
    Ok(out)
}

/// Checks that one tag can be read in `mode`: non-empty, and in strict mode with a prefix the
/// scheme allows. Public so that a reader of tag files can report a bad tag with its own
/// position (file and line, as `seq-score ner` does) before scoring whole sentences.
///
/// ```
/// use seqmodel_metrics::{validate_tag, ChunkMode, Scheme};
/// assert!(validate_tag("E-PER", ChunkMode::Strict(Scheme::Iobes)).is_ok());
/// assert!(validate_tag("E-PER", ChunkMode::Strict(Scheme::Iob2)).is_err());
/// assert!(validate_tag("", ChunkMode::Default).is_err());
/// ```
pub fn validate_tag(tag: &str, mode: ChunkMode) -> Result<()> {
    match mode {
        ChunkMode::Default => default_parts(tag).map(|_| ()),
        ChunkMode::Strict(scheme) => strict_token(tag, scheme).map(|_| ()),
    }
}

/// The entities of one sentence.
///
/// ```
/// use seqmodel_metrics::{extract_entities, ChunkMode, Entity, Scheme};
/// let tags = ["B-PER", "I-PER", "O", "I-LOC"];
/// let lenient = extract_entities(&tags, ChunkMode::Default)?;
/// assert_eq!(lenient.len(), 2); // I-LOC after O starts an entity
/// let strict = extract_entities(&tags, ChunkMode::Strict(Scheme::Iob2))?;
/// assert_eq!(strict, [Entity { kind: "PER".into(), start: 0, end: 2 }]);
/// # Ok::<(), seqmodel_metrics::Error>(())
/// ```
pub fn extract_entities<S: AsRef<str>>(tags: &[S], mode: ChunkMode) -> Result<Vec<Entity>> {
    match mode {
        ChunkMode::Default => default_entities(tags),
        ChunkMode::Strict(scheme) => strict_entities(tags, scheme),
    }
}

/// Entity counts of one type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EntityCounts {
    /// Predicted entities that match a gold entity exactly.
    pub true_positives: u64,
    /// Predicted entities.
    pub predicted: u64,
    /// Gold entities.
    pub gold: u64,
}

/// seqeval's `classification_report(output_dict=True)` plus token accuracy.
#[derive(Debug, Clone, PartialEq)]
pub struct EntityReport {
    /// Scores per entity type, sorted by type.
    pub per_type: Vec<(String, ClassScores)>,
    /// Micro average (support = total gold entities).
    pub micro: ClassScores,
    /// Macro average.
    pub macro_avg: ClassScores,
    /// Support-weighted average.
    pub weighted: ClassScores,
    /// Fraction of tokens whose predicted tag equals the gold tag (including `O`).
    pub token_accuracy: f64,
}

/// Streaming entity-level evaluation: per-type counts and token counts, summed over
/// sentences (exact, so streaming equals one-shot).
///
/// ```
/// use seqmodel_metrics::{Accumulator, ChunkMode, EntityAccumulator};
/// let mut acc = EntityAccumulator::new(ChunkMode::Default);
/// acc.update(&[vec!["B-PER", "I-PER", "O"]], &[vec!["B-PER", "I-PER", "O"]])?;
/// acc.update(&[vec!["B-LOC"]], &[vec!["O"]])?;
/// let r = acc.compute()?;
/// assert_eq!(r.micro.precision, 1.0);
/// assert_eq!(r.micro.recall, 0.5);
/// # Ok::<(), seqmodel_metrics::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntityAccumulator {
    mode: ChunkMode,
    zero_division: ZeroDivision,
    counts: BTreeMap<String, EntityCounts>,
    correct_tokens: u64,
    tokens: u64,
    sentences: u64,
}

impl EntityAccumulator {
    /// An empty accumulator (zero division gives 0).
    pub fn new(mode: ChunkMode) -> Self {
        Self {
            mode,
            zero_division: ZeroDivision::Zero,
            counts: BTreeMap::new(),
            correct_tokens: 0,
            tokens: 0,
            sentences: 0,
        }
    }

    /// Sets the value used for 0/0.
    pub fn with_zero_division(mut self, zero_division: ZeroDivision) -> Self {
        self.zero_division = zero_division;
        self
    }

    /// Adds a batch of sentences: `gold[i]` and `pred[i]` are the tags of sentence `i`.
    pub fn update<S: AsRef<str>, T: AsRef<[S]>>(&mut self, gold: &[T], pred: &[T]) -> Result<()> {
        check_same_len("gold vs predicted sentences", gold.len(), pred.len())?;
        // Validate the whole batch before changing any count.
        let mut batch: Vec<(Vec<Entity>, Vec<Entity>)> = Vec::with_capacity(gold.len());
        for (i, (g, p)) in gold.iter().zip(pred).enumerate() {
            let (g, p) = (g.as_ref(), p.as_ref());
            check_same_len(
                &format!("sentence {i}: gold vs predicted tags"),
                g.len(),
                p.len(),
            )?;
            let ctx = |e: Error| match e {
                Error::InvalidInput(m) => Error::InvalidInput(format!("sentence {i}: {m}")),
                other => other,
            };
            let ge = extract_entities(g, self.mode).map_err(ctx)?;
            let pe = extract_entities(p, self.mode).map_err(ctx)?;
            batch.push((ge, pe));
        }
        for ((g, p), (ge, pe)) in gold.iter().zip(pred).zip(batch) {
            let (g, p) = (g.as_ref(), p.as_ref());
            self.correct_tokens += g
                .iter()
                .zip(p)
                .filter(|(a, b)| a.as_ref() == b.as_ref())
                .count() as u64;
            self.tokens += g.len() as u64;
            let gold_set: BTreeSet<&Entity> = ge.iter().collect();
            let pred_set: BTreeSet<&Entity> = pe.iter().collect();
            for e in &gold_set {
                self.counts.entry(e.kind.clone()).or_default().gold += 1;
            }
            for e in &pred_set {
                let c = self.counts.entry(e.kind.clone()).or_default();
                c.predicted += 1;
                if gold_set.contains(e) {
                    c.true_positives += 1;
                }
            }
            self.sentences += 1;
        }
        Ok(())
    }

    /// Per-type counts so far.
    pub fn counts(&self) -> &BTreeMap<String, EntityCounts> {
        &self.counts
    }

    /// seqeval's scores of one type: P = tp / predicted, R = tp / gold (0/0 replaced by the
    /// zero-division value), and F1 from P and R, `2PR / (P + R)`, 0 when P + R = 0.
    fn scores(&self, c: EntityCounts) -> ClassScores {
        let zd = self.zero_division;
        let precision = zd.divide(c.true_positives as f64, c.predicted as f64);
        let recall = zd.divide(c.true_positives as f64, c.gold as f64);
        let denom = precision + recall;
        let f_score = if denom == 0.0 {
            0.0
        } else {
            2.0 * precision * recall / denom
        };
        ClassScores {
            precision,
            recall,
            f_score,
            support: c.gold,
        }
    }
}

impl Accumulator for EntityAccumulator {
    type Output = EntityReport;

    fn compute(&self) -> Result<EntityReport> {
        if self.sentences == 0 {
            return Err(Error::EmptyInput("no sentences were given".into()));
        }
        let per_type: Vec<(String, ClassScores)> = self
            .counts
            .iter()
            .map(|(k, &c)| (k.clone(), self.scores(c)))
            .collect();
        let total = self
            .counts
            .values()
            .fold(EntityCounts::default(), |a, c| EntityCounts {
                true_positives: a.true_positives + c.true_positives,
                predicted: a.predicted + c.predicted,
                gold: a.gold + c.gold,
            });
        let micro = self.scores(total);
        let scores: Vec<ClassScores> = per_type.iter().map(|(_, s)| *s).collect();
        let macro_avg = ClassScores::average(&scores, Mean::Unweighted);
        let weighted = if scores.is_empty() {
            // seqeval: with no entity in gold or predictions, every weighted score is the
            // zero-division value (numpy would give NaN for the empty average).
            let z = self.zero_division.value();
            ClassScores {
                precision: z,
                recall: z,
                f_score: z,
                support: 0,
            }
        } else {
            ClassScores::average(&scores, Mean::BySupport)
        };
        let token_accuracy = if self.tokens == 0 {
            f64::NAN
        } else {
            self.correct_tokens as f64 / self.tokens as f64
        };
        Ok(EntityReport {
            per_type,
            micro,
            macro_avg,
            weighted,
            token_accuracy,
        })
    }

    fn merge(&mut self, other: &Self) -> Result<()> {
        if self.mode != other.mode || self.zero_division != other.zero_division {
            return Err(Error::IncompatibleMerge(
                "entity accumulators use different modes".into(),
            ));
        }
        for (k, c) in &other.counts {
            let e = self.counts.entry(k.clone()).or_default();
            e.true_positives += c.true_positives;
            e.predicted += c.predicted;
            e.gold += c.gold;
        }
        self.correct_tokens += other.correct_tokens;
        self.tokens += other.tokens;
        self.sentences += other.sentences;
        Ok(())
    }
}

/// One-shot entity report for aligned gold and predicted sentences.
///
/// ```
/// use seqmodel_metrics::{entity_report, ChunkMode, Scheme};
/// let gold = [vec!["B-ORG", "E-ORG", "S-PER"]];
/// let pred = [vec!["B-ORG", "E-ORG", "O"]];
/// let r = entity_report(&gold, &pred, ChunkMode::Strict(Scheme::Iobes))?;
/// assert_eq!(r.per_type[0].0, "ORG");
/// assert_eq!(r.micro.recall, 0.5);
/// # Ok::<(), seqmodel_metrics::Error>(())
/// ```
pub fn entity_report<S: AsRef<str>, T: AsRef<[S]>>(
    gold: &[T],
    pred: &[T],
    mode: ChunkMode,
) -> Result<EntityReport> {
    let mut acc = EntityAccumulator::new(mode);
    acc.update(gold, pred)?;
    acc.compute()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(tags: &[&str], mode: ChunkMode) -> Vec<(String, usize, usize)> {
        extract_entities(tags, mode)
            .expect("valid tags")
            .into_iter()
            .map(|e| (e.kind, e.start, e.end))
            .collect()
    }

    /// seqeval `get_entities(['B-PER','I-PER','O','B-LOC'])` = [PER 0..=1, LOC 3..=3].
    #[test]
    fn default_mode_like_seqeval() {
        let d = ChunkMode::Default;
        assert_eq!(
            kinds(&["B-PER", "I-PER", "O", "B-LOC"], d),
            vec![("PER".into(), 0, 2), ("LOC".into(), 3, 4)]
        );
        // B-X I-Y gives two entities; a lone I- starts one.
        assert_eq!(
            kinds(&["B-X", "I-Y"], d),
            vec![("X".into(), 0, 1), ("Y".into(), 1, 2)]
        );
        assert_eq!(
            kinds(&["O", "I-LOC", "I-LOC"], d),
            vec![("LOC".into(), 1, 3)]
        );
        // IOBES in default mode: B-ORG E-ORG is one entity.
        assert_eq!(
            kinds(&["B-ORG", "E-ORG", "S-PER"], d),
            vec![("ORG".into(), 0, 2), ("PER".into(), 2, 3)]
        );
    }

    #[test]
    fn strict_mode_drops_ill_formed() {
        let s = ChunkMode::Strict(Scheme::Iob2);
        assert_eq!(
            kinds(&["O", "I-LOC", "B-PER", "I-PER"], s),
            vec![("PER".into(), 2, 4)]
        );
        let e = ChunkMode::Strict(Scheme::Iobes);
        assert_eq!(kinds(&["B-ORG", "I-ORG", "O"], e), vec![]);
        assert_eq!(
            kinds(&["B-ORG", "E-ORG", "S-PER"], e),
            vec![("ORG".into(), 0, 2), ("PER".into(), 2, 3)]
        );
        let b = ChunkMode::Strict(Scheme::Bilou);
        assert_eq!(
            kinds(&["B-ORG", "L-ORG", "U-PER", "B-X"], b),
            vec![("ORG".into(), 0, 2), ("PER".into(), 2, 3)]
        );
    }

    #[test]
    fn strict_mode_rejects_foreign_prefix() {
        let r = extract_entities(&["O", "E-PER"], ChunkMode::Strict(Scheme::Iob2));
        assert!(matches!(r, Err(Error::InvalidInput(m)) if m.contains("token 1")));
        assert!(extract_entities(&[""], ChunkMode::Default).is_err());
    }

    fn report(gold: &[&str], pred: &[&str], zd: ZeroDivision) -> EntityReport {
        let mut acc = EntityAccumulator::new(ChunkMode::Default).with_zero_division(zd);
        acc.update(&[gold], &[pred]).expect("valid tags");
        acc.compute().expect("non-empty")
    }

    fn prfs(s: &ClassScores) -> (f64, f64, f64, u64) {
        (s.precision, s.recall, s.f_score, s.support)
    }

    /// seqeval 1.2.2 `classification_report(..., output_dict=True, zero_division=1)`.
    #[test]
    fn zero_division_corner_cases_like_seqeval() {
        let one = ZeroDivision::One;
        // A predicted-only type: R = 0/0 = 1, P = 0, F = 0; weighted over zero support.
        let r = report(&["O", "O"], &["B-PER", "O"], one);
        assert_eq!(prfs(&r.per_type[0].1), (0.0, 1.0, 0.0, 0));
        assert_eq!(prfs(&r.micro), (0.0, 1.0, 0.0, 0));
        assert_eq!(prfs(&r.macro_avg), (0.0, 1.0, 0.0, 0));
        assert_eq!(prfs(&r.weighted), (0.0, 1.0, 0.0, 0));
        // One missed gold type and one spurious type.
        let r = report(&["B-LOC", "O"], &["B-PER", "O"], one);
        assert_eq!(prfs(&r.per_type[0].1), (1.0, 0.0, 0.0, 1));
        assert_eq!(prfs(&r.micro), (0.0, 0.0, 0.0, 1));
        assert_eq!(prfs(&r.macro_avg), (0.5, 0.5, 0.0, 1));
        assert_eq!(prfs(&r.weighted), (1.0, 0.0, 0.0, 1));
        // No entity at all: micro and weighted are the zero-division value, macro is NaN.
        let r = report(&["O"], &["O"], one);
        assert_eq!(prfs(&r.micro), (1.0, 1.0, 1.0, 0));
        assert_eq!(prfs(&r.weighted), (1.0, 1.0, 1.0, 0));
        assert!(r.macro_avg.precision.is_nan() && r.macro_avg.f_score.is_nan());
    }

    /// With `ZeroDivision::Nan`, averages leave NaN entries out, as for classification.
    #[test]
    fn nan_zero_division_is_ignored_by_averages() {
        let r = report(&["B-LOC", "O"], &["B-PER", "O"], ZeroDivision::Nan);
        // LOC: P = NaN, R = 0; PER: P = 0, R = NaN.
        assert!(r.per_type[0].1.precision.is_nan() && r.per_type[1].1.recall.is_nan());
        assert_eq!((r.macro_avg.precision, r.macro_avg.recall), (0.0, 0.0));
        assert_eq!((r.weighted.precision, r.weighted.recall), (0.0, 0.0));
    }

    #[test]
    fn sentence_length_mismatch_is_an_error() {
        let mut acc = EntityAccumulator::new(ChunkMode::Default);
        let r = acc.update(&[vec!["O", "O"]], &[vec!["O"]]);
        assert!(matches!(r, Err(Error::LengthMismatch { .. })));
        assert_eq!(acc.sentences, 0);
    }
}

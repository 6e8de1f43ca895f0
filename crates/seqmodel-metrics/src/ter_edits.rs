//! The number of edits of TER, as sacrebleu 2.6.0's `lib_ter.translation_edit_rate` (itself a
//! port of Tercom): greedy block shifts of the hypothesis, each chosen among candidate shifts
//! by how much it lowers a beam-limited word edit distance, then that edit distance.
//!
//! The heuristics are Tercom's and are reproduced exactly, because they decide the result:
//! - shifts move a block of at most [`MAX_SHIFT_SIZE`] words that matches the reference at a
//!   position at most [`MAX_SHIFT_DIST`] words away, and only when the block has an error in
//!   the hypothesis, the reference span has an error, and the move leaves the block;
//! - the best candidate is the one that lowers the edit distance most, then the longest, then
//!   the earliest in the hypothesis, then the earliest target; a round applies it if it lowers
//!   the distance, and rounds stop at the first that does not;
//! - at most [`MAX_SHIFT_CANDIDATES`] candidates are evaluated per sentence pair; the round in
//!   which the budget runs out applies no shift;
//! - the edit distance only fills a band of [`BEAM_WIDTH`] cells on each side of the
//!   "diagonal" `i · |ref| / |hyp|` (widened for very unequal lengths), and breaks cost ties
//!   preferring match/substitution, then deletion, then insertion.
//!
//! Words are compared as strings; they are interned to integers first.

use rustc_hash::FxHashMap;

/// Longest block of words a shift moves.
pub(crate) const MAX_SHIFT_SIZE: usize = 10;
/// Largest distance between a block's hypothesis and reference positions.
pub(crate) const MAX_SHIFT_DIST: usize = 50;
/// Half-width of the band of the edit distance matrix that is filled.
pub(crate) const BEAM_WIDTH: usize = 25;
/// Budget of shift candidates per sentence pair.
pub(crate) const MAX_SHIFT_CANDIDATES: usize = 1000;

/// A cost larger than any real one (sacrebleu's `int(1e16)`).
const INFINITY: u64 = 10_000_000_000_000_000;

/// The operation that reached a cell of the edit distance matrix, from hypothesis (rows) to
/// reference (columns).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    /// Words equal.
    Match,
    /// Words differ.
    Substitute,
    /// A hypothesis word is dropped (row - 1).
    Delete,
    /// A reference word is added (column - 1).
    Insert,
    /// Outside the band: never reached.
    Undefined,
}

#[derive(Debug, Clone, Copy)]
struct Cell {
    cost: u64,
    op: Op,
}

const UNDEFINED: Cell = Cell {
    cost: INFINITY,
    op: Op::Undefined,
};

/// Where each hypothesis and reference word stands in an optimal alignment
/// (sacrebleu's `trace_to_alignment` of the flipped trace).
struct Alignment {
    /// `align[r]`: the hypothesis position aligned to reference word `r` (-1 before the start).
    align: Vec<i64>,
    /// Whether reference word `r` is not matched.
    ref_err: Vec<bool>,
    /// Whether hypothesis word `h` is not matched.
    hyp_err: Vec<bool>,
}

/// The beam-limited edit distance towards one reference.
///
/// Invariant: every hypothesis passed to one instance has the same length (shifts keep it),
/// so the band of each row depends on the row only.
struct BeamEditDistance<'a> {
    reference: &'a [u32],
    /// The full matrix of the last hypothesis computed with [`BeamEditDistance::full`]:
    /// rows `0..=n_hyp`, each `reference.len() + 1` cells. Candidates share a prefix with it.
    base: Vec<Cell>,
    /// Scratch rows for candidates.
    scratch: Vec<Cell>,
}

impl<'a> BeamEditDistance<'a> {
    fn new(reference: &'a [u32]) -> Self {
        Self {
            reference,
            base: Vec::new(),
            scratch: Vec::new(),
        }
    }

    fn width(&self) -> usize {
        self.reference.len() + 1
    }

    /// The band `min_j..max_j` of row `i` (1-based) for a hypothesis of `n_hyp` words.
    fn band(&self, i: usize, n_hyp: usize) -> (usize, usize) {
        let n_ref = self.reference.len();
        let ratio = if n_hyp == 0 {
            1.0
        } else {
            n_ref as f64 / n_hyp as f64
        };
        let beam = if (BEAM_WIDTH as f64) < ratio / 2.0 {
            (ratio / 2.0 + BEAM_WIDTH as f64).ceil() as usize
        } else {
            BEAM_WIDTH
        };
        let diag = (i as f64 * ratio).floor() as usize;
        let min_j = diag.saturating_sub(beam);
        let max_j = if i == n_hyp {
            n_ref + 1
        } else {
            (n_ref + 1).min(diag + beam)
        };
        (min_j, max_j)
    }

    /// Fills row `i` of `rows` (rows `0..i` already filled; `rows` holds whole rows).
    fn fill_row(&self, hyp: &[u32], i: usize, prev: &[Cell], row: &mut [Cell]) {
        let (min_j, max_j) = self.band(i, hyp.len());
        row.fill(UNDEFINED);
        for j in min_j..max_j {
            if j == 0 {
                row[0] = Cell {
                    cost: prev[0].cost + 1,
                    op: Op::Delete,
                };
                continue;
            }
            let (sub_cost, sub_op) = if hyp[i - 1] == self.reference[j - 1] {
                (0, Op::Match)
            } else {
                (1, Op::Substitute)
            };
            // Tercom's preference on ties: match/substitution, deletion, insertion.
            let options = [
                (prev[j - 1].cost + sub_cost, sub_op),
                (prev[j].cost + 1, Op::Delete),
                (row[j - 1].cost + 1, Op::Insert),
            ];
            for (cost, op) in options {
                if row[j].cost > cost {
                    row[j] = Cell { cost, op };
                }
            }
        }
    }

    /// Row 0: `j` insertions.
    fn first_row(&self, row: &mut [Cell]) {
        for (j, c) in row.iter_mut().enumerate() {
            *c = Cell {
                cost: j as u64,
                op: Op::Insert,
            };
        }
    }

    /// Computes the whole matrix of `hyp` into `base` and returns the distance and the
    /// alignment.
    fn full(&mut self, hyp: &[u32]) -> (u64, Alignment) {
        let w = self.width();
        let mut base = std::mem::take(&mut self.base);
        base.clear();
        base.resize(w * (hyp.len() + 1), UNDEFINED);
        self.first_row(&mut base[..w]);
        for i in 1..=hyp.len() {
            let (done, rest) = base.split_at_mut(i * w);
            self.fill_row(hyp, i, &done[(i - 1) * w..], &mut rest[..w]);
        }
        let distance = base[hyp.len() * w + w - 1].cost;
        let alignment = self.alignment(&base, hyp.len());
        self.base = base;
        (distance, alignment)
    }

    /// The distance of `hyp`, whose first `prefix` words equal those of the hypothesis last
    /// given to [`BeamEditDistance::full`] (so its first `prefix + 1` rows are reused).
    fn distance_sharing_prefix(&mut self, hyp: &[u32], prefix: usize) -> u64 {
        let w = self.width();
        let n = hyp.len();
        if prefix >= n {
            return self.base[n * w + w - 1].cost;
        }
        // scratch holds rows prefix..=n; row `prefix` is copied from the base matrix.
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        scratch.extend_from_slice(&self.base[prefix * w..(prefix + 1) * w]);
        scratch.resize(w * (n - prefix + 1), UNDEFINED);
        for i in prefix + 1..=n {
            let k = i - prefix;
            let (done, rest) = scratch.split_at_mut(k * w);
            self.fill_row(hyp, i, &done[(k - 1) * w..], &mut rest[..w]);
        }
        let distance = scratch[(n - prefix) * w + w - 1].cost;
        self.scratch = scratch;
        distance
    }

    /// Backtracks the optimal path of `matrix` and turns it into an alignment, as sacrebleu
    /// does after flipping insertions and deletions (reference rewritten into hypothesis).
    fn alignment(&self, matrix: &[Cell], n_hyp: usize) -> Alignment {
        let w = self.width();
        let (mut i, mut j) = (n_hyp, self.reference.len());
        let mut ops = Vec::with_capacity(n_hyp + j);
        while i > 0 || j > 0 {
            let op = matrix[i * w + j].op;
            debug_assert!(
                op != Op::Undefined,
                "the optimal path stays inside the band"
            );
            ops.push(op);
            match op {
                Op::Match | Op::Substitute => {
                    i -= 1;
                    j -= 1;
                }
                Op::Insert => j -= 1,
                // Undefined cannot be reached (every band overlaps the previous one and the
                // last row is complete); stepping up keeps the walk finite regardless.
                Op::Delete | Op::Undefined => {
                    if i > 0 {
                        i -= 1;
                    } else {
                        j -= 1;
                    }
                }
            }
        }
        let mut a = Alignment {
            align: vec![-1; self.reference.len()],
            ref_err: Vec::with_capacity(self.reference.len()),
            hyp_err: Vec::with_capacity(n_hyp),
        };
        let (mut pos_hyp, mut pos_ref) = (-1i64, -1i64);
        for &op in ops.iter().rev() {
            match op {
                Op::Match | Op::Substitute => {
                    pos_hyp += 1;
                    pos_ref += 1;
                    a.align[pos_ref as usize] = pos_hyp;
                    let err = op == Op::Substitute;
                    a.hyp_err.push(err);
                    a.ref_err.push(err);
                }
                // A deleted hypothesis word is an insertion when rewriting the reference.
                Op::Delete | Op::Undefined => {
                    pos_hyp += 1;
                    a.hyp_err.push(true);
                }
                Op::Insert => {
                    pos_ref += 1;
                    a.align[pos_ref as usize] = pos_hyp;
                    a.ref_err.push(true);
                }
            }
        }
        a
    }
}

/// `words[a..b]` with Python's slice clamping.
fn slice(words: &[u32], a: usize, b: usize) -> &[u32] {
    let n = words.len();
    let (a, b) = (a.min(n), b.min(n));
    if a >= b { &[] } else { &words[a..b] }
}

/// sacrebleu's `_perform_shift`: moves `words[start..start + length]` so that it starts
/// before position `target` (positions of the unshifted list; Python slicing semantics,
/// including its treatment of a target inside the block).
fn perform_shift(words: &[u32], start: usize, length: usize, target: usize, out: &mut Vec<u32>) {
    out.clear();
    let end = start + length;
    if target < start {
        out.extend_from_slice(slice(words, 0, target));
        out.extend_from_slice(slice(words, start, end));
        out.extend_from_slice(slice(words, target, start));
        out.extend_from_slice(slice(words, end, usize::MAX));
    } else if target > end {
        out.extend_from_slice(slice(words, 0, start));
        out.extend_from_slice(slice(words, end, target));
        out.extend_from_slice(slice(words, start, end));
        out.extend_from_slice(slice(words, target, usize::MAX));
    } else {
        out.extend_from_slice(slice(words, 0, start));
        out.extend_from_slice(slice(words, end, length + target));
        out.extend_from_slice(slice(words, start, end));
        out.extend_from_slice(slice(words, length + target, usize::MAX));
    }
}

/// The best shift of one round.
struct Candidate {
    /// Decrease of the edit distance (may be negative).
    gain: i64,
    length: usize,
    start_h: usize,
    target: usize,
    words: Vec<u32>,
}

impl Candidate {
    /// Tercom's ranking: larger gain, then longer block, then earlier start, then earlier
    /// target. (sacrebleu's last key, the shifted words, is fixed by the other three.)
    fn beats(&self, other: &Candidate) -> bool {
        (
            self.gain,
            self.length,
            std::cmp::Reverse(self.start_h),
            std::cmp::Reverse(self.target),
        ) > (
            other.gain,
            other.length,
            std::cmp::Reverse(other.start_h),
            std::cmp::Reverse(other.target),
        )
    }
}

/// One round of shift search (sacrebleu's `_shift`): the best candidate shift of `hyp`, or
/// `None` when no candidate exists; `checked` counts the candidates evaluated so far.
fn best_shift(
    hyp: &[u32],
    reference: &[u32],
    ed: &mut BeamEditDistance<'_>,
    checked: &mut usize,
) -> Option<Candidate> {
    let (pre_score, a) = ed.full(hyp);
    let mut best: Option<Candidate> = None;
    let mut shifted = Vec::with_capacity(hyp.len());
    let (n_h, n_r) = (hyp.len(), reference.len());
    'pairs: for start_h in 0..n_h {
        for start_r in 0..n_r {
            if start_r.abs_diff(start_h) > MAX_SHIFT_DIST {
                continue;
            }
            let mut length = 0;
            while length < MAX_SHIFT_SIZE && hyp[start_h + length] == reference[start_r + length] {
                length += 1;
                // Candidate block hyp[start_h..start_h + length] = ref[start_r..start_r + length].
                let hyp_wrong = a.hyp_err[start_h..start_h + length].iter().any(|&e| e);
                let ref_wrong = a.ref_err[start_r..start_r + length].iter().any(|&e| e);
                let aligned = a.align[start_r];
                let inside = start_h as i64 <= aligned && aligned < (start_h + length) as i64;
                if hyp_wrong && ref_wrong && !inside {
                    let mut prev_target = None;
                    // Targets: before the start, or after the hypothesis word aligned to each
                    // reference word of the span (offset -1 .. length - 1).
                    for offset in -1..length as i64 {
                        let r = start_r as i64 + offset;
                        let target = if r == -1 {
                            0
                        } else {
                            (a.align[r as usize] + 1) as usize
                        };
                        if prev_target == Some(target) {
                            continue;
                        }
                        prev_target = Some(target);
                        perform_shift(hyp, start_h, length, target, &mut shifted);
                        let prefix = start_h.min(target);
                        let dist = ed.distance_sharing_prefix(&shifted, prefix);
                        *checked += 1;
                        let candidate = Candidate {
                            gain: pre_score as i64 - dist as i64,
                            length,
                            start_h,
                            target,
                            words: Vec::new(),
                        };
                        if best.as_ref().is_none_or(|b| candidate.beats(b)) {
                            best = Some(Candidate {
                                words: shifted.clone(),
                                ..candidate
                            });
                        }
                    }
                    if *checked >= MAX_SHIFT_CANDIDATES {
                        break 'pairs;
                    }
                }
                if n_h == start_h + length || n_r == start_r + length {
                    break;
                }
            }
        }
    }
    best
}

/// The words as integers, equal words (as strings) getting equal integers.
fn intern<'a, S: AsRef<str>>(ids: &mut FxHashMap<&'a str, u32>, words: &'a [S]) -> Vec<u32> {
    words
        .iter()
        .map(|w| {
            let next = ids.len() as u32;
            *ids.entry(w.as_ref()).or_insert(next)
        })
        .collect()
}

/// The number of TER edits (shifts + word edits) that turn `hyp` into `reference`, and the
/// reference length: sacrebleu's `translation_edit_rate(words_hyp, words_ref)`.
/// An empty reference gives `(hyp.len(), 0)`.
pub(crate) fn translation_edit_rate<S: AsRef<str>>(hyp: &[S], reference: &[S]) -> (u64, usize) {
    if reference.is_empty() {
        return (hyp.len() as u64, 0);
    }
    let mut ids: FxHashMap<&str, u32> = FxHashMap::default();
    let hyp = intern(&mut ids, hyp);
    let reference = intern(&mut ids, reference);
    let mut ed = BeamEditDistance::new(&reference);
    let mut current = hyp;
    let mut shifts = 0u64;
    let mut checked = 0usize;
    loop {
        let best = best_shift(&current, &reference, &mut ed, &mut checked);
        if checked >= MAX_SHIFT_CANDIDATES {
            break;
        }
        match best {
            Some(b) if b.gain > 0 => {
                shifts += 1;
                current = b.words;
            }
            _ => break,
        }
    }
    let (distance, _) = ed.full(&current);
    (shifts + distance, reference.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ter(h: &str, r: &str) -> (u64, usize) {
        let h: Vec<&str> = h.split_whitespace().collect();
        let r: Vec<&str> = r.split_whitespace().collect();
        translation_edit_rate(&h, &r)
    }

    /// Values from sacrebleu 2.6.0's `lib_ter.translation_edit_rate`.
    #[test]
    fn edits_like_sacrebleu() {
        assert_eq!(ter("a b c", "a b c"), (0, 3));
        assert_eq!(ter("", "a b"), (2, 2));
        assert_eq!(ter("a b", ""), (2, 0));
        // One shift of the block "c d" beats four substitutions.
        assert_eq!(ter("c d a b", "a b c d"), (1, 4));
        assert_eq!(
            ter("the cat sat on the mat", "on the mat the cat sat"),
            (1, 6)
        );
        assert_eq!(ter("x y z", "a b c"), (3, 3));
    }

    #[test]
    fn perform_shift_follows_python_slicing() {
        let w = [0, 1, 2, 3, 4];
        let mut out = Vec::new();
        perform_shift(&w, 3, 2, 0, &mut out);
        assert_eq!(out, [3, 4, 0, 1, 2]);
        perform_shift(&w, 0, 2, 4, &mut out);
        assert_eq!(out, [2, 3, 0, 1, 4]);
        // Target at the end of the block: moves it past the next `length` words.
        perform_shift(&w, 1, 2, 3, &mut out);
        assert_eq!(out, [0, 3, 4, 1, 2]);
    }
}

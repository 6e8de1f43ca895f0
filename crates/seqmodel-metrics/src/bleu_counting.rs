//! Counting BLEU's sufficient statistics fast: segment-local token interning and a reusable
//! open-addressing table of packed n-gram keys, with segments split over the available cores.
//!
//! For each segment the hypothesis and its references are tokenised, every token gets a small
//! integer id (only equality matters), n-grams of up to four ids are packed into one `u64`, and
//! the clipped counts (hypothesis count capped by the maximum count over the references) are
//! summed. The result is exactly what sacrebleu's `Counter`-based code computes.

use std::hash::Hasher;

use rustc_hash::{FxHashMap, FxHasher};

use crate::bleu::{BleuConfig, BleuStats};
use crate::bleu_tokenizer::TokenizerScratch;
use crate::pytext::for_each_field;

/// Reusable buffers for computing segment statistics.
#[derive(Default)]
struct Scratch {
    tokenizer: TokenizerScratch,
    hyp_buf: String,
    ref_bufs: Vec<String>,
    hyp_ids: Vec<u32>,
    ref_ids: Vec<Vec<u32>>,
    table: NgramTable,
    interner: Interner,
}

/// A segment-local token vocabulary, reused across segments: tokens are identified by their
/// position in the segment's token buffers (buffer 0 = hypothesis, `k + 1` = reference `k`),
/// so the table holds no borrowed strings and allocates nothing in the steady state.
#[derive(Default)]
struct Interner {
    /// `(hash, buffer, start, len, id + 1)`; `id + 1 == 0` marks an empty slot.
    slots: Vec<(u64, u32, u32, u32, u32)>,
    touched: Vec<usize>,
    mask: usize,
    next_id: u32,
}

impl Interner {
    fn reset(&mut self, n: usize) {
        for &i in &self.touched {
            self.slots[i] = (0, 0, 0, 0, 0);
        }
        self.touched.clear();
        self.next_id = 0;
        let want = (2 * n.max(8)).next_power_of_two();
        if self.slots.len() < want {
            self.slots = vec![(0, 0, 0, 0, 0); want];
            self.mask = want - 1;
        }
    }

    /// Doubles the table (keeps the load at most 1/2, so probing always ends).
    fn grow(&mut self) {
        let entries: Vec<_> = self.touched.iter().map(|&i| self.slots[i]).collect();
        let size = (2 * self.slots.len()).max(16);
        self.slots = vec![(0, 0, 0, 0, 0); size];
        self.mask = size - 1;
        self.touched.clear();
        for e in entries {
            let mut i = (e.0 >> 20) as usize & self.mask;
            while self.slots[i].4 != 0 {
                i = (i + 1) & self.mask;
            }
            self.slots[i] = e;
            self.touched.push(i);
        }
    }

    /// Number of distinct tokens so far.
    fn len(&self) -> usize {
        self.next_id as usize
    }

    /// The id of token `tok`, which lies at byte `start` of buffer `buf` (`bufs(buf)`).
    #[inline]
    fn intern<'a>(
        &mut self,
        tok: &str,
        buf: u32,
        start: usize,
        bufs: impl Fn(u32) -> &'a str,
    ) -> u32 {
        if 2 * (self.touched.len() + 1) > self.slots.len() {
            self.grow();
        }
        let mut h = FxHasher::default();
        h.write(tok.as_bytes());
        let hash = h.finish();
        let mut i = (hash >> 20) as usize & self.mask;
        loop {
            let (sh, sb, ss, sl, sid) = self.slots[i];
            if sid == 0 {
                self.next_id += 1;
                self.slots[i] = (hash, buf, start as u32, tok.len() as u32, self.next_id);
                self.touched.push(i);
                return self.next_id - 1;
            }
            if sh == hash
                && sl as usize == tok.len()
                && &bufs(sb)[ss as usize..(ss + sl) as usize] == tok
            {
                return sid - 1;
            }
            i = (i + 1) & self.mask;
        }
    }
}

/// Byte offset of `part` inside `whole` (`part` is a sub-slice of `whole`).
#[inline]
fn offset_in(whole: &str, part: &str) -> usize {
    part.as_ptr() as usize - whole.as_ptr() as usize
}

/// Packs an n-gram of at most 4 token ids (< 65535) into a `u64`, 16 bits per token
/// (`id + 1`, so that n-grams of different orders never collide).
#[inline]
fn pack(ids: &[u32]) -> u64 {
    ids.iter()
        .fold(0u64, |k, &id| (k << 16) | u64::from(id + 1))
}

/// The order (1..=4) of a packed key: its number of non-zero 16-bit groups.
#[inline]
fn packed_order(k: u64) -> usize {
    (64 - k.leading_zeros() as usize).div_ceil(16)
}

/// One slot of [`NgramTable`].
#[derive(Clone, Copy, Default)]
struct Slot {
    key: u64,
    /// Maximum count over the references done so far.
    ref_max: u32,
    /// Count in the reference being added.
    ref_cur: u32,
    /// Count in the hypothesis.
    hyp: u32,
}

/// An open-addressing table of packed n-grams, reused across segments (only touched slots are
/// cleared), so that counting allocates nothing in the steady state.
#[derive(Default)]
struct NgramTable {
    slots: Vec<Slot>,
    touched: Vec<usize>,
    mask: usize,
}

impl NgramTable {
    /// Empties the table and makes room for `n` distinct keys at load <= 1/2.
    fn reset(&mut self, n: usize) {
        for &i in &self.touched {
            self.slots[i] = Slot::default();
        }
        self.touched.clear();
        let want = (2 * n.max(8)).next_power_of_two();
        if self.slots.len() < want {
            self.slots = vec![Slot::default(); want];
            self.mask = want - 1;
        }
    }

    #[inline]
    fn slot(&mut self, key: u64) -> &mut Slot {
        let mut i = (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) as usize & self.mask;
        loop {
            let k = self.slots[i].key;
            if k == key {
                return &mut self.slots[i];
            }
            if k == 0 {
                self.slots[i].key = key;
                self.touched.push(i);
                return &mut self.slots[i];
            }
            i = (i + 1) & self.mask;
        }
    }

    /// Counts the n-grams of one reference into `ref_cur`, then folds them into `ref_max`.
    fn add_reference(&mut self, ids: &[u32], order: usize) {
        for n in 1..=order.min(ids.len()) {
            for w in ids.windows(n) {
                self.slot(pack(w)).ref_cur += 1;
            }
        }
        for k in 0..self.touched.len() {
            let s = &mut self.slots[self.touched[k]];
            s.ref_max = s.ref_max.max(s.ref_cur);
            s.ref_cur = 0;
        }
    }

    fn add_hypothesis(&mut self, ids: &[u32], order: usize) {
        for n in 1..=order.min(ids.len()) {
            for w in ids.windows(n) {
                self.slot(pack(w)).hyp += 1;
            }
        }
    }

    /// Adds the clipped matches and totals to `stats`.
    fn collect(&self, stats: &mut BleuStats) {
        for &i in &self.touched {
            let s = self.slots[i];
            if s.hyp > 0 {
                let n = packed_order(s.key) - 1;
                stats.totals[n] += u64::from(s.hyp);
                stats.matches[n] += u64::from(s.hyp.min(s.ref_max));
            }
        }
    }
}

/// Adds the statistics of one segment (one hypothesis against its references) to `stats`.
fn add_segment_stats<R: AsRef<str>>(
    config: &BleuConfig,
    hyp: &str,
    refs: &[R],
    stats: &mut BleuStats,
    scratch: &mut Scratch,
) {
    let order = config.max_ngram_order;
    let Scratch {
        tokenizer,
        hyp_buf,
        ref_bufs,
        hyp_ids,
        ref_ids,
        table,
        interner,
    } = scratch;
    config.tokenize_into(hyp, hyp_buf, tokenizer);
    if ref_bufs.len() < refs.len() {
        ref_bufs.resize_with(refs.len(), String::new);
        ref_ids.resize_with(refs.len(), Vec::new);
    }
    for (r, buf) in refs.iter().zip(ref_bufs.iter_mut()) {
        config.tokenize_into(r.as_ref(), buf, tokenizer);
    }
    // Token ids shared by the hypothesis and its references (only equality matters).
    let hyp_buf: &str = hyp_buf;
    let bufs = |b: u32| -> &str {
        if b == 0 {
            hyp_buf
        } else {
            &ref_bufs[b as usize - 1]
        }
    };
    let approx_tokens = (hyp_buf.len()
        + ref_bufs
            .iter()
            .take(refs.len())
            .map(String::len)
            .sum::<usize>())
        / 3;
    interner.reset(approx_tokens);
    hyp_ids.clear();
    for_each_field(hyp_buf, |t| {
        hyp_ids.push(interner.intern(t, 0, offset_in(hyp_buf, t), bufs))
    });
    let hyp_len = hyp_ids.len() as u64;
    let mut closest: Option<(u64, u64)> = None; // (|hyp_len - ref_len|, ref_len)
    for (k, (buf, ids)) in ref_bufs
        .iter()
        .zip(ref_ids.iter_mut())
        .take(refs.len())
        .enumerate()
    {
        ids.clear();
        let b = k as u32 + 1;
        for_each_field(buf, |t| {
            ids.push(interner.intern(t, b, offset_in(buf, t), bufs))
        });
        let len = ids.len() as u64;
        let diff = len.abs_diff(hyp_len);
        closest = match closest {
            None => Some((diff, len)),
            Some((d, l)) if diff < d || (diff == d && len < l) => Some((diff, len)),
            keep => keep,
        };
    }
    stats.sys_len += hyp_len;
    stats.ref_len += closest.map_or(0, |(_, l)| l);
    let ref_ids = &ref_ids[..refs.len()];

    if order <= 4 && interner.len() < usize::from(u16::MAX) {
        // Fast path: packed keys in a reusable hash table.
        let ngrams = |len: usize| len * order.min(len.max(1));
        let capacity =
            ngrams(hyp_ids.len()) + ref_ids.iter().map(|r| ngrams(r.len())).sum::<usize>();
        table.reset(capacity);
        for ids in ref_ids {
            table.add_reference(ids, order);
        }
        table.add_hypothesis(hyp_ids, order);
        table.collect(stats);
        return;
    }

    // General path: n-grams as slices of ids.
    let mut ref_max: FxHashMap<&[u32], u32> = FxHashMap::default();
    for ids in ref_ids {
        let mut this: FxHashMap<&[u32], u32> = FxHashMap::default();
        for n in 1..=order.min(ids.len()) {
            for g in ids.windows(n) {
                *this.entry(g).or_insert(0) += 1;
            }
        }
        for (g, c) in this {
            let e = ref_max.entry(g).or_insert(0);
            *e = (*e).max(c);
        }
    }
    let mut counts: FxHashMap<&[u32], u32> = FxHashMap::default();
    for n in 1..=order.min(hyp_ids.len()) {
        for g in hyp_ids.windows(n) {
            *counts.entry(g).or_insert(0) += 1;
        }
    }
    for (g, c) in counts {
        let n = g.len() - 1;
        stats.totals[n] += u64::from(c);
        if let Some(&r) = ref_max.get(g) {
            stats.matches[n] += u64::from(c.min(r));
        }
    }
}

/// Below this many segments the work is not split across threads.
const PARALLEL_THRESHOLD: usize = 4096;

/// Sums the statistics of aligned segments, using all available cores for large inputs.
pub(crate) fn corpus_stats<H: AsRef<str> + Sync, R: AsRef<[S]> + Sync, S: AsRef<str> + Sync>(
    config: &BleuConfig,
    hyps: &[H],
    refs: &[R],
) -> BleuStats {
    let order = config.max_ngram_order;
    let run = |hyps: &[H], refs: &[R]| {
        let mut stats = BleuStats::zeros(order);
        let mut scratch = Scratch::default();
        for (h, r) in hyps.iter().zip(refs) {
            add_segment_stats(config, h.as_ref(), r.as_ref(), &mut stats, &mut scratch);
        }
        stats
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if threads <= 1 || hyps.len() < PARALLEL_THRESHOLD {
        return run(hyps, refs);
    }
    let chunk = hyps.len().div_ceil(threads);
    let mut total = BleuStats::zeros(order);
    std::thread::scope(|scope| {
        let handles: Vec<_> = hyps
            .chunks(chunk)
            .zip(refs.chunks(chunk))
            .map(|(h, r)| scope.spawn(move || run(h, r)))
            .collect();
        for h in handles {
            match h.join() {
                Ok(s) => total.add(&s),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
    });
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parallel_path_equals_sequential() {
        let hyps: Vec<String> = (0..PARALLEL_THRESHOLD + 17)
            .map(|i| format!("w{} x{} y z", i % 7, i % 5))
            .collect();
        let refs: Vec<Vec<String>> = (0..hyps.len())
            .map(|i| vec![format!("w{} x{} y q", i % 3, i % 5)])
            .collect();
        let config = BleuConfig::corpus();
        let whole = corpus_stats(&config, &hyps, &refs);
        let mut seq = BleuStats::zeros(4);
        let mut scratch = Scratch::default();
        for (h, r) in hyps.iter().zip(&refs) {
            add_segment_stats(&config, h, r, &mut seq, &mut scratch);
        }
        assert_eq!(whole, seq);
    }
}

//! Splitting the batch across worker threads: independent row blocks, each running the whole
//! time loop (no synchronisation between steps, so a worker delayed by another process only
//! delays itself).

use std::ops::Range;

/// Below this many multiply-adds per step and row block, a second thread costs more than it
/// saves (measured on case e of `cargo xtask bench-backends`).
pub(super) const MIN_MACS_PER_BLOCK: usize = 32 * 1024;

/// Split `0..batch` into contiguous row blocks, one per worker thread where it pays.
pub(super) fn row_blocks(batch: usize, macs_per_row: usize) -> Vec<Range<usize>> {
    let threads = rayon::current_num_threads().max(1);
    let by_work = (batch * macs_per_row / MIN_MACS_PER_BLOCK).max(1);
    let blocks = threads.min(batch).min(by_work).max(1);
    let (base, extra) = (batch / blocks, batch % blocks);
    let mut start = 0;
    (0..blocks)
        .map(|i| {
            let len = base + usize::from(i < extra);
            let range = start..start + len;
            start += len;
            range
        })
        .collect()
}

/// Split `buf` (rows of `per_row` values) along `blocks`; an empty `buf` gives empty slices.
pub(super) fn split_rows<'a>(
    buf: &'a mut [f32],
    per_row: usize,
    blocks: &[Range<usize>],
) -> Vec<&'a mut [f32]> {
    let mut rest = buf;
    let mut out = Vec::with_capacity(blocks.len());
    for block in blocks {
        if rest.is_empty() {
            out.push(&mut [][..]);
            continue;
        }
        let (head, tail) = rest.split_at_mut(block.len() * per_row);
        out.push(head);
        rest = tail;
    }
    out
}

//! A few large `f32` buffers kept between calls, so that the projections (`[B*T, G*H]`, several
//! MB) do not pay fresh page faults on every call. Contents of a taken buffer are arbitrary.
//!
//! Used by the CPU kernels ([`super::cpu`]) and the packed weights ([`super::matmul`]), which
//! therefore import this module, not each other.

use std::sync::Mutex;

static POOL: Mutex<Vec<Vec<f32>>> = Mutex::new(Vec::new());
/// Buffers kept at most: the projection, the packed weights and the saved activations of
/// a layer direction, forward and backward.
const KEEP: usize = 16;
/// Values kept in all (512 MB); larger buffers are dropped.
const MAX_TOTAL: usize = 1 << 27;

/// A buffer of `n` values (arbitrary contents): the smallest pooled one that holds `n`
/// without growing and is at most twice that, else a fresh one. (Growing a smaller pooled
/// buffer copies its old contents and faults in new pages; handing a large one to a small
/// request makes the next large request allocate.)
pub fn take(n: usize) -> Vec<f32> {
    let found = POOL.lock().ok().and_then(|mut pool| {
        let best = (0..pool.len())
            .filter(|&i| (n..=n.saturating_mul(2)).contains(&pool[i].capacity()))
            .min_by_key(|&i| pool[i].capacity())?;
        Some(pool.swap_remove(best))
    });
    match found {
        Some(mut buf) => {
            // Same-shaped calls get back buffers of exactly their length: nothing to fill.
            if buf.len() >= n {
                buf.truncate(n);
            } else {
                buf.resize(n, 0.0);
            }
            buf
        }
        None => vec![0.0; n],
    }
}

/// Return a buffer for reuse.
pub fn give(buf: Vec<f32>) {
    if buf.is_empty() {
        return;
    }
    if buf.capacity() > MAX_TOTAL {
        return;
    }
    if let Ok(mut pool) = POOL.lock() {
        pool.push(buf);
        // Over the limits, drop the smallest buffers first: they are the cheapest to make.
        while pool.len() > KEEP || pool.iter().map(Vec::capacity).sum::<usize>() > MAX_TOTAL {
            let Some(smallest) = (0..pool.len()).min_by_key(|&i| pool[i].capacity()) else {
                break;
            };
            pool.swap_remove(smallest);
        }
    }
}

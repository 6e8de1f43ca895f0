//! Packed weights kept between inference calls.
//!
//! Packing `W_ih^T` and `W_hh^T` for the tiled product reads and writes every weight once per
//! call; the weights of a large layer are not in cache between calls (measured here: ~0.4 ms
//! of a 10 ms call for `[1024, 128]` + `[1024, 256]`, ~1.1 ms for `[1024, 512]` + `[1024, 256]`),
//! while inference calls them with the same weights again and again.
//!
//! An entry is found by the address and length of the weights' `f32` values, and it holds a
//! clone of their flex tensor. Flex storage is reference-counted and copy-on-write, so while
//! the entry holds that clone the values at that address can neither be freed (and the
//! address reused for other values) nor changed in place: any change to the weights (an
//! optimiser step, loading a record) produces new storage at another address, which misses.
//! Only inference calls use the cache, so a training step never finds, adds or pins weights;
//! weights cached by an inference call cost one copy on their next in-place update.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use burn::backend::flex::FlexTensor;

use super::matmul::PackedMatrix;
use super::simd::Isa;

/// Entries kept at most (a layer direction uses two).
const MAX_ENTRIES: usize = 16;
/// Packed values kept at most, in all (64 MB).
const MAX_VALUES: usize = 1 << 24;

struct Entry {
    /// Keeps the packed values' source alive and immutable (see the module docs).
    _source: FlexTensor,
    address: usize,
    len: usize,
    n: usize,
    k: usize,
    isa: Isa,
    packed: Arc<PackedMatrix>,
    last_use: u64,
}

static CACHE: Mutex<Vec<Entry>> = Mutex::new(Vec::new());
static CLOCK: AtomicU64 = AtomicU64::new(0);

/// `PackedMatrix::transposed(w, n, k, isa)` for the row-major `w: [n, k]` viewed by `source`,
/// from the cache when these exact values were packed before.
pub(crate) fn transposed(
    source: &FlexTensor,
    w: &[f32],
    n: usize,
    k: usize,
    isa: Isa,
) -> Arc<PackedMatrix> {
    let address = w.as_ptr() as usize;
    let now = CLOCK.fetch_add(1, Ordering::Relaxed);
    let matches = |e: &Entry| {
        e.address == address && e.len == w.len() && e.n == n && e.k == k && e.isa == isa
    };
    if let Ok(mut cache) = CACHE.lock()
        && let Some(entry) = cache.iter_mut().find(|e| matches(e))
    {
        entry.last_use = now;
        return Arc::clone(&entry.packed);
    }
    let packed = Arc::new(PackedMatrix::transposed(w, n, k, isa));
    if let Ok(mut cache) = CACHE.lock() {
        if !cache.iter().any(matches) {
            cache.push(Entry {
                _source: source.clone(),
                address,
                len: w.len(),
                n,
                k,
                isa,
                packed: Arc::clone(&packed),
                last_use: now,
            });
        }
        while cache.len() > MAX_ENTRIES || cache.iter().map(|e| e.len).sum::<usize>() > MAX_VALUES {
            let Some(oldest) = (0..cache.len()).min_by_key(|&i| cache[i].last_use) else {
                break;
            };
            cache.swap_remove(oldest);
        }
    }
    packed
}

#[cfg(test)]
mod tests {
    use burn::backend::flex::{FlexTensor, Layout};
    use burn::backend::{Bytes, DType, Shape};

    use super::*;

    fn tensor(values: Vec<f32>, shape: [usize; 2]) -> FlexTensor {
        FlexTensor::new(
            Bytes::from_elems(values),
            Layout::contiguous(Shape::from(shape.to_vec())),
            DType::F32,
        )
    }

    #[test]
    fn the_same_values_are_packed_once_and_new_values_again() {
        let (n, k) = (40, 24);
        let isa = Isa::detect();
        let a = tensor((0..n * k).map(|i| i as f32).collect(), [n, k]);
        let a_values = a.as_slice::<f32>().expect("contiguous");
        let first = transposed(&a, a_values, n, k, isa);
        let again = transposed(&a, a_values, n, k, isa);
        assert!(
            Arc::ptr_eq(&first, &again),
            "a hit returns the cached packing"
        );
        assert_eq!(*first, PackedMatrix::transposed(a_values, n, k, isa));

        // A copy-on-write update of a cached tensor lands in new storage: a miss.
        let mut b = a.clone();
        b.storage_mut::<f32>()[0] = -1.0;
        let b_values = b.as_slice::<f32>().expect("contiguous");
        assert_ne!(b_values.as_ptr(), a_values.as_ptr());
        let updated = transposed(&b, b_values, n, k, isa);
        assert!(!Arc::ptr_eq(&first, &updated));
        assert_eq!(*updated, PackedMatrix::transposed(b_values, n, k, isa));
    }
}

//! Out-of-range indices into this crate's datasets: an error, never a panic.
//!
//! Burn's `Dataset` trait documents that `get` panics past the end, and its default `get_many`
//! asserts. A data loader never asks for such an index, but user code can, so every dataset
//! here answers with [`Error::IndexOutOfBounds`] wrapped in Burn's `DatasetError` instead (read
//! it back with `std::error::Error::source` and `downcast_ref::<seqmodel_data::Error>()`).

use burn::data::dataset::{Dataset, DatasetError};

use crate::error::Error;

/// The error for `index` into `dataset`, which holds `len` items.
pub(crate) fn out_of_bounds(dataset: &'static str, index: usize, len: usize) -> DatasetError {
    DatasetError::new(Error::IndexOutOfBounds {
        dataset,
        index,
        len,
    })
}

/// A clone of `items[index]`, or the out-of-bounds error naming `dataset`.
pub(crate) fn cloned_item<T: Clone>(
    items: &[T],
    index: usize,
    dataset: &'static str,
) -> Result<T, DatasetError> {
    items
        .get(index)
        .cloned()
        .ok_or_else(|| out_of_bounds(dataset, index, items.len()))
}

/// `get_many` through `get`, so that an index past the end is an error there too (Burn's
/// default implementation asserts).
pub(crate) fn get_each<D, I>(dataset: &D, indexes: Vec<usize>) -> Result<Vec<I>, DatasetError>
where
    D: Dataset<I> + ?Sized,
{
    indexes.into_iter().map(|i| dataset.get(i)).collect()
}

#[cfg(test)]
pub(crate) mod testing {
    //! Checks shared by the datasets' tests.

    use std::error::Error as _;

    use burn::data::dataset::Dataset;

    use crate::error::Error;

    /// Asserts that `get(len())` and `get_many` with that index are
    /// [`Error::IndexOutOfBounds`] naming `name`, and that `get(len() - 1)` (if any) succeeds.
    pub(crate) fn assert_get_past_end_is_an_error<D, I>(dataset: &D, name: &str)
    where
        D: Dataset<I>,
    {
        let len = dataset.len();
        if len > 0 {
            assert!(
                dataset.get(len - 1).is_ok(),
                "{name}: the last item must be readable"
            );
        }
        for err in [dataset.get(len).err(), dataset.get_many(vec![0, len]).err()] {
            let err = err.unwrap_or_else(|| panic!("{name}: index {len} must be an error"));
            let inner = err
                .source()
                .and_then(|s| s.downcast_ref::<Error>())
                .unwrap_or_else(|| {
                    panic!("{name}: the DatasetError must wrap a seqmodel_data::Error")
                });
            match inner {
                Error::IndexOutOfBounds {
                    dataset,
                    index,
                    len: found,
                } => {
                    assert_eq!((*dataset, *index, *found), (name, len, len));
                }
                other => panic!("{name}: expected IndexOutOfBounds, got {other:?}"),
            }
            assert_eq!(
                err.to_string(),
                format!(
                    "{name}: index {len} is out of bounds (the dataset has {len} items; expected \
                     an index below {len})"
                )
            );
        }
    }
}

//! Naive forecasts, the baselines every forecasting report shows beside a model, in original
//! units: the last observed value, and the value one season earlier.

use crate::error::{Error, Result};
use crate::series::TimeSeries;

/// The last-value forecast from origin `origin` (the last observed row): `x̂_{T+h} = x_T` for
/// `h = 1..=horizon`, laid out `[horizon, columns.len()]` row-major.
///
/// # Panics
/// If `origin` or a column is outside the series.
///
/// ```
/// use seqmodel_data::{TimeSeries, naive_last};
///
/// let s = TimeSeries::from_rows(vec!["v".into()], &[vec![1.0], vec![4.0]])?;
/// assert_eq!(naive_last(&s, 1, 3, &[0]), vec![4.0, 4.0, 4.0]);
/// # Ok::<(), seqmodel_data::Error>(())
/// ```
pub fn naive_last(
    series: &TimeSeries,
    origin: usize,
    horizon: usize,
    columns: &[usize],
) -> Vec<f64> {
    (0..horizon)
        .flat_map(|_| columns.iter().map(|&c| series.row(origin)[c]))
        .collect()
}

/// The seasonal-naive forecast with period `period` from origin `origin`: the value of the same
/// season in the last observed cycle, `x̂_{T+h} = x_{T+h-m·⌈h/m⌉}`, laid out
/// `[horizon, columns.len()]` row-major. Period 1 is [`naive_last`].
///
/// Errors: a period of 0, or one longer than the history (`origin + 1` rows).
///
/// # Panics
/// If `origin` or a column is outside the series.
///
/// ```
/// use seqmodel_data::{TimeSeries, seasonal_naive};
///
/// // Period 3 over 1, 2, 3, 4, 5 with origin 4: the next steps repeat 3, 4, 5.
/// let rows: Vec<Vec<f64>> = (1..=5).map(|v| vec![v as f64]).collect();
/// let s = TimeSeries::from_rows(vec!["v".into()], &rows)?;
/// assert_eq!(seasonal_naive(&s, 4, 4, 3, &[0])?, vec![3.0, 4.0, 5.0, 3.0]);
/// # Ok::<(), seqmodel_data::Error>(())
/// ```
pub fn seasonal_naive(
    series: &TimeSeries,
    origin: usize,
    horizon: usize,
    period: usize,
    columns: &[usize],
) -> Result<Vec<f64>> {
    if period == 0 || period > origin + 1 {
        return Err(Error::Config {
            config: "seasonal_naive",
            field: "period",
            reason: format!(
                "is {period}, but {} has {} rows of history at row {origin}; choose a season \
                 between 1 and {}",
                series.source().display(),
                origin + 1,
                origin + 1
            ),
        });
    }
    Ok((1..=horizon)
        .flat_map(|h| {
            let back = period * h.div_ceil(period);
            let row = origin + h - back;
            columns.iter().map(move |&c| series.row(row)[c])
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn two_columns_are_laid_out_per_step() {
        let rows = vec![vec![1.0, 10.0], vec![2.0, 20.0], vec![3.0, 30.0]];
        let s = TimeSeries::from_rows(vec!["a".into(), "b".into()], &rows).unwrap();
        assert_eq!(naive_last(&s, 2, 2, &[1, 0]), vec![30.0, 3.0, 30.0, 3.0]);
        assert_eq!(
            seasonal_naive(&s, 2, 3, 2, &[0, 1]).unwrap(),
            vec![2.0, 20.0, 3.0, 30.0, 2.0, 20.0]
        );
        assert!(seasonal_naive(&s, 2, 1, 4, &[0]).is_err());
        assert!(seasonal_naive(&s, 2, 1, 0, &[0]).is_err());
    }

    proptest! {
        /// On a series that repeats with period m, the seasonal-naive forecast is exact, and
        /// period 1 is the last-value forecast.
        #[test]
        fn seasonal_naive_is_exact_on_periodic_series(
            cycle in prop::collection::vec(-100f64..100.0, 1..8),
            repeats in 2usize..5,
            horizon in 1usize..12,
        ) {
            let m = cycle.len();
            let total = m * repeats + horizon;
            let rows: Vec<Vec<f64>> = (0..total).map(|t| vec![cycle[t % m]]).collect();
            let s = TimeSeries::from_rows(vec!["v".into()], &rows).unwrap();
            let origin = m * repeats - 1;
            let got = seasonal_naive(&s, origin, horizon, m, &[0]).unwrap();
            let want: Vec<f64> = (1..=horizon).map(|h| rows[origin + h][0]).collect();
            prop_assert_eq!(got, want, "seasonal naive missed a periodic series");
            prop_assert_eq!(
                seasonal_naive(&s, origin, horizon, 1, &[0]).unwrap(),
                naive_last(&s, origin, horizon, &[0])
            );
        }
    }
}

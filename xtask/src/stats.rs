//! Summaries of timed runs shared by the benchmarks: one median for every task.

/// The median of `values`: the middle value for odd n, the mean of the two middle values for
/// even n; `None` for no values. NaNs sort after every number (`f64::total_cmp`).
pub fn median(values: &[f64]) -> Option<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    match n {
        0 => None,
        _ if n.is_multiple_of(2) => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0),
        _ => Some(sorted[n / 2]),
    }
}

/// Median, minimum and maximum of a set of timings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// [`median`] of the values.
    pub median: f64,
    /// The smallest value.
    pub min: f64,
    /// The largest value.
    pub max: f64,
}

/// [`Summary`] of `values`; `None` for no values.
pub fn summarise(values: &[f64]) -> Option<Summary> {
    let median = median(values)?;
    let min = values.iter().copied().min_by(f64::total_cmp)?;
    let max = values.iter().copied().max_by(f64::total_cmp)?;
    Some(Summary { median, min, max })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_count_takes_the_middle_value() {
        assert_eq!(median(&[5.0, 1.0, 3.0]), Some(3.0));
        assert_eq!(median(&[2.5]), Some(2.5));
    }

    #[test]
    fn even_count_takes_the_mean_of_the_two_middle_values() {
        // The upper middle (4.0) or the lower middle (2.0) would both be wrong here.
        assert_eq!(median(&[4.0, 1.0, 2.0, 10.0]), Some(3.0));
        assert_eq!(median(&[1.0, 2.0]), Some(1.5));
    }

    #[test]
    fn no_values_have_no_median() {
        assert_eq!(median(&[]), None);
        assert_eq!(summarise(&[]), None);
    }

    #[test]
    fn summary_is_median_min_max() {
        assert_eq!(
            summarise(&[3.0, 9.0, 1.0, 4.0]),
            Some(Summary {
                median: 3.5,
                min: 1.0,
                max: 9.0
            })
        );
    }
}

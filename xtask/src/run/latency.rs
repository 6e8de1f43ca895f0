//! Inference latency of a finished run: one example at a time (batch 1), the way an online
//! caller uses a model, on the run's own backend. `cargo xtask compare` reports the median.

use std::path::Path;
use std::time::Instant;

use super::config::{CONFIG_FILE, TaskName, read_task};
use super::error::RunError;
use super::{classify, data, forecast, tag};

/// Calls made before timing starts (first-call allocations, packed-weight caches).
pub const WARM_UP_CALLS: usize = 3;

/// Milliseconds of each of up to `examples` batch-1 predictions on the test split of the run in
/// `dir` (classify, tag or forecast), after [`WARM_UP_CALLS`] untimed ones. Every call reads
/// its result back to the host, so the device has finished before the clock is read.
pub fn latency_ms(dir: &Path, examples: usize) -> Result<Vec<f64>, RunError> {
    match read_task(&dir.join(CONFIG_FILE), None)? {
        TaskName::Classify => {
            let run = classify::load_run(dir)?;
            let split = data::read_split(&run.config.data)?;
            let items = run.lexicon.relabel(&split.test)?;
            let batcher = run.lexicon.batcher()?;
            time_each(&items, examples, |item| {
                classify::probabilities(
                    &run.model,
                    &batcher,
                    std::slice::from_ref(item),
                    &run.device,
                )
                .map(drop)
            })
        }
        TaskName::Tag => tag::latency_ms(dir, examples),
        TaskName::Forecast => forecast::latency_ms(dir, examples),
        TaskName::Seq2seq => Err(RunError::Data(format!(
            "{}: latency is measured for classify, tag and forecast runs; time a seq2seq run's \
             decoding with `cargo xtask predict`",
            dir.display()
        ))),
    }
}

/// Times `call` on each of the first `examples` of `items` (after [`WARM_UP_CALLS`] untimed
/// calls on the first items), in milliseconds.
pub fn time_each<T>(
    items: &[T],
    examples: usize,
    mut call: impl FnMut(&T) -> Result<(), RunError>,
) -> Result<Vec<f64>, RunError> {
    if items.is_empty() || examples == 0 {
        return Err(RunError::Data(
            "no test example to time: the run's test split is empty".into(),
        ));
    }
    for item in items.iter().cycle().take(WARM_UP_CALLS) {
        call(item)?;
    }
    let mut times = Vec::with_capacity(examples.min(items.len()));
    for item in items.iter().take(examples) {
        let start = Instant::now();
        call(item)?;
        times.push(start.elapsed().as_secs_f64() * 1e3);
    }
    Ok(times)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_each_item_after_warm_up_and_refuses_nothing_to_time() {
        let mut calls = 0;
        let times = time_each(&[1, 2, 3, 4, 5], 4, |_| {
            calls += 1;
            Ok(())
        })
        .expect("timed");
        assert_eq!(times.len(), 4);
        assert_eq!(calls, 4 + WARM_UP_CALLS);
        assert!(times.iter().all(|t| t.is_finite() && *t >= 0.0));
        let error = time_each(&[] as &[u8], 4, |_| Ok(())).expect_err("empty");
        assert!(error.to_string().contains("empty"), "{error}");
        let failing = time_each(&[1], 1, |_| Err(RunError::Data("boom".into())));
        assert!(failing.is_err());
    }
}

//! Timing what a benchmark row runs: warm-up, interleaved rounds, a time budget per row.

use std::time::{Duration, Instant};

/// One run of what a row times: a forward (or forward + backward) pass that ends by
/// synchronising its device, so that the clock read after it covers the device's work.
pub type Run = Box<dyn Fn() -> Result<(), String>>;

/// The pause before each implementation's runs in a round. Thread pools keep spinning for a
/// while after their last parallel region (PyTorch's OpenMP worker: 5–9 ms of CPU time after
/// an LSTM call, measured here), and a run that starts meanwhile shares a core with them:
/// without this pause the fused path's median on case a, timed right after PyTorch's runs,
/// was 13.0–15.4 ms against 11.5–12.4 ms with it (three runs each). 50 ms lets every pool go
/// idle.
pub const SETTLE: Duration = Duration::from_millis(50);

/// Wall times (ms) of `runs` runs.
pub fn sample(run: &Run, runs: usize) -> Result<Vec<f64>, String> {
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        run()?;
        times.push(start.elapsed().as_secs_f64() * 1e3);
    }
    Ok(times)
}

/// How many runs a row gets: at least `min_runs`, at most `max_runs`, and no more than fit
/// in `budget` given one run's time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Plan {
    /// Untimed runs first (kernel compilation, allocator and thread-pool start-up).
    pub warmup: usize,
    /// The fewest timed runs, whatever they cost.
    pub min_runs: usize,
    /// The most timed runs.
    pub max_runs: usize,
    /// Time the timed runs of one implementation may take together.
    pub budget: Duration,
}

impl Plan {
    /// Timed runs for an implementation whose last warm-up run took `warm_ms`.
    pub fn runs(&self, warm_ms: f64) -> usize {
        let fit = (self.budget.as_secs_f64() * 1e3 / warm_ms.max(1e-3)).floor();
        // `fit` is finite and non-negative; the clamp bounds it before the cast.
        (fit.min(self.max_runs as f64) as usize).clamp(self.min_runs, self.max_runs)
    }
}

/// Times every run in `runs` under `plan`: each is warmed up, then all are timed in
/// interleaved rounds (first, second, …, then again), so that a slow spell of the machine hits
/// all of them alike; each one's runs start after [`SETTLE`]. Returns the wall times (ms)
/// of each, in order.
pub fn time_interleaved(runs: &[&Run], plan: &Plan) -> Result<Vec<Vec<f64>>, String> {
    let mut slowest_warm: f64 = 0.0;
    for run in runs {
        let warm = sample(run, plan.warmup.max(1))?;
        slowest_warm = slowest_warm.max(warm.iter().copied().fold(f64::INFINITY, f64::min));
    }
    let total = plan.runs(slowest_warm);
    // Rounds of up to 3 runs each.
    let per_round = total.clamp(1, 3);
    let mut times = vec![Vec::with_capacity(total); runs.len()];
    while times[0].len() < total {
        let n = per_round.min(total - times[0].len());
        for (run, out) in runs.iter().zip(times.iter_mut()) {
            std::thread::sleep(SETTLE);
            out.extend(sample(run, n)?);
        }
    }
    Ok(times)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_fit_the_budget_within_the_bounds() {
        let plan = Plan {
            warmup: 1,
            min_runs: 3,
            max_runs: 15,
            budget: Duration::from_millis(300),
        };
        assert_eq!(plan.runs(10.0), 15, "30 fit, capped at 15");
        assert_eq!(plan.runs(50.0), 6);
        assert_eq!(plan.runs(1000.0), 3, "never fewer than min_runs");
        assert_eq!(plan.runs(0.0), 15, "a run too fast to measure");
    }

    #[test]
    fn interleaved_timing_gives_every_run_the_same_count() {
        let plan = Plan {
            warmup: 1,
            min_runs: 4,
            max_runs: 4,
            budget: Duration::from_millis(1),
        };
        let count = std::rc::Rc::new(std::cell::Cell::new(0));
        let c = count.clone();
        let a: Run = Box::new(move || {
            c.set(c.get() + 1);
            Ok(())
        });
        let b: Run = Box::new(|| Ok(()));
        let times = time_interleaved(&[&a, &b], &plan).expect("timed");
        assert_eq!(times.iter().map(Vec::len).collect::<Vec<_>>(), [4, 4]);
        assert_eq!(count.get(), 5, "one warm-up and four timed runs");
    }
}

//! How progress is shown: burn-train's terminal UI in a terminal, one plain line per epoch
//! otherwise (CI, pipes, logs), or nothing.

use std::io::IsTerminal;

use burn::train::logger::{EvaluationProgressLogger, TrainingProgressLogger};
use burn::train::metric::MetricDefinition;
use burn::train::renderer::tui::TuiMetricsRendererWrapper;
use burn::train::renderer::{
    EvaluationName, MetricState, MetricsRenderer, MetricsRendererEvaluation,
    MetricsRendererTraining,
};
use burn::train::{Interrupter, LearnerSummary};

/// Where progress goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProgressMode {
    /// [`ProgressMode::Tui`] when standard output is a terminal, [`ProgressMode::Plain`]
    /// otherwise.
    #[default]
    Auto,
    /// burn-train's terminal dashboard.
    Tui,
    /// One line per epoch on standard output.
    Plain,
    /// Nothing (tests, embedding).
    Quiet,
}

impl ProgressMode {
    /// Resolves [`ProgressMode::Auto`] against the current standard output.
    pub fn resolve(self) -> Self {
        match self {
            Self::Auto if std::io::stdout().is_terminal() => Self::Tui,
            Self::Auto => Self::Plain,
            other => other,
        }
    }

    /// The renderer burn-train draws with (the plain lines come from the epoch logger).
    pub(crate) fn renderer(
        self,
        interrupter: Interrupter,
        resumed_from: Option<usize>,
    ) -> Box<dyn MetricsRenderer> {
        match self.resolve() {
            Self::Tui => Box::new(TuiMetricsRendererWrapper::new(interrupter, resumed_from)),
            _ => Box::new(SilentRenderer),
        }
    }
}

/// A renderer that draws nothing: per-item progress is noise in a log file.
struct SilentRenderer;

impl MetricsRendererTraining for SilentRenderer {
    fn update_train(&mut self, _state: MetricState) {}
    fn update_valid(&mut self, _state: MetricState) {}
    fn on_train_end(
        &mut self,
        _summary: Option<LearnerSummary>,
    ) -> Result<(), Box<dyn core::error::Error>> {
        Ok(())
    }
}

impl MetricsRendererEvaluation for SilentRenderer {
    fn update_test(&mut self, _name: EvaluationName, _state: MetricState) {}
    fn on_test_end(
        &mut self,
        _summary: Option<LearnerSummary>,
    ) -> Result<(), Box<dyn core::error::Error>> {
        Ok(())
    }
}

impl TrainingProgressLogger for SilentRenderer {
    fn start(
        &mut self,
        _total_epochs: usize,
        _starting_epoch: usize,
        _total_items: Option<usize>,
        _label: Option<&str>,
    ) {
    }
    fn update_epoch(&mut self, _epoch: usize) {}
    fn start_split(&mut self, _split: &str, _total_items: usize) {}
    fn update_split(&mut self, _items_processed: usize) {}
    fn end_split(&mut self) {}
    fn end(&mut self) {}
    fn log_event_training(&mut self, _event: String) {}
}

impl EvaluationProgressLogger for SilentRenderer {
    fn start_global_progress(&mut self, _total_tests: usize) {}
    fn start_test(&mut self, _name: &str, _total_items: usize) {}
    fn update_test_progress(&mut self, _items_processed: usize) {}
    fn end_test(&mut self) {}
    fn end_global_progress(&mut self) {}
    fn log_event_evaluation(&mut self, _event: String) {}
}

impl MetricsRenderer for SilentRenderer {
    fn manual_close(&mut self) {}
    fn register_metric(&mut self, _definition: MetricDefinition) {}
}

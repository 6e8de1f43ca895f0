//! burn-train's step traits for [`Forecaster`]: mean squared error on scaled model values.

use burn::nn::loss::{MseLoss, Reduction};
use burn::train::{InferenceStep, RegressionOutput, TrainOutput, TrainStep};
use seqmodel_data::WindowBatch;

use super::Forecaster;
use crate::error::{Result, TaskError};

/// Why a step cannot fail on the batches burn-train hands it: the model's input width and
/// output size were fixed from the same column lists the windows were cut with; a batch of
/// other widths is a wiring mistake of the caller, and the panic message is the
/// [`TaskError`] naming the dimension.
const STEP_INVARIANT: &str = "Forecaster step: the batch does not fit the model (windows and \
                              model must be built from the same columns, lookback and horizon)";

impl Forecaster {
    /// The forecast, its targets `[batch, horizon * targets]` and their mean squared error.
    pub fn regression_output(&self, batch: WindowBatch) -> Result<RegressionOutput> {
        let output = self.forward(batch.inputs)?;
        let [b, horizon, targets] = batch.targets.dims();
        if horizon * targets != self.horizon * self.targets {
            return Err(TaskError::InvalidConfig {
                config: "Forecaster",
                field: "targets".into(),
                reason: format!(
                    "a batch with targets [{b}, {horizon}, {targets}]; the model forecasts \
                     horizon {} × {} targets",
                    self.horizon, self.targets
                ),
            });
        }
        let targets = batch.targets.reshape([b, horizon * targets]);
        let loss = MseLoss::new().forward(output.clone(), targets.clone(), Reduction::Mean);
        Ok(RegressionOutput {
            loss,
            output,
            targets,
        })
    }
}

impl TrainStep for Forecaster {
    type Input = WindowBatch;
    type Output = RegressionOutput;

    /// Forward (dropout on), mean squared error, backward.
    fn step(&self, batch: WindowBatch) -> TrainOutput<RegressionOutput> {
        let item = self
            .regression_output(batch)
            .unwrap_or_else(|e| panic!("{STEP_INVARIANT}: {e}"));
        TrainOutput::new(self, item.loss.backward(), item)
    }
}

impl InferenceStep for Forecaster {
    type Input = WindowBatch;
    type Output = RegressionOutput;

    /// Forward and mean squared error, no backward.
    fn step(&self, batch: WindowBatch) -> RegressionOutput {
        self.regression_output(batch)
            .unwrap_or_else(|e| panic!("{STEP_INVARIANT}: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use burn::module::Module;
    use burn::optim::{AdamConfig, GradientsParams};
    use burn::tensor::{Device, Tensor, TensorData};
    use seqmodel_data::WindowBatch;

    use crate::{EncoderConfig, EncoderKind, ForecastAttention, ForecasterConfig};

    #[test]
    fn forecaster_is_a_learner_model() {
        fn learner_model<M: burn::train::LearnerModel>() {}
        learner_model::<super::Forecaster>();
    }

    /// A sine wave, next step from the last 8: 60 Adam steps lower the MSE at least fivefold.
    #[test]
    fn a_tiny_training_run_lowers_the_loss() {
        let device = Device::flex().autodiff();
        let (n, lookback) = (32, 8);
        let mut inputs = Vec::new();
        let mut targets = Vec::new();
        for i in 0..n {
            for t in 0..=lookback {
                let v = ((i + t) as f32 * 0.4).sin();
                if t < lookback {
                    inputs.push(v);
                } else {
                    targets.push(v);
                }
            }
        }
        let batch = || WindowBatch {
            inputs: Tensor::from_data(TensorData::new(inputs.clone(), [n, lookback, 1]), &device),
            targets: Tensor::from_data(TensorData::new(targets.clone(), [n, 1, 1]), &device),
            starts: (0..n).collect(),
        };
        let mut model = ForecasterConfig::default()
            .with_encoder(
                EncoderConfig::new(EncoderKind::Gru)
                    .with_hidden_size(16)
                    .with_bidirectional(false),
            )
            .with_attention(ForecastAttention::Additive)
            .init(&device)
            .unwrap();
        let mut optim = AdamConfig::new().init();
        let first = model
            .regression_output(batch())
            .unwrap()
            .loss
            .into_scalar::<f32>();
        for _ in 0..60 {
            let loss = model.regression_output(batch()).unwrap().loss;
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optim.step(1e-2, model, grads);
        }
        let last = model
            .valid()
            .regression_output(WindowBatch {
                inputs: Tensor::from_data(
                    TensorData::new(inputs.clone(), [n, lookback, 1]),
                    &Device::flex(),
                ),
                targets: Tensor::from_data(
                    TensorData::new(targets.clone(), [n, 1, 1]),
                    &Device::flex(),
                ),
                starts: (0..n).collect(),
            })
            .unwrap()
            .loss
            .into_scalar::<f32>();
        assert!(last * 5.0 < first, "loss {first} -> {last}");
    }
}

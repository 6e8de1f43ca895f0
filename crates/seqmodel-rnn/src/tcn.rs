//! Temporal convolutional network (Bai, Kolter, Koltun 2018, "An Empirical Evaluation of
//! Generic Convolutional and Recurrent Networks for Sequence Modeling"): residual blocks of two
//! dilated 1D convolutions, dilation `2^level` at level `level`.
//!
//! Block `level` (dilation `d = 2^level`, kernel `k`):
//! `h = dropout(relu(conv1(x)))`, `h = dropout(relu(conv2(h)))`, `y = relu(h + res(x))`,
//! where `res` is a 1x1 convolution when the widths differ (the first block, if
//! `input_size != hidden_size`) and the identity otherwise. A convolution's output at `t` reads
//! `x_{t + j d - left}` for taps `j = 0..k`: `left = (k - 1) d` when causal (only steps `<= t`),
//! `left = floor((k - 1) d / 2)` when centred. Steps outside `0..time` read 0.
//!
//! Everything is batch-first `[batch, time, features]`: a convolution is one matrix product of
//! the `k` shifted copies of its input, concatenated along features, with the
//! `[out, in, k]` weight (PyTorch's `nn.Conv1d` layout) laid out as `[k * in, out]` — Burn's
//! channels-first `Conv1d` never appears. Padding steps (either side) are zeroed after every
//! convolution, so they read as the zeros beyond a sequence's ends: a real position's output
//! is what the sequence alone gives.

use burn::config::Config;
use burn::module::{Module, Param};
use burn::nn::{Dropout, DropoutConfig};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Distribution, Tensor, TensorData};

use crate::state_dict::{ParamSink, ParamSource, StateDict};
use crate::{Error, PadSide, SequenceLengths};

/// Configuration of a [`Tcn`].
#[derive(Config, Debug)]
pub struct TcnConfig {
    /// Features of each input step `I`.
    pub input_size: usize,
    /// Channels of every block `H` (the output width).
    pub hidden_size: usize,
    /// Number of residual blocks; block `l` has dilation `2^l`.
    #[config(default = 4)]
    pub num_levels: usize,
    /// Taps of each convolution `k`.
    #[config(default = 3)]
    pub kernel_size: usize,
    /// Causal (output at `t` sees only steps `<= t`) or centred (sees both sides equally; for
    /// classification and tagging).
    #[config(default = true)]
    pub causal: bool,
    /// Weight normalisation (Salimans & Kingma 2016) of every dilated convolution:
    /// `w = g * v / ||v||` per output channel, parameters `weight_g` `[out, 1, 1]` and `weight_v`.
    #[config(default = true)]
    pub weight_norm: bool,
    /// Dropout probability after each convolution's ReLU (only in training).
    #[config(default = 0.0)]
    pub dropout: f64,
}

impl TcnConfig {
    /// Steps one output sees: `1 + 2 (k - 1) (2^levels - 1)` (two convolutions per block).
    /// Causal: the steps `t - rf + 1 ..= t`; centred: a window of that width around `t`.
    ///
    /// Size it to about twice the longest dependency to be learnt: a step near the edge of the
    /// field reaches the output only through the few tap paths whose offsets add up to its
    /// distance, and its gradient at initialisation is ~25x weaker than mid-field (a causal
    /// TCN with the lag at the edge stayed at chance on `cargo xtask long-range`; see
    /// `docs/results.md`).
    pub fn receptive_field(&self) -> usize {
        let dilations: usize = (0..self.num_levels).map(|l| 1usize << l).sum();
        1 + 2 * self.kernel_size.saturating_sub(1) * dilations
    }

    /// Build the network; convolution weights (`v` under weight norm) from
    /// `U(-1/sqrt(in * k), 1/sqrt(in * k))` (PyTorch's `nn.Conv1d` default) and `g = ||v||`,
    /// biases 0.
    ///
    /// Fails with [`Error::InvalidConfig`] naming the field when a size is 0, `num_levels`
    /// exceeds 20 (dilation `2^20`) or `dropout` is not in `[0, 1)`.
    pub fn init(&self, device: &Device) -> crate::Result<Tcn> {
        let invalid = |field: &'static str, reason: String| {
            Err(Error::InvalidConfig {
                config: "TcnConfig",
                field,
                reason,
            })
        };
        for (field, value) in [
            ("input_size", self.input_size),
            ("hidden_size", self.hidden_size),
            ("num_levels", self.num_levels),
            ("kernel_size", self.kernel_size),
        ] {
            if value == 0 {
                return invalid(field, "must be at least 1, found 0".to_string());
            }
        }
        if self.num_levels > 20 {
            return invalid(
                "num_levels",
                format!(
                    "must be at most 20 (dilation 2^levels), found {}",
                    self.num_levels
                ),
            );
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return invalid(
                "dropout",
                format!("must be in [0, 1), found {}", self.dropout),
            );
        }
        let conv = |inputs: usize, kernel: usize, dilation: usize, norm: bool| {
            let bound = 1.0 / ((inputs * kernel) as f64).sqrt();
            let v = Tensor::<3>::random(
                [self.hidden_size, inputs, kernel],
                Distribution::Uniform(-bound, bound),
                device,
            );
            let g = norm.then(|| Param::from_tensor(channel_norm(v.clone())));
            TcnConv {
                weight: Param::from_tensor(v),
                weight_g: g,
                bias: Param::from_tensor(Tensor::zeros([self.hidden_size], device)),
                dilation,
                causal: self.causal,
            }
        };
        let blocks = (0..self.num_levels)
            .map(|level| {
                let inputs = if level == 0 {
                    self.input_size
                } else {
                    self.hidden_size
                };
                let dilation = 1 << level;
                TcnBlock {
                    conv1: conv(inputs, self.kernel_size, dilation, self.weight_norm),
                    conv2: conv(
                        self.hidden_size,
                        self.kernel_size,
                        dilation,
                        self.weight_norm,
                    ),
                    downsample: (inputs != self.hidden_size).then(|| conv(inputs, 1, 1, false)),
                }
            })
            .collect();
        Ok(Tcn {
            blocks,
            dropout: DropoutConfig::new(self.dropout).init(),
            input_size: self.input_size,
            hidden_size: self.hidden_size,
            causal: self.causal,
            receptive_field: self.receptive_field(),
        })
    }
}

/// One dilated 1D convolution over `[batch, time, in]`, optionally weight-normalised.
#[derive(Module, Debug)]
pub struct TcnConv {
    /// `weight` `[out, in, k]` (PyTorch's `nn.Conv1d` layout), or `weight_v` under weight norm.
    pub weight: Param<Tensor<3>>,
    /// `weight_g` `[out, 1, 1]` under weight norm (the effective weight is
    /// `g * v / ||v||`, the norm over `in` and `k` per output channel).
    pub weight_g: Option<Param<Tensor<3>>>,
    /// `bias` `[out]`.
    pub bias: Param<Tensor<1>>,
    /// Distance between taps.
    pub dilation: usize,
    /// Causal or centred taps.
    pub causal: bool,
}

/// `||v||` over `in` and `k` per output channel: `[out, in, k]` -> `[out, 1, 1]`.
fn channel_norm(v: Tensor<3>) -> Tensor<3> {
    let [out, _, _] = v.dims();
    v.powi_scalar(2)
        .reshape([out as i32, -1])
        .sum_dim(1)
        .sqrt()
        .reshape([out, 1, 1])
}

impl TcnConv {
    /// The weight the convolution applies: `[out, in, k]`.
    pub fn effective_weight(&self) -> Tensor<3> {
        let v = self.weight.val();
        match &self.weight_g {
            Some(g) => {
                let norm = channel_norm(v.clone());
                v * (g.val() / norm)
            }
            None => v,
        }
    }

    /// `[batch, time, in]` -> `[batch, time, out]`; steps outside `0..time` read 0.
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let [batch, time, inputs] = x.dims();
        let weight = self.effective_weight();
        let [out, _, kernel] = weight.dims();
        let span = (kernel - 1) * self.dilation;
        let left = if self.causal { span } else { span / 2 };
        let right = span - left;
        let device = x.device();
        let padded = if span == 0 {
            x
        } else {
            let mut parts = Vec::with_capacity(3);
            if left > 0 {
                parts.push(Tensor::zeros([batch, left, inputs], &device));
            }
            parts.push(x);
            if right > 0 {
                parts.push(Tensor::zeros([batch, right, inputs], &device));
            }
            Tensor::cat(parts, 1)
        };
        let taps = if kernel == 1 {
            padded
        } else {
            let taps = (0..kernel)
                .map(|j| padded.clone().narrow(1, j * self.dilation, time))
                .collect();
            Tensor::cat(taps, 2)
        };
        // [out, in, k] -> [k, in, out] -> [k * in, out], matching the taps' feature order.
        let matrix = weight.permute([2, 1, 0]).reshape([kernel * inputs, out]);
        let rows = taps.reshape([batch * time, kernel * inputs]);
        (rows.matmul(matrix) + self.bias.val().unsqueeze::<2>()).reshape([batch, time, out])
    }

    fn save(&self, sink: &mut ParamSink<'_>, name: &str) {
        match &self.weight_g {
            Some(g) => {
                sink.put(&format!("{name}.weight_g"), g.val());
                sink.put(&format!("{name}.weight_v"), self.weight.val());
            }
            None => sink.put(&format!("{name}.weight"), self.weight.val()),
        }
        sink.put(&format!("{name}.bias"), self.bias.val());
    }

    fn load(self, source: &mut ParamSource<'_>, name: &str) -> crate::Result<Self> {
        let take3 = |source: &mut ParamSource<'_>, param: Param<Tensor<3>>, key: String| {
            let data = source.data(&key, &param.val().dims())?;
            Ok::<_, Error>(param.map(|old| crate::replace_value(old, data)))
        };
        let (weight, weight_g) = match self.weight_g {
            Some(g) => (
                take3(source, self.weight, format!("{name}.weight_v"))?,
                Some(take3(source, g, format!("{name}.weight_g"))?),
            ),
            None => (take3(source, self.weight, format!("{name}.weight"))?, None),
        };
        Ok(Self {
            weight,
            weight_g,
            bias: source.take1(self.bias, &format!("{name}.bias"))?,
            ..self
        })
    }
}

/// One residual block: two dilated convolutions and the skip path.
#[derive(Module, Debug)]
pub struct TcnBlock {
    /// First convolution (`in -> H`).
    pub conv1: TcnConv,
    /// Second convolution (`H -> H`).
    pub conv2: TcnConv,
    /// 1x1 convolution on the skip path when `in != H`.
    pub downsample: Option<TcnConv>,
}

/// A temporal convolutional network over `[batch, time, input_size]` batches.
///
/// Built by [`TcnConfig::init`]; parameters named as a PyTorch module with `blocks[l].conv1`,
/// `.conv2`, `.downsample` (see [`Tcn::state_dict`]).
#[derive(Module, Debug)]
pub struct Tcn {
    /// The residual blocks, dilation `2^l` at index `l`.
    pub blocks: Vec<TcnBlock>,
    /// Dropout after each convolution's ReLU.
    pub dropout: Dropout,
    /// Input features `I`.
    pub input_size: usize,
    /// Output features `H`.
    pub hidden_size: usize,
    /// Whether the convolutions are causal.
    pub causal: bool,
    /// Steps one output sees ([`TcnConfig::receptive_field`]).
    pub receptive_field: usize,
}

impl Tcn {
    /// Run over a batch of sequences.
    ///
    /// # Shapes
    /// - `input`: `[batch, time, input_size]`
    /// - `lengths`: `[batch]` real steps per sequence and the padding side (`None` = all
    ///   `time`); each in `0..=time` (else [`Error::Lengths`])
    /// - output: `[batch, time, hidden_size]`, exactly 0 at padding steps; at real steps what
    ///   the sequence alone (unpadded) gives
    ///
    /// ```
    /// use burn::tensor::{Device, Tensor};
    /// use seqmodel_rnn::{SequenceLengths, TcnConfig};
    ///
    /// let device = Device::flex();
    /// let config = TcnConfig::new(8, 16).with_num_levels(3).with_causal(false);
    /// assert_eq!(config.receptive_field(), 29); // 1 + 2 * 2 * (1 + 2 + 4)
    /// let tcn = config.init(&device)?;
    /// let out = tcn.forward(
    ///     Tensor::<3>::ones([2, 5, 8], &device),
    ///     Some(&SequenceLengths::right(vec![5, 3])),
    /// )?;
    /// assert_eq!(out.dims(), [2, 5, 16]);
    /// # Ok::<(), seqmodel_rnn::Error>(())
    /// ```
    pub fn forward(
        &self,
        input: Tensor<3>,
        lengths: Option<&SequenceLengths>,
    ) -> crate::Result<Tensor<3>> {
        let [batch, time, features] = input.dims();
        if features != self.input_size || time == 0 || batch == 0 {
            return Err(Error::InputShape {
                layer: "Tcn",
                what: "input",
                expected: format!(
                    "[batch, time, {}] with batch >= 1 and time >= 1",
                    self.input_size
                ),
                found: input.dims().to_vec(),
            });
        }
        let keep = match lengths {
            Some(lengths) => {
                lengths
                    .validate(batch, time)
                    .map_err(|source| Error::Lengths {
                        layer: "Tcn",
                        source,
                    })?;
                (!lengths.is_full(time)).then(|| keep_mask(lengths, time, &input.device()))
            }
            None => None,
        };
        let mask = |x: Tensor<3>| match &keep {
            Some(keep) => x * keep.clone(),
            None => x,
        };
        let mut x = mask(input);
        for block in &self.blocks {
            let h = mask(self.dropout.forward(relu(block.conv1.forward(x.clone()))));
            let h = mask(self.dropout.forward(relu(block.conv2.forward(h))));
            let skip = match &block.downsample {
                Some(conv) => conv.forward(x),
                None => x,
            };
            x = mask(relu(h + skip));
        }
        Ok(x)
    }

    /// The parameters as a state dict under `prefix`: `blocks.{l}.conv1.weight` (or
    /// `.weight_g`/`.weight_v` under weight norm), `.bias`, the same for `conv2`, and
    /// `blocks.{l}.downsample.weight`/`.bias` where the block has one.
    pub fn state_dict(&self, prefix: &str) -> StateDict {
        let mut dict = StateDict::new();
        let mut sink = ParamSink::new(&mut dict, prefix);
        for (l, block) in self.blocks.iter().enumerate() {
            block.conv1.save(&mut sink, &format!("blocks.{l}.conv1"));
            block.conv2.save(&mut sink, &format!("blocks.{l}.conv2"));
            if let Some(conv) = &block.downsample {
                conv.save(&mut sink, &format!("blocks.{l}.downsample"));
            }
        }
        dict
    }

    /// Load parameters written by [`Tcn::state_dict`] under `prefix`. Strict: a missing key,
    /// an extra key under `prefix` or a wrong shape is an error naming the key.
    pub fn load_state_dict(self, dict: &StateDict, prefix: &str) -> crate::Result<Self> {
        let mut source = ParamSource::new(dict, prefix);
        let blocks = self
            .blocks
            .into_iter()
            .enumerate()
            .map(|(l, block)| {
                Ok(TcnBlock {
                    conv1: block
                        .conv1
                        .load(&mut source, &format!("blocks.{l}.conv1"))?,
                    conv2: block
                        .conv2
                        .load(&mut source, &format!("blocks.{l}.conv2"))?,
                    downsample: match block.downsample {
                        Some(conv) => {
                            Some(conv.load(&mut source, &format!("blocks.{l}.downsample"))?)
                        }
                        None => None,
                    },
                })
            })
            .collect::<crate::Result<Vec<_>>>()?;
        source.finish()?;
        Ok(Self { blocks, ..self })
    }
}

/// `[batch, time, 1]`: 1 at real steps, 0 at padding (leading or trailing per the side).
fn keep_mask(lengths: &SequenceLengths, time: usize, device: &Device) -> Tensor<3> {
    let left = lengths.side() == PadSide::Left;
    let values: Vec<f32> = lengths
        .as_slice()
        .iter()
        .flat_map(|&n| {
            (0..time).map(move |t| {
                let real = if left { t >= time - n } else { t < n };
                if real { 1.0 } else { 0.0 }
            })
        })
        .collect();
    Tensor::from_data(
        TensorData::new(values, [lengths.as_slice().len(), time, 1]),
        device,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(t: Tensor<3>) -> Vec<f32> {
        t.into_data().try_to_vec_as::<f32>().expect("f32")
    }

    /// One block, width 1, kernel 2, no weight norm; conv1 taps `[1, 2]` (`x_{t-1}`, `x_t`),
    /// bias -1; conv2 taps `[0, 1]` (identity), bias 0. Input `x = [1, 2, 3]`:
    /// causal conv1 = `[2*1 - 1, 1 + 4 - 1, 2 + 6 - 1]` = `[1, 4, 7]` (x_{-1} = 0), relu keeps
    /// it; conv2 passes it; `y = relu(h + x)` = `[2, 6, 10]`.
    /// Centred with kernel 2 and dilation 1: `left = floor(1 / 2) = 0`, taps `x_t`, `x_{t+1}`:
    /// conv1 = `[1 + 4 - 1, 2 + 6 - 1, 3 + 0 - 1]` = `[4, 7, 2]`; conv2 taps `h_t, h_{t+1}` with
    /// weights `[0, 1]` reads `h_{t+1}`: `[7, 2, 0]`; `y = [8, 4, 3]`.
    #[test]
    fn one_block_by_hand() {
        let device = Device::flex();
        for (causal, expected) in [(true, [2.0, 6.0, 10.0]), (false, [8.0, 4.0, 3.0])] {
            let tcn = TcnConfig::new(1, 1)
                .with_num_levels(1)
                .with_kernel_size(2)
                .with_weight_norm(false)
                .with_causal(causal)
                .init(&device)
                .expect("valid");
            let mut dict = StateDict::new();
            dict.insert(
                "blocks.0.conv1.weight",
                TensorData::new(vec![1.0f32, 2.0], [1, 1, 2]),
            );
            dict.insert("blocks.0.conv1.bias", TensorData::new(vec![-1.0f32], [1]));
            dict.insert(
                "blocks.0.conv2.weight",
                TensorData::new(vec![0.0f32, 1.0], [1, 1, 2]),
            );
            dict.insert("blocks.0.conv2.bias", TensorData::new(vec![0.0f32], [1]));
            let tcn = tcn.load_state_dict(&dict, "").expect("loads");
            let out = tcn
                .forward(Tensor::from_data([[[1.0], [2.0], [3.0]]], &device), None)
                .expect("forward");
            assert_eq!(values(out), expected.to_vec(), "causal = {causal}");
        }
    }

    /// Weight norm: `v = [3, 4]` (norm 5), `g = 10`: the effective weight is `[6, 8]`.
    #[test]
    fn weight_norm_scales_v_to_g() {
        let device = Device::flex();
        let conv = TcnConv {
            weight: Param::from_tensor(Tensor::from_data([[[3.0, 4.0]]], &device)),
            weight_g: Some(Param::from_tensor(Tensor::from_data([[[10.0]]], &device))),
            bias: Param::from_tensor(Tensor::zeros([1], &device)),
            dilation: 1,
            causal: true,
        };
        assert_eq!(values(conv.effective_weight()), vec![6.0, 8.0]);
        // A fresh layer starts with g = ||v||: the effective weight is v itself.
        let tcn = TcnConfig::new(2, 3).init(&device).expect("valid");
        let conv = &tcn.blocks[0].conv1;
        let diff = (conv.effective_weight() - conv.weight.val())
            .abs()
            .max()
            .into_scalar::<f32>();
        assert!(diff < 1e-6, "{diff}");
    }

    #[test]
    fn receptive_field_counts_both_convolutions() {
        assert_eq!(TcnConfig::new(1, 1).receptive_field(), 61); // 1 + 2*2*(1+2+4+8)
        assert_eq!(
            TcnConfig::new(1, 1)
                .with_num_levels(1)
                .with_kernel_size(2)
                .receptive_field(),
            3
        );
        assert_eq!(
            TcnConfig::new(1, 1).with_kernel_size(1).receptive_field(),
            1
        );
    }

    #[test]
    fn config_errors_name_the_field() {
        let device = Device::flex();
        let err = TcnConfig::new(3, 4)
            .with_kernel_size(0)
            .init(&device)
            .expect_err("kernel 0");
        assert_eq!(
            err.to_string(),
            "TcnConfig.kernel_size: must be at least 1, found 0"
        );
        let err = TcnConfig::new(3, 4)
            .with_num_levels(21)
            .init(&device)
            .expect_err("levels 21");
        assert!(
            err.to_string().starts_with("TcnConfig.num_levels:"),
            "{err}"
        );
        let tcn = TcnConfig::new(3, 4).init(&device).expect("valid");
        let err = tcn
            .forward(Tensor::zeros([2, 5, 7], &device), None)
            .expect_err("width 7");
        assert!(err.to_string().contains("[2, 5, 7]"), "{err}");
    }

    /// Gradients reach every parameter (weight norm's g and v, the downsample) and are finite.
    #[test]
    fn backward_reaches_every_parameter() {
        let device = Device::flex().autodiff();
        device.seed(11); // a fixed draw: with few random channels a ReLU can be dead everywhere
        let tcn = TcnConfig::new(3, 8)
            .with_num_levels(2)
            .with_causal(false)
            .init(&device)
            .expect("valid");
        let input = Tensor::<3>::random([4, 6, 3], Distribution::Default, &device);
        let out = tcn
            .forward(input, Some(&SequenceLengths::left(vec![6, 4, 5, 6])))
            .expect("forward");
        let grads = out.sum().backward();
        let mut checked = 0;
        for block in &tcn.blocks {
            let convs = [
                Some(&block.conv1),
                Some(&block.conv2),
                block.downsample.as_ref(),
            ];
            for conv in convs.into_iter().flatten() {
                let mut params = vec![conv.weight.clone()];
                params.extend(conv.weight_g.clone());
                for param in params {
                    let g = param.grad(&grads).expect("gradient");
                    let g = g.into_data().try_to_vec_as::<f32>().expect("f32");
                    assert!(g.iter().all(|v| v.is_finite()));
                    assert!(g.iter().any(|v| *v != 0.0), "all-zero gradient");
                    checked += 1;
                }
            }
        }
        assert_eq!(
            checked,
            2 * 4 + 1,
            "4 normalised convs (g, v) and one downsample"
        );
    }
}

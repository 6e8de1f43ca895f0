//! The Transformer's encoder stack: sinusoidal positions, then Burn's `TransformerEncoder`
//! layers with the key padding mask, a final layer norm when the layers normalise first, and
//! zeros at padding.

use burn::config::Config;
use burn::module::Module;
use burn::nn::transformer::{
    TransformerEncoder, TransformerEncoderConfig, TransformerEncoderInput,
};
use burn::nn::{Dropout, DropoutConfig, LayerNorm, LayerNormConfig};
use burn::tensor::{Device, Tensor};
use seqmodel_data::SequenceLengths;

use super::positions::add_positions;
use crate::error::AttentionError;
use crate::multi_head::{put_in_proj, take_in_proj};
use burn::nn::transformer::TransformerEncoderLayer;
use seqmodel_rnn::{ParamSink, ParamSource, StateDict};

/// Configuration of a [`SelfAttentionEncoder`].
#[derive(Config, Debug, PartialEq)]
pub struct SelfAttentionEncoderConfig {
    /// Model width `d` (even, a multiple of `num_heads`).
    pub d_model: usize,
    /// Attention heads.
    #[config(default = 4)]
    pub num_heads: usize,
    /// Stacked layers.
    #[config(default = 2)]
    pub num_layers: usize,
    /// Hidden width of each layer's feed-forward block.
    #[config(default = 512)]
    pub d_ff: usize,
    /// Dropout on the input, the attention weights, the feed-forward block and every
    /// residual branch (training only).
    #[config(default = 0.1)]
    pub dropout: f64,
    /// Pre-norm layers (layer norm before each block, and once after the stack) instead of
    /// Vaswani's post-norm: trains without warm-up at the learning rates seqmodel uses.
    #[config(default = true)]
    pub norm_first: bool,
}

/// Checks the sizes every Transformer part shares, naming `config.field`.
pub(crate) fn check_transformer_sizes(
    config: &'static str,
    d_model: usize,
    num_heads: usize,
    d_ff: usize,
    dropout: f64,
) -> crate::Result<()> {
    let bad = |field, message: String| AttentionError::Config {
        config,
        field,
        message,
    };
    if num_heads == 0 {
        return Err(bad("num_heads", "must be at least 1".into()));
    }
    if d_model == 0 || !d_model.is_multiple_of(num_heads) {
        return Err(bad(
            "d_model",
            format!("is {d_model} but must be a positive multiple of num_heads ({num_heads})"),
        ));
    }
    if !d_model.is_multiple_of(2) {
        return Err(bad(
            "d_model",
            format!("is {d_model} but must be even (sinusoidal positions come in sin/cos pairs)"),
        ));
    }
    if d_ff == 0 {
        return Err(bad("d_ff", "must be at least 1".into()));
    }
    if !(0.0..1.0).contains(&dropout) {
        return Err(bad(
            "dropout",
            format!("is {dropout} but must be in [0, 1)"),
        ));
    }
    Ok(())
}

impl SelfAttentionEncoderConfig {
    /// Checks the sizes, naming the field.
    pub fn validate(&self) -> crate::Result<()> {
        check_transformer_sizes(
            "SelfAttentionEncoderConfig",
            self.d_model,
            self.num_heads,
            self.d_ff,
            self.dropout,
        )?;
        if self.num_layers == 0 {
            return Err(AttentionError::Config {
                config: "SelfAttentionEncoderConfig",
                field: "num_layers",
                message: "must be at least 1".into(),
            });
        }
        Ok(())
    }

    /// Builds the encoder on `device`.
    pub fn init(&self, device: &Device) -> crate::Result<SelfAttentionEncoder> {
        self.validate()?;
        Ok(SelfAttentionEncoder {
            layers: TransformerEncoderConfig::new(
                self.d_model,
                self.d_ff,
                self.num_heads,
                self.num_layers,
            )
            .with_dropout(self.dropout)
            .with_norm_first(self.norm_first)
            .init(device),
            norm: self
                .norm_first
                .then(|| LayerNormConfig::new(self.d_model).init(device)),
            dropout: DropoutConfig::new(self.dropout).init(),
        })
    }
}

/// Positions, dropout, Burn's `TransformerEncoder` layers (self-attention with the key padding
/// mask, feed-forward), and a final layer norm for pre-norm layers.
#[derive(Module, Debug)]
pub struct SelfAttentionEncoder {
    /// The layers.
    pub layers: TransformerEncoder,
    /// The final layer norm (pre-norm layers only).
    pub norm: Option<LayerNorm>,
    /// Dropout on the input plus positions.
    pub dropout: Dropout,
}

impl SelfAttentionEncoder {
    /// Model width `d`.
    pub fn d_model(&self) -> usize {
        self.layers.d_model
    }

    /// Encodes `x` (already embedded; positions are added here).
    ///
    /// # Shapes
    /// `x` `[batch, time, d]`, `lengths` `[batch]` real steps and padding side → `[batch, time,
    /// d]`, exactly 0 at padding. A real step's output does not depend on how much padding
    /// its row has.
    pub fn forward(&self, x: Tensor<3>, lengths: &SequenceLengths) -> crate::Result<Tensor<3>> {
        let [batch, time, d] = x.dims();
        if d != self.d_model() {
            return Err(AttentionError::Shape {
                module: "SelfAttentionEncoder",
                what: "input",
                found: x.dims().to_vec(),
                expected: format!("[batch, time, {}] (d_model features)", self.d_model()),
            });
        }
        let mask = lengths.padding_mask(time, &x.device())?;
        if lengths.len() != batch {
            return Err(AttentionError::Shape {
                module: "SelfAttentionEncoder",
                what: "input",
                found: x.dims().to_vec(),
                expected: format!("[{}, time, d] (one row per length)", lengths.len()),
            });
        }
        let x = self.dropout.forward(add_positions(x, lengths));
        let mut x = self
            .layers
            .forward(TransformerEncoderInput::new(x).mask_pad(mask.clone()));
        if let Some(norm) = &self.norm {
            x = norm.forward(x);
        }
        Ok(x.mask_fill(mask.unsqueeze_dim::<3>(2).expand([batch, time, d]), 0.0))
    }
}

impl SelfAttentionEncoder {
    /// PyTorch's names for layer `layer`'s two layer norms, `(burn's norm_1, burn's norm_2)`:
    /// PyTorch's `norm1` belongs to the attention block and `norm2` to the feed-forward
    /// block; Burn's `norm_2` is the attention block's in pre-norm layers and the
    /// feed-forward block's in post-norm ones.
    fn norm_names(&self, layer: usize) -> (String, String) {
        let (first, second) = if self.layers.norm_first {
            ("norm2", "norm1")
        } else {
            ("norm1", "norm2")
        };
        (
            format!("layers.{layer}.{first}"),
            format!("layers.{layer}.{second}"),
        )
    }

    /// Takes the parameters of a PyTorch `nn.TransformerEncoder` (of
    /// `nn.TransformerEncoderLayer(d, heads, d_ff, activation="gelu", batch_first=True,
    /// norm_first=…)`, with `norm=nn.LayerNorm(d)` for pre-norm layers) from `dict`, keys
    /// under `prefix`: `layers.{i}.self_attn.in_proj_weight`, `…in_proj_bias`,
    /// `…out_proj.{weight,bias}`, `layers.{i}.linear1.*`, `layers.{i}.linear2.*`,
    /// `layers.{i}.norm1.*`, `layers.{i}.norm2.*`, `norm.*`. Strict: a missing, extra or
    /// misshaped key is an error naming it.
    pub fn load_state_dict(mut self, dict: &StateDict, prefix: &str) -> crate::Result<Self> {
        let mut source = ParamSource::new(dict, prefix);
        let names: Vec<(String, String)> = (0..self.layers.layers.len())
            .map(|i| self.norm_names(i))
            .collect();
        let layers = std::mem::take(&mut self.layers.layers);
        for (i, (mut layer, (norm_1, norm_2))) in layers.into_iter().zip(names).enumerate() {
            let attn = format!("layers.{i}.self_attn.");
            let mha = &mut layer.mha;
            take_in_proj(
                &mut source,
                &attn,
                [&mut mha.query, &mut mha.key, &mut mha.value],
            )?;
            mha.output = source.take_linear(mha.output.clone(), &format!("{attn}out_proj"))?;
            let ff = &mut layer.pwff;
            ff.linear_inner =
                source.take_linear(ff.linear_inner.clone(), &format!("layers.{i}.linear1"))?;
            ff.linear_outer =
                source.take_linear(ff.linear_outer.clone(), &format!("layers.{i}.linear2"))?;
            layer.norm_1 = take_norm(&mut source, layer.norm_1, &norm_1)?;
            layer.norm_2 = take_norm(&mut source, layer.norm_2, &norm_2)?;
            self.layers.layers.push(layer);
        }
        if let Some(norm) = self.norm.take() {
            self.norm = Some(take_norm(&mut source, norm, "norm")?);
        }
        source.finish()?;
        Ok(self)
    }

    /// The parameters under PyTorch's `nn.TransformerEncoder` names (see
    /// [`Self::load_state_dict`]), keys under `prefix`.
    pub fn state_dict(&self, prefix: &str) -> StateDict {
        let mut dict = StateDict::new();
        let mut sink = ParamSink::new(&mut dict, prefix);
        for (i, layer) in self.layers.layers.iter().enumerate() {
            let TransformerEncoderLayer {
                mha,
                pwff,
                norm_1,
                norm_2,
                ..
            } = layer;
            let attn = format!("layers.{i}.self_attn.");
            put_in_proj(&mut sink, &attn, [&mha.query, &mha.key, &mha.value]);
            sink.put_linear(&format!("{attn}out_proj"), &mha.output);
            sink.put_linear(&format!("layers.{i}.linear1"), &pwff.linear_inner);
            sink.put_linear(&format!("layers.{i}.linear2"), &pwff.linear_outer);
            let (name_1, name_2) = self.norm_names(i);
            put_norm(&mut sink, norm_1, &name_1);
            put_norm(&mut sink, norm_2, &name_2);
        }
        if let Some(norm) = &self.norm {
            put_norm(&mut sink, norm, "norm");
        }
        dict
    }
}

/// A layer norm from PyTorch's `{name}.weight` (γ) and `{name}.bias` (β).
fn take_norm(
    source: &mut ParamSource<'_>,
    mut norm: LayerNorm,
    name: &str,
) -> crate::Result<LayerNorm> {
    norm.gamma = source.take1(norm.gamma, &format!("{name}.weight"))?;
    norm.beta = match norm.beta {
        Some(beta) => Some(source.take1(beta, &format!("{name}.bias"))?),
        None => None,
    };
    Ok(norm)
}

/// A layer norm as PyTorch's `{name}.weight` and `{name}.bias`.
fn put_norm(sink: &mut ParamSink<'_>, norm: &LayerNorm, name: &str) {
    sink.put(&format!("{name}.weight"), norm.gamma.val());
    if let Some(beta) = &norm.beta {
        sink.put(&format!("{name}.bias"), beta.val());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Tolerance;

    fn encoder(norm_first: bool, seed: u64, device: &Device) -> SelfAttentionEncoder {
        device.seed(seed);
        SelfAttentionEncoderConfig::new(8)
            .with_num_heads(2)
            .with_d_ff(12)
            .with_norm_first(norm_first)
            .init(device)
            .expect("valid config")
    }

    /// A state dict carries every parameter under PyTorch's names: another encoder loaded
    /// from it computes the same outputs; an extra key is refused by name.
    #[test]
    fn state_dict_round_trips_under_pytorch_names() {
        let device = Device::flex();
        let x = Tensor::<3>::random(
            [2, 5, 8],
            burn::tensor::Distribution::Normal(0.0, 1.0),
            &device,
        );
        let lengths = SequenceLengths::right(vec![5, 3]);
        for norm_first in [true, false] {
            let a = encoder(norm_first, 1, &device);
            let dict = a.state_dict("enc.");
            let keys: Vec<&str> = dict.keys().collect();
            assert!(
                keys.contains(&"enc.layers.1.self_attn.in_proj_weight"),
                "{keys:?}"
            );
            assert!(keys.contains(&"enc.layers.0.norm2.bias"), "{keys:?}");
            assert_eq!(keys.contains(&"enc.norm.weight"), norm_first, "{keys:?}");
            let b = encoder(norm_first, 2, &device)
                .load_state_dict(&dict, "enc.")
                .expect("loads");
            let ya = a.forward(x.clone(), &lengths).expect("forward");
            let yb = b.forward(x.clone(), &lengths).expect("forward");
            yb.into_data()
                .assert_approx_eq::<f32>(&ya.into_data(), Tolerance::absolute(1e-6));
            let mut extra = dict.clone();
            extra.insert(
                "enc.layers.0.extra",
                burn::tensor::TensorData::new(vec![0.0f32], [1]),
            );
            let error = encoder(norm_first, 2, &device)
                .load_state_dict(&extra, "enc.")
                .expect_err("extra key")
                .to_string();
            assert!(error.contains("enc.layers.0.extra"), "{error}");
        }
    }

    /// Padding steps are 0, and a real step does not depend on its row's padding.
    #[test]
    fn padding_is_zero_and_changes_nothing() {
        let device = Device::flex();
        let enc = encoder(true, 3, &device);
        let x = Tensor::<3>::random(
            [1, 6, 8],
            burn::tensor::Distribution::Normal(0.0, 1.0),
            &device,
        );
        let padded = enc
            .forward(x.clone(), &SequenceLengths::right(vec![4]))
            .expect("forward");
        let alone = enc
            .forward(
                x.slice([0..1, 0..4, 0..8]),
                &SequenceLengths::right(vec![4]),
            )
            .expect("forward");
        padded
            .clone()
            .slice([0..1, 0..4, 0..8])
            .into_data()
            .assert_approx_eq::<f32>(&alone.into_data(), Tolerance::absolute(1e-5));
        let tail: Vec<f32> = padded
            .slice([0..1, 4..6, 0..8])
            .into_data()
            .iter::<f32>()
            .collect();
        assert!(tail.iter().all(|&v| v == 0.0), "{tail:?}");
    }
}

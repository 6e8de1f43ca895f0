//! Helpers shared by the integration tests: any recurrent layer behind one interface, and
//! deterministic host-side data.

#![allow(dead_code)] // each test binary uses a different part of this module

use burn::tensor::{Device, Tensor, TensorData};
use seqmodel_rnn::{
    GruConfig, LstmConfig, LstmState, NamedParam, Nonlinearity, RnnConfig, SequenceLengths,
    StateDict,
};

/// Which layer, with its layer-specific settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    RnnTanh,
    RnnRelu,
    Lstm,
    /// LSTM with `proj_size = hidden - 1` (hidden >= 2).
    LstmProj,
    Gru,
}

pub const ALL_KINDS: [Kind; 5] = [
    Kind::RnnTanh,
    Kind::RnnRelu,
    Kind::Lstm,
    Kind::LstmProj,
    Kind::Gru,
];

/// The shape of a test layer.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    pub kind: Kind,
    pub input: usize,
    pub hidden: usize,
    pub layers: usize,
    pub bidirectional: bool,
}

impl Spec {
    pub fn directions(&self) -> usize {
        if self.bidirectional { 2 } else { 1 }
    }

    pub fn hidden_out(&self) -> usize {
        if self.kind == Kind::LstmProj {
            self.hidden - 1
        } else {
            self.hidden
        }
    }

    pub fn has_cell(&self) -> bool {
        matches!(self.kind, Kind::Lstm | Kind::LstmProj)
    }
}

/// A built layer of any kind.
pub enum AnyLayer {
    Rnn(seqmodel_rnn::Rnn),
    Lstm(seqmodel_rnn::Lstm),
    Gru(seqmodel_rnn::Gru),
}

/// Forward results: output `[B, T, D*Hout]`, `h_n`, and `c_n` for LSTMs.
pub struct Forward {
    pub output: Tensor<3>,
    pub h_n: Tensor<3>,
    pub c_n: Option<Tensor<3>>,
}

impl AnyLayer {
    pub fn build(spec: Spec, device: &Device) -> AnyLayer {
        match spec.kind {
            Kind::RnnTanh | Kind::RnnRelu => AnyLayer::Rnn(
                RnnConfig::new(spec.input, spec.hidden)
                    .with_num_layers(spec.layers)
                    .with_bidirectional(spec.bidirectional)
                    .with_nonlinearity(if spec.kind == Kind::RnnRelu {
                        Nonlinearity::Relu
                    } else {
                        Nonlinearity::Tanh
                    })
                    .init(device)
                    .expect("valid config"),
            ),
            Kind::Lstm | Kind::LstmProj => AnyLayer::Lstm(
                LstmConfig::new(spec.input, spec.hidden)
                    .with_num_layers(spec.layers)
                    .with_bidirectional(spec.bidirectional)
                    .with_proj_size(if spec.kind == Kind::LstmProj {
                        spec.hidden - 1
                    } else {
                        0
                    })
                    .init(device)
                    .expect("valid config"),
            ),
            Kind::Gru => AnyLayer::Gru(
                GruConfig::new(spec.input, spec.hidden)
                    .with_num_layers(spec.layers)
                    .with_bidirectional(spec.bidirectional)
                    .init(device)
                    .expect("valid config"),
            ),
        }
    }

    /// A layer of `spec` on `device` whose parameters come from `dict`.
    pub fn from_state_dict(spec: Spec, dict: &StateDict, device: &Device) -> AnyLayer {
        match AnyLayer::build(spec, device) {
            AnyLayer::Rnn(l) => AnyLayer::Rnn(l.load_state_dict(dict, "").expect("loads")),
            AnyLayer::Lstm(l) => AnyLayer::Lstm(l.load_state_dict(dict, "").expect("loads")),
            AnyLayer::Gru(l) => AnyLayer::Gru(l.load_state_dict(dict, "").expect("loads")),
        }
    }

    pub fn state_dict(&self) -> StateDict {
        match self {
            AnyLayer::Rnn(l) => l.state_dict(""),
            AnyLayer::Lstm(l) => l.state_dict(""),
            AnyLayer::Gru(l) => l.state_dict(""),
        }
    }

    pub fn named_parameters(&self) -> Vec<(String, NamedParam)> {
        match self {
            AnyLayer::Rnn(l) => l.named_parameters(),
            AnyLayer::Lstm(l) => l.named_parameters(),
            AnyLayer::Gru(l) => l.named_parameters(),
        }
    }

    pub fn forward(
        &self,
        input: Tensor<3>,
        lengths: Option<&SequenceLengths>,
        h0: Option<Tensor<3>>,
        c0: Option<Tensor<3>>,
    ) -> Forward {
        match self {
            AnyLayer::Lstm(l) => {
                let state = match (h0, c0) {
                    (Some(h), Some(c)) => Some(LstmState { h, c }),
                    _ => None,
                };
                let out = l.forward(input, lengths, state).expect("forward");
                Forward {
                    output: out.output,
                    h_n: out.state.h,
                    c_n: Some(out.state.c),
                }
            }
            AnyLayer::Rnn(l) => {
                let out = l.forward(input, lengths, h0).expect("forward");
                Forward {
                    output: out.output,
                    h_n: out.state,
                    c_n: None,
                }
            }
            AnyLayer::Gru(l) => {
                let out = l.forward(input, lengths, h0).expect("forward");
                Forward {
                    output: out.output,
                    h_n: out.state,
                    c_n: None,
                }
            }
        }
    }
}

/// Deterministic pseudo-random values in `[-scale, scale]` (SplitMix64).
pub fn values(seed: u64, n: usize, scale: f32) -> Vec<f32> {
    let mut state = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    (0..n)
        .map(|_| {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            ((z >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0) * scale
        })
        .collect()
}

pub fn tensor3(values: Vec<f32>, shape: [usize; 3], device: &Device) -> Tensor<3> {
    Tensor::from_data(TensorData::new(values, shape), device)
}

/// Right-padded lengths from test values (each `>= 0`).
pub fn lengths(values: &[i64]) -> SequenceLengths {
    SequenceLengths::right(
        values
            .iter()
            .map(|&l| usize::try_from(l).expect("test lengths are >= 0"))
            .collect(),
    )
}

pub fn to_vec(t: Tensor<3>) -> Vec<f32> {
    t.into_data()
        .try_into_vec_as::<f32>()
        .expect("float values")
}

pub fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "lengths differ");
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

//! RNN encoder–decoder: [`RnnEncoder`] → bridge → [`RnnDecoder`] (optionally attending over the
//! encoder's states), trained with teacher forcing ([`Seq2Seq`]), decoded greedily or by beam
//! search ([`crate::decode`]).

mod decoder;
mod encoder;
mod model;
mod recurrent;
mod step;

pub use decoder::{
    DecoderAttention, DecoderAttentionKind, DecoderOutput, DecoderState, DecoderStep, RnnDecoder,
    RnnDecoderConfig,
};
pub use encoder::{EncoderOutput, RnnEncoder, RnnEncoderConfig};
pub use model::{BridgeKind, Seq2Seq, Seq2SeqConfig, Seq2SeqOutput};
pub use recurrent::{Recurrent, RecurrentConfig, RecurrentKind, RecurrentState};

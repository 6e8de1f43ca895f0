//! [`Translator`]: an encoder–decoder with its decoding length, decoded greedily or by beam
//! search.

use burn::module::Module;
use burn::tensor::{Int, Tensor, TensorData};
use seqmodel_attention::{BeamSearchConfig, EncoderDecoder, Hypothesis, StepDecoder, greedy};
use seqmodel_data::PaddedBatch;

use crate::error::Result;

/// A sequence-to-sequence model (grapheme → phoneme, translation): seqmodel-attention's
/// encoder–decoder (RNN or Transformer) and the most tokens it generates per input.
///
/// Training is teacher-forced (burn-train's `TrainStep`); a validation step decodes greedily
/// too, so that the epoch's scores are those of decoded output (see [`super::step`]).
#[derive(Module, Debug)]
pub struct Translator {
    /// The encoder–decoder.
    pub model: EncoderDecoder,
    /// Most tokens generated per input (`<eos>` included).
    pub max_decode_len: usize,
}

impl Translator {
    /// `<eos>` id of the target vocabulary.
    pub fn eos_id(&self) -> usize {
        self.model.eos_id()
    }

    /// One greedy hypothesis per sentence of `source` (`[batch, time]` ids), in order.
    pub fn greedy(&self, source: &PaddedBatch) -> Result<Vec<Hypothesis>> {
        Ok(greedy(&self.model, source, self.max_decode_len)?)
    }

    /// The `beam.n_best` best hypotheses per sentence, best first; `beam.max_len` is
    /// replaced by the model's own maximum decoding length.
    pub fn beam_search(
        &self,
        source: &PaddedBatch,
        beam: &BeamSearchConfig,
    ) -> Result<Vec<Vec<Hypothesis>>> {
        let beam = beam.clone().with_max_len(self.max_decode_len);
        Ok(beam.decode(&self.model, source)?)
    }

    /// Greedy hypotheses as ids `[batch, longest]`, each row its tokens then `<eos>` (when it
    /// finished), `-1` after: what burn-train's `SequenceOutput::predictions` carries.
    pub fn greedy_ids(&self, source: &PaddedBatch) -> Result<Tensor<2, Int>> {
        let hyps = self.greedy(source)?;
        let eos = self.eos_id() as i64;
        let rows: Vec<Vec<i64>> = hyps
            .iter()
            .map(|h| {
                let mut row: Vec<i64> = h.tokens.iter().map(|&t| t as i64).collect();
                if h.finished {
                    row.push(eos);
                }
                row
            })
            .collect();
        let width = rows.iter().map(Vec::len).max().unwrap_or(0).max(1);
        let mut ids = Vec::with_capacity(rows.len() * width);
        for row in &rows {
            ids.extend_from_slice(row);
            ids.extend(std::iter::repeat_n(-1, width - row.len()));
        }
        Ok(Tensor::from_data(
            TensorData::new(ids, [rows.len(), width]),
            &source.ids.device(),
        ))
    }
}

use lmlab_core::{LanguageModel, Stepper, TokenId, Tokenizer};

/// The uniform distribution over a tokenizer's predictable tokens: the floor every model must beat,
/// and the sanity check of the bits-per-byte formula (exactly 8.0 over bytes).
pub struct UniformModel {
    tokenizer: Box<dyn Tokenizer>,
    probs: Vec<f64>,
}

impl UniformModel {
    /// The uniform model over `tokenizer`.
    pub fn new(tokenizer: Box<dyn Tokenizer>) -> UniformModel {
        let size = tokenizer.vocab().len() as TokenId;
        let outcomes = (0..size).filter(|&id| tokenizer.is_predictable(id)).count() as f64;
        let probs = (0..size)
            .map(|id| {
                if tokenizer.is_predictable(id) {
                    1.0 / outcomes
                } else {
                    0.0
                }
            })
            .collect();
        UniformModel { tokenizer, probs }
    }
}

impl LanguageModel for UniformModel {
    fn kind(&self) -> &str {
        "uniform"
    }

    fn describe(&self) -> String {
        format!("uniform over {} tokens", self.tokenizer.kind())
    }

    fn tokenizer(&self) -> &dyn Tokenizer {
        self.tokenizer.as_ref()
    }

    fn log_probs(&self, tokens: &[TokenId]) -> Vec<f64> {
        tokens
            .iter()
            .map(|&t| self.probs[t as usize].ln())
            .collect()
    }

    fn next_distribution(&self, _context: &[TokenId]) -> Vec<f64> {
        self.probs.clone()
    }

    fn stepper(&self) -> Box<dyn Stepper<'_> + '_> {
        Box::new(UniformStepper {
            model: self,
            len: 0,
        })
    }

    fn parameter_count(&self) -> u64 {
        0
    }
}

/// The uniform model's stepper: the context changes nothing, only its length is kept.
#[derive(Clone)]
struct UniformStepper<'a> {
    model: &'a UniformModel,
    len: usize,
}

impl<'a> Stepper<'a> for UniformStepper<'a> {
    fn vocab_len(&self) -> usize {
        self.model.probs.len()
    }

    fn context_len(&self) -> usize {
        self.len
    }

    fn push(&mut self, _token: TokenId) {
        self.len += 1;
    }

    fn distribution_into(&mut self, out: &mut [f64]) {
        out.copy_from_slice(&self.model.probs);
    }

    fn score_next(&mut self, token: TokenId) -> f64 {
        self.len += 1;
        self.model.probs[token as usize].ln()
    }

    fn truncate(&mut self, len: usize) {
        self.len = self.len.min(len);
    }

    fn fork(&self) -> Box<dyn Stepper<'a> + 'a> {
        Box::new(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lmlab_core::evaluate::evaluate;
    use lmlab_core::{Corpus, SequenceMode};
    use lmlab_tokenize::BytesTokenizer;

    #[test]
    fn uniform_over_bytes_is_exactly_eight_bits_per_byte_on_any_text() {
        let model = UniformModel::new(Box::new(BytesTokenizer::new()));
        let texts = [
            "a\n",
            "no final newline",
            "emoji 🦀 and CJK 漢字\nשלום עולם\r\n\n\nlast",
            "\n\n",
            include_str!("../../../data/PROVENANCE.md"),
        ];
        for text in texts {
            let corpus = Corpus::from_text("t", text);
            for mode in [
                SequenceMode::Line,
                SequenceMode::Paragraph,
                SequenceMode::Stream,
            ] {
                let eval = evaluate(&model, &corpus, mode, false, &|_, _| {});
                if eval.totals.tokens > 0 {
                    let bpb = eval.totals.bits_per_byte();
                    assert!((bpb - 8.0).abs() < 1e-12, "{mode}: {text:?}: {bpb}");
                }
            }
        }
    }
}

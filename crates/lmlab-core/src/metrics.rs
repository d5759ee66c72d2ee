//! Perplexity, bits per byte and word-level perplexity from summed log-probabilities.

use serde::Serialize;

/// Totals of one evaluation; every metric derives from these.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct EvalTotals {
    /// Sequences scored.
    pub sequences: u64,
    /// Tokens scored (including end tokens).
    pub tokens: u64,
    /// Out-of-vocabulary tokens (mapped to `<unk>`), included in `tokens`.
    pub oov: u64,
    /// UTF-8 bytes of the text, each sequence line counting its newline.
    pub bytes: u64,
    /// Whitespace words plus line ends.
    pub words: u64,
    /// Sum of natural-log probabilities of the scored tokens.
    pub log_prob_sum: f64,
}

impl EvalTotals {
    /// exp(−Σ ln p / tokens).
    pub fn perplexity(&self) -> f64 {
        (-self.log_prob_sum / self.tokens as f64).exp()
    }

    /// −Σ ln p / (ln 2 · bytes).
    pub fn bits_per_byte(&self) -> f64 {
        -self.log_prob_sum / (std::f64::consts::LN_2 * self.bytes as f64)
    }

    /// exp(−Σ ln p / words): comparable across tokenizers of the same text.
    pub fn word_perplexity(&self) -> f64 {
        (-self.log_prob_sum / self.words as f64).exp()
    }

    /// Cross-entropy in bits per token.
    pub fn bits_per_token(&self) -> f64 {
        -self.log_prob_sum / (std::f64::consts::LN_2 * self.tokens as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_follow_their_formulas() {
        let totals = EvalTotals {
            sequences: 1,
            tokens: 4,
            oov: 0,
            bytes: 8,
            words: 2,
            log_prob_sum: 4.0 * 0.25f64.ln(),
        };
        assert!((totals.perplexity() - 4.0).abs() < 1e-12);
        assert!((totals.bits_per_token() - 2.0).abs() < 1e-12);
        assert!((totals.bits_per_byte() - 1.0).abs() < 1e-12);
        assert!((totals.word_perplexity() - 16.0).abs() < 1e-12);
    }
}

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
    /// The part of `log_prob_sum` that the OOV tokens contribute.
    pub oov_log_prob_sum: f64,
}

/// Above this share of OOV tokens an evaluation carries a warning.
pub const OOV_WARNING_RATE: f64 = 0.01;

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

    /// exp(−Σ ln p / tokens) over the tokens that are not OOVs (KenLM's "excluding OOVs"): what the
    /// model makes of the text it can represent.
    pub fn perplexity_excluding_oov(&self) -> f64 {
        let tokens = self.tokens - self.oov;
        (-(self.log_prob_sum - self.oov_log_prob_sum) / tokens as f64).exp()
    }

    /// The share of scored tokens that are OOVs.
    pub fn oov_rate(&self) -> f64 {
        self.oov as f64 / self.tokens.max(1) as f64
    }

    /// Bits per byte and word perplexity compare models across tokenizers only when no OOV was
    /// scored: an OOV is one `<unk>` event standing for text the model never has to spell out.
    pub fn comparable_across_tokenizers(&self) -> bool {
        self.oov == 0
    }

    /// A warning when more than [`OOV_WARNING_RATE`] of the tokens are OOVs: every unseen word is
    /// one cheap `<unk>`, so such a text can score better than real in-vocabulary text.
    pub fn oov_warning(&self) -> Option<String> {
        (self.oov_rate() > OOV_WARNING_RATE).then(|| {
            format!(
                "{:.1}% of the tokens ({} of {}) are OOVs, each scored as one `<unk>`: perplexity \
                 flatters the model on this text; compare `perplexity excluding OOVs`, and compare \
                 tokenizers only on text without OOVs (or with an open-vocabulary tokenizer: bytes, \
                 bpe)",
                100.0 * self.oov_rate(),
                self.oov,
                self.tokens
            )
        })
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
            oov_log_prob_sum: 0.0,
        };
        assert!((totals.perplexity() - 4.0).abs() < 1e-12);
        assert!((totals.bits_per_token() - 2.0).abs() < 1e-12);
        assert!((totals.bits_per_byte() - 1.0).abs() < 1e-12);
        assert!((totals.word_perplexity() - 16.0).abs() < 1e-12);
        assert!((totals.perplexity_excluding_oov() - 4.0).abs() < 1e-12);
        assert!(totals.comparable_across_tokenizers() && totals.oov_warning().is_none());
    }

    #[test]
    fn oovs_are_excluded_and_warned_about() {
        // Two OOVs at p = 1/2, two known tokens at p = 1/8.
        let totals = EvalTotals {
            sequences: 1,
            tokens: 4,
            oov: 2,
            bytes: 8,
            words: 4,
            log_prob_sum: 2.0 * 0.5f64.ln() + 2.0 * 0.125f64.ln(),
            oov_log_prob_sum: 2.0 * 0.5f64.ln(),
        };
        assert!((totals.perplexity() - 4.0).abs() < 1e-12);
        assert!((totals.perplexity_excluding_oov() - 8.0).abs() < 1e-12);
        assert!((totals.oov_rate() - 0.5).abs() < 1e-12);
        assert!(!totals.comparable_across_tokenizers());
        let warning = totals.oov_warning().unwrap();
        assert!(warning.contains("50.0%"), "{warning}");
        // One OOV in a hundred tokens is not yet worth a warning; two are.
        let mut edge = totals.clone();
        edge.tokens = 100;
        edge.oov = 1;
        assert!(edge.oov_warning().is_none());
        edge.oov = 2;
        assert!(edge.oov_warning().is_some());
    }
}

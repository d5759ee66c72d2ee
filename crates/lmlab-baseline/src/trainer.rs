use crate::model::{BaselineModel, Smoothing};
use lmlab_core::model::TokenSequence;
use lmlab_core::{Error, Result, TokenId, Tokenizer};

/// Counts unigrams and bigrams of `sequences` (each scored from `<s>`, ending with its end token)
/// and builds the model. An empty training set or a non-positive k is refused.
pub fn train(
    sequences: &[TokenSequence],
    tokenizer: Box<dyn Tokenizer>,
    smoothing: Smoothing,
) -> Result<BaselineModel> {
    if let Smoothing::AddK { k } = smoothing {
        if !(k.is_finite() && k > 0.0) {
            return Err(Error::invalid(format!("add-k needs k > 0, got {k}")));
        }
    }
    if sequences.iter().all(|s| s.ids.is_empty()) {
        return Err(Error::invalid("the training corpus has no tokens"));
    }
    let vocab_size = tokenizer.vocab().len();
    let bos = tokenizer.specials().bos;
    let mut unigram_counts = vec![0u64; vocab_size];
    let mut pairs: Vec<(TokenId, TokenId)> = Vec::new();
    for sequence in sequences {
        let mut context = bos;
        for &token in &sequence.ids {
            unigram_counts[token as usize] += 1;
            pairs.push((context, token));
            context = token;
        }
    }
    pairs.sort_unstable();
    let mut row_start = vec![0u64; vocab_size + 1];
    let mut successors = Vec::new();
    let mut bigram_counts: Vec<u64> = Vec::new();
    let mut previous = None;
    for &(context, token) in &pairs {
        if previous == Some((context, token)) {
            *bigram_counts.last_mut().expect("a previous pair") += 1;
        } else {
            row_start[context as usize + 1] += 1;
            successors.push(token);
            bigram_counts.push(1);
            previous = Some((context, token));
        }
    }
    for v in 0..vocab_size {
        row_start[v + 1] += row_start[v];
    }
    Ok(BaselineModel::from_counts(
        tokenizer,
        smoothing,
        unigram_counts,
        row_start,
        successors,
        bigram_counts,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use lmlab_core::model::encode_corpus;
    use lmlab_core::{LanguageModel, SequenceMode};
    use lmlab_tokenize::{BytesTokenizer, WordsTrainer};

    const TEXT: &str = "the cat sat\nthe dog sat\nthe cat ran away\n";

    fn model(smoothing: Smoothing) -> BaselineModel {
        let tok = WordsTrainer::default().train(TEXT).unwrap();
        let seqs = encode_corpus(&tok, TEXT, SequenceMode::Line);
        train(&seqs, Box::new(tok), smoothing).unwrap()
    }

    #[test]
    fn distributions_sum_to_one_and_match_log_probs() {
        for smoothing in [Smoothing::WittenBell, Smoothing::AddK { k: 0.1 }] {
            let m = model(smoothing);
            let tok = m.tokenizer();
            let ids = tok.encode("the cat sat");
            for cut in 0..=ids.len() {
                let dist = m.next_distribution(&ids[..cut]);
                let sum: f64 = dist.iter().sum();
                assert!((sum - 1.0).abs() < 1e-12, "{smoothing}: {sum}");
                assert_eq!(dist[tok.specials().bos as usize], 0.0);
                if cut < ids.len() {
                    let lp = m.log_probs(&ids)[cut];
                    assert!((dist[ids[cut] as usize].ln() - lp).abs() < 1e-12);
                }
            }
            lmlab_core::test_support::check_stepper(&m, &ids, 0.0);
            let uniform =
                crate::UniformModel::new(Box::new(WordsTrainer::default().train(TEXT).unwrap()));
            lmlab_core::test_support::check_stepper(&uniform, &ids, 0.0);
        }
    }

    #[test]
    fn witten_bell_matches_a_hand_computation() {
        let m = model(Smoothing::WittenBell);
        let tok = m.tokenizer();
        let (the, cat) = (
            tok.vocab().id("the").unwrap(),
            tok.vocab().id("cat").unwrap(),
        );
        // Tokens: 3 lines, 13 tokens incl. </s>; types seen: the cat sat dog ran away </s> = 7;
        // predictable ids: <unk> </s> + 6 words = 8. c(cat) = 2.
        let p_cat = (2.0 + 7.0 / 8.0) / (13.0 + 7.0);
        // "the" is followed by cat (2) and dog (1): T = 2, c = 3.
        let expected = (2.0 + 2.0 * p_cat) / (3.0 + 2.0);
        assert!((m.probability(the, cat) - expected).abs() < 1e-15);
    }

    #[test]
    fn bad_training_inputs_are_refused() {
        let tok = BytesTokenizer::new();
        let err = train(&[], Box::new(tok.clone()), Smoothing::WittenBell).unwrap_err();
        assert!(err.to_string().contains("no tokens"), "{err}");
        let seqs = encode_corpus(&tok, "ab\n", SequenceMode::Line);
        let err = train(&seqs, Box::new(tok), Smoothing::AddK { k: 0.0 }).unwrap_err();
        assert!(err.to_string().contains("k > 0"), "{err}");
    }
}

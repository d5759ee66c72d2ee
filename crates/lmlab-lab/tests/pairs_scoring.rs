//! What `pairs::score_sentence` adds up: every token of the sentence from `<s>`, and `</s>` unless
//! told not to; OOVs counted (under a uniform model, where each token costs the same).

use lmlab_baseline::UniformModel;
use lmlab_core::LanguageModel;
use lmlab_lab::pairs::{score_pairs, score_sentence, MinimalPair, PairOptions};
use lmlab_tokenize::WordsTrainer;

fn uniform() -> UniformModel {
    let tokenizer = WordsTrainer::default()
        .train("the cat sat\na dog ran\n")
        .unwrap();
    UniformModel::new(Box::new(tokenizer))
}

#[test]
fn the_end_token_is_scored_unless_told_not_to() {
    let model = uniform();
    let eos = model.tokenizer().specials().eos;
    let token = model.log_probs(&[eos])[0];
    let with = PairOptions { end_token: true };
    let without = PairOptions { end_token: false };
    let (total, oov) = score_sentence(&model, "the cat zebra", with);
    assert_eq!((total, oov), (4.0 * token, 1));
    assert_eq!(
        score_sentence(&model, "the cat zebra", without).0,
        3.0 * token
    );
    assert_eq!(score_sentence(&model, "", without).0, 0.0);
}

#[test]
fn a_shorter_good_sentence_wins_under_a_uniform_model_and_equal_lengths_tie() {
    let model = uniform();
    let pair = |good: &str, bad: &str| MinimalPair {
        good: good.into(),
        bad: bad.into(),
        paradigm: "p".into(),
        term: None,
    };
    let pairs = [pair("the cat", "the cat sat"), pair("a dog", "dog a")];
    let scores = score_pairs(&model, &pairs, PairOptions::default());
    assert!(scores[0].correct() && !scores[0].tie());
    assert!(!scores[1].correct() && scores[1].tie(), "a tie is wrong");
    // Tokens scored: each sentence's words and its end token.
    assert_eq!(scores.iter().map(|s| s.tokens).collect::<Vec<_>>(), [7, 6]);
}

//! Bad input: impossible options, empty or too short training data, tokens never seen, and
//! `explain` with more context than the model uses.

mod common;

use common::{encode, train_text, TEXT};
use lmlab_core::{LanguageModel, SequenceMode};
use lmlab_memory::{train, MemoryOptions};

#[test]
fn context_zero_or_longer_than_every_sequence_is_refused() {
    let err = train_text(TEXT, MemoryOptions::igtree(0))
        .unwrap_err()
        .to_string();
    assert!(err.contains("--context must be at least 1"), "{err}");
    // The longest line has 6 words + </s> = 7 tokens.
    let err = train_text(TEXT, MemoryOptions::igtree(8))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("--context 8 is longer than every training sequence"),
        "{err}"
    );
    assert!(err.contains("the longest has 7 tokens"), "{err}");
    assert!(train_text(TEXT, MemoryOptions::igtree(7)).is_ok());
    let err = train_text(
        TEXT,
        MemoryOptions {
            prune: true,
            ..MemoryOptions::tribl2(2)
        },
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("--prune applies to igtree only"), "{err}");
    let err = "ib1"
        .parse::<lmlab_memory::Algorithm>()
        .unwrap_err()
        .to_string();
    assert!(err.contains("unknown memory algorithm 'ib1'"), "{err}");
}

#[test]
fn empty_training_data_is_refused() {
    let (tok, _) = encode(TEXT, SequenceMode::Line);
    for seqs in [vec![], vec![Default::default()]] {
        let err = train(&seqs, Box::new(tok.clone()), MemoryOptions::igtree(2))
            .unwrap_err()
            .to_string();
        assert!(err.contains("no tokens"), "{err}");
    }
    let mut model = train_text(TEXT, MemoryOptions::igtree(2)).unwrap();
    let err = model.add(&[]).unwrap_err().to_string();
    assert!(err.contains("no tokens"), "{err}");
}

#[test]
fn tokens_never_seen_are_scored_without_panic() {
    for options in [
        MemoryOptions::igtree(3),
        MemoryOptions::tribl2(3),
        MemoryOptions {
            prune: true,
            ..MemoryOptions::igtree(3)
        },
    ] {
        let model = train_text(TEXT, options).unwrap();
        let tok = model.tokenizer();
        let mut ids = tok.encode("zebra the cat quokka sat");
        assert_eq!(ids[0], tok.specials().unk.unwrap());
        ids.push(tok.specials().eos);
        let lp = model.log_probs(&ids);
        assert!(lp.iter().all(|x| x.is_finite() && *x < 0.0), "{lp:?}");
        // Ids outside the vocabulary count as <unk>, in the context and as the scored token.
        let far = tok.vocab().len() as u32 + 7;
        let lp2 = model.log_probs(&[far, far]);
        assert!(lp2.iter().all(|x| x.is_finite()), "{lp2:?}");
        let _ = model.predictions(&[far, ids[1], far]);
        let e = model.explain(&[far], 2);
        assert!(e.matched_depth < 3, "{e}");
    }
}

#[test]
fn explain_with_a_longer_context_uses_the_last_k_and_says_so() {
    let model = train_text(TEXT, MemoryOptions::igtree(2)).unwrap();
    let tok = model.tokenizer();
    let e = model.explain(&tok.encode("the dog sat on the"), 2);
    assert_eq!(e.context, vec!["on", "the"]);
    assert_eq!(
        e.notes,
        vec!["the context has 5 tokens; the model looks at the last 2".to_string()]
    );
    assert_eq!(e.top.len(), 2);
    let e = model.explain(&tok.encode("the"), 0);
    assert!(e.top.is_empty());
    assert_eq!(e.context, vec!["<s>", "the"]);
}

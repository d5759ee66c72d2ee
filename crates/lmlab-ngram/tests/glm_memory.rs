//! The GLM build under a memory bound (`GlmOptions::memory`, `lmlab train glm --memory`): at the
//! least bound it accepts every skip pattern is sorted in runs spilled to the temp dir and merged,
//! and the model file is byte for byte (so every probability bit for bit) the unbounded build's;
//! a bound below the token stream is refused with the least bound that works.

mod common;

use common::{shared, synthetic_corpus};
use lmlab_core::model::encode_corpus;
use lmlab_core::model_file::Provenance;
use lmlab_core::{LanguageModel, SequenceMode, Tokenizer};
use lmlab_ngram::glm::{self, GlmModel, GlmOptions};
use lmlab_ngram::TokenStream;
use lmlab_tokenize::WordsTrainer;
use std::path::Path;

/// The ptb1k fixture (about 22,800 positions) when ../shared is there, a synthetic corpus otherwise.
fn corpus() -> String {
    shared()
        .and_then(|s| std::fs::read_to_string(s.join("fixtures/kenlm/small/ptb1k.txt")).ok())
        .unwrap_or_else(|| synthetic_corpus(1500, 80, 11))
}

fn provenance() -> Provenance {
    Provenance {
        corpus_sha256: "00".into(),
        corpus_name: "ptb1k".into(),
        sequences: SequenceMode::Line,
        options: serde_json::json!({}),
        seed: None,
        lmlab_version: lmlab_core::LMLAB_VERSION.into(),
    }
}

/// The tokenizer and token stream of `text`, one sequence per line.
fn stream(text: &str) -> (Box<dyn Tokenizer>, TokenStream) {
    let tokenizer = WordsTrainer::default().train(text).unwrap();
    let sequences = encode_corpus(&tokenizer, text, SequenceMode::Line);
    let specials = tokenizer.specials();
    let stream =
        TokenStream::from_sequences(&sequences, specials, tokenizer.vocab().len()).unwrap();
    (Box::new(tokenizer), stream)
}

/// Trains into the model file `path`.
fn build(text: &str, options: &GlmOptions, path: &Path) -> lmlab_core::Result<(u64, Vec<String>)> {
    let (tokenizer, stream) = stream(text);
    glm::train_stream_to_file(stream, tokenizer, options, path, provenance())
}

/// The least bound a build of `text` accepts: 4 bytes per position (`<s>` included) + 64 KiB.
fn floor(text: &str) -> u64 {
    let (_, tokens) = stream(text);
    let positions = tokens.tokens_seen() + tokens.sequences() as u64;
    positions * 4 + (64 << 10)
}

#[test]
fn the_least_accepted_bound_gives_the_unbounded_model_bit_for_bit() {
    let text = corpus();
    let dir = tempfile::tempdir().unwrap();
    let temp = tempfile::tempdir().unwrap();
    let least = floor(&text);
    for order in [3, 5] {
        let unbounded = GlmOptions {
            discount_fallback: Some([0.5, 1.0, 1.5]),
            ..GlmOptions::with_order(order)
        };
        let bounded = GlmOptions {
            memory: Some(least),
            temp_dir: Some(temp.path().to_path_buf()),
            ..unbounded.clone()
        };
        let (a, b) = (dir.path().join("a.lmlab"), dir.path().join("b.lmlab"));
        let (params_a, warnings_a) = build(&text, &unbounded, &a).unwrap();
        let (params_b, warnings_b) = build(&text, &bounded, &b).unwrap();
        assert_eq!(
            (params_a, warnings_a),
            (params_b, warnings_b),
            "order {order}"
        );
        assert!(
            std::fs::read(&a).unwrap() == std::fs::read(&b).unwrap(),
            "order {order}: the bounded build's model file differs"
        );
        // The same bits through the loaded models, and the in-memory training path too.
        let (ma, mb) = (GlmModel::load(&a).unwrap(), GlmModel::load(&b).unwrap());
        let (tokenizer, tokens) = stream(&text);
        let in_memory = glm::train_stream(tokens, tokenizer, &bounded).unwrap();
        for line in text.lines().take(50) {
            let ids = ma.tokenizer().encode(line);
            let expected: Vec<u64> = ma.log_probs(&ids).iter().map(|p| p.to_bits()).collect();
            let got: Vec<u64> = mb.log_probs(&ids).iter().map(|p| p.to_bits()).collect();
            assert_eq!(got, expected, "order {order}: {line}");
            let trained: Vec<u64> = in_memory
                .log_probs(&ids)
                .iter()
                .map(|p| p.to_bits())
                .collect();
            assert_eq!(trained, expected, "order {order}: {line}");
        }
    }
    // The spill directories are gone with the builds.
    assert_eq!(std::fs::read_dir(temp.path()).unwrap().count(), 0);
}

#[test]
fn a_bound_below_the_token_stream_is_refused_naming_the_least_that_works() {
    let text = corpus();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.lmlab");
    let least = floor(&text);
    let options = GlmOptions {
        memory: Some(least - 1),
        discount_fallback: Some([0.5, 1.0, 1.5]),
        ..GlmOptions::with_order(3)
    };
    let err = build(&text, &options, &path).unwrap_err().to_string();
    assert!(
        err.contains("below what a GLM build needs")
            && err.contains(&format!("{least} bytes in all")),
        "{err}"
    );
    assert!(
        err.contains(&format!("--memory {}K or more", least.div_ceil(1024))),
        "{err}"
    );
    assert!(!path.exists(), "a refused build left a file");
}

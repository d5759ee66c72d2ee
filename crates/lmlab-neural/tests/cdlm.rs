//! Chunk-distilled generation and perplexity (CD-LM) over a small transformer with seeded random
//! weights: retrieval off is the target token for token, chunks files round-trip and refuse
//! another target, perplexity without a chunk is the target's, bad options are refused.

use lmlab_core::sampling::{generate, SamplingOptions};
use lmlab_core::{LanguageModel, SequenceMode, TokenId, Tokenizer};
use lmlab_neural::cdlm::{
    build_chunks, evaluate_sequences, generate as cdlm_generate, read_chunks, write_chunks,
    ChunkOptions, CorpusInfo,
};
use lmlab_neural::TransformerModel;
use lmlab_tokenize::{WordsTokenizer, WordsTrainer};

const TEXT: &str = "the cat sat on the mat\nthe dog sat on the log\na cat and a dog ran\n\
the cat ran to the dog\na dog sat on a mat\nthe log was on the mat\n";

fn tokenizer(text: &str) -> WordsTokenizer {
    WordsTrainer::default().train(text).unwrap()
}

/// A 2-block, 16-wide transformer with 8 positions (so texts slide windows) and weights of `seed`.
fn target(tok: WordsTokenizer, seed: u64) -> TransformerModel {
    let mut config = lmlab_neural::RunConfig::parse(
        "tokenizer = \"chars\"\n[model]\nn_layer = 2\nn_head = 2\nn_embd = 16\nblock_size = 8\n\
         [train]\nbatch_size = 1\nmax_steps = 1\nlearning_rate = 1e-3\nmin_lr = 1e-4\n\
         eval_interval = 1\neval_iters = 1\ncheckpoint_interval = 1\n",
    )
    .unwrap();
    config.model.vocab_size = tok.vocab().len();
    // Scaled up so the random distributions are peaked, as a trained model's are.
    let params = lmlab_neural::model::Transformer::<f32>::new(&config.model, seed)
        .unwrap()
        .params
        .into_iter()
        .map(|p| p * 2.0)
        .collect();
    TransformerModel::from_parts(config, params, Box::new(tok), 0).unwrap()
}

/// Each line of [`TEXT`] as ids with its end token.
fn sequences(model: &TransformerModel) -> Vec<Vec<TokenId>> {
    let tok = model.tokenizer();
    TEXT.lines()
        .map(|line| {
            let mut ids = tok.encode(line);
            ids.push(tok.specials().eos);
            ids
        })
        .collect()
}

/// Random weights (doubled) spread probability thin over 15 words: a low threshold finds chunks.
const LOW: ChunkOptions = ChunkOptions {
    threshold: 0.08,
    min_tokens: 1,
};

fn options(seed: u64, temperature: f64) -> SamplingOptions {
    SamplingOptions {
        seed,
        max_tokens: 40,
        temperature,
        stop_at_eos: false,
        ..SamplingOptions::default()
    }
}

#[test]
fn retrieval_off_is_the_target_token_for_token_and_on_takes_chunks() {
    let model = target(tokenizer(TEXT), 3);
    // Chunks of two tokens or more, so that taking one saves target calls.
    let two = ChunkOptions {
        threshold: 0.05,
        min_tokens: 2,
    };
    let store = build_chunks(&model, &sequences(&model), &two).unwrap();
    assert!(store.len() > 5, "{} chunks", store.len());
    let prompt = model.tokenizer().encode("the cat");
    for (seed, temperature) in [(1, 0.0), (2, 1.0), (3, 0.7)] {
        let opts = options(seed, temperature);
        let alone = generate(&model, &prompt, &opts).unwrap();
        let (off, stats) = cdlm_generate(&model, &store, 1.0, &prompt, &opts).unwrap();
        assert_eq!(off, alone, "seed {seed}");
        assert_eq!((stats.chunk_tokens, stats.target_calls), (0, 40));
        // Every stored state is within cosine −1: a chunk whenever the last token enters one.
        let (on, stats) = cdlm_generate(&model, &store, -1.0, &prompt, &opts).unwrap();
        assert_eq!(on.len(), 40);
        assert!(stats.chunks > 0 && stats.chunk_tokens > 0, "{stats:?}");
        assert!(stats.target_calls < 40, "{stats:?}");
        assert_eq!(stats.tokens, 40);
    }
}

#[test]
fn a_chunks_file_round_trips_in_the_same_bytes_and_refuses_another_target() {
    let model = target(tokenizer(TEXT), 3);
    let seqs = sequences(&model);
    let store = build_chunks(&model, &seqs, &LOW).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let corpus = CorpusInfo {
        sha256: lmlab_core::hashing::sha256_hex(TEXT.as_bytes()),
        name: "text",
        sequences: SequenceMode::Line,
    };
    let (a, b) = (dir.path().join("a.lmlab"), dir.path().join("b.lmlab"));
    let info = write_chunks(&a, &store, &model, &LOW, &corpus).unwrap();
    assert_eq!(info.occurrences, store.len());
    let again = build_chunks(&model, &seqs, &LOW).unwrap();
    write_chunks(&b, &again, &model, &LOW, &corpus).unwrap();
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    let (read, read_info) = read_chunks(&a, &model).unwrap();
    assert_eq!((read, read_info), (store, info));

    let other_weights = target(tokenizer(TEXT), 4);
    let err = read_chunks(&a, &other_weights).unwrap_err().to_string();
    assert!(
        err.contains("built for another target") && err.contains("weights"),
        "{err}"
    );
    let other_tokenizer = target(tokenizer("a different text of words\n"), 3);
    let err = read_chunks(&a, &other_tokenizer).unwrap_err().to_string();
    assert!(
        err.contains("built for another target") && err.contains("tokenizer"),
        "{err}"
    );
}

#[test]
fn perplexity_without_a_chunk_is_the_targets_and_chunks_change_it() {
    let model = target(tokenizer(TEXT), 3);
    let seqs = sequences(&model);
    let store = build_chunks(&model, &seqs, &LOW).unwrap();
    // The target's own scores: its stepper (the KV cache's rows, which CD-LM reads) and its
    // batched whole-sequence scoring (other f32 sums: equal to rounding).
    let stepped: Vec<f64> = seqs
        .iter()
        .flat_map(|ids| {
            let mut stepper = model.stepper();
            ids.iter()
                .map(|&id| stepper.score_next(id))
                .collect::<Vec<_>>()
        })
        .collect();
    let target_sum: f64 = stepped.iter().sum();
    let batched: f64 = seqs.iter().flat_map(|ids| model.log_probs(ids)).sum();
    assert!((batched - target_sum).abs() < 1e-6 * target_sum.abs());
    let tokens: usize = seqs.iter().map(Vec::len).sum();
    let evals = evaluate_sequences(&model, &store, &seqs, &[1.0, -1.0, 0.5]).unwrap();
    let off = &evals[0];
    assert_eq!((off.tokens, off.retrieved), (tokens as u64, 0));
    assert!(
        (off.log_prob_sum - target_sum).abs() < 1e-12 * target_sum.abs(),
        "{} vs {target_sum}",
        off.log_prob_sum
    );
    assert!((off.perplexity() - off.target_perplexity()).abs() < 1e-9);
    // Retrieval on everywhere: the chunks were cut from this very text, so some match it.
    let on = &evals[1];
    assert!(on.retrieved > 0 && on.retrieved_matching > 0, "{on:?}");
    assert!(on.log_prob_sum != on.target_log_prob_sum);
    // No chunk stored: nothing can match at any threshold.
    let none = ChunkOptions {
        threshold: 0.999,
        min_tokens: 1,
    };
    let empty = build_chunks(&model, &seqs, &none).unwrap();
    assert!(empty.is_empty());
    let evals = evaluate_sequences(&model, &empty, &seqs, &[-1.0]).unwrap();
    assert!((evals[0].log_prob_sum - target_sum).abs() < 1e-12 * target_sum.abs());
}

#[test]
fn bad_options_and_an_empty_corpus_are_refused_with_their_message() {
    let model = target(tokenizer(TEXT), 3);
    let seqs = sequences(&model);
    let store = build_chunks(&model, &seqs, &LOW).unwrap();
    let prompt = model.tokenizer().encode("the");
    for s in [1.5, -1.01, f64::NAN] {
        let err = cdlm_generate(&model, &store, s, &prompt, &options(1, 1.0)).unwrap_err();
        assert!(err.to_string().contains("outside [-1, 1]"), "{err}");
        let err = evaluate_sequences(&model, &store, &seqs, &[s]).unwrap_err();
        assert!(err.to_string().contains("outside [-1, 1]"), "{err}");
    }
    for threshold in [0.0, 1.0, -0.2, 1.5] {
        let bad = ChunkOptions {
            threshold,
            min_tokens: 2,
        };
        let err = build_chunks(&model, &seqs, &bad).unwrap_err();
        assert!(err.to_string().contains("outside (0, 1)"), "{err}");
    }
    let err = build_chunks(&model, &[Vec::new()], &LOW).unwrap_err();
    assert!(err.to_string().contains("empty corpus"), "{err}");
    let err = build_chunks(&model, &[], &LOW).unwrap_err();
    assert!(err.to_string().contains("empty corpus"), "{err}");
}

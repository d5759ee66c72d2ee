//! Times training and querying on a text file: `cargo run --release -p lmlab-ngram --example
//! train_timing -- TRAIN ORDER [TEST]`. `<unk>` is rewritten to `<oov>` (KenLM's convention) so the
//! figures compare with lmplz's. A timing aid, not a benchmark.

use lmlab_core::model::encode_corpus;
use lmlab_core::{LanguageModel, SequenceMode};
use lmlab_ngram::{train, NgramOptions};
use lmlab_tokenize::WordsTrainer;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let text = std::fs::read_to_string(&args[1])
        .unwrap()
        .replace("<unk>", "<oov>");
    let order: usize = args[2].parse().unwrap();
    let start = Instant::now();
    let tokenizer = WordsTrainer::default().train(&text).unwrap();
    let sequences = encode_corpus(&tokenizer, &text, SequenceMode::Line);
    let tokenized = start.elapsed();
    let model = train(
        &sequences,
        Box::new(tokenizer),
        &NgramOptions::with_order(order),
    )
    .unwrap();
    let trained = start.elapsed();
    eprintln!(
        "tokenize {:.3}s, estimate {:.3}s, n-grams {:?}",
        tokenized.as_secs_f64(),
        (trained - tokenized).as_secs_f64(),
        model.ngram_counts()
    );
    if let Some(test) = args.get(3) {
        let text = std::fs::read_to_string(test)
            .unwrap()
            .replace("<unk>", "<oov>");
        let sequences = encode_corpus(model.tokenizer(), &text, SequenceMode::Line);
        let start = Instant::now();
        let mut tokens = 0usize;
        let mut sum = 0f64;
        for _ in 0..10 {
            let mut scorer = model.ngram_scorer();
            for s in &sequences {
                lmlab_core::Scorer::reset(&mut scorer);
                for &id in &s.ids {
                    sum += scorer.score_next_log10(id) as f64;
                    tokens += 1;
                }
            }
        }
        let secs = start.elapsed().as_secs_f64();
        eprintln!(
            "query: {tokens} tokens in {secs:.3}s = {:.2}M tokens/s, perplexity {:.4}",
            tokens as f64 / secs / 1e6,
            10f64.powf(-sum / tokens as f64)
        );
    }
}

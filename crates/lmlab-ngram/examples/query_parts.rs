//! Where an n-gram query's CPU goes, part by part: `cargo run --release -p lmlab-ngram --example
//! query_parts -- MODEL.lmlab TEXT`. Prints the CPU seconds of loading the model, of encoding the
//! text (one sequence per line, as `lmlab eval` cuts it) and of scoring the encoded sequences
//! (`sequence_log10_probs`, the path `lmlab eval` takes), with nanoseconds per token, and the sum
//! of the log10 probabilities (the same on every run). One thread.

use lmlab_core::compute::process_cpu_seconds;
use lmlab_core::model::encode_corpus;
use lmlab_core::{LanguageModel, SequenceMode};
use lmlab_ngram::query::sequence_log10_probs;
use lmlab_ngram::NgramModel;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, model, text] = args.as_slice() else {
        return Err("usage: query_parts MODEL TEXT".into());
    };
    let cpu = process_cpu_seconds();
    let model = NgramModel::load(std::path::Path::new(model))?;
    let load = process_cpu_seconds() - cpu;
    let text = std::fs::read_to_string(text)?;

    let cpu = process_cpu_seconds();
    let sequences = encode_corpus(model.tokenizer(), &text, SequenceMode::Line);
    let encode = process_cpu_seconds() - cpu;
    let tokens: usize = sequences.iter().map(|s| s.ids.len()).sum();

    let cpu = process_cpu_seconds();
    let mut sum = 0f64;
    for sequence in &sequences {
        sequence_log10_probs(&model, &sequence.ids, |log10| sum += f64::from(log10));
    }
    let score = process_cpu_seconds() - cpu;

    let per_token = |seconds: f64| seconds * 1e9 / tokens.max(1) as f64;
    println!(
        "{tokens} tokens: load {load:.3} CPU-s, encode {encode:.3} CPU-s ({:.1} ns/token), \
         score {score:.3} CPU-s ({:.1} ns/token); sum of log10 p {sum:.3}",
        per_token(encode),
        per_token(score)
    );
    Ok(())
}

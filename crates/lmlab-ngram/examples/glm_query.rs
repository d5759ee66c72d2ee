//! GLM query speed, two paths side by side on one model and one text: `cargo run --release -p
//! lmlab-ngram --example glm_query -- MODEL.lmlab TEXT [REPEATS]`. Each line of TEXT is a
//! sequence (its end token included). "per token" is [`GlmModel::prob`] token after token (the
//! stepper's path, and `log_probs` before the grouped query); "grouped" is `log_probs_batch` over
//! 2,048 sequences at a time (as `lmlab eval` calls it), which queries a group of positions
//! together so their cache misses overlap. Prints the CPU seconds
//! and tokens per CPU-second of each (model loading excluded; the grouped path's first use builds
//! its entry indexes, included) and checks that both give the same bits. Used by
//! `bench/glm_vs_mkn.sh`.

use lmlab_core::compute::process_cpu_seconds;
use lmlab_core::model::encode_corpus;
use lmlab_core::{LanguageModel, SequenceMode};
use lmlab_ngram::glm::GlmModel;

/// Sequences per `log_probs_batch` call, as `lmlab eval` passes them (at most 2,048).
const BATCH: usize = 2048;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, model, text, ..] = args.as_slice() else {
        return Err("usage: glm_query MODEL TEXT [REPEATS]".into());
    };
    let repeats: usize = args.get(3).map_or(Ok(1), |s| s.parse())?;
    let model = GlmModel::load(std::path::Path::new(model))?;
    let text = std::fs::read_to_string(text)?;
    let sequences = encode_corpus(model.tokenizer(), &text, SequenceMode::Line);
    let tokens: usize = sequences.iter().map(|s| s.ids.len()).sum::<usize>() * repeats;
    let bos = model.tokenizer().specials().bos;

    let cpu = process_cpu_seconds();
    let mut grouped = Vec::with_capacity(tokens);
    let all: Vec<&[u32]> = sequences.iter().map(|s| s.ids.as_slice()).collect();
    for _ in 0..repeats {
        for batch in all.chunks(BATCH) {
            let scores = model.log_probs_batch(batch).ok_or("no batched scoring")?;
            grouped.extend(scores.into_iter().flatten());
        }
    }
    let grouped_cpu = process_cpu_seconds() - cpu;

    let cpu = process_cpu_seconds();
    let mut per_token = Vec::with_capacity(tokens);
    let mut context = Vec::new();
    for _ in 0..repeats {
        for s in &sequences {
            context.clear();
            context.push(bos);
            for &t in &s.ids {
                per_token.push(model.prob(&context, t).ln());
                context.push(t);
            }
        }
    }
    let per_token_cpu = process_cpu_seconds() - cpu;

    let same = grouped
        .iter()
        .zip(&per_token)
        .all(|(a, b)| a.to_bits() == b.to_bits());
    let m = |c: f64| tokens as f64 / c / 1e6;
    println!(
        "GLM order {} query, {tokens} tokens: per token {per_token_cpu:.2} CPU-s ({:.3} M tokens/CPU-s), \
         grouped {grouped_cpu:.2} CPU-s ({:.3} M tokens/CPU-s), ratio {:.2}, same bits: {same}",
        model.order(),
        m(per_token_cpu),
        m(grouped_cpu),
        per_token_cpu / grouped_cpu
    );
    if !same {
        return Err("the two paths disagree".into());
    }
    Ok(())
}

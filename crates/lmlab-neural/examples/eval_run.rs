//! Scores the validation split of a run through the `LanguageModel` trait, both ways: batched
//! `log_probs` (sliding windows for the transformer) and the token-by-token stepper (KV cache or LSTM
//! state); prints nats per
//! token, bits per character and tokens per second of each.
//!
//! Usage: `cargo run --release -p lmlab-neural --example eval_run -- RUN_DIR [INPUT.txt]` (the last 10% of
//! INPUT, default ../shared/data/shakespeare/input.txt, as the shakespeare_char example splits it).

use lmlab_core::model::encode_corpus;
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let run_dir = args.get(1).ok_or("usage: eval_run RUN_DIR [INPUT.txt]")?;
    let input = args
        .get(2)
        .cloned()
        .unwrap_or_else(|| "../shared/data/shakespeare/input.txt".into());
    let text = std::fs::read_to_string(&input)?;
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let valid = &text[chars[chars.len() * 9 / 10].0..];
    let model = lmlab_neural::load_model(std::path::Path::new(run_dir))?;
    let mode = model.run_config().sequence_mode();
    println!("{}", model.describe());
    let seqs = encode_corpus(model.tokenizer(), valid, mode);
    let tokens: usize = seqs.iter().map(|s| s.ids.len()).sum();
    let chars_count = valid.chars().count();
    let t0 = Instant::now();
    let sum: f64 = seqs.iter().flat_map(|s| model.log_probs(&s.ids)).sum();
    let dt = t0.elapsed().as_secs_f64();
    println!(
        "log_probs: {tokens} tokens, {:.4} nats/token, {:.4} bits/char, {:.0} tokens/s",
        -sum / tokens as f64,
        -sum / std::f64::consts::LN_2 / chars_count as f64,
        tokens as f64 / dt
    );
    let t0 = Instant::now();
    let mut sum2 = 0.0;
    for s in &seqs {
        // Token by token through the stepper (KV cache or LSTM state).
        let mut stepper = model.stepper();
        for &id in &s.ids {
            sum2 += stepper.distribution()[id as usize].ln();
            stepper.push(id);
        }
    }
    let dt = t0.elapsed().as_secs_f64();
    println!(
        "stepper:   {tokens} tokens, {:.4} nats/token, {:.4} bits/char, {:.0} tokens/s",
        -sum2 / tokens as f64,
        -sum2 / std::f64::consts::LN_2 / chars_count as f64,
        tokens as f64 / dt
    );
    // nanoGPT-style windows: every non-overlapping block_size window of the valid ids, each scored
    // from its own start (as in training), for comparison with tools/torch_shakespeare_char.py.
    if let Some(tm) = model.as_transformer() {
        let m = tm.transformer();
        let ids: Vec<u32> = seqs.iter().flat_map(|s| s.ids.iter().copied()).collect();
        let t = m.config.block_size;
        let starts: Vec<usize> = (0..ids.len().saturating_sub(t + 1)).step_by(t).collect();
        let mut ws = lmlab_neural::model::Workspace::<f32>::new(&m.config, 1, t);
        let mut total = 0.0;
        for &i in &starts {
            total += m
                .forward(&mut ws, &ids[i..i + t], Some(&ids[i + 1..i + t + 1]), None)
                .0;
        }
        println!(
            "consecutive windows: {:.4} nats/token ({} windows of {t})",
            total / (starts.len() * t) as f64,
            starts.len()
        );
    }
    Ok(())
}

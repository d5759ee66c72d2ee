//! nanoGPT's shakespeare-char CPU recipe on lmlab's engine: 90/10 split of tiny-shakespeare (as
//! nanoGPT's prepare.py), chars tokenizer, `configs/shakespeare_char.toml`.
//!
//! Usage: `cargo run --release -p lmlab-neural --example shakespeare_char -- [INPUT.txt] [RUN_DIR] [MAX_STEPS] [SEED]`
//! (defaults: ../shared/data/shakespeare/input.txt, /tmp/lmlab-shakespeare-char, the config's 2000 steps and seed 1337).
//! `CONFIG=crates/lmlab-neural/configs/shakespeare_char_lstm.toml` trains the LSTM instead.

use lmlab_neural::config::RunConfig;
use lmlab_neural::train::{train, TrainEvent, TrainOptions};
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let input = args
        .get(1)
        .cloned()
        .unwrap_or_else(|| "../shared/data/shakespeare/input.txt".into());
    let run_dir = args
        .get(2)
        .cloned()
        .unwrap_or_else(|| "/tmp/lmlab-shakespeare-char".into());
    let mut config = match std::env::var("CONFIG") {
        Ok(path) => RunConfig::load(std::path::Path::new(&path))?,
        Err(_) => RunConfig::parse(include_str!("../configs/shakespeare_char.toml"))?,
    };
    if let Some(steps) = args.get(3) {
        config.train.max_steps = steps.parse()?;
    }
    if let Some(seed) = args.get(4) {
        config.train.seed = seed.parse()?;
    }
    let text = std::fs::read_to_string(&input)?;
    // nanoGPT: first 90% of the characters train, the rest validates.
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let cut = chars[chars.len() * 9 / 10].0;
    let (train_text, valid_text) = text.split_at(cut);
    println!(
        "input {input}: {} chars, train {} / valid {} bytes; rayon threads {}",
        chars.len(),
        train_text.len(),
        valid_text.len(),
        rayon::current_num_threads()
    );
    let start = Instant::now();
    let options = TrainOptions {
        log_interval: 50,
        ..TrainOptions::new(&run_dir)
    };
    let report = train(&config, train_text, valid_text, &options, &mut |e| {
        match e {
        TrainEvent::Step {
            step,
            max_steps,
            loss,
            lr,
            tokens_per_second,
            eta_seconds,
            ..
        } => println!(
            "step {step}/{max_steps} loss {loss:.4} lr {lr:.2e} {tokens_per_second:.0} tok/s eta {eta_seconds:.0}s"
        ),
        TrainEvent::Eval { step, val_loss } => println!("step {step} val loss {val_loss:.4}"),
        TrainEvent::Checkpoint { .. } => {}
    }
    })?;
    println!(
        "done in {:.1}s wall, {:.1} CPU-s: {} steps, train loss {:.4}, val loss {:.4}, {:.0} training tokens/s, {} parameters, peak RSS {} MiB",
        start.elapsed().as_secs_f64(),
        report.compute.cpu_seconds,
        report.steps,
        report.train_loss,
        report.val_loss,
        report.tokens_per_second,
        report.parameters,
        report.compute.peak_rss_bytes >> 20
    );
    let model = lmlab_neural::load_model(std::path::Path::new(&run_dir))?;
    println!("loaded back: {}", model.describe());
    let ids = lmlab_core::sampling::generate(
        model.as_ref(),
        &[],
        &lmlab_core::sampling::SamplingOptions {
            seed: 1,
            max_tokens: 500,
            temperature: 0.8,
            top_k: 200,
            top_p: 1.0,
            stop_at_eos: false,
            raw_bytes: false,
        },
    )?;
    println!("--- sample ---\n{}", model.tokenizer().decode(&ids));
    Ok(())
}

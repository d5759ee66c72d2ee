use super::print_json;
use crate::args::InfoArgs;
use lmlab_lab::info::{model_info, RunInfo};

pub fn run(args: InfoArgs) -> anyhow::Result<()> {
    let info = model_info(&args.model)?;
    if args.json {
        return print_json(&info);
    }
    match info.format_version {
        Some(version) => println!("kind        {} (format {version})", info.kind),
        None => println!("kind        {} (run directory)", info.kind),
    }
    println!("model       {}", info.description);
    println!("parameters  {}", info.parameters);
    println!(
        "tokenizer   {} ({} tokens, fingerprint {})",
        info.tokenizer.kind, info.tokenizer.vocab_size, info.tokenizer.fingerprint
    );
    println!("sequences   {}", info.sequences);
    if let Some(p) = &info.provenance {
        println!("corpus      {} (sha256 {})", p.corpus_name, p.corpus_sha256);
        println!("options     {}", p.options);
        println!("lmlab       {}", p.lmlab_version);
    }
    if let Some(run) = &info.run {
        print_run(&info.kind, run);
    }
    Ok(())
}

/// The lines only a neural run directory has.
fn print_run(kind: &str, run: &RunInfo) {
    let m = &run.architecture;
    println!(
        "arch        {kind}: {} layers, width {}, {} heads, context {} tokens, vocabulary {}",
        m.n_layer, m.n_embd, m.n_head, m.block_size, m.vocab_size
    );
    let Some(p) = &run.progress else {
        println!("steps       0 of {} (no report.json yet)", run.max_steps);
        return;
    };
    let stop = format!("{:?}", p.stop).to_lowercase();
    println!("steps       {} of {} ({stop})", p.steps, run.max_steps);
    println!(
        "loss        train {:.4}, valid {:.4} nats/token",
        p.train_loss, p.val_loss
    );
    let c = &p.compute;
    println!(
        "compute     {:.1} CPU-s ({:.1} s wall), {} tokens, peak RSS {:.1} MiB",
        c.cpu_seconds,
        c.wall_seconds,
        c.tokens_seen,
        c.peak_rss_bytes as f64 / (1 << 20) as f64
    );
}

use super::print_json;
use crate::args::{
    AlgorithmKind, BaselineArgs, GlmArgs, MemoryArgs, NgramArgs, RecipeArgs, SmoothingKind,
    TokenizerArgs,
};
use crate::progress::spinner;
use clap::ValueEnum;
use lmlab_baseline::Smoothing;
use lmlab_core::compute::ComputeRecord;
use lmlab_lab::recipe::{BaselineChoice, ModelChoice, Recipe, TokenizerChoice};
use lmlab_lab::run::{evaluate_run, train, Data, RunOptions, RunRecord};
use lmlab_memory::{feature_order_text, Algorithm, MemoryModel, MemoryOptions};
use lmlab_ngram::glm::GlmOptions;
use lmlab_ngram::{NgramOptions, DEFAULT_FALLBACK};
use std::path::Path;

pub fn baseline(args: BaselineArgs) -> anyhow::Result<()> {
    let smoothing = match args.smoothing {
        SmoothingKind::WittenBell => Smoothing::WittenBell,
        SmoothingKind::AddK => Smoothing::AddK { k: args.k },
    };
    let recipe = Recipe {
        tokenizer: tokenizer_choice(&args.tokenizer)?,
        sequences: args.sequences.sequences.unwrap_or_default(),
        ..Recipe::new(ModelChoice::Baseline(BaselineChoice { smoothing }))
    };
    let record = train_file(&recipe, &args.input, &args.output, "training baseline")?;
    report(&args.output, &record.compute, args.json)
}

/// `--discount-fallback` as given: absent, bare (KenLM's values) or three values.
fn discount_fallback(values: Option<&[f64]>) -> anyhow::Result<Option<[f64; 3]>> {
    Ok(match values {
        None => None,
        Some([]) => Some(DEFAULT_FALLBACK),
        Some(&[d1, d2, d3]) => Some([d1, d2, d3]),
        Some(other) => anyhow::bail!(
            "--discount-fallback takes no values (KenLM's 0.5 1 1.5) or three (D1 D2 D3+), got {}",
            other.len()
        ),
    })
}

pub fn ngram(args: NgramArgs) -> anyhow::Result<()> {
    let discount_fallback = discount_fallback(args.discount_fallback.as_deref())?;
    let recipe = Recipe {
        tokenizer: tokenizer_choice(&args.tokenizer)?,
        sequences: args.sequences.sequences.unwrap_or_default(),
        ..Recipe::new(ModelChoice::Ngram(NgramOptions {
            order: args.order as usize,
            discount_fallback,
            prune: args.prune.clone(),
            memory: args.memory,
            temp_dir: args.temp.clone(),
        }))
    };
    let what = format!("training {}-gram model", args.order);
    let record = train_file(&recipe, &args.input, &args.output, &what)?;
    for warning in &record.warnings {
        eprintln!("warning: {warning}");
    }
    report(&args.output, &record.compute, args.json)
}

pub fn glm(args: GlmArgs) -> anyhow::Result<()> {
    let options = GlmOptions {
        order: args.order as usize,
        skips: args.skips.parse()?,
        discount_fallback: discount_fallback(args.discount_fallback.as_deref())?,
        memory: args.memory,
        temp_dir: args.temp.clone(),
    };
    let recipe = Recipe {
        tokenizer: tokenizer_choice(&args.tokenizer)?,
        sequences: args.sequences.sequences.unwrap_or_default(),
        ..Recipe::new(ModelChoice::Glm(options))
    };
    let what = format!("training GLM order {}", args.order);
    let record = train_file(&recipe, &args.input, &args.output, &what)?;
    for warning in &record.warnings {
        eprintln!("warning: {warning}");
    }
    report(&args.output, &record.compute, args.json)
}

pub fn memory(args: MemoryArgs) -> anyhow::Result<()> {
    let options = MemoryOptions {
        algorithm: match args.algorithm {
            AlgorithmKind::Igtree => Algorithm::IgTree,
            AlgorithmKind::Tribl2 => Algorithm::Tribl2,
        },
        context: args.context as usize,
        prune: args.prune,
    };
    let what = format!("training {} (K = {})", options.algorithm, args.context);
    let recipe = Recipe {
        tokenizer: tokenizer_choice(&args.tokenizer)?,
        sequences: args.sequences.sequences.unwrap_or_default(),
        ..Recipe::new(ModelChoice::Memory(options))
    };
    let record = train_file(&recipe, &args.input, &args.output, &what)?;
    if !args.json {
        let model = MemoryModel::load(&args.output)?;
        println!(
            "feature order: {}",
            feature_order_text(&model.feature_order())
        );
    }
    report(&args.output, &record.compute, args.json)
}

/// `lmlab train --recipe`: any family from a recipe file; evaluated on the valid and test texts
/// given.
pub fn recipe(args: RecipeArgs) -> anyhow::Result<()> {
    let recipe = Recipe::load(&args.recipe)?;
    let data = Data {
        train: args.train.clone(),
        valid: args.valid.clone(),
        test: args.test.clone(),
    };
    let options = RunOptions {
        resume: args.resume,
        force: args.force,
        checkpoint_on_interrupt: true,
        log_interval: 10,
        ..RunOptions::default()
    };
    let spin = spinner(&format!("training {}", recipe.describe()));
    let mut record = train(&recipe, &data, &args.output, &options, &mut |_| {})?;
    spin.finish_and_clear();
    if data.valid.is_some() || data.test.is_some() {
        let spin = spinner("evaluating");
        evaluate_run(&mut record, &data, None)?;
        spin.finish_and_clear();
    }
    for warning in &record.warnings {
        eprintln!("warning: {warning}");
    }
    if args.json {
        return print_json(&record);
    }
    report(&args.output, &record.compute, false)?;
    for (split, e) in &record.eval {
        println!(
            "{split}: {} tokens, perplexity {:.3}, {:.4} bits/byte, word perplexity {:.3}",
            e.tokens, e.perplexity, e.bits_per_byte, e.word_perplexity
        );
    }
    Ok(())
}

/// Trains a recipe of a file-based family on one text file.
fn train_file(
    recipe: &Recipe,
    input: &Path,
    output: &Path,
    what: &str,
) -> anyhow::Result<RunRecord> {
    let data = Data {
        train: input.to_path_buf(),
        ..Data::default()
    };
    let spin = spinner(what);
    let record = train(recipe, &data, output, &RunOptions::default(), &mut |_| {})?;
    spin.finish_and_clear();
    Ok(record)
}

/// The tokenizer the arguments choose.
pub fn tokenizer_choice(args: &TokenizerArgs) -> anyhow::Result<TokenizerChoice> {
    if let Some(path) = &args.tokenizer_file {
        return Ok(TokenizerChoice::File { path: path.clone() });
    }
    let kind = args
        .tokenizer
        .to_possible_value()
        .expect("no skipped kinds");
    let vocab_size = args.vocab_size.or(args.max_words).map(|n| n as usize);
    Ok(TokenizerChoice::for_kind(
        kind.get_name(),
        vocab_size,
        args.min_count,
    )?)
}

pub fn report(output: &Path, c: &ComputeRecord, json: bool) -> anyhow::Result<()> {
    if json {
        return print_json(c);
    }
    println!(
        "wrote {}: {} entries, {} tokens, {:.3} CPU-s ({:.3} s wall), peak RSS {:.1} MiB",
        output.display(),
        c.parameters,
        c.tokens_seen,
        c.cpu_seconds,
        c.wall_seconds,
        c.peak_rss_bytes as f64 / (1 << 20) as f64
    );
    Ok(())
}

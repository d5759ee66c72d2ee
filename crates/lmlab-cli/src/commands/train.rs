use super::print_json;
use crate::args::{
    AlgorithmKind, BaselineArgs, MemoryArgs, NgramArgs, SmoothingKind, TokenizerArgs, TokenizerKind,
};
use crate::progress::spinner;
use lmlab_baseline::Smoothing;
use lmlab_core::compute::ComputeRecord;
use lmlab_core::Corpus;
use lmlab_lab::training::{
    train_baseline, train_memory, train_ngram_to_file, BaselineRun, MemoryRun, NgramRun,
    TokenizerChoice,
};
use lmlab_memory::{feature_order_text, Algorithm, MemoryOptions};
use lmlab_ngram::{NgramOptions, DEFAULT_FALLBACK};
use lmlab_tokenize::{BpeTrainer, CharsTrainer, PreTokenizerPattern, WordsTrainer};
use std::path::Path;

pub fn baseline(args: BaselineArgs) -> anyhow::Result<()> {
    let corpus = Corpus::open(&args.input)?;
    let run = BaselineRun {
        tokenizer: tokenizer_choice(&args.tokenizer),
        smoothing: match args.smoothing {
            SmoothingKind::WittenBell => Smoothing::WittenBell,
            SmoothingKind::AddK => Smoothing::AddK { k: args.k },
        },
        sequences: args.sequences.sequences.unwrap_or_default(),
    };
    let spin = spinner("training baseline");
    let trained = train_baseline(&corpus, &run)?;
    trained
        .model
        .save(&args.output, trained.provenance.clone())?;
    spin.finish_and_clear();
    report(&args.output, &trained.compute, args.json)
}

pub fn ngram(args: NgramArgs) -> anyhow::Result<()> {
    let corpus = Corpus::open(&args.input)?;
    let discount_fallback = match args.discount_fallback.as_deref() {
        None => None,
        Some([]) => Some(DEFAULT_FALLBACK),
        Some(&[d1, d2, d3]) => Some([d1, d2, d3]),
        Some(other) => anyhow::bail!(
            "--discount-fallback takes no values (KenLM's 0.5 1 1.5) or three (D1 D2 D3+), got {}",
            other.len()
        ),
    };
    let run = NgramRun {
        tokenizer: tokenizer_choice(&args.tokenizer),
        options: NgramOptions {
            order: args.order as usize,
            discount_fallback,
            prune: args.prune.clone(),
            memory: args.memory,
            temp_dir: args.temp.clone(),
        },
        sequences: args.sequences.sequences.unwrap_or_default(),
    };
    let spin = spinner(&format!("training {}-gram model", args.order));
    let trained = train_ngram_to_file(&corpus, &run, &args.output)?;
    spin.finish_and_clear();
    for warning in &trained.summary.warnings {
        eprintln!("warning: {warning}");
    }
    report(&args.output, &trained.compute, args.json)
}

pub fn memory(args: MemoryArgs) -> anyhow::Result<()> {
    let corpus = Corpus::open(&args.input)?;
    let run = MemoryRun {
        tokenizer: tokenizer_choice(&args.tokenizer),
        options: MemoryOptions {
            algorithm: match args.algorithm {
                AlgorithmKind::Igtree => Algorithm::IgTree,
                AlgorithmKind::Tribl2 => Algorithm::Tribl2,
            },
            context: args.context as usize,
            prune: args.prune,
        },
        sequences: args.sequences.sequences.unwrap_or_default(),
    };
    let spin = spinner(&format!(
        "training {} (K = {})",
        run.options.algorithm, args.context
    ));
    let trained = train_memory(&corpus, &run)?;
    trained
        .model
        .save(&args.output, trained.provenance.clone())?;
    spin.finish_and_clear();
    if !args.json {
        println!(
            "feature order: {}",
            feature_order_text(&trained.model.feature_order())
        );
    }
    report(&args.output, &trained.compute, args.json)
}

fn tokenizer_choice(args: &TokenizerArgs) -> TokenizerChoice {
    match &args.tokenizer_file {
        Some(path) => TokenizerChoice::File(path.clone()),
        None => choice_for_kind(
            args.tokenizer,
            Some(args.vocab_size),
            args.max_words,
            args.min_count,
            TokenizerOptions::default(),
        ),
    }
}

/// Options only some tokenizer kinds take.
#[derive(Default)]
pub struct TokenizerOptions {
    pub pattern: Option<PreTokenizerPattern>,
    pub specials: Vec<String>,
    pub nfc: bool,
}

/// The tokenizer to learn for `kind`: `vocab_size` is the BPE size, `limit` the most entries a
/// words or chars vocabulary keeps, `min_count` the smallest count kept.
pub fn choice_for_kind(
    kind: TokenizerKind,
    vocab_size: Option<u64>,
    limit: Option<u64>,
    min_count: u64,
    options: TokenizerOptions,
) -> TokenizerChoice {
    let limit = limit.map(|n| n as usize);
    match kind {
        TokenizerKind::Bytes => TokenizerChoice::Bytes,
        TokenizerKind::Words => TokenizerChoice::Words(WordsTrainer {
            max_words: limit,
            min_count,
        }),
        TokenizerKind::Chars => TokenizerChoice::Chars(CharsTrainer {
            max_chars: limit,
            min_count,
            nfc: options.nfc,
            specials: options.specials,
        }),
        TokenizerKind::Bpe | TokenizerKind::ScaffoldBpe => TokenizerChoice::Bpe(BpeTrainer {
            vocab_size: vocab_size.unwrap_or(4096) as usize,
            min_frequency: min_count,
            pattern: options.pattern.unwrap_or(PreTokenizerPattern::Gpt2),
            specials: options.specials,
            scaffold: kind == TokenizerKind::ScaffoldBpe,
        }),
    }
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

use super::print_json;
use crate::args::{BaselineArgs, SmoothingKind, TokenizerKind};
use crate::progress::spinner;
use lmlab_baseline::Smoothing;
use lmlab_core::Corpus;
use lmlab_lab::training::{train_baseline, BaselineRun, TokenizerChoice};
use lmlab_tokenize::WordsTrainer;

pub fn baseline(args: BaselineArgs) -> anyhow::Result<()> {
    let corpus = Corpus::open(&args.input)?;
    let tokenizer = match (&args.tokenizer_file, args.tokenizer) {
        (Some(path), _) => TokenizerChoice::File(path.clone()),
        (None, TokenizerKind::Bytes) => TokenizerChoice::Bytes,
        (None, TokenizerKind::Words) => TokenizerChoice::Words(WordsTrainer {
            max_words: args.max_words.map(|n| n as usize),
            min_count: args.min_count,
        }),
    };
    let run = BaselineRun {
        tokenizer,
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
    if args.json {
        return print_json(&trained.compute);
    }
    let c = &trained.compute;
    println!(
        "wrote {}: {} entries, {} tokens, {:.3} CPU-s ({:.3} s wall), peak RSS {:.1} MiB",
        args.output.display(),
        c.parameters,
        c.tokens_seen,
        c.cpu_seconds,
        c.wall_seconds,
        c.peak_rss_bytes as f64 / (1 << 20) as f64
    );
    Ok(())
}

use super::print_json;
use crate::args::{
    DecodeArgs, EncodeArgs, ExportHfArgs, PatternKind, StatsArgs, TokenizerTrainArgs,
};
use crate::progress::bar;
use clap::ValueEnum;
use lmlab_core::atomic::write_bytes_atomically;
use lmlab_core::corpus::{lines_of, read_text_file, Corpus};
use lmlab_core::TokenId;
use lmlab_lab::recipe::TokenizerChoice;
use lmlab_lab::run::{build_tokenizer, RunEvent};
use lmlab_lab::tokenizer_stats::tokenizer_stats;
use lmlab_lab::training::load_tokenizer;
use lmlab_tokenize::bpe::hf_export::export_hugging_face;
use lmlab_tokenize::save_tokenizer_file;
use lmlab_tokenize::PreTokenizerPattern;

pub fn train(args: TokenizerTrainArgs) -> anyhow::Result<()> {
    let corpora = args
        .input
        .iter()
        .map(|p| Corpus::open(p))
        .collect::<Result<Vec<_>, _>>()?;
    let texts: Vec<&str> = corpora.iter().map(Corpus::text).collect();
    let kind = args.kind.to_possible_value().expect("no skipped kinds");
    let choice = TokenizerChoice::for_kind(
        kind.get_name(),
        args.vocab_size.map(|n| n as usize),
        args.min_frequency,
    )?
    .with_extras(
        match args.pattern {
            PatternKind::Gpt2 => PreTokenizerPattern::Gpt2,
            PatternKind::Cl100k => PreTokenizerPattern::Cl100k,
        },
        &args.specials,
        args.nfc,
    );
    let progress = bar(1, "learning merges");
    let tokenizer = build_tokenizer(&choice, &texts, &mut |event| {
        if let RunEvent::Tokenizer { done, total } = event {
            progress.set_length(total as u64);
            progress.set_position(done as u64);
        }
    })?;
    progress.finish_and_clear();
    save_tokenizer_file(tokenizer.as_ref(), &args.output)?;
    if args.json {
        return print_json(&serde_json::json!({
            "path": args.output,
            "kind": tokenizer.kind(),
            "vocab_size": tokenizer.vocab().len(),
            "fingerprint": tokenizer.fingerprint(),
        }));
    }
    println!(
        "wrote {}: {} tokenizer, {} tokens (specials included), fingerprint {}",
        args.output.display(),
        tokenizer.kind(),
        tokenizer.vocab().len(),
        tokenizer.fingerprint()
    );
    Ok(())
}

pub fn encode(args: EncodeArgs) -> anyhow::Result<()> {
    let tokenizer = load_tokenizer(&args.tokenizer, args.allow_special)?;
    let text = match (&args.text, &args.input) {
        (Some(text), _) => text.clone(),
        (None, Some(path)) => read_text_file(path)?,
        (None, None) => unreachable!("clap requires --text or --input"),
    };
    if args.json {
        let lines: Vec<serde_json::Value> = lines_of(&text)
            .map(|line| {
                let ids = tokenizer.encode(line);
                let tokens: Vec<&str> = ids.iter().map(|&id| tokenizer.vocab().token(id)).collect();
                serde_json::json!({"text": line, "ids": ids, "tokens": tokens})
            })
            .collect();
        return print_json(&lines);
    }
    for line in lines_of(&text) {
        let ids: Vec<String> = tokenizer.encode(line).iter().map(u32::to_string).collect();
        println!("{}", ids.join(" "));
    }
    Ok(())
}

pub fn decode(args: DecodeArgs) -> anyhow::Result<()> {
    let tokenizer = load_tokenizer(&args.tokenizer, false)?;
    let size = tokenizer.vocab().len();
    let ids = args
        .ids
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|s| !s.is_empty())
        .map(|s| match s.parse::<TokenId>() {
            Ok(id) if (id as usize) < size => Ok(id),
            _ => Err(anyhow::anyhow!(
                "'{s}' is not a token id of this tokenizer (0 to {})",
                size - 1
            )),
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    println!("{}", tokenizer.decode(&ids));
    Ok(())
}

pub fn stats(args: StatsArgs) -> anyhow::Result<()> {
    let tokenizer = load_tokenizer(&args.tokenizer, false)?;
    let corpus = Corpus::open(&args.input)?;
    let stats = tokenizer_stats(tokenizer.as_ref(), corpus.text());
    if args.json {
        return print_json(&stats);
    }
    println!(
        "tokenizer        {} ({} tokens)",
        stats.kind, stats.vocab_size
    );
    println!(
        "text             {} bytes, {} words",
        stats.bytes, stats.words
    );
    println!("tokens           {} ({} unknown)", stats.tokens, stats.oov);
    println!("bytes per token  {:.4}", stats.bytes_per_token);
    println!("tokens per word  {:.4}", stats.tokens_per_word);
    println!(
        "vocabulary used  {:.2}% ({} unused)",
        stats.utilisation * 100.0,
        stats.unused_count
    );
    if !stats.unused.is_empty() {
        println!("first unused     {}", stats.unused.join(" "));
    }
    Ok(())
}

pub fn export_hf(args: ExportHfArgs) -> anyhow::Result<()> {
    let tokenizer = load_tokenizer(&args.tokenizer, false)?;
    let hf = export_hugging_face(&tokenizer.to_json(), args.expanded_scaffold)?;
    write_bytes_atomically(&args.output, &serde_json::to_vec_pretty(&hf)?)?;
    println!("wrote {}", args.output.display());
    Ok(())
}

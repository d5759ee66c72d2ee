//! Prints the merges of BPE trained on a file as JSON (`[["Ġ", "t"], ...]`; with `scaffold`,
//! `{"merges": ..., "scaffold": [...]}`), for comparison with other trainers:
//! `bpe_merges FILE VOCAB [gpt2|cl100k] [scaffold] [--save TOK.json]`; `--save` also writes the
//! trained tokenizer in lmlab's JSON format (for `bpe_encode`).

use lmlab_tokenize::bpe::{BpeTrainer, PreTokenizerPattern};
use lmlab_tokenize::Tokenizer;

fn main() {
    let mut args: Vec<String> = std::env::args().collect();
    let save = match args.iter().position(|a| a == "--save") {
        Some(i) if i + 1 < args.len() => {
            let path = args.remove(i + 1);
            args.remove(i);
            Some(path)
        }
        Some(_) => {
            eprintln!("--save needs a path");
            std::process::exit(2);
        }
        None => None,
    };
    if args.len() < 3 {
        eprintln!("usage: bpe_merges FILE VOCAB [gpt2|cl100k] [scaffold] [--save TOK.json]");
        std::process::exit(2);
    }
    let text = std::fs::read_to_string(&args[1]).expect("input file");
    let pattern = PreTokenizerPattern::from_name(args.get(3).map_or("gpt2", String::as_str))
        .expect("pattern");
    let tok = BpeTrainer {
        vocab_size: args[2].parse().expect("vocab size"),
        pattern,
        scaffold: args.iter().any(|a| a == "scaffold"),
        ..BpeTrainer::default()
    }
    .train(&[&text])
    .expect("training");
    if let Some(path) = save {
        std::fs::write(&path, tok.to_json().to_string()).expect("writing the tokenizer");
    }
    let merges: Vec<[String; 2]> = tok.merges().into_iter().map(|(a, b)| [a, b]).collect();
    if tok.is_scaffold() {
        let out = serde_json::json!({"merges": merges, "scaffold": tok.scaffold_tokens()});
        println!("{out}");
    } else {
        println!("{}", serde_json::to_string(&merges).unwrap());
    }
}

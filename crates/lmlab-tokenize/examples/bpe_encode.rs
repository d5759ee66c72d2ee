//! Encoding speed of a saved lmlab tokenizer in a fresh process (cold caches), on a text file split
//! into lines (each encoded without its `\n`, as Hugging Face's `encode_batch` gets them in
//! `bench/tokenizers_vs_hf.sh`):
//! `bpe_encode TOK.json TEXT.txt single` encodes line by line on this thread with `encode_into`;
//! `bpe_encode TOK.json TEXT.txt batch N` encodes all lines with `bpe::encode_batch` on N threads.
//! Prints one line: `bytes=… tokens=… cpu_s=… wall_s=…` (CPU seconds of the whole process, all
//! threads, user + system, over the encoding only; the file is read and the tokenizer loaded first).

use lmlab_core::compute::process_cpu_seconds as cpu_seconds;
use lmlab_tokenize::load_tokenizer_file;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: bpe_encode TOK.json TEXT.txt single|batch N";
    if args.len() < 4 {
        eprintln!("{usage}");
        std::process::exit(2);
    }
    let tok = load_tokenizer_file(args[1].as_ref()).expect("tokenizer file");
    let text = std::fs::read_to_string(&args[2]).expect("text file");
    let lines: Vec<&str> = text.split('\n').collect();
    let start = Instant::now();
    let cpu = cpu_seconds();
    let tokens: usize = match (args[3].as_str(), args.get(4)) {
        ("single", None) => {
            let mut ids = Vec::new();
            let mut n = 0;
            for line in &lines {
                ids.clear();
                tok.encode_into(line, &mut ids);
                n += ids.len();
            }
            n
        }
        ("batch", Some(threads)) => {
            let threads: usize = threads.parse().expect("thread count");
            let ids = lmlab_tokenize::bpe::encode_batch(tok.as_ref(), &lines, threads);
            ids.iter().map(Vec::len).sum()
        }
        _ => {
            eprintln!("{usage}");
            std::process::exit(2);
        }
    };
    let wall = start.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu;
    println!(
        "bytes={} tokens={tokens} cpu_s={cpu:.4} wall_s={wall:.4}",
        text.len()
    );
}

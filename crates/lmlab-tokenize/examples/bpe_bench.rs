//! Measures BPE training and encoding speed (single thread):
//! `cargo run --release -p lmlab-tokenize --example bpe_bench -- TRAIN.txt VOCAB ENCODE.txt [scaffold]`.
//! Prints training seconds, encoding MB/s with a cold and a warm cache, and pre-tokenization MB/s
//! of the hand-written scanner against `fancy-regex` on the same text.

use lmlab_core::compute::process_cpu_seconds as cpu_seconds;
use lmlab_tokenize::bpe::{BpeTrainer, PreTokenizerPattern};
use lmlab_tokenize::Tokenizer;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 4 {
        eprintln!("usage: bpe_bench TRAIN.txt VOCAB ENCODE.txt [scaffold] [cl100k]");
        std::process::exit(2);
    }
    let train = std::fs::read_to_string(&args[1]).expect("training file");
    let vocab: usize = args[2].parse().expect("vocab size");
    let text = std::fs::read_to_string(&args[3]).expect("encode file");
    let scaffold = args.iter().any(|a| a == "scaffold");
    let pattern = if args.iter().any(|a| a == "cl100k") {
        PreTokenizerPattern::Cl100k
    } else {
        PreTokenizerPattern::Gpt2
    };
    let mb = text.len() as f64 / 1e6;

    let start = Instant::now();
    let cpu = cpu_seconds();
    let tok = BpeTrainer {
        vocab_size: vocab,
        scaffold,
        pattern,
        ..BpeTrainer::default()
    }
    .train(&[&train])
    .expect("training");
    println!(
        "train: {:.1} MB, vocab {vocab}, {} merges, {:.3} s wall, {:.3} CPU-s",
        train.len() as f64 / 1e6,
        tok.merges().len(),
        start.elapsed().as_secs_f64(),
        cpu_seconds() - cpu
    );

    for round in ["cold", "warm"] {
        let start = Instant::now();
        let cpu = cpu_seconds();
        let mut ids = Vec::new();
        for line in text.split('\n') {
            tok.encode_into(line, &mut ids);
        }
        let secs = start.elapsed().as_secs_f64();
        let cpu = cpu_seconds() - cpu;
        println!(
            "encode ({round} cache): {mb:.1} MB, {} tokens, {secs:.3} s, {:.1} MB/s wall, \
             {:.1} MB per CPU-s",
            ids.len(),
            mb / secs,
            mb / cpu
        );
    }

    let lines: Vec<&str> = text.split('\n').collect();
    for threads in [1, 2, 4] {
        let fresh = tok.clone();
        let start = Instant::now();
        let cpu = cpu_seconds();
        let ids = lmlab_tokenize::bpe::encode_batch(&fresh, &lines, threads);
        let secs = start.elapsed().as_secs_f64();
        let cpu = cpu_seconds() - cpu;
        let n: usize = ids.iter().map(Vec::len).sum();
        println!(
            "encode_batch ({threads} threads, cold caches): {n} tokens, {:.1} MB/s wall, \
             {:.1} MB per CPU-s",
            mb / secs,
            mb / cpu
        );
    }

    let start = Instant::now();
    let mut n = 0usize;
    for line in text.split_inclusive('\n') {
        pattern.split(line, |_| n += 1);
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "pre-tokenize (hand-written): {n} pieces, {:.1} MB/s",
        mb / secs
    );
    let re = fancy_regex::Regex::new(pattern.regex()).unwrap();
    let start = Instant::now();
    let mut m = 0usize;
    for line in text.split_inclusive('\n') {
        m += re.find_iter(line).count();
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "pre-tokenize (fancy-regex): {m} pieces, {:.1} MB/s",
        mb / secs
    );
}

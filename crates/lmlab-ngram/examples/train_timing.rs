//! Times training and querying on a text file: `cargo run --release -p lmlab-ngram --example
//! train_timing -- TRAIN ORDER [TEST]` (`WRITE_ARPA=FILE` also times ARPA export,
//! `DUMP_TOKENS=FILE` writes the log10 probability of every TEST token, `NO_SAVE=1` stops after
//! training). `<unk>` is rewritten to `<oov>` (KenLM's convention) so the
//! figures compare with lmplz's. A timing aid, not a benchmark.

use lmlab_core::model::encode_corpus;
use lmlab_core::{LanguageModel, SequenceMode};
use lmlab_ngram::{train, NgramOptions};
use lmlab_tokenize::WordsTrainer;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let text = std::fs::read_to_string(&args[1])
        .unwrap()
        .replace("<unk>", "<oov>");
    let order: usize = args[2].parse().unwrap();
    let cpu = lmlab_core::compute::process_cpu_seconds;
    let start = Instant::now();
    let tokenizer = WordsTrainer::default().train(&text).unwrap();
    let sequences = encode_corpus(&tokenizer, &text, SequenceMode::Line);
    let tokenized = start.elapsed();
    let cpu_start = cpu();
    let model = train(
        &sequences,
        Box::new(tokenizer),
        &NgramOptions::with_order(order),
    )
    .unwrap();
    let trained = start.elapsed();
    eprintln!(
        "tokenize {:.3}s, estimate {:.3}s wall / {:.3} CPU-s, n-grams {:?}",
        tokenized.as_secs_f64(),
        (trained - tokenized).as_secs_f64(),
        cpu() - cpu_start,
        model.ngram_counts()
    );
    if std::env::var_os("NO_SAVE").is_some() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("lmlab-ngram-timing-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("model.lmlab");
    let provenance = lmlab_core::model_file::Provenance {
        corpus_sha256: String::new(),
        corpus_name: args[1].clone(),
        sequences: SequenceMode::Line,
        options: serde_json::json!({ "order": order }),
        seed: None,
        lmlab_version: lmlab_core::LMLAB_VERSION.into(),
    };
    let start = Instant::now();
    model.save(&path, provenance).unwrap();
    let saved = start.elapsed();
    drop(model);
    let start = Instant::now();
    let model = lmlab_ngram::NgramModel::load(&path).unwrap();
    eprintln!(
        "save {:.3}s, load {:.3}s, file {} bytes",
        saved.as_secs_f64(),
        start.elapsed().as_secs_f64(),
        std::fs::metadata(&path).unwrap().len()
    );
    if let Some(arpa) = std::env::var_os("WRITE_ARPA") {
        let start = Instant::now();
        lmlab_ngram::arpa::write_arpa(&model, std::path::Path::new(&arpa)).unwrap();
        eprintln!("write ARPA {:.3}s", start.elapsed().as_secs_f64());
    }
    std::fs::remove_dir_all(&dir).unwrap();
    if let Some(test) = args.get(3) {
        let text = std::fs::read_to_string(test)
            .unwrap()
            .replace("<unk>", "<oov>");
        let sequences = encode_corpus(model.tokenizer(), &text, SequenceMode::Line);
        let start = Instant::now();
        let cpu_start = cpu();
        if let Some(dump) = std::env::var_os("DUMP_TOKENS") {
            use std::io::Write;
            let mut out = std::io::BufWriter::new(std::fs::File::create(dump).unwrap());
            let mut scorer = model.ngram_scorer();
            for s in &sequences {
                scorer.reset();
                for &id in &s.ids {
                    writeln!(out, "{}", scorer.score_next_log10(id)).unwrap();
                }
            }
        }
        let mut tokens = 0usize;
        let mut sum = 0f64;
        for _ in 0..10 {
            let mut scorer = model.ngram_scorer();
            for s in &sequences {
                scorer.reset();
                for &id in &s.ids {
                    sum += scorer.score_next_log10(id) as f64;
                    tokens += 1;
                }
            }
        }
        let secs = start.elapsed().as_secs_f64();
        let cpu_secs = cpu() - cpu_start;
        eprintln!(
            "query: {tokens} tokens in {secs:.3}s wall / {cpu_secs:.3} CPU-s = {:.2}M tokens per \
             CPU-s, perplexity {:.4}",
            tokens as f64 / cpu_secs / 1e6,
            10f64.powf(-sum / tokens as f64)
        );
    }
}

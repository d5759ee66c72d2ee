//! Trains and/or runs a memory model on word-level text in stream mode (PTB / OLIFANT convention:
//! `</s>` after every line, context crossing lines), for `bench/memory_vs_timbl.sh`.
//!
//! ```text
//! memory_bench train --train ptb.train.txt --context 4 --algorithm igtree --model m.lmlab [--prune]
//! memory_bench test  --model m.lmlab --test ptb.test.txt [--out predictions.txt] [--gold timbl.pred]
//! ```
//! `train` prints the feature order and seconds; `test` prints accuracy, instances per second and,
//! with `--gold`, agreement with another classifier's predictions (one token per line, `<eos>` read
//! as `</s>`).

use lmlab_core::model::encode_corpus;
use lmlab_core::model_file::Provenance;
use lmlab_core::{LanguageModel, SequenceMode};
use lmlab_memory::{train, Algorithm, MemoryModel, MemoryOptions};
use lmlab_tokenize::WordsTrainer;
use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mode = args.first().cloned().unwrap_or_default();
    let mut opts: HashMap<String, String> = HashMap::new();
    let mut i = 1;
    while i < args.len() {
        let key = args[i].trim_start_matches("--").to_string();
        if ["prune", "perplexity", "show"].contains(&key.as_str()) {
            opts.insert(key, "1".into());
            i += 1;
        } else {
            let value = args.get(i + 1).ok_or(format!("--{key} needs a value"))?;
            opts.insert(key, value.clone());
            i += 2;
        }
    }
    let get = |k: &str| opts.get(k).cloned().ok_or(format!("--{k} is required"));
    match mode.as_str() {
        "train" => {
            let start = Instant::now();
            let text = std::fs::read_to_string(get("train")?)?;
            let tokenizer = WordsTrainer::default().train(&text)?;
            let sequences = encode_corpus(&tokenizer, &text, SequenceMode::Stream);
            let options = MemoryOptions {
                algorithm: get("algorithm")?.parse::<Algorithm>()?,
                context: get("context")?.parse()?,
                prune: opts.contains_key("prune"),
            };
            let model = train(&sequences, Box::new(tokenizer), options.clone())?;
            let trained = start.elapsed().as_secs_f64();
            let provenance = Provenance {
                corpus_sha256: String::new(),
                corpus_name: get("train")?,
                sequences: SequenceMode::Stream,
                options: serde_json::to_value(&options)?,
                seed: None,
                lmlab_version: lmlab_core::LMLAB_VERSION.into(),
            };
            let path = PathBuf::from(get("model")?);
            model.save(&path, provenance)?;
            println!(
                "trained {} instances in {trained:.3} s, saved in {:.3} s total; feature order {:?} \
                 (gain ratios {:?}); {} bytes",
                model.instance_count(),
                start.elapsed().as_secs_f64(),
                model.feature_order(),
                model.feature_weights(),
                std::fs::metadata(&path)?.len()
            );
        }
        "test" => {
            let start = Instant::now();
            let model = MemoryModel::load(&PathBuf::from(get("model")?))?;
            let loaded = start.elapsed().as_secs_f64();
            let text = std::fs::read_to_string(get("test")?)?;
            let tokenizer = model.tokenizer();
            let sequences = encode_corpus(tokenizer, &text, SequenceMode::Stream);
            let classify = Instant::now();
            let mut predicted = Vec::new();
            let mut gold = Vec::new();
            for s in &sequences {
                predicted.extend(model.predictions(&s.ids));
                gold.extend_from_slice(&s.ids);
            }
            let seconds = classify.elapsed().as_secs_f64();
            let vocab = tokenizer.vocab();
            if let Ok(out) = get("out") {
                let mut w = std::io::BufWriter::new(std::fs::File::create(out)?);
                for &p in &predicted {
                    writeln!(w, "{}", vocab.token(p))?;
                }
            }
            let correct = predicted.iter().zip(&gold).filter(|(a, b)| a == b).count();
            println!(
                "loaded in {loaded:.3} s; classified {} instances in {seconds:.3} s ({:.0}/s); \
                 accuracy {:.6} ({correct}/{}); total {:.3} s",
                predicted.len(),
                predicted.len() as f64 / seconds,
                correct as f64 / predicted.len() as f64,
                predicted.len(),
                start.elapsed().as_secs_f64()
            );
            if let Ok(path) = get("gold") {
                let theirs = std::fs::read_to_string(path)?;
                let theirs: Vec<&str> = theirs.lines().collect();
                let mut agree = 0;
                for (k, (&p, t)) in predicted.iter().zip(&theirs).enumerate() {
                    let t = if *t == "<eos>" { "</s>" } else { t };
                    if vocab.token(p) == t {
                        agree += 1;
                    } else if opts.contains_key("show") {
                        eprintln!("{k}: ours {} theirs {t}", vocab.token(p));
                    }
                }
                println!(
                    "agreement {:.6} ({agree}/{})",
                    agree as f64 / theirs.len() as f64,
                    theirs.len()
                );
            }
            if opts.contains_key("perplexity") {
                let mut sum = 0.0;
                let mut n = 0usize;
                for s in &sequences {
                    let lp = model.log_probs(&s.ids);
                    sum += lp.iter().sum::<f64>();
                    n += lp.len();
                }
                println!("perplexity {:.3} over {n} tokens", (-sum / n as f64).exp());
            }
        }
        _ => return Err("usage: memory_bench train|test --option value ...".into()),
    }
    Ok(())
}

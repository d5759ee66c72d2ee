use super::print_json;
use crate::args::GenerateArgs;
use lmlab_core::sampling::{generate_samples, SamplingOptions};
use lmlab_lab::registry::load;

pub fn run(args: GenerateArgs) -> anyhow::Result<()> {
    let loaded = load(&args.model)?;
    let stop_at_eos = loaded.sampling_stops_at_eos(args.ignore_eos);
    let model = loaded.model;
    let tokenizer = model.tokenizer();
    let prompt = tokenizer.encode(&args.prompt);
    let options = SamplingOptions {
        seed: args.seed,
        max_tokens: args.max_tokens as usize,
        temperature: if args.greedy { 0.0 } else { args.temperature },
        top_k: args.top_k,
        top_p: args.top_p,
        stop_at_eos,
        raw_bytes: args.raw_bytes,
    };
    let samples = generate_samples(model.as_ref(), &prompt, &options, args.num_samples as usize)?;
    let texts: Vec<String> = samples
        .iter()
        .map(|ids| tokenizer.decode(&[prompt.as_slice(), ids].concat()))
        .collect();
    if args.json {
        let samples: Vec<serde_json::Value> = samples
            .iter()
            .zip(&texts)
            .zip(0u64..)
            .map(|((ids, text), i)| {
                serde_json::json!({
                    "seed": options.seed.wrapping_add(i),
                    "text": text,
                    "ids": ids,
                })
            })
            .collect();
        return print_json(&serde_json::json!({
            "model": args.model,
            "prompt": args.prompt,
            "prompt_ids": prompt,
            "greedy": options.is_greedy(),
            "temperature": options.temperature,
            "top_k": options.top_k,
            "top_p": options.top_p,
            "stop_at_eos": options.stop_at_eos,
            "samples": samples,
        }));
    }
    for (i, text) in texts.iter().enumerate() {
        if i > 0 {
            println!("---------------");
        }
        println!("{text}");
    }
    Ok(())
}

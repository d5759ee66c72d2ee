use crate::args::GenerateArgs;
use lmlab_core::sampling::{generate, SamplingOptions};
use lmlab_core::SequenceMode;
use lmlab_lab::registry::load;

pub fn run(args: GenerateArgs) -> anyhow::Result<()> {
    let loaded = load(&args.model)?;
    let model = loaded.model;
    let tokenizer = model.tokenizer();
    let prompt = tokenizer.encode(&args.prompt);
    let options = SamplingOptions {
        seed: args.seed,
        max_tokens: args.max_tokens as usize,
        temperature: args.temperature,
        top_k: args.top_k,
        top_p: args.top_p,
        // A model trained on a stream ends lines, not texts, with `</s>`: keep going across lines.
        stop_at_eos: loaded.sequences != SequenceMode::Stream,
    };
    let generated = generate(model.as_ref(), &prompt, &options)?;
    let mut all = prompt;
    all.extend(generated);
    println!("{}", tokenizer.decode(&all));
    Ok(())
}

use crate::args::GenerateArgs;
use lmlab_core::sampling::{generate, SamplingOptions};
use lmlab_lab::registry::load_model;

pub fn run(args: GenerateArgs) -> anyhow::Result<()> {
    let model = load_model(&args.model)?;
    let tokenizer = model.tokenizer();
    let prompt = tokenizer.encode(&args.prompt);
    let options = SamplingOptions {
        seed: args.seed,
        max_tokens: args.max_tokens as usize,
        temperature: args.temperature,
        top_k: args.top_k,
    };
    let generated = generate(model.as_ref(), &prompt, &options)?;
    let mut all = prompt;
    all.extend(generated);
    println!("{}", tokenizer.decode(&all));
    Ok(())
}

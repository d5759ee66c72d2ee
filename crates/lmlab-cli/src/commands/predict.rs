use super::print_json;
use crate::args::PredictArgs;
use lmlab_core::vocab::escape_token;
use lmlab_lab::registry::load_model;
use serde::Serialize;

#[derive(Serialize)]
struct Candidate {
    token: String,
    probability: f64,
}

pub fn run(args: PredictArgs) -> anyhow::Result<()> {
    let model = load_model(&args.model)?;
    let tokenizer = model.tokenizer();
    let context = tokenizer.encode(&args.context);
    let mut stepper = model.stepper();
    context.iter().for_each(|&t| stepper.push(t));
    let distribution = stepper.distribution();
    let mut ranked: Vec<(usize, f64)> = distribution.into_iter().enumerate().collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let top: Vec<Candidate> = ranked
        .into_iter()
        .take(args.top_k as usize)
        .map(|(id, probability)| Candidate {
            token: escape_token(tokenizer.vocab().token(id as u32)),
            probability,
        })
        .collect();
    if args.json {
        return print_json(&top);
    }
    for c in &top {
        println!("{:>10.6}  {}", c.probability, c.token);
    }
    Ok(())
}

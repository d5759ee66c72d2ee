use super::print_json;
use crate::args::GenerateArgs;
use lmlab_core::compute::ComputeMeter;
use lmlab_core::sampling::{fit_prompt, generate_samples, SamplingOptions};
use lmlab_core::speculative::{
    generate_samples_speculative, SpeculativeStats, DEFAULT_DRAFT_TOKENS,
};
use lmlab_core::{LanguageModel, TokenId};
use lmlab_lab::registry::{load, load_model};

pub fn run(args: GenerateArgs) -> anyhow::Result<()> {
    if let Some(chunks) = &args.chunks {
        return super::chunks::generate(&args, chunks);
    }
    let loaded = load(&args.model)?;
    let stop_at_eos = loaded.sampling_stops_at_eos(args.ignore_eos);
    let model = loaded.model;
    let draft = args.draft.as_deref().map(load_model).transpose()?;
    let (prompt, dropped) = fitted_prompt(&args, model.as_ref());
    let options = sampling_options(&args, stop_at_eos);
    let count = args.num_samples as usize;
    let draft_tokens = args.draft_tokens.unwrap_or(DEFAULT_DRAFT_TOKENS);
    let meter = ComputeMeter::start();
    let (samples, stats) = match draft.as_deref() {
        Some(draft) => {
            let (samples, stats) = generate_samples_speculative(
                model.as_ref(),
                draft,
                &prompt,
                &options,
                draft_tokens,
                count,
            )?;
            (samples, Some(stats))
        }
        None => (
            generate_samples(model.as_ref(), &prompt, &options, count)?,
            None,
        ),
    };
    let (seconds, cpu_seconds) = (meter.wall_seconds(), meter.cpu_seconds());
    let speculative = stats.map(|s| speculative_json(&args, draft_tokens, &s));
    let generated = Generated {
        prompt: &prompt,
        dropped,
        options: &options,
        samples: &samples,
        seconds,
        cpu_seconds,
    };
    print_samples(
        &args,
        model.as_ref(),
        &generated,
        ("speculative", speculative),
    )
}

/// The prompt encoded and cut to `model`'s window (a note on stderr when cut), and how many tokens
/// were dropped from its front.
pub(super) fn fitted_prompt(
    args: &GenerateArgs,
    model: &dyn LanguageModel,
) -> (Vec<TokenId>, usize) {
    let encoded = model.tokenizer().encode(&args.prompt);
    let (prompt, dropped) = fit_prompt(model, &encoded);
    if dropped > 0 {
        eprintln!(
            "note: the prompt has {} tokens, more than {}'s context window of {} positions holds \
             after <s>; its first {dropped} tokens were dropped",
            encoded.len(),
            args.model.display(),
            model.context_window().unwrap_or_default()
        );
    }
    (prompt.to_vec(), dropped)
}

/// The sampling options the arguments ask for.
pub(super) fn sampling_options(args: &GenerateArgs, stop_at_eos: bool) -> SamplingOptions {
    SamplingOptions {
        seed: args.seed,
        max_tokens: args.max_tokens as usize,
        temperature: if args.greedy { 0.0 } else { args.temperature },
        top_k: args.top_k,
        top_p: args.top_p,
        stop_at_eos,
        raw_bytes: args.raw_bytes,
    }
}

/// What a generation produced, for [`print_samples`].
pub(super) struct Generated<'a> {
    pub prompt: &'a [TokenId],
    pub dropped: usize,
    pub options: &'a SamplingOptions,
    pub samples: &'a [Vec<TokenId>],
    pub seconds: f64,
    /// Process CPU seconds over the same span (all threads).
    pub cpu_seconds: f64,
}

/// Prints the samples as text, or with `--json` with tokens/s and the method's own figures under
/// `method.0`.
pub(super) fn print_samples(
    args: &GenerateArgs,
    model: &dyn LanguageModel,
    g: &Generated<'_>,
    method: (&str, Option<serde_json::Value>),
) -> anyhow::Result<()> {
    let tokenizer = model.tokenizer();
    let options = g.options;
    let texts: Vec<String> = g
        .samples
        .iter()
        .map(|ids| tokenizer.decode(&[g.prompt, ids].concat()))
        .collect();
    if args.json {
        let generated: usize = g.samples.iter().map(Vec::len).sum();
        let samples: Vec<serde_json::Value> = g
            .samples
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
        let mut out = serde_json::json!({
            "model": args.model,
            "prompt": args.prompt,
            "prompt_ids": g.prompt,
            "prompt_dropped_tokens": g.dropped,
            "greedy": options.is_greedy(),
            "temperature": options.temperature,
            "top_k": options.top_k,
            "top_p": options.top_p,
            "stop_at_eos": options.stop_at_eos,
            "tokens_generated": generated,
            "seconds": g.seconds,
            "cpu_seconds": g.cpu_seconds,
            "tokens_per_second": generated as f64 / g.seconds.max(f64::MIN_POSITIVE),
            "samples": samples,
        });
        out[method.0] = method.1.unwrap_or(serde_json::Value::Null);
        return print_json(&out);
    }
    for (i, text) in texts.iter().enumerate() {
        if i > 0 {
            println!("---------------");
        }
        println!("{text}");
    }
    Ok(())
}

fn speculative_json(
    args: &GenerateArgs,
    draft_tokens: usize,
    stats: &SpeculativeStats,
) -> serde_json::Value {
    serde_json::json!({
        "draft": args.draft,
        "draft_tokens": draft_tokens,
        "acceptance_rate": stats.acceptance_rate(),
        "target_calls_per_token": stats.target_calls_per_token(),
        "tokens_per_target_call": stats.tokens_per_target_call(),
        "counts": stats,
    })
}

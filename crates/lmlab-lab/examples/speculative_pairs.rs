//! Speculative decoding against the target alone, sample by sample in one process (the timing of
//! bench/speculative.sh): both models are loaded once, then for each seed the target-only sample and
//! the speculative one are generated back to back (which goes first alternates), so a change of
//! speed of the shared machine reaches both sides of every pair within milliseconds. Under greedy
//! decoding every speculative sample is checked to be the target's own, token for token.
//!
//! Prints one line: target-only tokens/s, speculative tokens/s (each over all samples), the median
//! over rounds of the ratio of their times, the draft tokens' acceptance rate, the target calls per
//! emitted token, and the process's CPU seconds per wall second on each side (target-only/speculative).
//!
//! Usage: `speculative_pairs TARGET DRAFT K sample|greedy SAMPLES MAX_TOKENS [ROUNDS]` (ROUNDS
//! default 3; the prompt is "Once upon a time", no stop at the end token, seeds 0..SAMPLES).

use lmlab_core::compute::ComputeMeter;
use lmlab_core::sampling::{fit_prompt, generate, SamplingOptions};
use lmlab_core::speculative::{generate_speculative, SpeculativeStats};
use lmlab_lab::registry::load_model;
use std::path::Path;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: speculative_pairs TARGET DRAFT K sample|greedy SAMPLES MAX_TOKENS [ROUNDS]";
    let (target, draft, k, mode, samples, max_tokens) = match args.as_slice() {
        [_, t, d, k, m, s, n, ..] => (t, d, k.parse()?, m.as_str(), s.parse()?, n.parse()?),
        _ => return Err(usage.into()),
    };
    let rounds: usize = args.get(7).map_or(Ok(3), |r| r.parse())?;
    let temperature = match mode {
        "sample" => 1.0,
        "greedy" => 0.0,
        _ => return Err(usage.into()),
    };
    let (target, draft) = (
        load_model(Path::new(target))?,
        load_model(Path::new(draft))?,
    );
    let encoded = target.tokenizer().encode("Once upon a time");
    let (prompt, _) = fit_prompt(target.as_ref(), &encoded);
    // Untimed: the first generation packs the target's weights for stepping (once per model).
    let warm = SamplingOptions {
        max_tokens: 8,
        temperature,
        ..SamplingOptions::default()
    };
    generate(target.as_ref(), prompt, &warm)?;
    generate_speculative(target.as_ref(), draft.as_ref(), prompt, &warm, k)?;
    let mut ratios = Vec::with_capacity(rounds);
    // Wall and CPU seconds of each side over all rounds.
    let (mut base_time, mut spec_time, mut tokens) = ([0.0; 2], [0.0; 2], 0usize);
    let mut stats = SpeculativeStats::default();
    for _ in 0..rounds {
        let (mut base_round, mut spec_round) = (0.0, 0.0);
        for seed in 0..samples {
            let options = SamplingOptions {
                seed,
                max_tokens,
                temperature,
                stop_at_eos: false,
                ..SamplingOptions::default()
            };
            let time_base = || -> Result<_, Box<dyn std::error::Error>> {
                let meter = ComputeMeter::start();
                let ids = generate(target.as_ref(), prompt, &options)?;
                Ok(([meter.wall_seconds(), meter.cpu_seconds()], ids))
            };
            let time_spec = || -> Result<_, Box<dyn std::error::Error>> {
                let meter = ComputeMeter::start();
                let (ids, s) =
                    generate_speculative(target.as_ref(), draft.as_ref(), prompt, &options, k)?;
                Ok(([meter.wall_seconds(), meter.cpu_seconds()], ids, s))
            };
            let ((tb, base_ids), (ts, spec_ids, s)) = if seed % 2 == 0 {
                let b = time_base()?;
                (b, time_spec()?)
            } else {
                let s = time_spec()?;
                (time_base()?, s)
            };
            if temperature == 0.0 && base_ids != spec_ids {
                return Err(format!("seed {seed}: greedy speculative output differs").into());
            }
            (base_round, spec_round) = (base_round + tb[0], spec_round + ts[0]);
            for i in 0..2 {
                (base_time[i], spec_time[i]) = (base_time[i] + tb[i], spec_time[i] + ts[i]);
            }
            tokens += base_ids.len();
            stats.add(&s);
        }
        ratios.push(base_round / spec_round);
    }
    ratios.sort_by(f64::total_cmp);
    println!(
        "{:.1} {:.1} {:.3} {:.3} {:.3} {:.2}/{:.2}",
        tokens as f64 / base_time[0],
        stats.emitted as f64 / spec_time[0],
        ratios[ratios.len() / 2],
        stats.acceptance_rate(),
        stats.target_calls_per_token(),
        base_time[1] / base_time[0],
        spec_time[1] / spec_time[0]
    );
    Ok(())
}

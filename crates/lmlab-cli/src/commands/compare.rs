//! `lmlab compare A B`: reads both probability files, compares them in the library and prints the
//! report as tables or JSON.

use super::{fit_width, print_json};
use crate::args::CompareArgs;
use lmlab_core::probs::ProbsFile;
use lmlab_lab::compare::{compare, CompareOptions, CompareReport, Contribution, Delta, Side};

/// Width of the token and context column; longer keys end in "…" (the full keys are in `--json`).
const KEY_WIDTH: usize = 32;

pub fn run(args: CompareArgs) -> anyhow::Result<()> {
    let (a, b) = (ProbsFile::read(&args.a)?, ProbsFile::read(&args.b)?);
    let options = CompareOptions {
        resamples: args.resamples as usize,
        seed: args.seed,
        top: args.top,
        context: args.context.map(|n| n as usize),
    };
    let report = compare((args.a.as_path(), &a), (args.b.as_path(), &b), &options)?;
    if args.json {
        return print_json(&report);
    }
    print_text(&report);
    Ok(())
}

fn print_text(r: &CompareReport) {
    for note in &r.notes {
        println!("note: {note}");
    }
    print_side("A", &r.a);
    print_side("B", &r.b);
    println!(
        "{} tokens, {} sequences; paired bootstrap over sequences, {} resamples, seed {}\n",
        r.tokens, r.sequences, r.resamples, r.seed
    );
    println!(
        "{:<24} {:>12}  {:<27} {:>8}",
        "B - A", "difference", "95% interval", "p"
    );
    match &r.bits_per_byte {
        Some(d) => print_delta("bits/byte", d),
        None => println!(
            "{:<24} unavailable: {}",
            "bits/byte",
            r.bits_per_byte_unavailable.as_deref().unwrap_or("")
        ),
    }
    print_delta("log-lik/token (nats)", &r.log_likelihood_per_token);
    print_delta("perplexity", &r.perplexity);
    println!(
        "(p: two-sided, from the resamples; the smallest it can be is 2/(resamples+1) = {:.2e})",
        2.0 / (r.resamples as f64 + 1.0)
    );
    let what = "gain = B's log-prob - A's (nats)";
    print_contributions(
        &format!("tokens where B gains most ({what})"),
        &r.tokens_by_gain.toward_b,
    );
    print_contributions("tokens where A gains most", &r.tokens_by_gain.toward_a);
    if let (Some(contexts), Some(n)) = (&r.contexts_by_gain, r.context_length) {
        print_contributions(
            &format!("{n}-token contexts where B gains most"),
            &contexts.toward_b,
        );
        print_contributions(
            &format!("{n}-token contexts where A gains most"),
            &contexts.toward_a,
        );
    }
    println!("\ngain by token frequency in the stream");
    println!(
        "{:<10} {:>8} {:>10} {:>14} {:>12}",
        "count", "types", "tokens", "total gain", "mean gain"
    );
    for band in &r.frequency_bands {
        println!(
            "{:<10} {:>8} {:>10} {:>14.4} {:>12.6}",
            band.band, band.types, band.tokens, band.total_gain, band.mean_gain
        );
    }
}

fn print_side(name: &str, side: &Side) {
    let bpb = side
        .bits_per_byte
        .map(|b| format!("  bpb {b:.5}"))
        .unwrap_or_default();
    println!(
        "{name}: {}  ppl {:.4}  log-lik/token {:.6}{bpb}  ({})",
        fit_width(&side.model, 40),
        side.perplexity,
        side.log_likelihood_per_token,
        side.path.display()
    );
}

fn print_delta(name: &str, d: &Delta) {
    let interval = format!("[{:.6}, {:.6}]", d.ci_low, d.ci_high);
    println!(
        "{name:<24} {:>12.6}  {interval:<27} {:>8.4}",
        d.value, d.p_value
    );
}

fn print_contributions(title: &str, rows: &[Contribution]) {
    println!("\n{title}");
    if rows.is_empty() {
        println!("  (none)");
        return;
    }
    println!(
        "{:<w$} {:>8} {:>14} {:>12}",
        "",
        "count",
        "total gain",
        "mean gain",
        w = KEY_WIDTH
    );
    for c in rows {
        println!(
            "{:<w$} {:>8} {:>14.4} {:>12.6}",
            fit_width(&c.key, KEY_WIDTH),
            c.count,
            c.total_gain,
            c.mean_gain,
            w = KEY_WIDTH
        );
    }
}

use super::print_json;
use crate::args::EvalPairsArgs;
use lmlab_lab::pairs::{
    pair_files, read_pairs, report, score_pairs, GroupRow, PairOptions, PairsReport, PublishedTable,
};
use lmlab_lab::registry::load;
use serde::Serialize;

#[derive(Serialize)]
struct EvalPairsOutput<'a> {
    model: String,
    inputs: Vec<String>,
    #[serde(flatten)]
    report: &'a PairsReport,
}

/// Reads the pairs, scores them with the model and prints the accuracies.
pub fn run(args: EvalPairsArgs) -> anyhow::Result<()> {
    let pairs = read_pairs(&args.input)?;
    let published = match args.published.or_else(|| PublishedTable::find(&args.input)) {
        Some(dir) => Some(PublishedTable::read(&dir)?),
        None => None,
    };
    let model = load(&args.model)?.model;
    let options = PairOptions {
        end_token: !args.no_eos,
    };
    let scores = score_pairs(model.as_ref(), &pairs, options);
    let report = report(&pairs, &scores, options, published.as_ref());
    let files = pair_files(&args.input)?;
    let output = EvalPairsOutput {
        model: model.describe(),
        inputs: files.iter().map(|f| f.display().to_string()).collect(),
        report: &report,
    };
    if args.json {
        return print_json(&output);
    }
    print_text(&output);
    Ok(())
}

/// The report as three tables (overall, per term, per paradigm), percentages to one decimal.
fn print_text(output: &EvalPairsOutput) {
    let report = output.report;
    let eos = if report.end_token {
        "end token scored"
    } else {
        "no end token"
    };
    println!("model      {}", output.model);
    println!(
        "pairs      {} from {} files, {} tokens ({eos}; a tie counts wrong)",
        report.overall.tally.pairs,
        output.inputs.len(),
        report.overall.tally.tokens
    );
    if let Some(source) = &report.published_source {
        println!("published  {source} (the BLiMP paper's accuracies, %)");
    }
    let width = report
        .paradigms
        .iter()
        .chain(&report.terms)
        .map(|r| r.name.len())
        .max()
        .unwrap_or(0)
        .max(8);
    let header = format!(
        "{:width$}  {:>6} {:>6} {:>5} {:>6} {:>8}",
        "", "pairs", "acc%", "ties", "OOVs", "OOV prs"
    );
    let published_header = " | ngram  lstm   txl  gpt2 human";
    let with_published = report.overall.published.is_some()
        || report.paradigms.iter().any(|r| r.published.is_some());
    let published_header = if with_published { published_header } else { "" };
    println!("\n{header}{published_header}");
    print_row(&report.overall, width, with_published);
    for (title, rows) in [
        ("per linguistics_term", &report.terms),
        ("per paradigm (UID)", &report.paradigms),
    ] {
        if !rows.is_empty() {
            println!("\n{title}");
            rows.iter()
                .for_each(|row| print_row(row, width, with_published));
        }
    }
}

/// One table row: counts and accuracy, then the published columns (`-` where unknown).
fn print_row(row: &GroupRow, width: usize, with_published: bool) {
    let t = &row.tally;
    let mut line = format!(
        "{:width$}  {:>6} {:>6.1} {:>5} {:>6} {:>8}",
        row.name,
        t.pairs,
        100.0 * row.accuracy,
        t.ties,
        t.oov_words,
        t.pairs_with_oov
    );
    if with_published {
        let percent = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{:.1}", 100.0 * v));
        let p = row.published;
        line += &format!(
            " | {:>5} {:>5} {:>5} {:>5} {:>5}",
            percent(p.map(|p| p.ngram)),
            percent(p.map(|p| p.lstm)),
            percent(p.map(|p| p.txl)),
            percent(p.map(|p| p.gpt2)),
            percent(p.and_then(|p| p.human)),
        );
    }
    println!("{line}");
}

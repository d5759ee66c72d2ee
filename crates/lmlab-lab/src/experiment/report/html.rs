//! The report page: HTML with inline CSS and SVG, no script and no external resource, every string
//! from the experiment escaped.

use super::verdict::{budget_label, ClaimCheck, Outcome, BOOTSTRAP_SEED, RESAMPLES};
use super::{ArmRow, Figures, Stat};
use crate::experiment::{utc_now, ExperimentState, RunFailure};
use lmlab_core::LMLAB_VERSION;
use std::fmt::Write;

/// The git commit lmlab was built from ("unknown" without git at build time).
pub const LMLAB_COMMIT: &str = env!("LMLAB_COMMIT");

/// `text` with `&`, `<`, `>`, `"` and `'` escaped, for HTML text and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Where and when the report was made.
#[derive(Clone, Debug, PartialEq)]
pub struct Provenance {
    /// lmlab's version.
    pub version: String,
    /// Its git commit.
    pub commit: String,
    /// The CPU model (from /proc/cpuinfo).
    pub cpu: String,
    /// Logical cores.
    pub cores: usize,
    /// When the report was made (RFC 3339, UTC).
    pub date: String,
}

impl Provenance {
    /// This build on this machine, now.
    pub fn of_this_machine() -> Provenance {
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|info| {
                info.lines()
                    .find(|l| l.starts_with("model name"))
                    .and_then(|l| l.split_once(':'))
                    .map(|(_, v)| v.trim().to_string())
            })
            .unwrap_or_else(|| "unknown".into());
        Provenance {
            version: LMLAB_VERSION.into(),
            commit: LMLAB_COMMIT.into(),
            cpu,
            cores: std::thread::available_parallelism().map_or(0, |n| n.get()),
            date: utc_now(),
        }
    }
}

/// Everything the page shows.
pub struct Page<'a> {
    /// The experiment.
    pub state: &'a ExperimentState,
    /// The split measured (`test`, else `valid`).
    pub split: &'a str,
    /// Finished runs.
    pub runs: usize,
    /// The claim checked, or why it could not be read; `None` without a claim.
    pub claim: Option<Result<ClaimCheck, String>>,
    /// The plots.
    pub figures: &'a Figures,
    /// The table.
    pub rows: &'a [ArmRow],
    /// The runs' learning-dynamics plots.
    pub dynamics: &'a [super::dynamics::RunDynamics],
    /// The failed runs.
    pub failures: &'a [RunFailure],
    /// Provenance.
    pub provenance: Provenance,
}

const STYLE: &str = "body{font-family:sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;\
color:#222}table{border-collapse:collapse;margin:1em 0;font-size:13px}td,th{border:1px solid #ccc;\
padding:3px 7px;text-align:right}td:first-child,th:first-child{text-align:left}\
th{background:#f0f0f0}.verdict{font-size:1.2em;padding:.6em;border-left:5px solid #888;\
background:#f7f7f7}.supported{border-color:#2ca02c}.against{border-color:#d62728}\
.note{color:#666;font-size:.9em}figure{margin:1em 0}svg{max-width:100%;height:auto}";

/// A number in a table cell: 4 significant-ish digits.
fn number(x: f64) -> String {
    let whole = x.fract() == 0.0 && x.abs() < 1e15;
    if whole || x.abs() >= 1e5 {
        format!("{x:.0}")
    } else if x.abs() >= 100.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.4}")
    }
}

fn stat_cell(s: &Option<Stat>) -> String {
    match s {
        None => "–".into(),
        Some(Stat {
            mean, sd: Some(sd), ..
        }) => format!("{} ± {}", number(*mean), number(*sd)),
        Some(Stat { mean, .. }) => number(*mean),
    }
}

/// The page.
pub fn page(p: &Page<'_>) -> String {
    let spec = &p.state.spec;
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>{name}: lmlab report</title><style>{STYLE}</style></head><body>\n\
         <h1>Experiment {name}</h1>\n<p>{runs} finished runs, {failed} failed.</p>\n",
        name = escape(&spec.name),
        runs = p.runs,
        failed = p.failures.len()
    );
    hypothesis(&mut h, p);
    h.push_str("<h2>Compute</h2>\n");
    figure(
        &mut h,
        &p.figures.compute,
        "No run has both a training cost and a score.",
    );
    h.push_str("<h2>Learning curves</h2>\n");
    figure(
        &mut h,
        &p.figures.curves,
        "No run recorded a learning curve (only neural runs do).",
    );
    h.push_str("<h2>Compute laws</h2>\n");
    figure(
        &mut h,
        &p.figures.fits,
        "No arm ran at 3 budgets or more: no law L(C) = E + A·C^(−α) is fitted.",
    );
    if !p.figures.laws.is_empty() {
        h.push_str(
            "<p>Three parameters fitted to an arm's budget means (E ≥ 0): with only three \
             budgets the law passes through every point, so its extrapolation is a guess, not a \
             prediction.</p>\n",
        );
    }
    for (arm, law, far) in &p.figures.laws {
        let _ = writeln!(
            h,
            "<p>{}: L(C) = {:.4} + {:.4}·C^(−{:.4}) (rms residual {:.2e}); \
             <em>extrapolation</em> to {} CPU-s: {:.4}</p>",
            escape(arm),
            law.e,
            law.a,
            law.alpha,
            law.rmse,
            number(*far),
            law.at(*far)
        );
    }
    table(&mut h, p);
    super::dynamics::section(&mut h, p.dynamics);
    failures(&mut h, p.failures);
    provenance(&mut h, p);
    h.push_str("</body></html>\n");
    h
}

fn hypothesis(h: &mut String, p: &Page<'_>) {
    let spec = &p.state.spec;
    h.push_str("<h2>Hypothesis</h2>\n");
    let text = if spec.hypothesis.trim().is_empty() {
        "(none stated)".to_string()
    } else {
        escape(&spec.hypothesis)
    };
    let _ = writeln!(h, "<p class=\"hypothesis\">{text}</p>");
    let Some(claim) = &p.claim else {
        h.push_str("<p class=\"note\">The experiment states no claim: nothing to check.</p>\n");
        return;
    };
    let _ = writeln!(
        h,
        "<p>Claim: <code>{}</code></p>",
        escape(spec.claim.as_deref().unwrap_or_default())
    );
    let check = match claim {
        Ok(check) => check,
        Err(e) => {
            let _ = writeln!(
                h,
                "<p class=\"verdict against\">Cannot check the claim: {}</p>",
                escape(e)
            );
            return;
        }
    };
    let all = check
        .budgets
        .iter()
        .all(|b| b.outcome == Outcome::Supported);
    let against = check
        .budgets
        .iter()
        .any(|b| b.outcome == Outcome::Contradicted);
    let class = if all {
        "supported"
    } else if against {
        "against"
    } else {
        ""
    };
    let _ = writeln!(
        h,
        "<p class=\"verdict {class}\">Verdict: <strong>{}</strong></p>",
        escape(&check.summary)
    );
    let c = &check.claim;
    let _ = writeln!(
        h,
        "<table><tr><th>budget</th><th>{left} {metric}</th><th>{right} {metric}</th>\
         <th>effect ({right} − {left})</th><th>95% interval</th><th>outcome</th></tr>",
        left = escape(&c.left),
        right = escape(&c.right),
        metric = escape(&format!("{}.{}", c.split, c.metric)),
    );
    for b in &check.budgets {
        let cell = |x: Option<f64>| x.map_or("–".into(), |v| format!("{v:.4}"));
        let interval = match (b.interval, &b.note) {
            (Some((lo, hi)), _) => format!("[{lo:+.4}, {hi:+.4}]"),
            (None, Some(note)) => format!("none: {}", escape(note)),
            (None, None) => "none".into(),
        };
        let outcome = match b.outcome {
            Outcome::Supported => "supported",
            Outcome::Contradicted => "not supported",
            Outcome::Inconclusive => "inconclusive (contains 0)",
            Outcome::Unchecked => "unchecked",
        };
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{interval}</td><td>{outcome}</td></tr>",
            escape(&budget_label(b.budget)),
            cell(b.left),
            cell(b.right),
            b.effect().map_or("–".into(), |e| format!("{e:+.4}")),
        );
    }
    h.push_str("</table>\n");
    let _ = writeln!(
        h,
        "<p class=\"note\">Intervals: 95% percentile intervals of a paired bootstrap over the \
         {split} sequences ({RESAMPLES} resamples, ChaCha8 seed {BOOTSTRAP_SEED}), each resample \
         scoring both arms on the same sequences, from the runs' probability files; with several \
         seeds an arm's per-sequence log-probability is the mean over its seeds. A count-based \
         arm takes part at every budget with its one run. The claim holds at a budget when the \
         interval excludes 0 in the claimed direction.</p>",
        split = escape(&c.split)
    );
}

pub(super) fn figure(h: &mut String, svg: &Option<String>, missing: &str) {
    match svg {
        Some(svg) => {
            // The HTML parser places inline <svg> in the SVG namespace: the attribute naming it
            // is dropped, so that the page names no URL at all.
            let svg = svg.replacen(" xmlns=\"http://www.w3.org/2000/svg\"", "", 1);
            let _ = writeln!(h, "<figure>{svg}</figure>");
        }
        None => {
            let _ = writeln!(h, "<p class=\"note\">{missing}</p>");
        }
    }
}

fn table(h: &mut String, p: &Page<'_>) {
    let _ = writeln!(
        h,
        "<h2>Arms</h2>\n<p class=\"note\">Means over seeds (± sample standard deviation where \
         more than one run); metrics on the {} text.</p>\n<table><tr><th>arm</th><th>budget</th>\
         <th>runs</th><th>bits/byte</th><th>perplexity</th><th>word perplexity</th>\
         <th>parameters</th><th>training CPU-s</th><th>model bytes</th><th>peak RSS bytes</th></tr>",
        p.split
    );
    for r in p.rows {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&r.arm),
            escape(&budget_label(r.budget)),
            r.runs,
            stat_cell(&r.bits_per_byte),
            stat_cell(&r.perplexity),
            stat_cell(&r.word_perplexity),
            stat_cell(&r.parameters),
            stat_cell(&r.cpu_seconds),
            stat_cell(&r.model_bytes),
            stat_cell(&r.peak_rss_bytes),
        );
    }
    h.push_str("</table>\n");
}

fn failures(h: &mut String, failures: &[RunFailure]) {
    if failures.is_empty() {
        return;
    }
    h.push_str("<h2>Failed runs</h2>\n<table><tr><th>run</th><th>arm</th><th>when</th><th>error</th></tr>\n");
    for f in failures {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td style=\"text-align:left\">{}</td></tr>",
            escape(&f.id),
            escape(&f.arm),
            escape(&f.failed),
            escape(&f.error)
        );
    }
    h.push_str("</table>\n");
}

fn provenance(h: &mut String, p: &Page<'_>) {
    let v = &p.provenance;
    let _ = writeln!(
        h,
        "<h2>Provenance</h2>\n<table><tr><th>lmlab</th><td>{} (commit {})</td></tr>\
         <tr><th>machine</th><td>{}, {} logical cores</td></tr>\
         <tr><th>report made</th><td>{}</td></tr>",
        escape(&v.version),
        escape(&v.commit),
        escape(&v.cpu),
        v.cores,
        escape(&v.date)
    );
    for (split, digest) in &p.state.data {
        let _ = writeln!(
            h,
            "<tr><th>{} data</th><td>{} ({} bytes, sha256 {})</td></tr>",
            escape(split),
            escape(&digest.path.display().to_string()),
            digest.bytes,
            escape(&digest.sha256)
        );
    }
    h.push_str("</table>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_covers_markup_and_quotes() {
        assert_eq!(
            escape("<script>alert('x & \"y\"')</script>"),
            "&lt;script&gt;alert(&#39;x &amp; &quot;y&quot;&#39;)&lt;/script&gt;"
        );
        assert_eq!(escape("plain ü"), "plain ü");
    }
}

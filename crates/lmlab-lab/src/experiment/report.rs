//! `lmlab report`: an experiment's results as one self-contained HTML page (inline SVG and CSS, no
//! script, no network): the hypothesis and its verdict with bootstrap intervals ([`verdict`]),
//! bits per byte against compute with the frontier, learning curves, the fitted compute laws
//! ([`fit`]) with their extrapolation ([`plots`]), a table per arm and budget, the runs' learning-dynamics
//! plots ([`dynamics`]), the failures, and provenance ([`html`]).

pub mod dynamics;
pub mod fit;
pub mod html;
pub mod plots;
pub mod verdict;

use super::claim::Claim;
use super::{ExperimentState, RunEntry, RunFailure};
use lmlab_core::Result;
use std::collections::BTreeMap;
use std::path::Path;

/// A run's budget as a map key (`None`: a count-based run). Budgets are positive, so the order of
/// their bit patterns is their numeric order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BudgetKey(Option<u64>);

impl From<Option<f64>> for BudgetKey {
    fn from(budget: Option<f64>) -> Self {
        BudgetKey(budget.map(f64::to_bits))
    }
}

impl BudgetKey {
    /// The budget.
    pub fn budget(self) -> Option<f64> {
        self.0.map(f64::from_bits)
    }
}

/// The runs of `arm` that take part at `budget`: those run at it, and count-based runs (which
/// take part at every budget).
pub fn runs_at<'a>(entries: &'a [RunEntry], arm: &str, budget: BudgetKey) -> Vec<&'a RunEntry> {
    entries
        .iter()
        .filter(|e| e.arm == arm)
        .filter(|e| {
            let own = e.record.recipe.budget_cpu_seconds;
            own.is_none() || BudgetKey::from(own) == budget
        })
        .collect()
}

/// A run's `metric` (a field of its evaluation summary) on `split`.
pub fn metric_of(run: &RunEntry, split: &str, metric: &str) -> Option<f64> {
    let eval = run.record.eval.get(split)?;
    let value = match metric {
        "bits_per_byte" => eval.bits_per_byte,
        "perplexity" => eval.perplexity,
        "perplexity_excluding_oov" => eval.perplexity_excluding_oov,
        "word_perplexity" => eval.word_perplexity,
        _ => return None,
    };
    value.is_finite().then_some(value)
}

/// A mean with its standard deviation (over seeds; `None` for one value).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stat {
    /// The mean.
    pub mean: f64,
    /// The sample standard deviation, with two values or more.
    pub sd: Option<f64>,
    /// How many values.
    pub n: usize,
}

impl Stat {
    /// Of the finite `values` (`None` when there are none).
    pub fn of(values: impl Iterator<Item = f64>) -> Option<Stat> {
        let v: Vec<f64> = values.filter(|x| x.is_finite()).collect();
        if v.is_empty() {
            return None;
        }
        let n = v.len();
        let mean = v.iter().sum::<f64>() / n as f64;
        let sd = (n > 1)
            .then(|| (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt());
        Some(Stat { mean, sd, n })
    }
}

/// One arm at one budget: the table's row.
#[derive(Clone, Debug, PartialEq)]
pub struct ArmRow {
    /// The arm.
    pub arm: String,
    /// The budget its runs ran at (`None`: count-based).
    pub budget: Option<f64>,
    /// Runs (seeds).
    pub runs: usize,
    /// Test (else validation) bits per byte.
    pub bits_per_byte: Option<Stat>,
    /// Per-token perplexity.
    pub perplexity: Option<Stat>,
    /// Word perplexity.
    pub word_perplexity: Option<Stat>,
    /// Parameters.
    pub parameters: Option<Stat>,
    /// Training CPU-seconds.
    pub cpu_seconds: Option<Stat>,
    /// Model file bytes.
    pub model_bytes: Option<Stat>,
    /// Peak resident memory, bytes.
    pub peak_rss_bytes: Option<Stat>,
}

/// The split the report measures on: `test` when any run was tested, else `valid`.
fn report_split(entries: &[RunEntry]) -> &'static str {
    if entries.iter().any(|e| e.record.eval.contains_key("test")) || entries.is_empty() {
        "test"
    } else {
        "valid"
    }
}

/// The arms in order of their first run (entries are in id order; arms sorted by name keep the
/// report stable).
fn arm_names(entries: &[RunEntry]) -> Vec<String> {
    let mut names: Vec<String> = entries.iter().map(|e| e.arm.clone()).collect();
    names.sort();
    names.dedup();
    names
}

/// The runs grouped by arm and budget.
fn groups(entries: &[RunEntry]) -> BTreeMap<(&str, BudgetKey), Vec<&RunEntry>> {
    let mut groups: BTreeMap<(&str, BudgetKey), Vec<&RunEntry>> = BTreeMap::new();
    for e in entries {
        let key = BudgetKey::from(e.record.recipe.budget_cpu_seconds);
        groups.entry((e.arm.as_str(), key)).or_default().push(e);
    }
    groups
}

/// The table rows, by arm then budget.
pub fn arm_rows(entries: &[RunEntry]) -> Vec<ArmRow> {
    let split = report_split(entries);
    groups(entries)
        .into_iter()
        .map(|((arm, key), runs)| {
            let stat =
                |f: &dyn Fn(&RunEntry) -> Option<f64>| Stat::of(runs.iter().filter_map(|r| f(r)));
            ArmRow {
                arm: arm.to_string(),
                budget: key.budget(),
                runs: runs.len(),
                bits_per_byte: stat(&|r| metric_of(r, split, "bits_per_byte")),
                perplexity: stat(&|r| metric_of(r, split, "perplexity")),
                word_perplexity: stat(&|r| metric_of(r, split, "word_perplexity")),
                parameters: stat(&|r| Some(r.record.compute.parameters as f64)),
                cpu_seconds: stat(&|r| Some(r.record.compute.cpu_seconds)),
                model_bytes: stat(&|r| Some(r.record.model_bytes as f64)),
                peak_rss_bytes: stat(&|r| {
                    Some(r.record.compute.peak_rss_bytes as f64).filter(|&b| b > 0.0)
                }),
            }
        })
        .collect()
}

/// The plots' data, and the plots.
pub struct Figures {
    /// Bits per byte against CPU-s (`None`: no run has both).
    pub compute: Option<String>,
    /// Learning curves (`None`: no run recorded one).
    pub curves: Option<String>,
    /// Fitted laws (`None`: no arm has 3 budgets).
    pub fits: Option<String>,
    /// The fitted laws, by arm.
    pub laws: Vec<(String, fit::PowerLaw, f64)>,
}

/// Draws the plots of `entries`.
pub fn figures(entries: &[RunEntry]) -> Result<Figures> {
    let split = report_split(entries);
    let metric = format!("{split} bits per byte");
    let names = arm_names(entries);
    let groups = groups(entries);
    let mut series = Vec::new();
    let mut fits = Vec::new();
    for (i, arm) in names.iter().enumerate() {
        let point = |r: &RunEntry| {
            Some((
                r.record.compute.cpu_seconds,
                metric_of(r, split, "bits_per_byte")?,
            ))
            .filter(|p| p.0 > 0.0)
        };
        let runs: Vec<(f64, f64)> = entries
            .iter()
            .filter(|e| &e.arm == arm)
            .filter_map(point)
            .collect();
        let mut means: Vec<(f64, f64, bool)> = groups
            .iter()
            .filter(|((a, _), _)| a == arm)
            .filter_map(|((_, key), runs)| {
                let points: Vec<(f64, f64)> = runs.iter().filter_map(|r| point(r)).collect();
                let n = points.len() as f64;
                (n > 0.0).then(|| {
                    let x = points.iter().map(|p| p.0).sum::<f64>() / n;
                    let y = points.iter().map(|p| p.1).sum::<f64>() / n;
                    (x, y, key.budget().is_some())
                })
            })
            .collect();
        means.sort_by(|a, b| a.0.total_cmp(&b.0));
        let budgeted: Vec<(f64, f64)> = means.iter().filter(|m| m.2).map(|m| (m.0, m.1)).collect();
        if let Some(law) = fit::fit_power_law(&budgeted) {
            fits.push(plots::ArmFit {
                arm: i,
                name: arm.clone(),
                points: budgeted,
                law,
            });
        }
        if !runs.is_empty() {
            series.push(plots::ArmSeries {
                arm: arm.clone(),
                runs,
                means: means.into_iter().map(|m| (m.0, m.1)).collect(),
            });
        }
    }
    let curves: Vec<plots::Curve> = entries
        .iter()
        .filter_map(|e| {
            let points: Vec<(f64, f64)> = e
                .record
                .curve
                .iter()
                .map(|p| (p.cpu_seconds, p.val_bits_per_byte))
                .filter(|&(x, y)| x > 0.0 && y > 0.0 && y.is_finite())
                .collect();
            (!points.is_empty()).then(|| plots::Curve {
                arm: names.iter().position(|n| n == &e.arm).unwrap_or(0),
                points,
            })
        })
        .collect();
    let laws = fits
        .iter()
        .map(|f| {
            let largest = f.points.iter().map(|p| p.0).fold(0.0, f64::max);
            (f.name.clone(), f.law, largest * 10.0)
        })
        .collect();
    Ok(Figures {
        compute: (!series.is_empty())
            .then(|| plots::compute_plot(&series, &metric))
            .transpose()?,
        curves: (!curves.is_empty())
            .then(|| plots::curves_plot(&curves, &names))
            .transpose()?,
        fits: (!fits.is_empty())
            .then(|| plots::fit_plot(&fits, &metric))
            .transpose()?,
        laws,
    })
}

/// The report of the experiment in `dir` as one HTML page: `entries` and `failures` are its runs
/// (from [`super::scan_runs`] or the results store).
pub fn report_html(
    state: &ExperimentState,
    dir: &Path,
    entries: &[RunEntry],
    failures: &[RunFailure],
) -> Result<String> {
    let names = arm_names(entries);
    let claim = match &state.spec.claim {
        None => None,
        Some(text) => {
            // The spec's arms (after sweeps), so that a claim on an arm without runs still parses.
            let mut known = state
                .spec
                .arms()
                .map(|arms| arms.into_iter().map(|a| a.name).collect())
                .unwrap_or_else(|_| Vec::new());
            known.extend(names.iter().cloned());
            let arms: Vec<&str> = known.iter().map(String::as_str).collect();
            Some(match Claim::parse(text, &arms) {
                Ok(claim) => Ok(verdict::check_claim(&claim, state, dir, entries)),
                Err(e) => Err(e.to_string()),
            })
        }
    };
    let figures = figures(entries)?;
    let rows = arm_rows(entries);
    let runs_dynamics = dynamics::run_dynamics(dir, entries)?;
    Ok(html::page(&html::Page {
        state,
        split: report_split(entries),
        runs: entries.len(),
        claim,
        figures: &figures,
        rows: &rows,
        dynamics: &runs_dynamics,
        failures,
        provenance: html::Provenance::of_this_machine(),
    }))
}

/// Writes the report of the experiment folder `dir` to `output` atomically; says in one line what
/// it reported. A folder without `experiment.json` is refused.
pub fn write_report(dir: &Path, output: &Path) -> Result<String> {
    let Some(state) = ExperimentState::load(dir)? else {
        let why = if dir.is_dir() {
            format!("has no {}", super::STATE_FILE)
        } else {
            "is not a folder".into()
        };
        return Err(lmlab_core::Error::invalid(format!(
            "{} is not an experiment folder: it {why} (lmlab experiment run EXP.toml --out DIR \
             makes one)",
            dir.display()
        )));
    };
    let (entries, failures) = super::scan_runs(dir)?;
    let page = report_html(&state, dir, &entries, &failures)?;
    lmlab_core::atomic::write_bytes_atomically(output, page.as_bytes())?;
    Ok(format!(
        "report of {} ({} runs, {} failed) written to {}",
        state.spec.name,
        entries.len(),
        failures.len(),
        output.display()
    ))
}

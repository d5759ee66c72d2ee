//! An experiment's results from its store: finished runs grouped arm × budget, each number's mean
//! and sample standard deviation over seeds; rendered as an aligned table, CSV, or JSON in
//! lm-evaluation-harness's results layout (`results`, `configs`, `versions`, `n-shot`,
//! `higher_is_better`, `n-samples`, `config`, `date`), one "task" per arm and budget. Also the
//! experiment's progress against its plan ([`status`]).

use super::runner::DirLock;
use super::spec::PlannedRun;
use super::store::{store_path, RunNumbers, Store};
use super::{ExperimentState, RunFailure, STATE_FILE};
use crate::run::RUN_RECORD_FORMAT;
use lmlab_core::{Error, Result, LMLAB_VERSION};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::path::Path;

/// The evaluation numbers the results show, as (split, metric).
pub const METRICS: [(&str, &str); 8] = [
    ("test", "bits_per_byte"),
    ("test", "byte_perplexity"),
    ("test", "perplexity"),
    ("test", "word_perplexity"),
    ("valid", "bits_per_byte"),
    ("valid", "byte_perplexity"),
    ("valid", "perplexity"),
    ("valid", "word_perplexity"),
];

/// Mean and spread of one number over a cell's runs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stat {
    /// Runs that have the number.
    pub n: usize,
    /// Their mean.
    pub mean: f64,
    /// Their sample standard deviation (n − 1 in the denominator); `None` for one run.
    pub sd: Option<f64>,
}

impl Stat {
    /// The statistics of `values` (`None` when empty).
    pub fn of(values: &[f64]) -> Option<Stat> {
        let n = values.len();
        if n == 0 {
            return None;
        }
        let mean = values.iter().sum::<f64>() / n as f64;
        let sd = (n > 1).then(|| {
            let ss: f64 = values.iter().map(|v| (v - mean) * (v - mean)).sum();
            (ss / (n - 1) as f64).sqrt()
        });
        Some(Stat { n, mean, sd })
    }

    /// The standard error of the mean, sd / √n.
    pub fn stderr(&self) -> Option<f64> {
        self.sd.map(|sd| sd / (self.n as f64).sqrt())
    }
}

/// One arm at one budget.
#[derive(Clone, Debug, PartialEq)]
pub struct ResultRow {
    /// The arm.
    pub arm: String,
    /// The budget (`None`: a count-based arm, run once).
    pub budget: Option<f64>,
    /// The model family.
    pub family: String,
    /// The tokenizer's label.
    pub tokenizer: String,
    /// The seeds of its finished runs.
    pub seeds: Vec<u64>,
    /// Runs the plan has for this cell, when the experiment is known.
    pub planned: Option<usize>,
    /// `split.metric` (see [`METRICS`]) → statistics.
    pub metrics: BTreeMap<String, Stat>,
    /// Training CPU seconds.
    pub cpu_seconds: Option<Stat>,
    /// Parameters.
    pub parameters: Option<Stat>,
    /// Bytes of the model.
    pub model_bytes: Option<Stat>,
    /// Peak resident memory.
    pub peak_rss_bytes: Option<Stat>,
}

impl ResultRow {
    /// The lm-evaluation-harness "task" name of the cell: `arm@budget` (`arm@-` without one).
    pub fn task(&self) -> String {
        format!("{}@{}", self.arm, budget_label(self.budget))
    }

    /// The statistics of `split.metric`.
    pub fn metric(&self, split: &str, metric: &str) -> Option<&Stat> {
        self.metrics.get(&format!("{split}.{metric}"))
    }
}

/// A budget as shown: its CPU seconds, or `-`.
pub fn budget_label(budget: Option<f64>) -> String {
    budget.map_or("-".to_string(), |b| format!("{b}"))
}

/// An experiment's results.
#[derive(Clone, Debug)]
pub struct Results {
    /// The experiment, when recorded.
    pub state: Option<ExperimentState>,
    /// Arm × budget, arms in the experiment's order, budgets ascending (none first).
    pub rows: Vec<ResultRow>,
    /// Each arm's recipe (JSON).
    pub recipes: BTreeMap<String, Value>,
    /// When the last run finished (RFC 3339).
    pub last_finished: Option<String>,
}

/// Groups runs by arm and budget. `arm_order` lists arms in the order to show them (others
/// follow, by name); `planned` counts the runs the plan has per (arm, budget).
pub fn aggregate(
    runs: &[RunNumbers],
    arm_order: &[String],
    planned: &BTreeMap<(String, Option<u64>), usize>,
) -> Vec<ResultRow> {
    let mut cells: BTreeMap<(usize, String, Option<u64>), Vec<&RunNumbers>> = BTreeMap::new();
    for run in runs {
        let rank = arm_order
            .iter()
            .position(|a| *a == run.arm)
            .unwrap_or(arm_order.len());
        // Budgets order as numbers: positive floats order as their bits.
        let key = (rank, run.arm.clone(), run.budget.map(f64::to_bits));
        cells.entry(key).or_default().push(run);
    }
    cells
        .into_iter()
        .map(|((_, arm, budget_bits), runs)| {
            let stat = |f: &dyn Fn(&RunNumbers) -> Option<f64>| {
                let values: Vec<f64> = runs.iter().filter_map(|r| f(r)).collect();
                Stat::of(&values)
            };
            let mut metrics = BTreeMap::new();
            for (split, metric) in METRICS {
                let value = |r: &RunNumbers| match metric {
                    "byte_perplexity" => r.metric(split, "bits_per_byte").map(f64::exp2),
                    _ => r.metric(split, metric),
                };
                if let Some(s) = stat(&value) {
                    metrics.insert(format!("{split}.{metric}"), s);
                }
            }
            let mut seeds: Vec<u64> = runs.iter().map(|r| r.seed).collect();
            seeds.sort_unstable();
            ResultRow {
                planned: planned.get(&(arm.clone(), budget_bits)).copied(),
                budget: budget_bits.map(f64::from_bits),
                family: runs[0].family.clone(),
                tokenizer: runs[0].tokenizer.clone(),
                seeds,
                metrics,
                cpu_seconds: stat(&|r| Some(r.cpu_seconds).filter(|c| c.is_finite())),
                parameters: stat(&|r| Some(r.parameters as f64)),
                model_bytes: stat(&|r| Some(r.model_bytes as f64)),
                peak_rss_bytes: stat(&|r| Some(r.peak_rss_bytes as f64)),
                arm,
            }
        })
        .collect()
}

/// Reads the results of experiment folder `dir` from its store.
pub fn load(dir: &Path) -> Result<Results> {
    let store = open_existing(dir)?;
    let runs = store.run_numbers()?;
    let state = store.states()?.into_iter().next();
    let (arm_order, planned) = match &state {
        Some(state) => plan_counts(state)?,
        None => Default::default(),
    };
    let mut recipes: BTreeMap<String, Value> = store.arm_recipes()?.into_iter().collect();
    if let Some(state) = &state {
        // The experiment's own recipe of each arm (budget and seed as in its file).
        for arm in state.spec.arms()? {
            recipes.insert(arm.name.clone(), json!(arm.recipe));
        }
    }
    let last_finished = runs.iter().map(|r| r.finished.clone()).max();
    Ok(Results {
        rows: aggregate(&runs, &arm_order, &planned),
        state,
        recipes,
        last_finished,
    })
}

/// The store of `dir`, which must exist (results are never read from a new, empty store).
fn open_existing(dir: &Path) -> Result<Store> {
    if !store_path(dir).is_file() {
        let what = if dir.join(STATE_FILE).is_file() {
            format!(
                "{} has no results store ({}); rebuild it with `lmlab experiment reindex {}`",
                dir.display(),
                super::STORE_FILE,
                dir.display()
            )
        } else {
            format!(
                "{}: not an experiment folder (no {STATE_FILE}, no {}); `lmlab experiment run \
                 EXP.toml --out DIR` makes one",
                dir.display(),
                super::STORE_FILE
            )
        };
        return Err(Error::invalid(what));
    }
    Store::open(dir)
}

/// The arms in the plan's order, and the planned runs per (arm, budget).
#[allow(clippy::type_complexity)]
fn plan_counts(
    state: &ExperimentState,
) -> Result<(Vec<String>, BTreeMap<(String, Option<u64>), usize>)> {
    let plan = state.spec.plan(&state.data_sha256())?;
    let mut order: Vec<String> = Vec::new();
    let mut counts = BTreeMap::new();
    for run in &plan {
        if !order.contains(&run.arm) {
            order.push(run.arm.clone());
        }
        *counts
            .entry((run.arm.clone(), run.budget().map(f64::to_bits)))
            .or_insert(0) += 1;
    }
    Ok((order, counts))
}

/// `mean ± sd` with `decimals` (`mean` alone for one run, `-` for none).
fn mean_sd(stat: Option<&Stat>, decimals: usize) -> String {
    match stat {
        None => "-".into(),
        Some(Stat { mean, sd: None, .. }) => format!("{mean:.decimals$}"),
        Some(Stat {
            mean, sd: Some(sd), ..
        }) => format!("{mean:.decimals$} ± {sd:.decimals$}"),
    }
}

/// A byte count as B, KiB, MiB or GiB.
fn bytes_label(bytes: f64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < units.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{value:.0} {}", units[0])
    } else {
        format!("{value:.1} {}", units[unit])
    }
}

/// The results as an aligned text table, one line per arm × budget.
pub fn render_table(results: &Results) -> String {
    let header = [
        "arm",
        "budget",
        "n",
        "test bpb",
        "valid bpb",
        "test ppl",
        "test word ppl",
        "CPU-s",
        "params",
        "model",
        "peak RSS",
    ];
    let mut lines: Vec<Vec<String>> = vec![header.iter().map(|h| h.to_string()).collect()];
    for row in &results.rows {
        let n = match row.planned {
            Some(p) => format!("{}/{p}", row.seeds.len()),
            None => row.seeds.len().to_string(),
        };
        lines.push(vec![
            row.arm.clone(),
            budget_label(row.budget),
            n,
            mean_sd(row.metric("test", "bits_per_byte"), 4),
            mean_sd(row.metric("valid", "bits_per_byte"), 4),
            mean_sd(row.metric("test", "perplexity"), 2),
            mean_sd(row.metric("test", "word_perplexity"), 2),
            mean_sd(row.cpu_seconds.as_ref(), 1),
            row.parameters
                .map_or("-".into(), |s| format!("{:.0}", s.mean)),
            row.model_bytes.map_or("-".into(), |s| bytes_label(s.mean)),
            row.peak_rss_bytes
                .map_or("-".into(), |s| bytes_label(s.mean)),
        ]);
    }
    let columns = header.len();
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            lines
                .iter()
                .map(|l| l[c].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    if let Some(state) = &results.state {
        out.push_str(&format!("experiment {}", state.spec.name));
        if !state.spec.hypothesis.is_empty() {
            out.push_str(&format!(": {}", state.spec.hypothesis));
        }
        out.push('\n');
    }
    for line in &lines {
        let cells: Vec<String> = line
            .iter()
            .enumerate()
            .map(|(c, cell)| {
                let pad = widths[c] - cell.chars().count();
                // Names left, numbers right.
                if c == 0 {
                    format!("{cell}{}", " ".repeat(pad))
                } else {
                    format!("{}{cell}", " ".repeat(pad))
                }
            })
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    if results.rows.is_empty() {
        out.push_str("(no finished runs yet)\n");
    }
    out
}

/// The results as CSV: one row per arm × budget; each number's mean and sd in two columns (empty
/// when there is no value).
pub fn render_csv(results: &Results) -> String {
    let mut header: Vec<String> = ["arm", "budget", "family", "tokenizer", "n", "planned"]
        .map(String::from)
        .to_vec();
    let mut numbers: Vec<String> = METRICS.iter().map(|(s, m)| format!("{s}_{m}")).collect();
    numbers
        .extend(["cpu_seconds", "parameters", "model_bytes", "peak_rss_bytes"].map(String::from));
    for name in &numbers {
        header.push(format!("{name}_mean"));
        header.push(format!("{name}_sd"));
    }
    let mut out = header.join(",");
    out.push('\n');
    for row in &results.rows {
        let mut cells = vec![
            csv_field(&row.arm),
            row.budget.map_or(String::new(), |b| format!("{b}")),
            csv_field(&row.family),
            csv_field(&row.tokenizer),
            row.seeds.len().to_string(),
            row.planned.map_or(String::new(), |p| p.to_string()),
        ];
        let mut stats: Vec<Option<&Stat>> = METRICS.iter().map(|(s, m)| row.metric(s, m)).collect();
        stats.extend([
            row.cpu_seconds.as_ref(),
            row.parameters.as_ref(),
            row.model_bytes.as_ref(),
            row.peak_rss_bytes.as_ref(),
        ]);
        for stat in stats {
            cells.push(stat.map_or(String::new(), |s| format!("{}", s.mean)));
            cells.push(
                stat.and_then(|s| s.sd)
                    .map_or(String::new(), |sd| format!("{sd}")),
            );
        }
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    out
}

/// A CSV field, quoted when it holds a comma, a quote or a line break.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// The results in lm-evaluation-harness's results layout: each arm × budget is a task named
/// `arm@budget`; test-set numbers under the harness's metric names (`bits_per_byte`,
/// `byte_perplexity`, `word_perplexity`, with filter `none`: `"bits_per_byte,none"`), validation
/// numbers prefixed `valid_`, compute numbers as further metrics; each with its standard error over
/// seeds (`"N/A"` for one run, as the harness writes it).
pub fn render_json(results: &Results) -> Value {
    let mut tasks = Map::new();
    let mut configs = Map::new();
    let mut versions = Map::new();
    let mut n_shot = Map::new();
    let mut higher = Map::new();
    let mut n_samples = Map::new();
    for row in &results.rows {
        let task = row.task();
        let mut metrics = Map::new();
        let mut better = Map::new();
        metrics.insert("alias".into(), json!(task));
        let mut put = |name: String, stat: Option<&Stat>| {
            if let Some(stat) = stat {
                metrics.insert(format!("{name},none"), json!(stat.mean));
                let stderr = stat.stderr().map_or(json!("N/A"), |s| json!(s));
                metrics.insert(format!("{name}_stderr,none"), stderr);
                better.insert(name, json!(false));
            }
        };
        for (split, metric) in METRICS {
            let name = match split {
                "test" => metric.to_string(),
                _ => format!("{split}_{metric}"),
            };
            put(name, row.metric(split, metric));
        }
        put("cpu_seconds".into(), row.cpu_seconds.as_ref());
        put("parameters".into(), row.parameters.as_ref());
        put("model_bytes".into(), row.model_bytes.as_ref());
        put("peak_rss_bytes".into(), row.peak_rss_bytes.as_ref());
        tasks.insert(task.clone(), Value::Object(metrics));
        configs.insert(
            task.clone(),
            json!({
                "task": task,
                "arm": row.arm,
                "budget_cpu_seconds": row.budget,
                "family": row.family,
                "tokenizer": row.tokenizer,
                "seeds": row.seeds,
                "recipe": results.recipes.get(&row.arm),
                "output_type": "loglikelihood_rolling",
            }),
        );
        versions.insert(task.clone(), json!(RUN_RECORD_FORMAT));
        n_shot.insert(task.clone(), json!(0));
        higher.insert(task.clone(), Value::Object(better));
        n_samples.insert(
            task,
            json!({
                "original": row.planned.unwrap_or(row.seeds.len()),
                "effective": row.seeds.len(),
            }),
        );
    }
    let config = match &results.state {
        Some(state) => json!({
            "model": "lmlab",
            "experiment": state.spec.name,
            "hypothesis": state.spec.hypothesis,
            "claim": state.spec.claim,
            "budgets": state.spec.budgets,
            "seeds": state.spec.seeds,
            "data": state.data,
        }),
        None => json!({ "model": "lmlab" }),
    };
    // The date of the results is when their last run finished (not now): the same store gives
    // the same file.
    let date = results
        .last_finished
        .as_deref()
        .and_then(|t| humantime::parse_rfc3339(t).ok())
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_secs_f64());
    json!({
        "results": tasks,
        "configs": configs,
        "versions": versions,
        "n-shot": n_shot,
        "higher_is_better": higher,
        "n-samples": n_samples,
        "config": config,
        "date": date,
        "lmlab_version": LMLAB_VERSION,
    })
}

/// Where an experiment stands against its plan.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Status {
    /// The experiment's name.
    pub experiment: String,
    /// Each planned run and its status: `finished`, `failed` or `pending`.
    pub runs: Vec<(PlannedRun, &'static str)>,
    /// The failed runs of the plan, with their errors.
    pub failures: Vec<RunFailure>,
    /// Runs recorded in the store that the plan no longer has (an edited experiment file).
    pub unplanned: usize,
    /// Runs this call ingested from the folder's files.
    pub ingested: usize,
    /// Whether an `lmlab experiment run` holds the folder (then the store is only read: the run
    /// records its runs itself).
    pub running: bool,
}

impl Status {
    /// How many planned runs have `status`.
    pub fn count(&self, status: &str) -> usize {
        self.runs.iter().filter(|(_, s)| *s == status).count()
    }
}

/// The experiment in `dir` against its plan (`experiment.json`): first ingests into the store
/// whatever finished or failed runs the folder holds and the store lacks (unless a `run` holds
/// the folder and does that itself).
pub fn status(dir: &Path) -> Result<Status> {
    let state = ExperimentState::load(dir)?.ok_or_else(|| {
        Error::invalid(format!(
            "{}: not an experiment folder (no {STATE_FILE}); `lmlab experiment run EXP.toml --out \
             DIR` makes one",
            dir.display()
        ))
    })?;
    let lock = DirLock::acquire(dir).ok();
    let running = lock.is_none();
    let mut store = if running {
        open_existing(dir)?
    } else {
        Store::open(dir)?
    };
    let ingested = if running { 0 } else { store.catch_up(dir)? };
    drop(lock);
    let recorded: BTreeMap<String, String> = store
        .recorded()?
        .into_iter()
        .map(|(id, status, _)| (id, status))
        .collect();
    let plan = state.spec.plan(&state.data_sha256())?;
    let runs: Vec<(PlannedRun, &'static str)> = plan
        .into_iter()
        .map(|run| {
            let status = match recorded.get(&run.id).map(String::as_str) {
                Some("finished") => "finished",
                Some("failed") => "failed",
                _ => "pending",
            };
            (run, status)
        })
        .collect();
    let planned: std::collections::BTreeSet<&str> =
        runs.iter().map(|(r, _)| r.id.as_str()).collect();
    let failures = store
        .failures()?
        .into_iter()
        .filter(|f| planned.contains(f.id.as_str()))
        .collect();
    let unplanned = recorded
        .keys()
        .filter(|id| !planned.contains(id.as_str()))
        .count();
    Ok(Status {
        experiment: state.spec.name.clone(),
        runs,
        failures,
        unplanned,
        ingested,
        running,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::store::tests::entry;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn mean_and_sample_sd_by_hand() {
        // 1, 2, 4: mean 7/3; squared deviations 16/9 + 1/9 + 25/9 = 42/9; / (n−1) = 7/3.
        let s = Stat::of(&[1.0, 2.0, 4.0]).unwrap();
        assert_eq!(s.n, 3);
        assert!(close(s.mean, 7.0 / 3.0));
        assert!(close(s.sd.unwrap(), (7.0f64 / 3.0).sqrt()));
        assert!(close(s.stderr().unwrap(), (7.0f64 / 9.0).sqrt()));
        assert_eq!(Stat::of(&[5.0]).unwrap().sd, None);
        assert_eq!(Stat::of(&[]), None);
    }

    fn small() -> Results {
        let runs: Vec<RunNumbers> = [
            entry("r1", "tiny", Some(2.0), 1, 1.0),
            entry("r2", "tiny", Some(2.0), 2, 2.0),
            entry("r3", "tiny", Some(2.0), 3, 4.0),
            entry("r4", "tiny", Some(10.0), 1, 0.5),
            entry("r5", "kn[order=3,x=1]", None, 0, 3.0),
        ]
        .iter()
        .map(RunNumbers::of)
        .collect();
        let order = vec!["kn[order=3,x=1]".to_string(), "tiny".to_string()];
        let planned = [(("tiny".to_string(), Some(2.0f64.to_bits())), 4)].into();
        Results {
            state: None,
            rows: aggregate(&runs, &order, &planned),
            recipes: BTreeMap::new(),
            last_finished: Some("2026-12-01T10:00:00Z".into()),
        }
    }

    #[test]
    fn runs_group_by_arm_and_budget_in_the_experiments_order() {
        let results = small();
        let cells: Vec<(String, Option<f64>, usize)> = results
            .rows
            .iter()
            .map(|r| (r.arm.clone(), r.budget, r.seeds.len()))
            .collect();
        assert_eq!(
            cells,
            [
                ("kn[order=3,x=1]".to_string(), None, 1),
                ("tiny".to_string(), Some(2.0), 3),
                ("tiny".to_string(), Some(10.0), 1),
            ]
        );
        let tiny = &results.rows[1];
        assert_eq!(tiny.planned, Some(4));
        let bpb = tiny.metric("test", "bits_per_byte").unwrap();
        assert!(close(bpb.mean, 7.0 / 3.0) && close(bpb.sd.unwrap(), (7.0f64 / 3.0).sqrt()));
        let valid = tiny.metric("valid", "bits_per_byte").unwrap();
        assert!(close(valid.mean, 7.0 / 3.0 + 0.1));
        // Byte perplexity is 2^bpb per run, then averaged: (2 + 4 + 16) / 3.
        let bp = tiny.metric("test", "byte_perplexity").unwrap();
        assert!(close(bp.mean, 22.0 / 3.0));
        // CPU seconds 1.5 + seed: 2.5, 3.5, 4.5.
        assert!(close(tiny.cpu_seconds.unwrap().mean, 3.5));
        assert!(close(tiny.cpu_seconds.unwrap().sd.unwrap(), 1.0));
    }

    #[test]
    fn renderers_show_the_same_numbers() {
        let results = small();
        let table = render_table(&results);
        assert!(table.contains("2.3333 ± 1.5275"), "{table}");
        assert!(table.contains("3/4"), "{table}");
        let csv = render_csv(&results);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 4);
        assert!(
            lines[1].starts_with("\"kn[order=3,x=1]\",,baseline,"),
            "{csv}"
        );
        let header: Vec<&str> = lines[0].split(',').collect();
        let row: Vec<&str> = lines[2].split(',').collect();
        assert_eq!(header.len(), row.len());
        let col = |name: &str| row[header.iter().position(|h| *h == name).unwrap()];
        assert!(close(
            col("test_bits_per_byte_mean").parse().unwrap(),
            7.0 / 3.0
        ));
        assert!(close(
            col("test_bits_per_byte_sd").parse().unwrap(),
            (7.0f64 / 3.0).sqrt()
        ));
        assert_eq!(col("n"), "3");
        let json = render_json(&results);
        let tiny = &json["results"]["tiny@2"];
        assert!(close(
            tiny["bits_per_byte,none"].as_f64().unwrap(),
            7.0 / 3.0
        ));
        assert!(close(
            tiny["bits_per_byte_stderr,none"].as_f64().unwrap(),
            (7.0f64 / 9.0).sqrt()
        ));
        assert_eq!(
            json["results"]["tiny@10"]["bits_per_byte_stderr,none"],
            "N/A"
        );
        assert_eq!(json["n-samples"]["tiny@2"]["effective"], 3);
        assert_eq!(json["n-samples"]["tiny@2"]["original"], 4);
        assert_eq!(json["higher_is_better"]["tiny@2"]["bits_per_byte"], false);
        assert!(json["configs"]["kn[order=3,x=1]@-"].is_object());
        // 2026-12-01T10:00:00Z, the last run's finish, in Unix seconds.
        assert_eq!(json["date"].as_f64().unwrap(), 1_796_119_200.0);
    }
}

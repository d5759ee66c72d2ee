//! The experiment file: a question, its data, its arms (recipes, with sweeps), budgets, seeds and
//! evaluation points; expanded into the runs it takes ([`ExperimentSpec::plan`]).
//!
//! ```toml
//! name = "tokenizers"
//! hypothesis = "Scaffold-BPE predicts TinyStories better than BPE at equal vocabulary"
//! claim = "arm:scaffold < arm:bpe on test.bits_per_byte at every budget"
//! budgets = [15, 60]          # CPU-seconds; neural arms train until each, others run once
//! seeds = [1, 2]              # neural arms run once per seed, others once
//! eval_points = [0.25, 0.5, 0.75, 1.0]   # validation at these fractions of a neural budget
//! [data]                      # paths relative to this file
//! train = "train.txt"
//! valid = "valid.txt"
//! test = "test.txt"
//! [[arm]]
//! name = "bpe"
//! recipe = { model = { family = "ngram", order = 4 }, tokenizer = { kind = "bpe", vocab_size = 2000 } }
//! sweep = { "model.order" = [3, 4, 5] }   # optional: one arm per value (a grid over several keys)
//! ```

use super::derive::{self, Parent, Planned, RunKey, Start};
use crate::recipe::Recipe;
use crate::run::Data;
use lmlab_core::{Error, Result, LMLAB_VERSION};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// An experiment file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExperimentSpec {
    /// The experiment's name.
    pub name: String,
    /// The hypothesis, in words.
    #[serde(default)]
    pub hypothesis: String,
    /// The hypothesis as a checkable claim (see [`crate::experiment::claim`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim: Option<String>,
    /// The data (paths relative to the experiment file; absolute after [`ExperimentSpec::load`]).
    pub data: Data,
    /// The arms.
    #[serde(rename = "arm")]
    pub arms: Vec<ArmSpec>,
    /// CPU-second budgets (compute classes). Empty: each arm's own recipe budget.
    #[serde(default)]
    pub budgets: Vec<f64>,
    /// Seeds of the neural arms (default: the recipe's seed).
    #[serde(default)]
    pub seeds: Vec<u64>,
    /// Fractions of a neural run's budget at which it is validated (learning curves).
    #[serde(default)]
    pub eval_points: Vec<f64>,
}

/// One arm: a recipe, possibly swept over a grid of values.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArmSpec {
    /// The arm's name (unique in the experiment).
    pub name: String,
    /// The recipe, as in a recipe file; with `start`, changes to the first parent's recipe.
    #[serde(default = "empty_table")]
    pub recipe: toml::Value,
    /// Dotted recipe keys (or `start.` keys) and the values each takes: one arm per point of the
    /// grid, named `name[key=value,...]`.
    #[serde(default)]
    pub sweep: BTreeMap<String, Vec<toml::Value>>,
    /// Where the arm starts: other arms' runs and what is done to them
    /// ([`super::derive::Start`]); absent: from scratch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<toml::Value>,
}

fn empty_table() -> toml::Value {
    toml::Value::Table(Default::default())
}

/// An arm after sweeps are expanded: a name and a valid recipe.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Arm {
    /// `name` or `name[key=value,...]`.
    pub name: String,
    /// The arm's name in the file (the sweep's base name).
    pub base: String,
    /// The recipe (budget and seed not yet set).
    pub recipe: Recipe,
    /// Where it starts, when from other arms' runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<Start>,
}

/// One run of the plan.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlannedRun {
    /// Hash of recipe + data + budget + seed + lmlab version (16 hex digits); with parents, also
    /// of the start and the parents' ids.
    pub id: String,
    /// The arm's name.
    pub arm: String,
    /// The recipe with its budget and seed set.
    pub recipe: Recipe,
    /// Where it starts, when from other runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<Start>,
    /// The runs it depends on (the runner runs it after them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parents: Vec<Parent>,
}

impl PlannedRun {
    /// The run's compute class: its budget (`None`: a count-based run, which records its cost).
    pub fn budget(&self) -> Option<f64> {
        self.recipe.budget_cpu_seconds
    }
}

impl ExperimentSpec {
    /// Parses an experiment file and validates it, data files included: relative paths of `data`
    /// are taken from the file's folder and made absolute.
    pub fn load(path: &Path) -> Result<ExperimentSpec> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let base = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        Self::parse(&text, base).map_err(|e| Error::bad_file(path, e.to_string()))
    }

    /// Parses experiment TOML whose relative data paths (and RL starts' `task` files) are relative
    /// to `base` (made absolute), and validates it.
    pub fn parse(text: &str, base: &Path) -> Result<ExperimentSpec> {
        let mut spec: ExperimentSpec =
            toml::from_str(text).map_err(|e| Error::invalid(format!("experiment: {e}")))?;
        // Absolute, so that run children, `report` and `status` find the data from any folder.
        let base = std::path::absolute(base).map_err(|e| Error::io(base, e))?;
        let resolve = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        resolve(&mut spec.data.train);
        spec.data.valid.as_mut().map(resolve);
        spec.data.test.as_mut().map(resolve);
        // An RL start's task file, written in `start` or swept as `start.task`.
        let resolve_value = |v: &mut toml::Value| {
            if let toml::Value::String(path) = v {
                let mut p = PathBuf::from(&*path);
                resolve(&mut p);
                *path = p.to_string_lossy().into_owned();
            }
        };
        for arm in &mut spec.arms {
            if let Some(task) = arm.start.as_mut().and_then(|s| s.get_mut("task")) {
                resolve_value(task);
            }
            if let Some(values) = arm.sweep.get_mut("start.task") {
                values.iter_mut().for_each(resolve_value);
            }
        }
        spec.validate()?;
        Ok(spec)
    }

    /// Checks everything before any run starts: names, budgets, seeds, evaluation points, every
    /// arm's recipe, that the data files exist, and the claim's form.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(Error::invalid(m));
        if self.name.trim().is_empty() {
            return bad("experiment: name must not be empty".into());
        }
        for (split, path) in self.data.splits() {
            if !path.is_file() {
                return bad(format!("data.{split}: {} is not a file", path.display()));
            }
        }
        if self.arms.is_empty() {
            return bad("experiment: no [[arm]]: nothing to run".into());
        }
        for b in &self.budgets {
            if !(b.is_finite() && *b > 0.0) {
                return bad(format!(
                    "budgets: every budget must be a positive number of CPU seconds, got {b}"
                ));
            }
        }
        for p in &self.eval_points {
            if !(*p > 0.0 && *p <= 1.0) {
                return bad(format!(
                    "eval_points: fractions of the budget in (0, 1], got {p}"
                ));
            }
        }
        if self.seeds.iter().collect::<BTreeSet<_>>().len() != self.seeds.len() {
            return bad(format!("seeds: {:?} repeats a seed", self.seeds));
        }
        let arms = self.arms()?;
        if let Some(claim) = &self.claim {
            let names: Vec<&str> = arms.iter().map(|a| a.name.as_str()).collect();
            crate::experiment::claim::Claim::parse(claim, &names)?;
        }
        let neural = arms.iter().any(|a| a.recipe.model.is_neural());
        if neural && self.data.valid.is_none() {
            return bad("data.valid: neural arms validate on it, and it is missing".into());
        }
        Ok(())
    }

    /// The arms with their sweeps expanded, each recipe validated, every arm after the arms it
    /// starts or distils from (file order otherwise); names must be unique. A derived arm's
    /// recipe is its first parent's with the arm's `recipe` table laid over it.
    pub fn arms(&self) -> Result<Vec<Arm>> {
        let mut expanded = Vec::new();
        let mut seen = BTreeSet::new();
        for arm in &self.arms {
            if !seen.insert(arm.name.clone()) {
                return Err(Error::invalid(format!(
                    "arm '{}' is named twice: arm names must be unique",
                    arm.name
                )));
            }
            for (name, recipe, start) in expand(arm)? {
                let start = start
                    .map(|s| Start::parse(&s))
                    .transpose()
                    .map_err(|e| Error::invalid(format!("arm '{name}': {e}")))?;
                expanded.push((name, arm.name.clone(), recipe, start));
            }
        }
        let nodes: Vec<derive::Node> = expanded
            .iter()
            .map(|(name, base, recipe, start)| {
                let mut deps: Vec<String> = start
                    .iter()
                    .flat_map(|s| s.parents())
                    .map(str::to_string)
                    .collect();
                deps.extend(derive::arm_teachers(recipe));
                derive::Node { name, base, deps }
            })
            .collect();
        let mut values: BTreeMap<String, toml::Value> = BTreeMap::new();
        let mut arms = Vec::new();
        for i in derive::order(&nodes)? {
            let (name, base, recipe, start) = &expanded[i];
            let value = match start {
                Some(s) => {
                    let first = derive::resolve(&nodes, name, &s.from[0])?[0];
                    let mut value = values[first].clone();
                    overlay(&mut value, recipe);
                    value
                }
                None => recipe.clone(),
            };
            let context = |e: Error| Error::invalid(format!("arm '{name}': {e}"));
            let parsed: Recipe = value
                .clone()
                .try_into()
                .map_err(|e: toml::de::Error| context(Error::invalid(format!("recipe: {e}"))))?;
            parsed.validate().map_err(context)?;
            values.insert(name.clone(), value);
            arms.push(Arm {
                name: name.clone(),
                base: base.clone(),
                recipe: parsed,
                start: start.clone(),
            });
        }
        Ok(arms)
    }

    /// Every run the experiment takes, in order: arm by arm (parents first), budget by budget,
    /// seed by seed. Neural arms run once per budget and seed; the others (whose training does
    /// not depend on either) once, at no budget, seed 0; a derived arm once per run of its first
    /// parent ([`derive`]). `data_sha256` are the data files' digests by split.
    pub fn plan(&self, data_sha256: &BTreeMap<String, String>) -> Result<Vec<PlannedRun>> {
        let arms = self.arms()?;
        let nodes: Vec<derive::Node> = arms
            .iter()
            .map(|a| derive::Node {
                name: &a.name,
                base: &a.base,
                deps: Vec::new(),
            })
            .collect();
        let mut planned: Planned = BTreeMap::new();
        let mut runs = Vec::new();
        for arm in &arms {
            let neural = arm.recipe.model.is_neural();
            let budgets: Vec<Option<f64>> = match (neural, self.budgets.is_empty()) {
                (true, false) => self.budgets.iter().map(|&b| Some(b)).collect(),
                (true, true) => vec![arm.recipe.budget_cpu_seconds],
                (false, _) => vec![None],
            };
            let seeds: Vec<u64> = match (neural, self.seeds.is_empty()) {
                (true, false) => self.seeds.clone(),
                (true, true) => vec![arm.recipe.seed],
                (false, _) => vec![0],
            };
            let keys: Vec<RunKey> = budgets
                .iter()
                .flat_map(|&budget| {
                    let class = budget.filter(|_| !self.budgets.is_empty());
                    seeds.iter().map(move |&seed| RunKey {
                        class,
                        seed,
                        budget,
                    })
                })
                .collect();
            let teachers: Vec<String> = arm
                .recipe
                .train
                .iter()
                .flat_map(|t| t.distill.iter())
                .flat_map(|d| d.teacher.iter())
                .filter_map(|p| p.to_str()?.strip_prefix(derive::ARM_TEACHER))
                .map(str::to_string)
                .collect();
            let mut teacher_arms = Vec::new();
            for t in &teachers {
                match derive::resolve(&nodes, &arm.name, t)?.as_slice() {
                    [one] => teacher_arms.push(*one),
                    many => {
                        return Err(Error::invalid(format!(
                            "arm '{}': teacher arm:{t} names {} arms (a sweep); name one of them",
                            arm.name,
                            many.len()
                        )))
                    }
                }
            }
            let start = match &arm.start {
                Some(s) => {
                    let parents = s
                        .parents()
                        .into_iter()
                        .map(|p| derive::resolve(&nodes, &arm.name, p))
                        .collect::<Result<Vec<_>>>()?;
                    Some((s, parents))
                }
                None => None,
            };
            let arm_runs = if start.is_none() && teacher_arms.is_empty() {
                keys.into_iter()
                    .map(|key| {
                        let recipe = Recipe {
                            budget_cpu_seconds: key.budget,
                            seed: key.seed,
                            ..arm.recipe.clone()
                        };
                        let run = PlannedRun {
                            id: run_id(&recipe, data_sha256),
                            arm: arm.name.clone(),
                            recipe,
                            start: None,
                            parents: Vec::new(),
                        };
                        (key, run)
                    })
                    .collect()
            } else {
                derive::plan_dependent(arm, start, &teacher_arms, keys, &planned, data_sha256)?
            };
            runs.extend(arm_runs.iter().map(|(_, r)| r.clone()));
            planned.insert(arm.name.clone(), arm_runs);
        }
        Ok(runs)
    }
}

/// A run's id: the first 16 hex digits of the sha256 of its recipe, data digests and lmlab's
/// version. The same run in another experiment has the same id.
pub fn run_id(recipe: &Recipe, data_sha256: &BTreeMap<String, String>) -> String {
    let key = serde_json::json!({
        "recipe": recipe,
        "data": data_sha256,
        "lmlab_version": LMLAB_VERSION,
    });
    let text = serde_json::to_string(&key).expect("serializes");
    lmlab_core::hashing::sha256_hex(text.as_bytes())[..16].to_string()
}

/// A point of an arm's sweep grid: its name, recipe and start.
type Point = (String, toml::Value, Option<toml::Value>);

/// The arm's points: one per point of its sweep grid, with names. Keys `start.X` set the start's
/// options, the others the recipe's.
fn expand(arm: &ArmSpec) -> Result<Vec<Point>> {
    let mut root = toml::value::Table::new();
    root.insert("recipe".into(), arm.recipe.clone());
    if let Some(start) = &arm.start {
        root.insert("start".into(), start.clone());
    }
    let mut points: Vec<(Vec<String>, toml::Value)> = vec![(Vec::new(), toml::Value::Table(root))];
    for (key, values) in &arm.sweep {
        if values.is_empty() {
            return Err(Error::invalid(format!(
                "arm '{}': sweep key '{key}' has no values",
                arm.name
            )));
        }
        let path = match key.strip_prefix("start.") {
            Some(_) if arm.start.is_none() => {
                return Err(Error::invalid(format!(
                    "arm '{}': sweep key '{key}': the arm has no start",
                    arm.name
                )))
            }
            Some(_) => key.clone(),
            None => format!("recipe.{key}"),
        };
        let mut next = Vec::new();
        for (labels, point) in &points {
            for value in values {
                let mut point = point.clone();
                set_dotted(&mut point, &path, value.clone()).map_err(|m| {
                    Error::invalid(format!("arm '{}': sweep key '{key}': {m}", arm.name))
                })?;
                let leaf = key.rsplit('.').next().unwrap_or(key);
                let mut labels = labels.clone();
                labels.push(format!("{leaf}={}", value_label(value)));
                next.push((labels, point));
            }
        }
        points = next;
    }
    Ok(points
        .into_iter()
        .map(|(labels, mut point)| {
            let name = if labels.is_empty() {
                arm.name.clone()
            } else {
                format!("{}[{}]", arm.name, labels.join(","))
            };
            let table = point.as_table_mut().expect("a table");
            let recipe = table.remove("recipe").expect("set above");
            (name, recipe, table.remove("start"))
        })
        .collect())
}

/// Lays the tables and values of `over` onto `base` (tables merge key by key; other values
/// replace).
fn overlay(base: &mut toml::Value, over: &toml::Value) {
    match (base, over) {
        (toml::Value::Table(b), toml::Value::Table(o)) => {
            for (k, v) in o {
                match b.get_mut(k) {
                    Some(existing) => overlay(existing, v),
                    None => {
                        b.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (b, o) => *b = o.clone(),
    }
}

fn value_label(value: &toml::Value) -> String {
    match value {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Sets `a.b.c` in a TOML table, creating tables on the way.
fn set_dotted(
    root: &mut toml::Value,
    key: &str,
    value: toml::Value,
) -> std::result::Result<(), String> {
    let parts: Vec<&str> = key.split('.').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Err("not a dotted key".into());
    }
    let mut node = root;
    for part in &parts[..parts.len() - 1] {
        let table = node
            .as_table_mut()
            .ok_or_else(|| format!("'{part}' is inside a value that is not a table"))?;
        node = table
            .entry(part.to_string())
            .or_insert_with(|| toml::Value::Table(Default::default()));
    }
    let table = node
        .as_table_mut()
        .ok_or_else(|| "its parent is not a table".to_string())?;
    table.insert(parts[parts.len() - 1].to_string(), value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir_with_data() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for f in ["train.txt", "valid.txt", "test.txt"] {
            std::fs::write(dir.path().join(f), "a b c\n").unwrap();
        }
        dir
    }

    const DATA: &str =
        "[data]\ntrain = \"train.txt\"\nvalid = \"valid.txt\"\ntest = \"test.txt\"\n";

    /// `rest` (top-level keys first, then arms) with a name and the data table.
    fn parse(dir: &Path, rest: &str) -> Result<ExperimentSpec> {
        ExperimentSpec::parse(&format!("name = \"x\"\n{rest}\n{DATA}"), dir)
    }

    #[test]
    fn sweeps_expand_to_named_arms_and_count_based_arms_run_once() {
        let dir = dir_with_data();
        let spec = parse(
            dir.path(),
            "budgets = [10, 20]\nseeds = [1, 2]\n[[arm]]\nname = \"kn\"\n\
             recipe = { model = { family = \"ngram\" } }\nsweep = { \"model.order\" = [3, 4] }\n",
        )
        .unwrap();
        let arms = spec.arms().unwrap();
        let names: Vec<&str> = arms.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["kn[order=3]", "kn[order=4]"]);
        let plan = spec.plan(&BTreeMap::new()).unwrap();
        assert_eq!(
            plan.len(),
            2,
            "count-based arms run once, whatever the budgets and seeds"
        );
        assert!(plan.iter().all(|r| r.budget().is_none()));
        assert_ne!(plan[0].id, plan[1].id);
        // Ids are stable.
        assert_eq!(plan, spec.plan(&BTreeMap::new()).unwrap());
    }

    #[test]
    fn neural_arms_run_per_budget_and_seed() {
        let dir = dir_with_data();
        let spec = parse(
            dir.path(),
            "budgets = [10, 20]\nseeds = [1, 2, 3]\n[[arm]]\nname = \"t\"\n[arm.recipe.model]\n\
             family = \"transformer\"\nn_layer = 1\nn_head = 1\nn_embd = 8\nblock_size = 8\n\
             [arm.recipe.train]\nbatch_size = 2\nmax_steps = 10\nlearning_rate = 1e-3\nmin_lr = 1e-4\n",
        )
        .unwrap();
        let plan = spec.plan(&BTreeMap::new()).unwrap();
        assert_eq!(plan.len(), 6);
        let ids: BTreeSet<_> = plan.iter().map(|r| &r.id).collect();
        assert_eq!(ids.len(), 6);
        assert_eq!(plan[5].recipe.seed, 3);
        assert_eq!(plan[5].budget(), Some(20.0));
    }

    #[test]
    fn bad_experiments_are_refused_before_any_run() {
        let dir = dir_with_data();
        let uni = "[[arm]]\nname = \"u\"\nrecipe = { model = { family = \"uniform\" } }\n";
        let err = |rest: &str| parse(dir.path(), rest).unwrap_err().to_string();
        assert!(err(&format!("colour = 1\n{uni}")).contains("colour"));
        assert!(err(&format!("budgets = [0]\n{uni}")).contains("positive"));
        assert!(err(&format!("budgets = [-5]\n{uni}")).contains("positive"));
        assert!(err(&format!("{uni}{uni}")).contains("named twice"));
        assert!(err("").contains("arm"));
        let m =
            err("[[arm]]\nname = \"k\"\nrecipe = { model = { family = \"ngram\", order = 0 } }\n");
        assert!(m.contains("arm 'k'") && m.contains("order"), "{m}");
        let m =
            err("[[arm]]\nname = \"k\"\nrecipe = { model = { family = \"ngram\", colour = 0 } }\n");
        assert!(m.contains("colour"), "{m}");
        let m = ExperimentSpec::parse(
            &format!("name = \"x\"\n{uni}[data]\ntrain = \"missing.txt\"\n"),
            dir.path(),
        )
        .unwrap_err()
        .to_string();
        assert!(m.contains("missing.txt"), "{m}");
        let m = err(&format!("eval_points = [1.5]\n{uni}"));
        assert!(m.contains("eval_points"), "{m}");
    }
}

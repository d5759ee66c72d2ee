//! Arms that start from other arms' runs (issue 15): `start = { from = "ARM" | ["ARM", ...],
//! op = "continue" | "grow" | "prune" | "merge" | "rl", budget?, seed_offset?, ...the op's
//! options }`,
//! and distillation teachers named `arm:NAME` in `[train] distill.teacher`.
//!
//! ```toml
//! [[arm]]
//! name = "ft"                    # four fine-tunes of `base`, each on another batch order
//! start = { from = "base", op = "continue" }
//! recipe = { train = { learning_rate = 1e-3 } }   # changes to the parent's recipe
//! sweep = { "start.seed_offset" = [1, 2, 3, 4] }
//! [[arm]]
//! name = "soup"                  # their uniform average, not trained further
//! start = { from = "ft", op = "merge", method = "linear", budget = 0 }
//! ```
//!
//! - **Order.** [`order`] puts every arm after the arms it starts from or distils from; a cycle or
//!   a name that is no arm is refused, naming them.
//! - **Pairing.** A dependent arm runs once per run of its first parent (per compute class and
//!   seed); every other parent and teacher gives its run of the same class (the entry of the
//!   experiment's `budgets`, when it has them) and seed, or its only run when it has one (a
//!   count-based teacher).
//! - **Budgets.** A derived run trains for its own `budget` (default: its parent's budget, i.e. the
//!   experiment's budget of that compute class), in addition to what its parents spent; `budget =
//!   0` evaluates the derived weights as they are. Its recipe's `budget_cpu_seconds` is that own
//!   budget; what deriving cost (merging, pruning, ...) counts inside it.
//! - **Seeds.** A derived run's seed is its parent's seed plus `seed_offset` (fine-tunes of one
//!   parent that differ in their batch order).
//! - **Charging.** [`Derived`] in the run record names the parents and gives the run's own CPU
//!   seconds and the total with every distinct run it descends from (parents, their parents,
//!   teachers), each counted once.
//! - **Ids.** A dependent run's id also hashes its start and its parents' ids.
//!
//! A derived run's model is a run directory at step 0 with a fresh optimizer
//! ([`lmlab_neural::derived_run`]), made by the op; it is then trained like any neural run
//! (`--resume` semantics), so pruning masks hold through recovery. `op = "rl"` instead runs GRPO
//! from the parent ([`crate::rl::grpo_from_parent`], issue 16) for the run's budget. A new op is
//! one more [`Derivation`] arm and its branch in [`build_start`] (or beside it, as RL's).

use super::spec::PlannedRun;
use super::{read_json, run_dir, ExperimentState, RunEntry, RUN_FILE};
use crate::recipe::{ModelChoice, Recipe};
use crate::run::{neural_tokenizer_spec, train, RunOptions, RunRecord};
use lmlab_core::compute::ComputeMeter;
use lmlab_core::{Error, Result, LMLAB_VERSION};
use lmlab_neural::config::{Arch, RunConfig};
use lmlab_neural::merge::config::{MemberConfig, MemberParameters, MergeConfig, MergeMethod};
use lmlab_neural::prune::{PruneMethod, PruneScope};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The prefix of a distillation teacher that names an arm of the experiment.
pub const ARM_TEACHER: &str = "arm:";

/// Where an arm starts: its parent arms and what is done to them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Start {
    /// The parent arms (a name with a sweep names all its points: a merge's members).
    pub from: Vec<String>,
    /// CPU seconds the derived run trains for (default: its parent's budget, or its `max_steps`
    /// when the parent had none; 0: not trained).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget: Option<f64>,
    /// Added to the parent's seed (the derived run's batch order and dropout).
    #[serde(default)]
    pub seed_offset: u64,
    /// What is done to the parents.
    #[serde(flatten)]
    pub op: Derivation,
}

/// What a derived arm does to its parents' runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Derivation {
    /// Train the parent's weights further (fresh optimizer; the arm's `[train]` and budget).
    Continue {},
    /// Grow the parent (function-preserving) to `n_layer` blocks of width `n_embd` (each default:
    /// the parent's).
    Grow {
        /// Blocks of the grown model.
        #[serde(default)]
        n_layer: Option<usize>,
        /// Width of the grown model.
        #[serde(default)]
        n_embd: Option<usize>,
    },
    /// Prune the parent (`lmlab prune`); recovery training is the run's budget.
    Prune {
        /// Which weights go.
        method: PruneMethod,
        /// Magnitude pruning's scope.
        #[serde(default)]
        scope: PruneScope,
        /// The fraction removed, in [0, 1).
        sparsity: f64,
    },
    /// Merge the parents (`lmlab merge`; mergekit's defaults for each method).
    Merge {
        /// The method (default linear: a uniform soup).
        #[serde(default = "linear")]
        method: MergeMethod,
        /// One weight per member (default 1 each).
        #[serde(default)]
        weights: Option<Vec<f64>>,
        /// The arm whose run is the base (task arithmetic, TIES, DARE, SLERP).
        #[serde(default)]
        base: Option<String>,
        /// Fraction of each task vector kept (TIES, DARE).
        #[serde(default)]
        density: Option<f64>,
        /// Scale of the mixed task vector.
        #[serde(default)]
        lambda: Option<f64>,
    },
    /// GRPO from the parent run on a task file (issue 16; [`crate::rl::grpo_from_parent`]): `task`
    /// and any of GRPO's settings (`group`, `scaffold`, ...; the library's defaults otherwise).
    /// The run's budget bounds GRPO; its record's `rl_outcome` artifact holds the test split's
    /// greedy pass@1 by difficulty.
    Rl(crate::rl::RlStart),
}

fn linear() -> MergeMethod {
    MergeMethod::Linear
}

impl Derivation {
    /// The op's name as written.
    pub fn name(&self) -> &'static str {
        match self {
            Derivation::Continue {} => "continue",
            Derivation::Grow { .. } => "grow",
            Derivation::Prune { .. } => "prune",
            Derivation::Merge { .. } => "merge",
            Derivation::Rl(_) => "rl",
        }
    }
}

impl Start {
    /// Parses an arm's `start` table strictly: unknown keys and ops are refused by name.
    pub fn parse(value: &toml::Value) -> Result<Start> {
        let bad = |m: String| Error::invalid(format!("start: {m}"));
        let mut table = value
            .as_table()
            .cloned()
            .ok_or_else(|| bad("must be a table { from = ..., op = ... }".into()))?;
        let from = match table.remove("from") {
            Some(toml::Value::String(s)) => vec![s],
            Some(toml::Value::Array(a)) => a
                .into_iter()
                .map(|v| match v {
                    toml::Value::String(s) => Ok(s),
                    other => Err(bad(format!("from: arm names are strings, got {other}"))),
                })
                .collect::<Result<Vec<_>>>()?,
            Some(other) => return Err(bad(format!("from: an arm name or a list, got {other}"))),
            None => return Err(bad("from: missing (the arm(s) it starts from)".into())),
        };
        if from.is_empty() {
            return Err(bad("from: names no arm".into()));
        }
        let budget = match table.remove("budget") {
            Some(v) => Some(
                v.as_float()
                    .or_else(|| v.as_integer().map(|i| i as f64))
                    .filter(|b| b.is_finite() && *b >= 0.0)
                    .ok_or_else(|| bad(format!("budget: CPU seconds >= 0, got {v}")))?,
            ),
            None => None,
        };
        let seed_offset = match table.remove("seed_offset") {
            Some(v) => v
                .as_integer()
                .filter(|i| *i >= 0)
                .ok_or_else(|| bad(format!("seed_offset: an integer >= 0, got {v}")))?
                as u64,
            None => 0,
        };
        let op: Derivation = toml::Value::Table(table)
            .try_into()
            .map_err(|e: toml::de::Error| bad(e.message().to_string()))?;
        let start = Start {
            from,
            budget,
            seed_offset,
            op,
        };
        start.validate()?;
        Ok(start)
    }

    /// Checks the op's options that need no run: one parent for the single-parent ops, the
    /// sparsity, and the merge configuration.
    fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(Error::invalid(format!("start: {m}")));
        match &self.op {
            Derivation::Merge { .. } => self
                .merge_config(
                    &self.from.iter().map(PathBuf::from).collect::<Vec<_>>(),
                    None,
                )
                .plan()
                .map(|_| ()),
            _ if self.from.len() != 1 => bad(format!(
                "op {} starts from one arm, `from` names {}",
                self.op.name(),
                self.from.len()
            )),
            Derivation::Prune { sparsity, .. } if !(0.0..1.0).contains(sparsity) => bad(format!(
                "sparsity is {sparsity}; it must be in [0, 1) (the fraction removed)"
            )),
            Derivation::Rl(_) if !self.trains() => {
                bad("op rl trains: its budget must be above 0".into())
            }
            _ => Ok(()),
        }
    }

    /// Whether the derived run trains (`budget = 0`: it is evaluated as derived).
    pub fn trains(&self) -> bool {
        self.budget != Some(0.0)
    }

    /// The arms it depends on, as written: `from`, then a merge's `base`.
    pub fn parents(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.from.iter().map(String::as_str).collect();
        if let Derivation::Merge {
            base: Some(base), ..
        } = &self.op
        {
            names.push(base);
        }
        names
    }

    /// The merge configuration of `members` (and `base`), as `lmlab merge` reads it.
    fn merge_config(&self, members: &[PathBuf], base: Option<PathBuf>) -> MergeConfig {
        let Derivation::Merge {
            method,
            weights,
            base: base_arm,
            density,
            lambda,
        } = &self.op
        else {
            unreachable!("a merge")
        };
        let base = base.or_else(|| base_arm.as_ref().map(PathBuf::from));
        MergeConfig {
            merge_method: *method,
            base_model: base,
            models: members
                .iter()
                .enumerate()
                .map(|(i, model)| MemberConfig {
                    model: model.clone(),
                    parameters: MemberParameters {
                        weight: Some(
                            weights
                                .as_ref()
                                .map_or(1.0, |w| w.get(i).copied().unwrap_or(f64::NAN)),
                        ),
                        density: *density,
                    },
                })
                .collect(),
            parameters: lmlab_neural::merge::config::MethodParameters {
                normalize: Some(true),
                lambda: *lambda,
                ..Default::default()
            },
            dtype: None,
        }
    }
}

/// The teachers of `recipe` that name arms (`arm:NAME` → `NAME`).
pub fn arm_teachers(recipe: &toml::Value) -> Vec<String> {
    let teacher = recipe
        .get("train")
        .and_then(|t| t.get("distill"))
        .and_then(|d| d.get("teacher"));
    let names = match teacher {
        Some(toml::Value::String(s)) => vec![s.as_str()],
        Some(toml::Value::Array(a)) => a.iter().filter_map(|v| v.as_str()).collect(),
        _ => Vec::new(),
    };
    names
        .into_iter()
        .filter_map(|s| s.strip_prefix(ARM_TEACHER))
        .map(str::to_string)
        .collect()
}

/// An arm to order: its name, its sweep's base name, and the arm names it depends on as written.
pub struct Node<'a> {
    /// `name` or `name[key=value,...]`.
    pub name: &'a str,
    /// The name in the file.
    pub base: &'a str,
    /// The names it starts from or distils from.
    pub deps: Vec<String>,
}

/// The arms `name` designates: the arm of that full name, or every point of the sweep of that
/// base name (file order). Unknown names are refused, naming the arm that used them.
pub fn resolve<'a>(nodes: &[Node<'a>], user: &str, name: &str) -> Result<Vec<&'a str>> {
    if let Some(n) = nodes.iter().find(|n| n.name == name) {
        return Ok(vec![n.name]);
    }
    let swept: Vec<&str> = nodes
        .iter()
        .filter(|n| n.base == name)
        .map(|n| n.name)
        .collect();
    if swept.is_empty() {
        return Err(Error::invalid(format!(
            "arm '{user}' starts or distils from '{name}', which is no arm of this experiment"
        )));
    }
    Ok(swept)
}

/// The arms' indices with every arm after those it depends on (file order otherwise). A cycle is
/// refused with its arms.
pub fn order(nodes: &[Node<'_>]) -> Result<Vec<usize>> {
    let index: BTreeMap<&str, usize> = nodes.iter().enumerate().map(|(i, n)| (n.name, i)).collect();
    let mut deps = Vec::new();
    for n in nodes {
        let mut d = Vec::new();
        for name in &n.deps {
            d.extend(resolve(nodes, n.name, name)?.into_iter().map(|m| index[m]));
        }
        deps.push(d);
    }
    // 0 = not visited, 1 = on the path, 2 = placed.
    let mut mark = vec![0u8; nodes.len()];
    let mut out = Vec::new();
    fn visit(
        i: usize,
        deps: &[Vec<usize>],
        mark: &mut [u8],
        path: &mut Vec<usize>,
        out: &mut Vec<usize>,
        nodes: &[Node<'_>],
    ) -> Result<()> {
        match mark[i] {
            2 => return Ok(()),
            1 => {
                let from = path.iter().position(|&p| p == i).expect("on the path");
                let cycle: Vec<&str> = path[from..]
                    .iter()
                    .chain([&i])
                    .map(|&p| nodes[p].name)
                    .collect();
                return Err(Error::invalid(format!(
                    "arms {} form a cycle: an arm cannot start from its own runs",
                    cycle.join(" -> ")
                )));
            }
            _ => {}
        }
        mark[i] = 1;
        path.push(i);
        for &d in &deps[i] {
            visit(d, deps, mark, path, out, nodes)?;
        }
        path.pop();
        mark[i] = 2;
        out.push(i);
        Ok(())
    }
    for i in 0..nodes.len() {
        visit(i, &deps, &mut mark, &mut Vec::new(), &mut out, nodes)?;
    }
    Ok(out)
}

/// What a dependency is to the run that uses it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// One of `start.from`.
    From,
    /// A merge's base.
    Base,
    /// A distillation teacher (`arm:NAME`).
    Teacher,
}

/// A run another run depends on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Parent {
    /// How it is used.
    pub role: Role,
    /// Its arm.
    pub arm: String,
    /// Its run id.
    pub id: String,
}

/// A planned run's compute class and seed, by which dependent runs pair with their parents, and
/// its budget.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RunKey {
    /// The entry of the experiment's `budgets` it was planned for (`None`: the experiment has no
    /// `budgets`, or a count-based run).
    pub class: Option<f64>,
    /// Its seed before any `seed_offset`.
    pub seed: u64,
    /// Its own budget (a child's default).
    pub budget: Option<f64>,
}

/// The runs planned so far, by arm: each with its key.
pub type Planned = BTreeMap<String, Vec<(RunKey, PlannedRun)>>;

/// The run of `arm` that pairs with `key`: the one of the same compute class and seed, or the
/// arm's only run.
fn paired<'a>(planned: &'a Planned, user: &str, arm: &str, key: RunKey) -> Result<&'a PlannedRun> {
    let runs = &planned[arm];
    let same = |k: &RunKey| k.class == key.class && k.seed == key.seed;
    if let Some((_, run)) = runs.iter().find(|(k, _)| same(k)) {
        return Ok(run);
    }
    match runs.as_slice() {
        [(_, only)] => Ok(only),
        _ => Err(Error::invalid(format!(
            "arm '{user}': arm '{arm}' has no run of budget class {:?} and seed {} to pair with",
            key.class, key.seed
        ))),
    }
}

/// The runs of an arm with dependencies. `keys` are the arm's own runs when it starts from
/// scratch (a root arm distilling from an arm); a derived arm runs once per run of its first
/// parent. `teachers` are its `arm:` teachers resolved to arm names.
pub fn plan_dependent(
    arm: &super::spec::Arm,
    start: Option<(&Start, Vec<Vec<&str>>)>,
    teachers: &[&str],
    keys: Vec<RunKey>,
    planned: &Planned,
    data_sha256: &BTreeMap<String, String>,
) -> Result<Vec<(RunKey, PlannedRun)>> {
    let name = arm.name.as_str();
    let keys = match &start {
        None => keys,
        Some((_, arms)) => {
            let first = arms[0][0];
            let runs = &planned[first];
            if !runs[0].1.recipe.model.is_neural() {
                return Err(Error::invalid(format!(
                    "arm '{name}': it starts from arm '{first}', a {} model; only neural runs can \
                     be continued, grown, pruned or merged",
                    runs[0].1.recipe.model.family()
                )));
            }
            runs.iter().map(|(k, _)| *k).collect()
        }
    };
    let mut out = Vec::new();
    for key in keys {
        let mut parents = Vec::new();
        if let Some((s, arms)) = &start {
            let roles = s.from.iter().map(|_| Role::From).chain([Role::Base]);
            for (role, names) in roles.zip(arms) {
                for parent in names {
                    let run = paired(planned, name, parent, key)?;
                    parents.push(Parent {
                        role,
                        arm: parent.to_string(),
                        id: run.id.clone(),
                    });
                }
            }
        }
        for teacher in teachers {
            let run = paired(planned, name, teacher, key)?;
            parents.push(Parent {
                role: Role::Teacher,
                arm: teacher.to_string(),
                id: run.id.clone(),
            });
        }
        let mut recipe = arm.recipe.clone();
        match start.as_ref().map(|(s, _)| *s) {
            Some(s) => {
                recipe.budget_cpu_seconds = match s.trains() {
                    true => s.budget.or(key.budget),
                    false => None,
                };
                recipe.seed = key.seed + s.seed_offset;
            }
            None => {
                recipe.budget_cpu_seconds = key.budget;
                recipe.seed = key.seed;
            }
        }
        let ids: Vec<&str> = parents.iter().map(|p| p.id.as_str()).collect();
        let start = start.as_ref().map(|(s, _)| (*s).clone());
        let id = dependent_run_id(&recipe, data_sha256, start.as_ref(), &ids);
        out.push((
            RunKey {
                budget: recipe.budget_cpu_seconds,
                ..key
            },
            PlannedRun {
                id,
                arm: name.to_string(),
                recipe,
                start,
                parents,
            },
        ));
    }
    Ok(out)
}

/// A dependent run's id: [`super::spec::run_id`]'s hash with its start and its parents' ids.
fn dependent_run_id(
    recipe: &Recipe,
    data_sha256: &BTreeMap<String, String>,
    start: Option<&Start>,
    parents: &[&str],
) -> String {
    let key = serde_json::json!({
        "recipe": recipe,
        "data": data_sha256,
        "lmlab_version": LMLAB_VERSION,
        "start": start,
        "parents": parents,
    });
    let text = serde_json::to_string(&key).expect("serializes");
    lmlab_core::hashing::sha256_hex(text.as_bytes())[..16].to_string()
}

/// What a run that depends on other runs records about them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Derived {
    /// The op (`continue`, `grow`, `prune`, `merge`), or `None` for a run from scratch that
    /// distilled from an arm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub op: Option<String>,
    /// The runs it used.
    pub parents: Vec<Parent>,
    /// Its own CPU seconds (deriving and training).
    pub own_cpu_seconds: f64,
    /// Every distinct run it descends from (parents, theirs, teachers) with its own CPU seconds.
    pub ancestors: BTreeMap<String, f64>,
    /// Its own CPU seconds plus its ancestors'.
    pub total_cpu_seconds: f64,
}

/// A finished parent: its entry and its model's path.
struct ParentRun {
    parent: Parent,
    entry: RunEntry,
    model: PathBuf,
}

fn load_parents(dir: &Path, run: &PlannedRun) -> Result<Vec<ParentRun>> {
    run.parents
        .iter()
        .map(|p| {
            let folder = run_dir(dir, &p.id);
            let entry = read_json::<RunEntry>(&folder.join(RUN_FILE))?.ok_or_else(|| {
                Error::invalid(format!(
                    "run {}: its parent run {} (arm '{}') has not finished",
                    run.id, p.id, p.arm
                ))
            })?;
            let model = folder.join(&entry.record.model_path);
            Ok(ParentRun {
                parent: p.clone(),
                entry,
                model,
            })
        })
        .collect()
}

/// Trains run `run`, which has parents, into `folder`; the record's `derived` charges them.
pub fn train_with_parents(
    state: &ExperimentState,
    dir: &Path,
    run: &PlannedRun,
    model_path: &Path,
    options: &RunOptions,
) -> Result<RunRecord> {
    let parents = load_parents(dir, run)?;
    let mut recipe = run.recipe.clone();
    resolve_teachers(&mut recipe, &parents);
    let mut record = match &run.start {
        None => train(&recipe, &state.spec.data, model_path, options, &mut |_| {})?,
        Some(start) => derive_and_train(state, start, &recipe, &parents, model_path, options)?,
    };
    let mut ancestors = BTreeMap::new();
    for p in &parents {
        let r = &p.entry.record;
        ancestors.insert(p.parent.id.clone(), r.compute.cpu_seconds);
        if let Some(d) = &r.derived {
            ancestors.extend(d.ancestors.iter().map(|(k, v)| (k.clone(), *v)));
        }
    }
    let own = record.compute.cpu_seconds;
    record.derived = Some(Derived {
        op: run.start.as_ref().map(|s| s.op.name().to_string()),
        parents: parents.into_iter().map(|p| p.parent).collect(),
        own_cpu_seconds: own,
        total_cpu_seconds: own + ancestors.values().sum::<f64>(),
        ancestors,
    });
    Ok(record)
}

/// Replaces the recipe's `arm:NAME` teachers by their runs' models.
fn resolve_teachers(recipe: &mut Recipe, parents: &[ParentRun]) {
    let Some(distill) = recipe.train.as_mut().and_then(|t| t.distill.as_mut()) else {
        return;
    };
    let mut teachers = parents.iter().filter(|p| p.parent.role == Role::Teacher);
    for path in distill.teacher.iter_mut() {
        if path.to_string_lossy().starts_with(ARM_TEACHER) {
            if let Some(p) = teachers.next() {
                *path = p.model.clone();
            }
        }
    }
}

/// Writes the start of a derived run into `out` (a run directory at step 0), by its op.
fn build_start(start: &Start, parents: &[ParentRun], out: &Path, seed: u64) -> Result<()> {
    let from: Vec<&ParentRun> = parents
        .iter()
        .filter(|p| p.parent.role == Role::From)
        .collect();
    let model = &from[0].model;
    match &start.op {
        Derivation::Continue {} => lmlab_neural::derived_run::restart_run(model, out),
        Derivation::Grow { n_layer, n_embd } => {
            let shape = from[0].entry.record.recipe.model.network().expect("neural");
            lmlab_neural::grow::grow_run(
                model,
                n_layer.unwrap_or(shape.n_layer),
                n_embd.unwrap_or(shape.n_embd),
                out,
            )
            .map(|_| ())
        }
        Derivation::Prune {
            method,
            scope,
            sparsity,
        } => lmlab_neural::prune::prune_run(model, out, *method, *scope, *sparsity).map(|_| ()),
        Derivation::Rl(_) => unreachable!("an RL start is trained by `rl_from_parent`"),
        Derivation::Merge { .. } => {
            let members: Vec<PathBuf> = from.iter().map(|p| p.model.clone()).collect();
            let base = parents
                .iter()
                .find(|p| p.parent.role == Role::Base)
                .map(|p| p.model.clone());
            let plan = start.merge_config(&members, base).plan()?;
            lmlab_neural::merge::merge(&plan, out, seed).map(|_| ())
        }
    }
}

/// Builds a derived run's start, then trains it for its own budget (none: evaluated as it is).
fn derive_and_train(
    state: &ExperimentState,
    start: &Start,
    recipe: &Recipe,
    parents: &[ParentRun],
    model_path: &Path,
    options: &RunOptions,
) -> Result<RunRecord> {
    if let Derivation::Rl(rl) = &start.op {
        return rl_from_parent(state, rl, recipe, parents, model_path);
    }
    let meter = ComputeMeter::start();
    build_start(start, parents, model_path, recipe.seed)?;
    // The recipe now describes the derived model, trained by this recipe's loop and seed.
    let ck = lmlab_neural::checkpoint::Checkpoint::load(
        &model_path.join(lmlab_neural::checkpoint::FILE_NAME),
    )?;
    let mut recipe = recipe.clone();
    recipe.model = match ck.config.model.arch {
        Arch::Transformer => ModelChoice::Transformer(ck.config.model.clone()),
        Arch::Lstm => ModelChoice::Lstm(ck.config.model.clone()),
    };
    let mut train_config = recipe.train.clone().expect("neural recipes have [train]");
    train_config.seed = recipe.seed;
    let config = RunConfig {
        model: ck.config.model.clone(),
        train: train_config,
        tokenizer: neural_tokenizer_spec(&recipe.tokenizer, model_path).0,
        sequences: recipe.sequences,
    };
    lmlab_neural::derived_run::retarget_derived_run(model_path, config)?;
    let derive_cpu = meter.cpu_seconds();
    let data = &state.spec.data;
    let mut record = match start.trains() {
        true => {
            let mut trained = recipe.clone();
            if let Some(budget) = recipe.budget_cpu_seconds {
                if derive_cpu >= budget {
                    return Err(Error::invalid(format!(
                        "deriving the start ({}) took {derive_cpu:.1} CPU-s, the whole budget of \
                         {budget} CPU-s",
                        start.op.name()
                    )));
                }
                trained.budget_cpu_seconds = Some(budget - derive_cpu);
            }
            let options = RunOptions {
                resume: true,
                ..options.clone()
            };
            let mut record = train(&trained, data, model_path, &options, &mut |_| {})?;
            record.compute.cpu_seconds += derive_cpu;
            for point in &mut record.curve {
                point.cpu_seconds += derive_cpu;
            }
            record
        }
        false => record_as_is(
            &recipe,
            data,
            model_path,
            meter,
            ck.params.len(),
            "NotTrained",
        )?,
    };
    record.recipe = recipe;
    Ok(record)
}

/// The record of the run at `model_path` (`params` parameters) as it is, not trained by the
/// supervised loop: its compute since `meter` started and why it stopped.
fn record_as_is(
    recipe: &Recipe,
    data: &crate::run::Data,
    model_path: &Path,
    meter: ComputeMeter,
    params: usize,
    stop: &str,
) -> Result<RunRecord> {
    let mut record = crate::run::untrained_record(recipe, data, model_path)?;
    record.compute = meter.finish(0, params as u64);
    record.stop = Some(stop.to_string());
    Ok(record)
}

/// GRPO from the parent's run for the recipe's budget ([`crate::rl::grpo_from_parent`]), then the
/// record of the result: its CPU seconds are GRPO's (the budgeted part; scoring the task's test
/// split is not charged, as no run's evaluation is), its stop GRPO's, and its `rl_outcome`
/// artifact the pass@1 by difficulty.
fn rl_from_parent(
    state: &ExperimentState,
    rl: &crate::rl::RlStart,
    recipe: &Recipe,
    parents: &[ParentRun],
    model_path: &Path,
) -> Result<RunRecord> {
    let budget = recipe.budget_cpu_seconds.ok_or_else(|| {
        Error::invalid("op rl needs a CPU budget (the experiment's `budgets` or `start.budget`)")
    })?;
    let meter = ComputeMeter::start();
    let outcome = crate::rl::grpo_from_parent(
        &parents[0].model,
        rl,
        budget,
        recipe.seed,
        model_path,
        &mut |_| {},
    )?;
    let params = lmlab_neural::checkpoint::Checkpoint::load(
        &model_path.join(lmlab_neural::checkpoint::FILE_NAME),
    )?
    .params
    .len();
    let stop = format!("{:?}", outcome.stop);
    let mut record = record_as_is(recipe, &state.spec.data, model_path, meter, params, &stop)?;
    record.compute.cpu_seconds = outcome.cpu_seconds;
    record.artifacts.insert(
        "rl_outcome".into(),
        model_path.join(crate::rl::from_parent::OUTCOME_FILE),
    );
    Ok(record)
}

#[cfg(test)]
mod tests {
    use super::super::spec::ExperimentSpec;
    use super::*;

    const TF: &str = "{ model = { family = \"transformer\", n_layer = 1, n_head = 1, n_embd = 8, \
                      block_size = 8 }, tokenizer = { kind = \"bytes\" }, train = { batch_size = 2, \
                      max_steps = 3, learning_rate = 1e-3, min_lr = 1e-4 } }";

    /// An experiment with seeds 1 and 2 whose arms are `arms` (`name`, then the rest of the table).
    fn experiment(arms: &[(&str, &str)]) -> Result<ExperimentSpec> {
        let dir = tempfile::tempdir().unwrap();
        for f in ["train.txt", "valid.txt"] {
            std::fs::write(dir.path().join(f), "a b c\n").unwrap();
        }
        let mut text = String::from(
            "name = \"x\"\nseeds = [1, 2]\n[data]\ntrain = \"train.txt\"\nvalid = \"valid.txt\"\n",
        );
        for (name, rest) in arms {
            text.push_str(&format!("[[arm]]\nname = \"{name}\"\n{rest}\n"));
        }
        ExperimentSpec::parse(&text, dir.path())
    }

    fn root() -> String {
        format!("recipe = {TF}")
    }

    #[test]
    fn children_are_planned_after_their_parents_pair_by_seed_and_hash_the_parents_ids() {
        let soup = "start = { from = \"ft\", op = \"merge\", budget = 0 }";
        let ft = "start = { from = \"base\", op = \"continue\" }\n\
                  recipe = { train = { learning_rate = 5e-4 } }\n\
                  sweep = { \"start.seed_offset\" = [10, 20] }";
        let grown = "start = { from = \"base\", op = \"grow\", n_layer = 2, budget = 4 }";
        let exp = experiment(&[
            ("soup", soup),
            ("ft", ft),
            ("base", &root()),
            ("grown", grown),
        ])
        .unwrap();
        let names: Vec<String> = exp.arms().unwrap().into_iter().map(|a| a.name).collect();
        assert_eq!(
            names,
            [
                "base",
                "ft[seed_offset=10]",
                "ft[seed_offset=20]",
                "soup",
                "grown"
            ]
        );
        let plan = exp.plan(&BTreeMap::new()).unwrap();
        assert_eq!(plan.len(), 2 + 4 + 2 + 2);
        let base: Vec<&PlannedRun> = plan.iter().filter(|r| r.arm == "base").collect();
        for run in plan.iter().filter(|r| r.arm.starts_with("ft")) {
            let parent = base.iter().find(|b| b.id == run.parents[0].id).unwrap();
            assert_eq!(
                run.recipe.seed % 10,
                parent.recipe.seed,
                "offset added to its seed"
            );
            assert!(run.recipe.seed > 10);
            // The override is laid over the parent's recipe; the rest is the parent's.
            let train = run.recipe.train.as_ref().unwrap();
            assert_eq!(train.learning_rate, 5e-4);
            assert_eq!(train.max_steps, 3);
        }
        let soups: Vec<&PlannedRun> = plan.iter().filter(|r| r.arm == "soup").collect();
        for soup in &soups {
            assert_eq!(soup.parents.len(), 2, "both fine-tunes of the same seed");
            assert_eq!(
                soup.recipe.budget_cpu_seconds, None,
                "budget 0: not trained"
            );
            for p in &soup.parents {
                let member = plan.iter().find(|r| r.id == p.id).unwrap();
                assert_eq!(member.recipe.seed % 10, soup.recipe.seed);
            }
        }
        assert_ne!(soups[0].id, soups[1].id);
        let grown: Vec<&PlannedRun> = plan.iter().filter(|r| r.arm == "grown").collect();
        assert_eq!(grown[0].recipe.budget_cpu_seconds, Some(4.0));
        // Ids are stable and hash the parents: a parent's change changes its children's ids.
        assert_eq!(plan, exp.plan(&BTreeMap::new()).unwrap());
        let other_root = root().replace("max_steps = 3", "max_steps = 4");
        let changed = super::super::spec::ExperimentSpec {
            arms: experiment(&[("soup", soup), ("ft", ft), ("base", &other_root)])
                .unwrap()
                .arms,
            ..exp.clone()
        };
        let replanned = changed.plan(&BTreeMap::new()).unwrap();
        let soup_ids = |p: &[PlannedRun]| -> Vec<String> {
            p.iter()
                .filter(|r| r.arm == "soup")
                .map(|r| r.id.clone())
                .collect()
        };
        assert!(soup_ids(&replanned)
            .iter()
            .all(|id| !soup_ids(&plan).contains(id)));
    }

    #[test]
    fn a_teacher_arm_is_planned_first_and_a_count_based_one_pairs_with_every_seed() {
        let kn = "recipe = { model = { family = \"ngram\", order = 3 }, tokenizer = { kind = \"bytes\" } }";
        let student = format!(
            "recipe = {}",
            TF.replace(
                "min_lr = 1e-4 }",
                "min_lr = 1e-4, distill = { teacher = \"arm:kn\" } }"
            )
        );
        let exp = experiment(&[("student", &student), ("kn", kn)]).unwrap();
        let plan = exp.plan(&BTreeMap::new()).unwrap();
        assert_eq!(plan[0].arm, "kn");
        assert_eq!(plan.len(), 3);
        for run in &plan[1..] {
            assert_eq!(run.parents.len(), 1);
            assert_eq!(run.parents[0].role, Role::Teacher);
            assert_eq!(run.parents[0].id, plan[0].id);
        }
    }

    #[test]
    fn without_experiment_budgets_arms_of_their_own_budgets_pair_by_seed() {
        let with_budget = |b: u32| format!("budget_cpu_seconds = {b}, tokenizer = {{");
        let big = format!("recipe = {}", TF.replace("tokenizer = {", &with_budget(12)));
        let student = format!(
            "recipe = {}",
            TF.replace("tokenizer = {", &with_budget(6)).replace(
                "min_lr = 1e-4 }",
                "min_lr = 1e-4, distill = { teacher = \"arm:big\" } }"
            )
        );
        let exp = experiment(&[("big", &big), ("student", &student)]).unwrap();
        let plan = exp.plan(&BTreeMap::new()).unwrap();
        for run in plan.iter().filter(|r| r.arm == "student") {
            let teacher = plan.iter().find(|r| r.id == run.parents[0].id).unwrap();
            assert_eq!(teacher.recipe.seed, run.recipe.seed);
            assert_eq!(teacher.budget(), Some(12.0));
            assert_eq!(run.budget(), Some(6.0));
        }
    }

    #[test]
    fn cycles_unknown_arms_and_bad_starts_are_refused_by_name() {
        let err = |arms: &[(&str, &str)]| experiment(arms).unwrap_err().to_string();
        let m = err(&[
            ("a", "start = { from = \"b\", op = \"continue\" }"),
            ("b", "start = { from = \"a\", op = \"continue\" }"),
        ]);
        assert!(m.contains("a -> b -> a") && m.contains("cycle"), "{m}");
        let m = err(&[("a", "start = { from = \"a\", op = \"continue\" }")]);
        assert!(m.contains("a -> a"), "{m}");
        let m = err(&[("a", "start = { from = \"nothing\", op = \"continue\" }")]);
        assert!(m.contains("'a'") && m.contains("'nothing'"), "{m}");
        let m = err(&[
            ("b", &root()),
            ("a", "start = { from = \"b\", op = \"dance\" }"),
        ]);
        assert!(m.contains("dance"), "{m}");
        let m = err(&[
            ("b", &root()),
            ("a", "start = { from = \"b\", op = \"continue\", x = 1 }"),
        ]);
        assert!(m.contains("'x'") || m.contains("`x`"), "{m}");
        let m = err(&[
            ("b", &root()),
            (
                "a",
                "start = { from = \"b\", op = \"prune\", method = \"magnitude\", sparsity = 1.0 }",
            ),
        ]);
        assert!(m.contains("sparsity") && m.contains("[0, 1)"), "{m}");
        let m = err(&[
            ("b", &root()),
            ("a", "start = { from = [\"b\", \"b\"], op = \"grow\" }"),
        ]);
        assert!(m.contains("one arm"), "{m}");
        for (rl, expected) in [
            ("task = \"t.jsonl\", budget = 0", "budget must be above 0"),
            ("task = \"t.jsonl\", groups = 4", "groups"),
            ("group = 4", "task"),
        ] {
            let start = format!("start = {{ from = \"b\", op = \"rl\", {rl} }}");
            let m = err(&[("b", &root()), ("a", &start)]);
            assert!(m.contains(expected), "{rl}: {m}");
        }
        let m = err(&[
            ("b", &root()),
            (
                "a",
                "start = { from = \"b\", op = \"merge\", method = \"ties\" }",
            ),
        ]);
        assert!(m.contains("base"), "{m}");
        let m = err(&[("b", &root()), ("a", "start = { op = \"continue\" }")]);
        assert!(m.contains("from"), "{m}");
        let m = err(&[
            ("b", &root()),
            (
                "a",
                &format!("{}\nsweep = {{ \"start.seed_offset\" = [1] }}", root()),
            ),
        ]);
        assert!(m.contains("no start"), "{m}");
        let kn = "recipe = { model = { family = \"ngram\", order = 3 } }";
        let m = experiment(&[
            ("kn", kn),
            ("a", "start = { from = \"kn\", op = \"continue\" }"),
        ])
        .and_then(|s| s.plan(&BTreeMap::new()))
        .unwrap_err()
        .to_string();
        assert!(m.contains("'kn'") && m.contains("neural"), "{m}");
    }
}

//! GRPO from a parent run: the one call an experiment arm that starts from another arm's run
//! makes for `op = "rl"`. It trains the parent (a transformer run directory) with GRPO on a task
//! file's training split within a CPU budget, scores the result's greedy pass@1 by difficulty on
//! the task's test split, and leaves a run directory that every lmlab command loads as a neural
//! run (`registry::load_model`, `lmlab eval`, `lmlab rl eval`), with the outcome in
//! [`OUTCOME_FILE`].
//!
//! The options' serde form ([`RlStart`]) is flat, as an experiment file writes it:
//! `{ task = "add.jsonl", group = 8, scaffold = "scaf-grpo" }`; keys left out take
//! [`GrpoSettings::default`], unknown keys are refused, and the seed is the run's (a `seed` key is
//! refused, so an experiment's seeds are the only ones).

use super::eval::{evaluate, DifficultyScore};
use super::grpo::{train_grpo, GrpoEvent, GrpoOptions, GrpoSettings, GrpoStop};
use crate::tasks::{read_tasks, Split};
use lmlab_core::atomic::write_bytes_atomically;
use lmlab_core::compute::ComputeMeter;
use lmlab_core::{Error, LanguageModel, Result};
use lmlab_neural::TransformerModel;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

/// The outcome's file in the output run directory.
pub const OUTCOME_FILE: &str = "rl_outcome.json";

/// What GRPO from a parent run needs besides the parent, budget, seed and output.
#[derive(Clone, Debug, PartialEq)]
pub struct RlStart {
    /// The task file: its training split is trained on, its test split scored.
    pub task: PathBuf,
    /// The frozen reference's run directory (default: the parent).
    pub reference: Option<PathBuf>,
    /// GRPO's settings; their `seed` is replaced by the run's.
    pub settings: GrpoSettings,
}

impl RlStart {
    /// GRPO on `task` with the library's default settings.
    pub fn new(task: impl Into<PathBuf>) -> RlStart {
        RlStart {
            task: task.into(),
            reference: None,
            settings: GrpoSettings::default(),
        }
    }
}

const SEED_KEY: &str = "seed";

impl Serialize for RlStart {
    /// One flat table: `task`, `reference` when set, and every setting but the seed.
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = match serde_json::to_value(&self.settings) {
            Ok(Value::Object(map)) => map,
            _ => unreachable!("settings serialize to a table"),
        };
        map.remove(SEED_KEY);
        map.insert("task".into(), Value::from(self.task.to_string_lossy()));
        if let Some(r) = &self.reference {
            map.insert("reference".into(), Value::from(r.to_string_lossy()));
        }
        map.serialize(s)
    }
}

impl<'de> Deserialize<'de> for RlStart {
    /// From one flat table (see [`Serialize`]); `task` required, other keys optional, a `seed` or
    /// an unknown key refused.
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let mut map = Map::deserialize(d)?;
        if map.contains_key(SEED_KEY) {
            return Err(D::Error::custom(
                "`seed` is not an RL start's option: GRPO from a parent run takes the run's seed",
            ));
        }
        let task = map
            .remove("task")
            .ok_or_else(|| D::Error::missing_field("task"))?;
        let path = |v: Value| serde_json::from_value::<PathBuf>(v).map_err(D::Error::custom);
        let task = path(task)?;
        let reference = map.remove("reference").map(path).transpose()?;
        let settings = serde_json::from_value(Value::Object(map)).map_err(D::Error::custom)?;
        Ok(RlStart {
            task,
            reference,
            settings,
        })
    }
}

/// What a GRPO run from a parent did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RlOutcome {
    /// GRPO steps done.
    pub steps: usize,
    /// Why GRPO stopped (a budget, or all steps done).
    pub stop: GrpoStop,
    /// CPU seconds of the GRPO run (loading included), the figure the budget bounds.
    pub cpu_seconds: f64,
    /// CPU seconds of scoring the test split afterwards (not in the budget).
    pub eval_cpu_seconds: f64,
    /// Greedy pass@1 by difficulty on the task's test split.
    pub test: Vec<DifficultyScore>,
    /// The output run directory.
    pub output: PathBuf,
}

/// Trains `parent` with GRPO as `start` says, seeded with `seed`, until `budget_cpu_seconds` (> 0)
/// or the settings' `max_steps`, into `output` (a run there is replaced), calling `progress` after
/// each step; then scores the result on the test split and writes [`OUTCOME_FILE`] there.
pub fn grpo_from_parent(
    parent: &Path,
    start: &RlStart,
    budget_cpu_seconds: f64,
    seed: u64,
    output: &Path,
    progress: &mut dyn FnMut(&GrpoEvent),
) -> Result<RlOutcome> {
    let options = GrpoOptions {
        policy: parent.to_path_buf(),
        reference: start.reference.clone(),
        task: start.task.clone(),
        output: output.to_path_buf(),
        settings: GrpoSettings {
            seed,
            ..start.settings.clone()
        },
        budget_cpu_seconds: Some(budget_cpu_seconds),
        stop_after: None,
        resume: false,
        force: true,
    };
    let report = train_grpo(&options, progress)?;
    let meter = ComputeMeter::start();
    let model = TransformerModel::load(output)?;
    let records = read_tasks(&start.task)?;
    let test = evaluate(
        model.transformer(),
        model.tokenizer(),
        &records,
        Split::Test,
    )?;
    if test.is_empty() {
        return Err(Error::bad_file(&start.task, "no records in the test split"));
    }
    let outcome = RlOutcome {
        steps: report.steps,
        stop: report.stop,
        cpu_seconds: report.cpu_seconds,
        eval_cpu_seconds: meter.cpu_seconds(),
        test,
        output: output.to_path_buf(),
    };
    let json = serde_json::to_string_pretty(&outcome).expect("the outcome serializes");
    write_bytes_atomically(&output.join(OUTCOME_FILE), json.as_bytes())?;
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rl::Scaffold;

    #[derive(Deserialize)]
    struct Arm {
        start: RlStart,
    }

    fn parse(toml_text: &str) -> std::result::Result<RlStart, String> {
        toml::from_str::<Arm>(toml_text)
            .map(|a| a.start)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn the_toml_form_takes_library_defaults_and_round_trips() {
        let start =
            parse(r#"start = { task = "add.jsonl", group = 4, scaffold = "scaf-grpo" }"#).unwrap();
        let expected = RlStart {
            settings: GrpoSettings {
                group: 4,
                scaffold: Scaffold::ScafGrpo,
                ..GrpoSettings::default()
            },
            ..RlStart::new("add.jsonl")
        };
        assert_eq!(start, expected);
        let with_reference = RlStart {
            reference: Some("ref".into()),
            ..expected
        };
        let text = toml::to_string(&with_reference).unwrap();
        assert!(!text.contains("seed"), "{text}");
        let back: RlStart = toml::from_str(&text).unwrap();
        assert_eq!(back, with_reference);
    }

    /// An experiment file's derived start, `from` a parent arm, `op` naming the derivation.
    #[derive(Deserialize)]
    struct Derived {
        from: String,
        #[serde(flatten)]
        op: Op,
    }

    #[derive(Deserialize)]
    #[serde(tag = "op", rename_all = "lowercase")]
    enum Op {
        Rl(RlStart),
    }

    #[test]
    fn it_reads_inside_a_derived_start_tagged_by_op() {
        let line = r#"start = { from = "sft", op = "rl", task = "add.jsonl", group = 8, scaffold = "scaf-grpo" }"#;
        #[derive(Deserialize)]
        struct File {
            start: Derived,
        }
        let derived = toml::from_str::<File>(line).unwrap().start;
        assert_eq!(derived.from, "sft");
        let Op::Rl(start) = derived.op;
        assert_eq!(start.settings.group, 8);
        assert_eq!(start.settings.scaffold, Scaffold::ScafGrpo);
        let bad = toml::from_str::<File>(&line.replace("group", "groups"));
        assert!(bad.is_err_and(|e| e.to_string().contains("unknown field `groups`")));
    }

    #[test]
    fn a_missing_task_a_seed_an_unknown_key_or_a_bad_scaffold_are_refused() {
        assert!(parse("start = { group = 4 }").unwrap_err().contains("task"));
        let seed = parse(r#"start = { task = "t", seed = 3 }"#).unwrap_err();
        assert!(seed.contains("the run's seed"), "{seed}");
        let unknown = parse(r#"start = { task = "t", groups = 3 }"#).unwrap_err();
        assert!(unknown.contains("unknown field `groups`"), "{unknown}");
        let scaffold = parse(r#"start = { task = "t", scaffold = "hints" }"#).unwrap_err();
        assert!(scaffold.contains("hints"), "{scaffold}");
    }
}

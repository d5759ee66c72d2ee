//! `lmlab.train`: one run of a recipe (TOML or JSON text) through the library's `train` and
//! `evaluate_run`, returning the run record. Ctrl-C interrupts it (see [`crate::interruptible`]):
//! a neural run stops at its next step with a checkpoint, as `lmlab train` does; a model file is
//! written into a private staging folder beside `output` and moved into place only by a call that
//! was not interrupted, so an interrupted call leaves no file, whole or partial.

use crate::errors::IntoPy;
use crate::interruptible::{self, OnInterrupt, Outcome};
use lmlab_core::tempfiles;
use lmlab_core::{Error, Result};
use lmlab_lab::recipe::Recipe;
use lmlab_lab::run::{evaluate_run, train, Data, RunOptions, RunRecord};
use pyo3::prelude::*;
use std::path::{Path, PathBuf};

/// The staging folders' name prefix (`tempfiles` adds the pid and a counter).
const STAGING_PREFIX: &str = ".lmlab-train-";

/// Trains `recipe` (TOML, or JSON starting with `{`) on `train`, writes the model to `output`
/// (a directory for neural families), evaluates it on `valid` and `test` when given, and returns
/// the run record as JSON text (`lmlab train --recipe ... --json`).
#[pyfunction]
#[pyo3(signature = (recipe, train_path, output, valid=None, test=None))]
pub fn train_json(
    py: Python<'_>,
    recipe: &str,
    train_path: PathBuf,
    output: PathBuf,
    valid: Option<PathBuf>,
    test: Option<PathBuf>,
) -> PyResult<String> {
    let recipe = Recipe::parse(recipe).py_err()?;
    let data = Data {
        train: train_path,
        valid,
        test,
    };
    let on_interrupt = if recipe.model.is_neural() {
        OnInterrupt::RequestAndWait
    } else {
        OnInterrupt::Leave
    };
    let record = interruptible::run(py, on_interrupt, move |outcome| {
        let mut record = if recipe.model.is_neural() {
            let options = RunOptions {
                checkpoint_on_interrupt: true,
                ..RunOptions::default()
            };
            train(&recipe, &data, &output, &options, &mut |_| {})?
        } else {
            train_staged(&recipe, &data, &output, outcome)?
        };
        if data.valid.is_some() || data.test.is_some() {
            evaluate_run(&mut record, &data, None)?;
        }
        Ok(record)
    })?
    .py_err()?;
    Ok(serde_json::to_string(&record).expect("a run record serializes"))
}

/// Trains a model file into a staging folder beside `output`, then moves it to `output` unless
/// the call was interrupted meanwhile.
fn train_staged(
    recipe: &Recipe,
    data: &Data,
    output: &Path,
    outcome: &Outcome,
) -> Result<RunRecord> {
    let parent = match output.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = output
        .file_name()
        .ok_or_else(|| Error::invalid(format!("{}: not a file name", output.display())))?;
    let staging = tempfiles::create_dir(parent, STAGING_PREFIX)?;
    let staged = staging.path().join(name);
    let mut record = train(recipe, data, &staged, &RunOptions::default(), &mut |_| {})?;
    outcome
        .commit(|| std::fs::rename(&staged, output).map_err(|e| Error::io(output, e)))
        .unwrap_or(Ok(()))?;
    record.model_path = output.to_path_buf();
    Ok(record)
}

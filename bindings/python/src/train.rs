//! `lmlab.train`: one run of a recipe (TOML or JSON text) through the library's `train` and
//! `evaluate_run`, returning the run record.

use crate::errors::IntoPy;
use lmlab_lab::recipe::Recipe;
use lmlab_lab::run::{evaluate_run, train, Data, RunOptions};
use pyo3::prelude::*;
use std::path::PathBuf;

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
    let record = py
        .detach(|| {
            let mut record = train(&recipe, &data, &output, &RunOptions::default(), &mut |_| {})?;
            if data.valid.is_some() || data.test.is_some() {
                evaluate_run(&mut record, &data, None)?;
            }
            Ok(record)
        })
        .py_err()?;
    Ok(serde_json::to_string(&record).expect("a run record serializes"))
}

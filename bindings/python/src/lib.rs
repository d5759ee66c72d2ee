//! lmlab's Python extension module (`lmlab._lmlab`): conversion between Python and the library
//! crates, nothing more. The Python package `lmlab` wraps it (`python/lmlab`).

mod errors;
mod experiment;
mod interruptible;
mod kenlm;
mod model;
mod probs;
mod tokenizer;
mod train;

use pyo3::prelude::*;

/// The native half of the `lmlab` package.
#[pymodule]
fn _lmlab(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<model::PyModel>()?;
    m.add_class::<tokenizer::PyTokenizer>()?;
    m.add_class::<kenlm::PyKenlmModel>()?;
    m.add_class::<kenlm::PyState>()?;
    m.add_function(wrap_pyfunction!(train::train_json, m)?)?;
    m.add_function(wrap_pyfunction!(probs::read_probs, m)?)?;
    m.add_function(wrap_pyfunction!(probs::write_probs, m)?)?;
    m.add_function(wrap_pyfunction!(probs::ensemble_json, m)?)?;
    m.add_function(wrap_pyfunction!(experiment::experiment_run, m)?)?;
    m.add_function(wrap_pyfunction!(experiment::experiment_plan_json, m)?)?;
    m.add_function(wrap_pyfunction!(experiment::experiment_results_json, m)?)?;
    m.add_function(wrap_pyfunction!(interruptible::remove_abandoned_files, m)?)?;
    m.add("__version__", lmlab_core::LMLAB_VERSION)?;
    Ok(())
}

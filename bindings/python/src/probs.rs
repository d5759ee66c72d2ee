//! Probability files as numpy columns, and EM ensembles of them (`lmlab ensemble`).

use crate::errors::{invalid, IntoPy};
use lmlab_core::probs::{ProbRow, ProbsFile, ProbsHeader};
use lmlab_lab::ensembles::{ensemble, NamedProbs};
use numpy::{PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;
use std::path::PathBuf;

/// The columns of a probability file: its header (model, tokenizer, corpus_sha256, bytes, words),
/// then `seq`, `pos` (uint32 arrays), `token` (list of str) and `logp` (float64 array).
type Columns<'py> = (
    (String, String, String, Option<u64>, Option<u64>),
    Bound<'py, PyArray1<u32>>,
    Bound<'py, PyArray1<u32>>,
    Vec<String>,
    Bound<'py, PyArray1<f64>>,
);

/// Reads a probability file (`*.probs.tsv`) into columns.
#[pyfunction]
pub fn read_probs(py: Python<'_>, path: PathBuf) -> PyResult<Columns<'_>> {
    let file = py.detach(|| ProbsFile::read(&path)).py_err()?;
    let h = file.header;
    let seq = file.rows.iter().map(|r| r.seq).collect();
    let pos = file.rows.iter().map(|r| r.pos).collect();
    let logp = file.rows.iter().map(|r| r.logp).collect();
    let tokens = file.rows.into_iter().map(|r| r.token).collect();
    Ok((
        (h.model, h.tokenizer, h.corpus_sha256, h.bytes, h.words),
        PyArray1::from_vec(py, seq),
        PyArray1::from_vec(py, pos),
        tokens,
        PyArray1::from_vec(py, logp),
    ))
}

/// Writes columns as a probability file (atomically). Tokens are written as given (escaped).
#[pyfunction]
#[pyo3(signature = (path, header, seq, pos, token, logp))]
#[allow(clippy::type_complexity)]
pub fn write_probs(
    py: Python<'_>,
    path: PathBuf,
    header: (String, String, String, Option<u64>, Option<u64>),
    seq: PyReadonlyArray1<'_, u32>,
    pos: PyReadonlyArray1<'_, u32>,
    token: Vec<String>,
    logp: PyReadonlyArray1<'_, f64>,
) -> PyResult<()> {
    let (seq, pos, logp) = (seq.as_slice()?, pos.as_slice()?, logp.as_slice()?);
    let n = token.len();
    if seq.len() != n || pos.len() != n || logp.len() != n {
        return Err(invalid(format!(
            "the columns differ in length: seq {}, pos {}, token {n}, logp {}",
            seq.len(),
            pos.len(),
            logp.len()
        )));
    }
    let (model, tokenizer, corpus_sha256, bytes, words) = header;
    let file = ProbsFile {
        header: ProbsHeader {
            model,
            tokenizer,
            corpus_sha256,
            bytes,
            words,
        },
        rows: (0..n)
            .map(|i| ProbRow {
                seq: seq[i],
                pos: pos[i],
                token: token[i].clone(),
                logp: logp[i],
            })
            .collect(),
    };
    py.detach(|| file.write(&path)).py_err()
}

/// `lmlab ensemble --json`: EM weights fitted on the `dev` probability files (one per model),
/// scored on dev and on the `test` files of the same models; the mixture's probability file is
/// written to `write_probs` when given.
#[pyfunction]
#[pyo3(signature = (dev, test, max_iterations, tolerance, write_probs=None))]
pub fn ensemble_json(
    py: Python<'_>,
    dev: Vec<PathBuf>,
    test: Vec<PathBuf>,
    max_iterations: usize,
    tolerance: f64,
    write_probs: Option<PathBuf>,
) -> PyResult<String> {
    let read = |paths: Vec<PathBuf>| -> lmlab_core::Result<Vec<NamedProbs>> {
        paths
            .into_iter()
            .map(|path| {
                let file = ProbsFile::read(&path)?;
                Ok(NamedProbs { path, file })
            })
            .collect()
    };
    let report = py
        .detach(|| {
            let report = ensemble(&read(dev)?, &read(test)?, max_iterations, tolerance)?;
            if let Some(path) = &write_probs {
                report.mixture.write(path)?;
            }
            Ok(report)
        })
        .py_err()?;
    Ok(serde_json::to_string(&report).expect("an ensemble report serializes"))
}

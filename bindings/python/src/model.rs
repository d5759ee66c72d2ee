//! `lmlab.Model`: a model of any kind (file or neural run directory), scored, evaluated and sampled
//! through the library's functions.

use crate::errors::{invalid, IntoPy};
use crate::tokenizer::PyTokenizer;
use lmlab_core::corpus::{Corpus, Sequence};
use lmlab_core::evaluate::score_sequence;
use lmlab_core::model::encode_sequence;
use lmlab_core::sampling::{generate_samples, SamplingOptions};
use lmlab_core::{LanguageModel, SequenceMode};
use lmlab_lab::evaluation::{evaluate_corpus, EvalOptions};
use lmlab_lab::registry::{load, LoadedModel};
use numpy::PyArray1;
use pyo3::prelude::*;
use std::path::PathBuf;

/// A loaded model: `lmlab.load(path)`.
#[pyclass(name = "Model", module = "lmlab._lmlab", frozen)]
pub struct PyModel {
    loaded: LoadedModel,
    path: PathBuf,
}

/// Parses an optional sequence mode (`line`, `paragraph`, `stream`).
fn sequence_mode(sequences: Option<&str>) -> PyResult<Option<SequenceMode>> {
    sequences.map(|s| s.parse().py_err()).transpose()
}

impl PyModel {
    fn model(&self) -> &dyn LanguageModel {
        self.loaded.model.as_ref()
    }
}

#[pymethods]
impl PyModel {
    /// Loads a model file of any kind, or a neural run directory.
    #[staticmethod]
    fn load(py: Python<'_>, path: PathBuf) -> PyResult<PyModel> {
        let loaded = py.detach(|| load(&path)).py_err()?;
        Ok(PyModel { loaded, path })
    }

    /// The path the model was loaded from.
    #[getter]
    fn path(&self) -> PathBuf {
        self.path.clone()
    }

    /// The model kind (`baseline`, `ngram`, `memory`, `neural`, `uniform`).
    #[getter]
    fn kind(&self) -> String {
        self.model().kind().to_string()
    }

    /// A one-line description.
    fn describe(&self) -> String {
        self.model().describe()
    }

    /// How the model's training text was cut into sequences (the default for evaluating it).
    #[getter]
    fn sequences(&self) -> String {
        self.loaded.sequences.to_string()
    }

    /// Vocabulary size, special tokens included.
    #[getter]
    fn vocab_size(&self) -> usize {
        self.model().tokenizer().vocab().len()
    }

    /// Parameters (or stored n-grams).
    #[getter]
    fn parameters(&self) -> u64 {
        self.model().parameter_count()
    }

    /// A copy of the model's tokenizer.
    #[getter]
    fn tokenizer(&self) -> PyResult<PyTokenizer> {
        PyTokenizer::copy_of(self.model().tokenizer())
    }

    /// Natural-log probability of every token of `text` as one sequence (the end token included),
    /// and the tokens.
    fn score<'py>(
        &self,
        py: Python<'py>,
        text: &str,
    ) -> PyResult<(Bound<'py, PyArray1<f64>>, Vec<String>)> {
        let model = self.model();
        let mode = self.loaded.sequences;
        let (ids, log_probs) = py.detach(|| {
            let encoded = encode_sequence(model.tokenizer(), &Sequence { text }, mode);
            let log_probs = score_sequence(model, &encoded.ids);
            (encoded.ids, log_probs)
        });
        let vocab = model.tokenizer().vocab();
        let tokens = ids.iter().map(|&id| vocab.token(id).to_string()).collect();
        Ok((PyArray1::from_vec(py, log_probs), tokens))
    }

    /// `lmlab eval --json` on a text (`is_path` false) or a file, as JSON text; with `probs`, the
    /// probability file is written there (`lmlab eval --probs`).
    #[pyo3(signature = (text_or_path, is_path, sequences=None, accuracy=false, probs=None))]
    fn evaluate_json(
        &self,
        py: Python<'_>,
        text_or_path: &str,
        is_path: bool,
        sequences: Option<&str>,
        accuracy: bool,
        probs: Option<PathBuf>,
    ) -> PyResult<String> {
        let options = EvalOptions {
            sequences: sequence_mode(sequences)?,
            keep_probs: probs.is_some(),
            accuracy,
            keep_sequences: false,
        };
        let report = py
            .detach(|| {
                let corpus = if is_path {
                    Corpus::open(std::path::Path::new(text_or_path))?
                } else {
                    Corpus::from_text("<text>", text_or_path)
                };
                let result =
                    evaluate_corpus(&self.loaded, &self.path, &corpus, &options, &|_, _| {});
                if let (Some(path), Some(rows)) = (&probs, &result.probs) {
                    rows.write(path)?;
                }
                Ok(result.report)
            })
            .py_err()?;
        Ok(serde_json::to_string(&report).expect("an evaluation report serializes"))
    }

    /// The next-token distribution after `<s>` and `context`: one probability per vocabulary id.
    fn distribution<'py>(&self, py: Python<'py>, context: &str) -> Bound<'py, PyArray1<f64>> {
        let model = self.model();
        let probs = py.detach(|| model.next_distribution(&model.tokenizer().encode(context)));
        PyArray1::from_vec(py, probs)
    }

    /// `num_samples` continuations of `prompt` (sample i uses seed `seed + i`), each the prompt's
    /// text followed by the generated text, as `lmlab generate`.
    #[pyo3(signature = (prompt, max_tokens, temperature, top_k, top_p, seed, num_samples, ignore_eos, raw_bytes))]
    #[allow(clippy::too_many_arguments)]
    fn samples(
        &self,
        py: Python<'_>,
        prompt: &str,
        max_tokens: usize,
        temperature: f64,
        top_k: usize,
        top_p: f64,
        seed: u64,
        num_samples: usize,
        ignore_eos: bool,
        raw_bytes: bool,
    ) -> PyResult<Vec<String>> {
        if max_tokens == 0 || num_samples == 0 {
            return Err(invalid("max_tokens and num_samples must be at least 1"));
        }
        let options = SamplingOptions {
            seed,
            max_tokens,
            temperature,
            top_k,
            top_p,
            stop_at_eos: self.loaded.sampling_stops_at_eos(ignore_eos),
            raw_bytes,
        };
        let model = self.model();
        let tokenizer = model.tokenizer();
        py.detach(|| {
            let prompt = tokenizer.encode(prompt);
            let samples = generate_samples(model, &prompt, &options, num_samples)?;
            Ok(samples
                .iter()
                .map(|ids| tokenizer.decode(&[prompt.as_slice(), ids].concat()))
                .collect())
        })
        .py_err()
    }

    fn __repr__(&self) -> String {
        format!("<lmlab.Model {}: {}>", self.path.display(), self.describe())
    }
}

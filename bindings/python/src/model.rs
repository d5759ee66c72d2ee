//! `lmlab.Model`: a model of any kind (file or neural run directory), scored, evaluated and sampled
//! through the library's functions.

use crate::errors::{invalid, IntoPy};
use crate::interruptible::{self, OnInterrupt};
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
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyList, PyString};
use std::path::PathBuf;

/// A loaded model: `lmlab.load(path)`.
#[pyclass(name = "Model", module = "lmlab._lmlab", frozen)]
pub struct PyModel {
    loaded: LoadedModel,
    path: PathBuf,
    /// The Python `str` of each vocabulary id, made the first time `score` returns that token and
    /// shared by every later list (a PTB sentence then costs no string allocation at all).
    token_strings: Box<[PyOnceLock<Py<PyString>>]>,
}

/// Parses an optional sequence mode (`line`, `paragraph`, `stream`).
fn sequence_mode(sequences: Option<&str>) -> PyResult<Option<SequenceMode>> {
    sequences.map(|s| s.parse().py_err()).transpose()
}

impl PyModel {
    fn model(&self) -> &dyn LanguageModel {
        self.loaded.model.as_ref()
    }

    /// The ids of `text` as one sequence in the model's sequence mode, and their natural-log
    /// probabilities.
    fn score_ids(&self, text: &str) -> (Vec<u32>, Vec<f64>) {
        let model = self.model();
        let encoded = encode_sequence(model.tokenizer(), &Sequence { text }, self.loaded.sequences);
        let log_probs = score_sequence(model, &encoded.ids);
        (encoded.ids, log_probs)
    }

    /// The tokens of `ids` as a list of shared `str` objects.
    fn token_list<'py>(&self, py: Python<'py>, ids: &[u32]) -> PyResult<Bound<'py, PyList>> {
        let vocab = self.model().tokenizer().vocab();
        PyList::new(
            py,
            ids.iter().map(|&id| {
                self.token_strings[id as usize]
                    .get_or_init(py, || PyString::new(py, vocab.token(id)).unbind())
                    .bind(py)
            }),
        )
    }
}

#[pymethods]
impl PyModel {
    /// Loads a model file of any kind, or a neural run directory.
    #[staticmethod]
    fn load(py: Python<'_>, path: PathBuf) -> PyResult<PyModel> {
        let loaded = py.detach(|| load(&path)).py_err()?;
        let vocab_size = loaded.model.tokenizer().vocab().len();
        let token_strings = (0..vocab_size).map(|_| PyOnceLock::new()).collect();
        Ok(PyModel {
            loaded,
            path,
            token_strings,
        })
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
    /// and the tokens (a list of `str`; equal tokens are the same object). Ctrl-C interrupts a
    /// long text.
    fn score<'py>(
        slf: &Bound<'py, Self>,
        text: &str,
    ) -> PyResult<(Bound<'py, PyArray1<f64>>, Bound<'py, PyList>)> {
        let py = slf.py();
        let this = slf.get();
        let (ids, log_probs) = if text.len() < interruptible::LONG_INPUT_BYTES {
            py.detach(|| this.score_ids(text))
        } else {
            let (text, this) = (text.to_string(), slf.clone().unbind());
            interruptible::run(py, OnInterrupt::Leave, move |_| this.get().score_ids(&text))?
        };
        // Copied into an array numpy allocates: cheaper for a sentence than handing numpy the
        // vector (a capsule object per array).
        Ok((
            PyArray1::from_slice(py, &log_probs),
            this.token_list(py, &ids)?,
        ))
    }

    /// `lmlab eval --json` on a text (`is_path` false) or a file, as JSON text; with `probs`, the
    /// probability file is written there (`lmlab eval --probs`). Ctrl-C interrupts it, and an
    /// interrupted call writes no probability file.
    #[pyo3(signature = (text_or_path, is_path, sequences=None, accuracy=false, probs=None))]
    fn evaluate_json(
        slf: &Bound<'_, Self>,
        text_or_path: String,
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
        let this = slf.clone().unbind();
        let report = interruptible::run(slf.py(), OnInterrupt::Leave, move |outcome| {
            let this = this.get();
            let corpus = if is_path {
                Corpus::open(std::path::Path::new(&text_or_path))?
            } else {
                Corpus::from_text("<text>", &text_or_path)
            };
            let result = evaluate_corpus(&this.loaded, &this.path, &corpus, &options, &|_, _| {});
            if let (Some(path), Some(rows)) = (&probs, &result.probs) {
                outcome.commit(|| rows.write(path)).unwrap_or(Ok(()))?;
            }
            Ok(result.report)
        })?
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

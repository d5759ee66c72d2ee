//! `lmlab.Tokenizer`: load, train (every kind, through the recipe's [`TokenizerChoice`]), encode,
//! decode, encode in parallel, save, statistics.

use crate::errors::{invalid, IntoPy};
use crate::interruptible::{self, OnInterrupt};
use lmlab_core::Tokenizer;
use lmlab_lab::recipe::TokenizerChoice;
use lmlab_lab::run::build_tokenizer;
use lmlab_lab::tokenizer_stats::tokenizer_stats;
use lmlab_tokenize::{
    load_tokenizer_file, save_tokenizer_file, tokenizer_from_json, PreTokenizerPattern,
};
use pyo3::prelude::*;
use rayon::prelude::*;
use std::path::PathBuf;

/// A tokenizer of any kind.
#[pyclass(name = "Tokenizer", module = "lmlab._lmlab", frozen)]
pub struct PyTokenizer {
    tokenizer: Box<dyn Tokenizer>,
}

impl PyTokenizer {
    /// An owned copy of `tokenizer` (through its JSON form, as files hold it).
    pub fn copy_of(tokenizer: &dyn Tokenizer) -> PyResult<PyTokenizer> {
        let tokenizer = tokenizer_from_json(&tokenizer.to_json()).py_err()?;
        Ok(PyTokenizer { tokenizer })
    }
}

#[pymethods]
impl PyTokenizer {
    /// Loads a tokenizer file (`lmlab tokenizer train`'s output).
    #[staticmethod]
    fn load(path: PathBuf) -> PyResult<PyTokenizer> {
        let tokenizer = load_tokenizer_file(&path).py_err()?;
        Ok(PyTokenizer { tokenizer })
    }

    /// Learns a tokenizer of `kind` (bytes, chars, words, bpe, scaffold-bpe) from `texts`, with
    /// the recipe's defaults for what is not given.
    #[staticmethod]
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (kind, texts, vocab_size=None, min_count=0, pattern=None, specials=Vec::new(), nfc=false))]
    fn train(
        py: Python<'_>,
        kind: &str,
        texts: Vec<String>,
        vocab_size: Option<usize>,
        min_count: u64,
        pattern: Option<&str>,
        specials: Vec<String>,
        nfc: bool,
    ) -> PyResult<PyTokenizer> {
        let pattern: PreTokenizerPattern = match pattern {
            None => PreTokenizerPattern::default(),
            Some(p) => {
                serde_json::from_value(serde_json::Value::String(p.to_string())).map_err(|_| {
                    invalid(format!(
                        "unknown pre-tokenizer pattern '{p}' (gpt2 or cl100k)"
                    ))
                })?
            }
        };
        let choice = TokenizerChoice::for_kind(kind, vocab_size, min_count)
            .py_err()?
            .with_extras(pattern, &specials, nfc);
        choice.validate().py_err()?;
        let tokenizer = interruptible::run(py, OnInterrupt::Leave, move |_| {
            let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
            build_tokenizer(&choice, &texts, &mut |_| {})
        })?
        .py_err()?;
        Ok(PyTokenizer { tokenizer })
    }

    /// Writes the tokenizer file (atomically).
    fn save(&self, path: PathBuf) -> PyResult<()> {
        save_tokenizer_file(self.tokenizer.as_ref(), &path).py_err()
    }

    /// The kind (`bytes`, `chars`, `words`, `bpe`, `scaffold-bpe`).
    #[getter]
    fn kind(&self) -> String {
        self.tokenizer.kind().to_string()
    }

    /// Vocabulary size, special tokens included.
    #[getter]
    fn vocab_size(&self) -> usize {
        self.tokenizer.vocab().len()
    }

    /// The token strings by id.
    #[getter]
    fn vocab(&self) -> Vec<String> {
        self.tokenizer.vocab().tokens().to_vec()
    }

    /// The id of `token`, or None.
    fn token_to_id(&self, token: &str) -> Option<u32> {
        self.tokenizer.vocab().id(token)
    }

    /// The token string of `id`.
    fn id_to_token(&self, id: u32) -> PyResult<String> {
        let vocab = self.tokenizer.vocab();
        if (id as usize) < vocab.len() {
            Ok(vocab.token(id).to_string())
        } else {
            Err(invalid(format!(
                "token id {id} is outside the vocabulary of {} ids",
                vocab.len()
            )))
        }
    }

    /// The ids of `text` (no start or end token).
    fn encode(&self, text: &str) -> Vec<u32> {
        self.tokenizer.encode(text)
    }

    /// The ids of every text, in parallel on all cores with the GIL released; Ctrl-C interrupts
    /// a long batch.
    fn encode_batch(slf: &Bound<'_, Self>, texts: Vec<String>) -> PyResult<Vec<Vec<u32>>> {
        let encode = |tokenizer: &dyn Tokenizer, texts: &[String]| -> Vec<Vec<u32>> {
            texts.par_iter().map(|t| tokenizer.encode(t)).collect()
        };
        let py = slf.py();
        if texts.iter().map(String::len).sum::<usize>() < interruptible::LONG_INPUT_BYTES {
            let tokenizer = slf.get().tokenizer.as_ref();
            return Ok(py.detach(|| encode(tokenizer, &texts)));
        }
        let this = slf.clone().unbind();
        interruptible::run(py, OnInterrupt::Leave, move |_| {
            encode(this.get().tokenizer.as_ref(), &texts)
        })
    }

    /// The text of `ids`.
    fn decode(&self, ids: Vec<u32>) -> PyResult<String> {
        let size = self.tokenizer.vocab().len();
        if let Some(bad) = ids.iter().find(|&&id| id as usize >= size) {
            return Err(invalid(format!(
                "token id {bad} is outside the vocabulary of {size} ids"
            )));
        }
        Ok(self.tokenizer.decode(&ids))
    }

    /// `lmlab tokenizer stats` on `text` as JSON text.
    fn stats_json(&self, py: Python<'_>, text: &str) -> String {
        let tokenizer = self.tokenizer.as_ref();
        let stats = py.detach(|| tokenizer_stats(tokenizer, text));
        serde_json::to_string(&stats).expect("statistics serialize")
    }

    /// The tokenizer's JSON (what `save` writes).
    fn to_json(&self) -> String {
        serde_json::to_string(&self.tokenizer.to_json()).expect("tokenizer JSON serializes")
    }

    fn __repr__(&self) -> String {
        format!(
            "<lmlab.Tokenizer {} with {} ids>",
            self.tokenizer.kind(),
            self.tokenizer.vocab().len()
        )
    }
}

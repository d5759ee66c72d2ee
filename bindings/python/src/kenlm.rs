//! The native half of `lmlab.kenlm`, KenLM's Python module over lmlab's n-gram models: an ARPA
//! file (read by lmlab's ARPA reader) or an lmlab n-gram model file, queried with the library's
//! KenLM-style [`State`]. Sentences are split on whitespace and each word looked up in the
//! vocabulary (unknown words are `<unk>`), as KenLM does; sentence totals are summed in single
//! precision in sentence order, as KenLM's are.

use crate::errors::{invalid, raise, IntoPy};
use lmlab_core::model_file::is_model_file;
use lmlab_core::{LanguageModel, TokenId};
use lmlab_ngram::query::sequence_full_scores;
use lmlab_ngram::{NgramModel, State};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyIterator, PyList, PyString};
use std::borrow::Cow;
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::sync::Mutex;

/// A query state: the context words (most recent first) and their backoffs, KenLM's `State`.
/// Python objects that the model's methods overwrite, so the state sits behind a lock.
#[pyclass(name = "State", module = "lmlab._lmlab", frozen)]
#[derive(Default)]
pub struct PyState {
    state: Mutex<State>,
}

impl PyState {
    /// A copy of the state.
    fn get(&self) -> State {
        self.state
            .lock()
            .expect("a state lock is never poisoned")
            .clone()
    }

    /// Overwrites the state.
    fn set(&self, state: State) {
        *self.state.lock().expect("a state lock is never poisoned") = state;
    }
}

#[pymethods]
impl PyState {
    /// An empty state (no context); `Model.BeginSentenceWrite` or `NullContextWrite` sets it.
    #[new]
    fn new() -> PyState {
        PyState::default()
    }

    /// How many context words the state holds.
    fn __len__(&self) -> usize {
        self.get().words.len()
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other
            .cast::<PyState>()
            .is_ok_and(|other| other.get().get() == self.get())
    }

    fn __hash__(&self) -> u64 {
        let state = self.get();
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        state.words.hash(&mut hasher);
        for backoff in &state.backoffs {
            backoff.to_bits().hash(&mut hasher);
        }
        hasher.finish()
    }

    fn __copy__(&self) -> PyState {
        PyState {
            state: Mutex::new(self.get()),
        }
    }

    fn __deepcopy__(&self, _memo: &Bound<'_, PyAny>) -> PyState {
        self.__copy__()
    }

    fn __repr__(&self) -> String {
        format!("<lmlab.kenlm.State of {} words>", self.__len__())
    }
}

/// A sentence or word given as `str` or as UTF-8 `bytes` (KenLM's module takes both).
fn text<'a>(value: &'a Bound<'_, PyAny>) -> PyResult<Cow<'a, str>> {
    if let Ok(text) = value.cast::<PyString>() {
        return text.to_cow();
    }
    if let Ok(bytes) = value.cast::<PyBytes>() {
        return std::str::from_utf8(bytes.as_bytes())
            .map(Cow::Borrowed)
            .map_err(|e| invalid(format!("bytes that are not UTF-8: {e}")));
    }
    let type_name = value.get_type().name()?;
    Err(raise(
        value.py(),
        "InvalidType",
        format!("expected str or bytes, got {type_name}"),
    ))
}

/// An n-gram model queried word by word: the base class of `lmlab.kenlm.Model`, whose methods
/// are these (no Python frame between the caller and the query).
#[pyclass(name = "KenlmModel", module = "lmlab._lmlab", frozen, subclass)]
pub struct PyKenlmModel {
    model: NgramModel,
    unk: TokenId,
    eos: TokenId,
}

impl PyKenlmModel {
    /// The id of `word` (`<unk>`'s when the vocabulary lacks it).
    fn id(&self, word: &str) -> TokenId {
        self.model.tokenizer().vocab().id(word).unwrap_or(self.unk)
    }

    /// The ids of the sentence's words, then `</s>` when `eos`.
    fn ids(&self, sentence: &str, eos: bool) -> Vec<TokenId> {
        let mut ids: Vec<TokenId> = sentence.split_whitespace().map(|w| self.id(w)).collect();
        if eos {
            ids.push(self.eos);
        }
        ids
    }
}

#[pymethods]
impl PyKenlmModel {
    /// Loads an ARPA file (plain, .gz or .xz) or an lmlab n-gram model file over words.
    /// `config` (KenLM's load options) is accepted and ignored.
    #[new]
    #[pyo3(signature = (path, config=None))]
    fn new(
        py: Python<'_>,
        path: PathBuf,
        config: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyKenlmModel> {
        let _ = config;
        let model = py
            .detach(|| {
                if is_model_file(&path) {
                    NgramModel::load(&path)
                } else {
                    lmlab_ngram::arpa::read_arpa(&path)
                }
            })
            .py_err()?;
        let tokenizer = model.tokenizer();
        let specials = tokenizer.specials();
        let unk = match (tokenizer.kind(), specials.unk) {
            ("words", Some(unk)) => unk,
            (kind, _) => {
                return Err(invalid(format!(
                    "{}: lmlab.kenlm queries word models; this model's tokenizer is {kind} (use lmlab.load)",
                    path.display()
                )))
            }
        };
        Ok(PyKenlmModel {
            unk,
            eos: specials.eos,
            model,
        })
    }

    /// The order N.
    #[getter]
    fn order(&self) -> usize {
        self.model.order()
    }

    /// log10 probability of the sentence (single-precision sum, as KenLM).
    #[pyo3(signature = (sentence, bos=true, eos=true))]
    fn score(
        &self,
        py: Python<'_>,
        sentence: &Bound<'_, PyAny>,
        bos: bool,
        eos: bool,
    ) -> PyResult<f64> {
        let ids = self.ids(&text(sentence)?, eos);
        py.detach(|| {
            let mut total = 0f32;
            if bos {
                lmlab_ngram::query::sequence_log10_probs(&self.model, &ids, |p| total += p);
            } else {
                let mut state = State::default();
                for &id in &ids {
                    total += state.advance(&self.model, id);
                }
            }
            Ok(total as f64)
        })
    }

    /// An iterator of (log10 probability, length of the n-gram matched, whether the word is
    /// unknown) of every word, then of `</s>` when `eos`.
    #[pyo3(signature = (sentence, bos=true, eos=true))]
    fn full_scores<'py>(
        &self,
        sentence: &Bound<'py, PyAny>,
        bos: bool,
        eos: bool,
    ) -> PyResult<Bound<'py, PyIterator>> {
        let ids = self.ids(&text(sentence)?, eos);
        let mut scores = Vec::with_capacity(ids.len());
        if bos {
            sequence_full_scores(&self.model, &ids, |log10, length| {
                scores.push((log10 as f64, length))
            });
        } else {
            let mut state = State::default();
            scores.extend(ids.iter().map(|&id| self.full_score(&mut state, id)));
        }
        // `</s>` is not an unknown word, even where the vocabulary's `<unk>` stands for it.
        let known = |i: usize| eos && i + 1 == ids.len();
        let rows = (scores.into_iter().zip(&ids).enumerate())
            .map(|(i, ((log10, length), &id))| (log10, length, id == self.unk && !known(i)));
        PyList::new(sentence.py(), rows)?.try_iter()
    }

    /// Sets `state` to the context of a sentence's start (`<s>`).
    #[pyo3(name = "BeginSentenceWrite")]
    fn begin_sentence_write(&self, state: &PyState) {
        state.set(State::start(&self.model));
    }

    /// Sets `state` to the empty context.
    #[pyo3(name = "NullContextWrite")]
    fn null_context_write(&self, state: &PyState) {
        state.set(State::default());
    }

    /// log10 p(word | in_state); `out_state` becomes the context after `word`.
    #[pyo3(name = "BaseScore")]
    fn base_score(
        &self,
        in_state: &PyState,
        word: &Bound<'_, PyAny>,
        out_state: &PyState,
    ) -> PyResult<f64> {
        Ok(self.base_full_score(in_state, word, out_state)?.0)
    }

    /// (log10 p(word | in_state), n-gram length, whether `word` is unknown); `out_state` becomes
    /// the context after `word`.
    #[pyo3(name = "BaseFullScore")]
    fn base_full_score(
        &self,
        in_state: &PyState,
        word: &Bound<'_, PyAny>,
        out_state: &PyState,
    ) -> PyResult<(f64, usize, bool)> {
        // `in_state` and `out_state` may be the same object: copy, then overwrite.
        let mut state = in_state.get();
        let id = self.id(&text(word)?);
        let (log10, ngram_length) = self.full_score(&mut state, id);
        out_state.set(state);
        Ok((log10, ngram_length, id == self.unk))
    }

    /// Whether `word` is in the vocabulary (`<unk>` is not).
    fn __contains__(&self, word: &Bound<'_, PyAny>) -> PyResult<bool> {
        Ok(self
            .model
            .tokenizer()
            .vocab()
            .id(&text(word)?)
            .is_some_and(|id| id != self.unk))
    }
}

impl PyKenlmModel {
    /// log10 p(id | state) and the length of the n-gram matched; `state` moves past `id`.
    fn full_score(&self, state: &mut State, id: TokenId) -> (f64, usize) {
        let (log10, matched) = state.advance_matched(&self.model, id);
        (log10 as f64, matched + 1)
    }
}

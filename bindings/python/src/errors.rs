//! lmlab's errors as Python exceptions: every one derives from `lmlab.Error`; a missing file is
//! also a `FileNotFoundError`, bad input also a `ValueError`, other I/O also an `OSError`. The
//! message is the CLI's (the library error's text).

use lmlab_core::Error;
use pyo3::prelude::*;

/// The exception classes live in `lmlab/_errors.py` (a class with two bases is plain Python);
/// this picks the one for `error`'s kind.
fn class_name(error: &Error) -> &'static str {
    match error {
        Error::NotFound(_) => "FileNotFound",
        Error::Io { .. } | Error::IsDirectory(_) | Error::DirectoryNotWritable { .. } => {
            "FileError"
        }
        Error::EmptyFile(_)
        | Error::InvalidUtf8 { .. }
        | Error::BadFile { .. }
        | Error::WrongKindOfFile { .. }
        | Error::Mismatch(_)
        | Error::InvalidArgument(_) => "InvalidInput",
    }
}

/// `error` as the Python exception of its kind, with the CLI's message.
pub fn to_py(error: Error) -> PyErr {
    // Some parsers' messages end with a newline; the CLI's line ends there anyway.
    let message = error.to_string().trim_end().to_string();
    Python::attach(|py| raise(py, class_name(&error), message))
}

/// A `lmlab.<name>` exception with `message` (a plain `RuntimeError` if `lmlab._errors` cannot be
/// imported, which only a broken installation does).
pub fn raise(py: Python<'_>, name: &str, message: String) -> PyErr {
    let class = py
        .import("lmlab._errors")
        .and_then(|module| module.getattr(name));
    match class.and_then(|class| class.call1((message.clone(),))) {
        Ok(instance) => PyErr::from_value(instance),
        Err(_) => pyo3::exceptions::PyRuntimeError::new_err(message),
    }
}

/// A `ValueError` (and `lmlab.Error`) for bad arguments checked here.
pub fn invalid(message: impl Into<String>) -> PyErr {
    to_py(Error::invalid(message))
}

/// Converts library results.
pub trait IntoPy<T> {
    /// The value, or the error as a Python exception.
    fn py_err(self) -> PyResult<T>;
}

impl<T> IntoPy<T> for lmlab_core::Result<T> {
    fn py_err(self) -> PyResult<T> {
        self.map_err(to_py)
    }
}

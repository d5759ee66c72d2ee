//! The one error type of lmlab's library crates: every message names the file, line or option at fault.

use std::path::{Path, PathBuf};

/// Everything that can go wrong in lmlab's libraries. Messages are meant to be read by a person.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An operating-system error on a named file.
    #[error("{path}: {source}")]
    Io {
        /// The file being read or written.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The input file does not exist.
    #[error("{0}: no such file")]
    NotFound(PathBuf),
    /// A directory was given where a file is expected.
    #[error("{0}: is a directory, expected a file")]
    IsDirectory(PathBuf),
    /// A temporary file or folder could not be created in a directory (read-only, missing, not a
    /// directory); the reason is the operating system's.
    #[error("cannot write into directory {dir}: {reason}")]
    DirectoryNotWritable {
        /// The directory.
        dir: PathBuf,
        /// What the operating system said.
        reason: String,
    },
    /// The input file has no content.
    #[error("{0}: file is empty")]
    EmptyFile(PathBuf),
    /// The input is not valid UTF-8.
    #[error(
        "{path}: invalid UTF-8 at line {line}, byte offset {byte_offset} (column byte {column})"
    )]
    InvalidUtf8 {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// 0-based byte offset of the first bad byte from the start of the file.
        byte_offset: usize,
        /// 0-based byte offset of the bad byte within its line.
        column: usize,
    },
    /// A model, tokenizer or probability file that cannot be used as it is.
    #[error("{path}: {reason}")]
    BadFile {
        /// The file.
        path: PathBuf,
        /// Why it cannot be used.
        reason: String,
    },
    /// A file of another kind than the command reads (a model file given as a probability file, ...).
    #[error("{path} is {found}, not {expected}; {hint}")]
    WrongKindOfFile {
        /// The file.
        path: PathBuf,
        /// What it is ("an lmlab model file").
        found: String,
        /// What was expected ("a probability file").
        expected: String,
        /// What to do instead.
        hint: String,
    },
    /// Inputs that should agree do not (probability files of different token streams, ...).
    #[error("{0}")]
    Mismatch(String),
    /// A parameter or option outside its valid range.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
}

/// Result with lmlab's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An I/O error on `path`, mapping "not found" and "is a directory" to their own variants.
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        match source.kind() {
            std::io::ErrorKind::NotFound => Error::NotFound(path.to_path_buf()),
            std::io::ErrorKind::IsADirectory => Error::IsDirectory(path.to_path_buf()),
            _ => Error::Io {
                path: path.to_path_buf(),
                source,
            },
        }
    }

    /// A file that cannot be used, with the reason.
    pub fn bad_file(path: &Path, reason: impl Into<String>) -> Self {
        Error::BadFile {
            path: path.to_path_buf(),
            reason: reason.into(),
        }
    }

    /// An option or parameter out of range.
    pub fn invalid(message: impl Into<String>) -> Self {
        Error::InvalidArgument(message.into())
    }
}

//! Arrays that may live in temporary files. With a memory setting too small for the counts of
//! every order (see [`crate::count::Spill`]), each finished order's arrays go to anonymous files in
//! a private temporary directory and come back when a later stage needs them, so at most a few
//! orders are in memory at once. Without one, the same types simply hold vectors.

use lmlab_core::interrupt::TempPath;
use lmlab_core::tempfiles::create_dir;
use lmlab_core::{Error, Result};
use std::borrow::Cow;
use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Plain numbers whose bytes are written to and read from the temporary files as they lie in
/// memory (the files never leave the process that wrote them).
pub(crate) trait Plain: Copy + Default + 'static {}
impl Plain for u8 {}
impl Plain for u32 {}
impl Plain for u64 {}
impl Plain for f64 {}
impl Plain for u128 {}

/// The bytes of a slice of plain numbers.
fn as_bytes<T: Plain>(values: &[T]) -> &[u8] {
    // SAFETY: `Plain` types have no padding and every byte of them is initialised.
    unsafe {
        std::slice::from_raw_parts(values.as_ptr().cast::<u8>(), std::mem::size_of_val(values))
    }
}

/// The bytes of a mutable slice of plain numbers.
fn as_bytes_mut<T: Plain>(values: &mut [T]) -> &mut [u8] {
    // SAFETY: as above, and any bit pattern is a valid `Plain` value.
    unsafe {
        std::slice::from_raw_parts_mut(
            values.as_mut_ptr().cast::<u8>(),
            std::mem::size_of_val(values),
        )
    }
}

/// The name prefix of spill directories: `lmlab-ngram-<pid>-<n>`.
pub(crate) const SPILL_PREFIX: &str = "lmlab-ngram-";

/// A private temporary directory for spilled arrays, removed with it, on an interrupt, and by a
/// later build when its process died ([`lmlab_core::tempfiles`]).
pub(crate) struct SpillDir {
    dir: TempPath,
}

impl SpillDir {
    /// Creates the directory under `parent` (first removing stale ones of dead processes).
    pub fn new(parent: &Path) -> Result<SpillDir> {
        let dir = create_dir(parent, SPILL_PREFIX).map_err(|e| match e {
            Error::DirectoryNotWritable { reason, .. } => {
                temp_error(parent, "cannot create a directory for counts", &reason)
            }
            other => other,
        })?;
        Ok(SpillDir { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn file(&self) -> Result<File> {
        tempfile::tempfile_in(self.path())
            .map_err(|e| temp_error(self.path(), "cannot create a file for counts", &e))
    }
}

/// An array in memory or in a temporary file.
pub(crate) enum Stored<T> {
    /// Held in memory.
    Memory(Vec<T>),
    /// In a temporary file of the directory `dir`.
    File {
        file: File,
        len: usize,
        dir: PathBuf,
    },
}

/// Elements per read of a spilled array.
const CHUNK: usize = 1 << 16;

impl<T: Plain> Stored<T> {
    /// Keeps `values` in memory, or writes them to a file of `spill` and frees them.
    pub fn new(values: Vec<T>, spill: Option<&SpillDir>) -> Result<Stored<T>> {
        let mut writer = Column::new(spill)?;
        match &mut writer {
            Column::Memory(v) => *v = values,
            Column::File { .. } => writer.extend(&values)?,
        }
        writer.finish()
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        match self {
            Stored::Memory(v) => v.len(),
            Stored::File { len, .. } => *len,
        }
    }

    /// The whole array: borrowed when in memory, read back when spilled (for as long as the
    /// result lives).
    pub fn read(&self) -> Result<Cow<'_, [T]>> {
        match self {
            Stored::Memory(v) => Ok(Cow::Borrowed(v)),
            Stored::File { .. } => {
                let mut values = vec![T::default(); self.len()];
                self.read_into(0, &mut values)?;
                Ok(Cow::Owned(values))
            }
        }
    }

    /// The array as a vector (read back when spilled).
    pub fn into_vec(self) -> Result<Vec<T>> {
        match self {
            Stored::Memory(v) => Ok(v),
            Stored::File { .. } => Ok(self.read()?.into_owned()),
        }
    }

    /// Calls `f` on consecutive pieces of the array, in order (the whole array when in memory).
    pub fn for_each_chunk(&self, mut f: impl FnMut(&[T])) -> Result<()> {
        match self {
            Stored::Memory(v) => f(v),
            Stored::File { len, .. } => {
                let mut buf = vec![T::default(); CHUNK.min(*len)];
                let mut at = 0;
                while at < *len {
                    let n = CHUNK.min(len - at);
                    self.read_into(at, &mut buf[..n])?;
                    f(&buf[..n]);
                    at += n;
                }
            }
        }
        Ok(())
    }

    /// Reads elements `at..at + out.len()` of a spilled array.
    pub(crate) fn read_into(&self, at: usize, out: &mut [T]) -> Result<()> {
        let Stored::File { file, dir, .. } = self else {
            unreachable!("only spilled arrays are read back");
        };
        let mut file = file;
        let offset = (at * std::mem::size_of::<T>()) as u64;
        file.seek(SeekFrom::Start(offset))
            .and_then(|_| file.read_exact(as_bytes_mut(out)))
            .map_err(|e| temp_error(dir, "cannot read back counts", &e))
    }
}

/// Bytes gathered per write to a spill file.
const WRITE_BUFFER: usize = 1 << 20;

/// Builds a [`Stored`] array element by element.
pub(crate) enum Column<T> {
    /// Gathered in memory.
    Memory(Vec<T>),
    /// Written through a buffer to a temporary file of the directory `dir`.
    File {
        writer: BufWriter<File>,
        len: usize,
        dir: PathBuf,
    },
}

impl<T: Plain> Column<T> {
    /// An empty column, in a file of `spill` if given.
    pub fn new(spill: Option<&SpillDir>) -> Result<Column<T>> {
        Ok(match spill {
            None => Column::Memory(Vec::new()),
            Some(dir) => Column::File {
                writer: BufWriter::with_capacity(WRITE_BUFFER, dir.file()?),
                len: 0,
                dir: dir.path().to_path_buf(),
            },
        })
    }

    /// Appends one element.
    #[inline]
    pub fn push(&mut self, value: T) -> Result<()> {
        self.extend(std::slice::from_ref(&value))
    }

    /// Appends elements.
    pub fn extend(&mut self, values: &[T]) -> Result<()> {
        match self {
            Column::Memory(v) => v.extend_from_slice(values),
            Column::File { writer, len, dir } => {
                writer
                    .write_all(as_bytes(values))
                    .map_err(|e| temp_error(dir, "cannot write counts", &e))?;
                *len += values.len();
            }
        }
        Ok(())
    }

    /// The finished array.
    pub fn finish(self) -> Result<Stored<T>> {
        match self {
            Column::Memory(v) => Ok(Stored::Memory(v)),
            Column::File { writer, len, dir } => {
                let file = writer
                    .into_inner()
                    .map_err(|e| temp_error(&dir, "cannot write counts", e.error()))?;
                Ok(Stored::File { file, len, dir })
            }
        }
    }
}

/// An error about the temporary directory, with what to do about it.
pub(crate) fn temp_error(dir: &Path, what: &str, e: &dyn std::fmt::Display) -> Error {
    Error::invalid(format!(
        "temporary directory {}: {what} ({e}); counting beyond --memory needs a writable \
         directory with free space: free some or choose another with --temp",
        dir.display()
    ))
}

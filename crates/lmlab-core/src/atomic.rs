//! Atomic file writes: a temp file in the target's directory, fsync, then rename over the target.
//! A crash or error at any point leaves either the old file or the complete new one, never a torn file.
//! The temp file is `.lmlab-tmp-<pid>-<n>` ([`crate::tempfiles`]): an error or an interrupt removes
//! it, and a later write into the same directory removes those of processes that died.

use crate::error::{Error, Result};
use crate::tempfiles::create_file;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

/// The name prefix of the temporary files (hidden, and named after the writing process).
pub const TEMP_PREFIX: &str = ".lmlab-tmp-";

/// Writes a file atomically through `fill`, which receives a buffered writer.
pub fn write_atomically<F>(path: &Path, fill: F) -> Result<()>
where
    F: FnOnce(&mut dyn Write) -> std::io::Result<()>,
{
    write_atomically_file(path, |file| {
        let mut writer = BufWriter::new(file);
        fill(&mut writer)
            .and_then(|()| writer.flush())
            .map_err(|e| Error::io(path, e))
    })
}

/// Writes a file atomically through `fill`, which receives the temporary file itself (unbuffered:
/// it may seek back to complete what it wrote) and returns a value of its own.
pub fn write_atomically_file<R>(
    path: &Path,
    fill: impl FnOnce(&mut File) -> Result<R>,
) -> Result<R> {
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    if path.is_dir() {
        return Err(Error::IsDirectory(path.to_path_buf()));
    }
    let (mut file, temp) = create_file(dir, TEMP_PREFIX)?;
    let value = fill(&mut file)?;
    file.sync_all().map_err(|e| Error::io(path, e))?;
    std::fs::rename(temp.path(), path).map_err(|e| Error::io(path, e))?;
    temp.keep();
    Ok(value)
}

/// Writes `bytes` to `path` atomically.
pub fn write_bytes_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomically(path, |w| w.write_all(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_write_keeps_the_old_file_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("model.bin");
        write_bytes_atomically(&target, b"old").unwrap();
        let err = write_atomically(&target, |w| {
            w.write_all(b"partial")?;
            Err(std::io::Error::other("interrupted"))
        })
        .unwrap_err();
        assert!(err.to_string().contains("interrupted"), "{err}");
        assert_eq!(std::fs::read(&target).unwrap(), b"old");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "temp file left behind");
    }

    #[test]
    fn writing_over_a_directory_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let err = write_bytes_atomically(dir.path(), b"x").unwrap_err();
        assert!(err.to_string().contains("is a directory"), "{err}");
    }
}

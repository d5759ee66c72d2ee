//! Atomic file writes: a temp file in the target's directory, fsync, then rename over the target.
//! A crash or error at any point leaves either the old file or the complete new one, never a torn file.

use crate::error::{Error, Result};
use std::io::{BufWriter, Write};
use std::path::Path;

/// Writes a file atomically through `fill`, which receives a buffered writer.
pub fn write_atomically<F>(path: &Path, fill: F) -> Result<()>
where
    F: FnOnce(&mut dyn Write) -> std::io::Result<()>,
{
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    if path.is_dir() {
        return Err(Error::IsDirectory(path.to_path_buf()));
    }
    let mut builder = tempfile::Builder::new();
    builder.prefix(".lmlab-tmp-");
    // Temp files are private (0600) by default; the result should be readable like any new file.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644));
    let temp = builder.tempfile_in(dir).map_err(|e| Error::io(dir, e))?;
    let mut writer = BufWriter::new(temp);
    fill(&mut writer).map_err(|e| Error::io(path, e))?;
    let temp = writer
        .into_inner()
        .map_err(|e| Error::io(path, e.into_error()))?;
    temp.as_file().sync_all().map_err(|e| Error::io(path, e))?;
    temp.persist(path).map_err(|e| Error::io(path, e.error))?;
    Ok(())
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

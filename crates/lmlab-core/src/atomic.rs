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

/// Writes a file atomically through `fill`, which receives a buffered writer ([`Blocks::Buffered`]).
pub fn write_atomically<F>(path: &Path, fill: F) -> Result<()>
where
    F: FnOnce(&mut dyn Write) -> std::io::Result<()>,
{
    write_atomically_in(path, Blocks::Buffered, fill)
}

/// [`write_atomically`], the bytes passed on to the file as `blocks` says.
pub fn write_atomically_in<F>(path: &Path, blocks: Blocks, fill: F) -> Result<()>
where
    F: FnOnce(&mut dyn Write) -> std::io::Result<()>,
{
    write_atomically_file(path, |file| {
        let mut writer = blocks.writer(file);
        fill(&mut writer)
            .and_then(|()| writer.flush())
            .map_err(|e| Error::io(path, e))
    })
}

/// How the bytes of a file written from its start reach the kernel: a choice made by what will read
/// the file back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Blocks {
    /// Through a 1 MiB `BufWriter`: files read back in order or copied into memory when loaded
    /// (probability files, ARPA, GLM, memory-based and neural model files).
    Buffered,
    /// In aligned 2 MiB blocks ([`BlockWriter`]): files memory-mapped and read in place at random
    /// (n-gram tables), which the page cache then holds in huge folios for the map to use. Not the
    /// default because huge folios cost system time when written on some machines: in the
    /// Firecracker VMs lmlab is developed on (a balloon device reporting free 2 MiB blocks to the
    /// host), writing the 141 MB PTB order-5 GLM took 0.34–0.50 s of system time this way against
    /// 0.17–0.24 s through `BufWriter`, and a GLM is copied into memory when loaded, so it gains nothing.
    Huge,
}

impl Blocks {
    /// A writer into `inner` (at the start of a file) that writes as `self` says. It must be
    /// flushed at the end ([`BlockWriter`] writes nothing when dropped).
    pub fn writer<'a, W: Write + 'a>(self, inner: W) -> Box<dyn Write + 'a> {
        match self {
            Blocks::Buffered => Box::new(BufWriter::with_capacity(1 << 20, inner)),
            Blocks::Huge => Box::new(BlockWriter::new(inner)),
        }
    }
}

/// Bytes per write of a [`BlockWriter`]: the size of a huge page on x86-64 and arm64.
pub const WRITE_BLOCK: usize = 2 << 20;

/// A buffered writer that passes bytes on in blocks of exactly [`WRITE_BLOCK`] bytes (the last
/// one shorter, at [`Write::flush`]), so that a file written through it from its start is written
/// in aligned 2 MiB pieces. Page caches that keep files in large folios (Linux: ext4 from 6.16, xfs)
/// then hold it in huge pages, which a model file's memory map can use as they are (fewer TLB
/// misses for the random reads of a query, with nothing copied). `BufWriter` flushes whatever it
/// holds when the next write does not fit, so its writes drift off the 2 MiB boundaries.
/// Unlike `BufWriter` it writes nothing when dropped (an error there could not be reported):
/// call [`Write::flush`] at the end, or the bytes it holds are lost.
pub struct BlockWriter<W: Write> {
    inner: W,
    buf: Vec<u8>,
}

impl<W: Write> BlockWriter<W> {
    /// A writer into `inner`, which is at its start (or at a multiple of [`WRITE_BLOCK`]).
    pub fn new(inner: W) -> BlockWriter<W> {
        BlockWriter {
            inner,
            buf: Vec::new(),
        }
    }
}

impl<W: Write> Write for BlockWriter<W> {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        if self.buf.is_empty() && data.len() >= WRITE_BLOCK {
            // Whole blocks straight from the caller's bytes.
            let whole = data.len() / WRITE_BLOCK * WRITE_BLOCK;
            self.inner.write_all(&data[..whole])?;
            return Ok(whole);
        }
        if self.buf.capacity() == 0 {
            self.buf
                .reserve_exact(WRITE_BLOCK.min(data.len().max(1 << 16)));
        }
        let taken = (WRITE_BLOCK - self.buf.len()).min(data.len());
        self.buf.extend_from_slice(&data[..taken]);
        if self.buf.len() == WRITE_BLOCK {
            self.inner.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(taken)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.write_all(&self.buf)?;
        self.buf.clear();
        self.inner.flush()
    }
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
    fn block_writer_passes_the_bytes_on_in_whole_blocks() {
        /// Records the length of each write.
        #[derive(Default)]
        struct Writes(Vec<u8>, Vec<usize>);
        impl Write for Writes {
            fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
                self.0.extend_from_slice(data);
                self.1.push(data.len());
                Ok(data.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let bytes: Vec<u8> = (0..5 * WRITE_BLOCK + 123)
            .map(|i| (i % 251) as u8)
            .collect();
        let mut writes = Writes::default();
        let mut w = BlockWriter::new(&mut writes);
        // Small writes, then one spanning several blocks, then small ones again.
        let (a, rest) = bytes.split_at(1000);
        let (b, c) = rest.split_at(3 * WRITE_BLOCK);
        for piece in a.chunks(7) {
            w.write_all(piece).unwrap();
        }
        w.write_all(b).unwrap();
        for piece in c.chunks(65536) {
            w.write_all(piece).unwrap();
        }
        w.flush().unwrap();
        assert_eq!(writes.0, bytes);
        let (last, whole) = writes.1.split_last().unwrap();
        assert_eq!(*last, 123);
        let mut at = 0;
        for &len in whole {
            assert_eq!(at % WRITE_BLOCK, 0, "a write at {at}");
            assert_eq!(len % WRITE_BLOCK, 0, "a write of {len}");
            at += len;
        }
    }

    #[test]
    fn writing_over_a_directory_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let err = write_bytes_atomically(dir.path(), b"x").unwrap_err();
        assert!(err.to_string().contains("is a directory"), "{err}");
    }
}

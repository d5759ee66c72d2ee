//! The self-describing model file every model kind is stored in.
//!
//! Layout (little-endian):
//! ```text
//! 0   magic            8 bytes  "\x89LMLAB\n\x1a"
//! 8   format version   u32      container format (this file's layout)
//! 12  header length    u32      bytes of the JSON header, padded with spaces to a multiple of 8
//! 16  payload length   u64
//! 24  payload CRC-32   u32
//! 28  reserved         u32      zero
//! 32  header           JSON     kind, kind version, tokenizer, provenance
//! ..  payload                   the kind's own bytes, 8-byte aligned so it can be memory-mapped
//! ```
//! A file shorter than its lengths say is reported as truncated, a different magic as foreign, a
//! larger version as written by a newer lmlab, and a CRC mismatch as corrupted.

use crate::atomic::{write_atomically_file, write_atomically_in, Blocks};
use crate::corpus::{open_regular_file, SequenceMode};
use crate::error::{Error, Result};
use memmap2::Mmap;
use serde::{Deserialize, Serialize};
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The first bytes of every lmlab model file.
pub const MAGIC: [u8; 8] = *b"\x89LMLAB\n\x1a";
/// The container format version this build writes and reads.
pub const CONTAINER_VERSION: u32 = 1;
const PREFIX_LEN: usize = 32;

/// Where a model came from: enough to reproduce it. No timestamps, so equal inputs give equal bytes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    /// SHA-256 of the training corpus.
    pub corpus_sha256: String,
    /// The training corpus as named on the command line.
    pub corpus_name: String,
    /// How the corpus was cut into sequences.
    pub sequences: SequenceMode,
    /// The kind's training options.
    pub options: serde_json::Value,
    /// The random seed, for kinds that use one.
    pub seed: Option<u64>,
    /// The lmlab version that trained the model.
    pub lmlab_version: String,
}

/// The JSON header of a model file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelHeader {
    /// Model kind (`baseline`, `ngram`, ...): selects the loader.
    pub kind: String,
    /// The kind's payload format version.
    pub kind_version: u32,
    /// The serialized tokenizer.
    pub tokenizer: serde_json::Value,
    /// The tokenizer's fingerprint.
    pub tokenizer_fingerprint: String,
    /// Training provenance.
    pub provenance: Provenance,
}

impl ModelHeader {
    /// The header of a `kind` model (payload version `kind_version`) over `tokenizer`.
    pub fn new(
        kind: &str,
        kind_version: u32,
        tokenizer: &dyn crate::Tokenizer,
        provenance: Provenance,
    ) -> ModelHeader {
        ModelHeader {
            kind: kind.to_string(),
            kind_version,
            tokenizer: tokenizer.to_json(),
            tokenizer_fingerprint: tokenizer.fingerprint(),
            provenance,
        }
    }

    /// Checks the kind and that its version is one this build reads.
    pub fn require_kind(&self, path: &Path, kind: &str, max_version: u32) -> Result<()> {
        if self.kind != kind {
            return Err(Error::bad_file(
                path,
                format!("is a '{}' model, expected a '{kind}' model", self.kind),
            ));
        }
        if self.kind_version > max_version {
            return Err(Error::bad_file(
                path,
                format!(
                    "'{kind}' model format version {} is newer than this lmlab reads ({max_version}); \
                     upgrade lmlab",
                    self.kind_version
                ),
            ));
        }
        Ok(())
    }
}

/// Writes a model file atomically.
pub fn write_model_file(path: &Path, header: &ModelHeader, payload: &[u8]) -> Result<()> {
    write_model_file_with(path, header, Blocks::Buffered, |w| w.write_all(payload))
}

/// Writes a model file atomically, its payload streamed by `fill` (no copy of the payload is held
/// in memory). `fill` runs twice and must write the same bytes both times: once into a checksum
/// sink (payload length and CRC-32 go in the file's prefix), then into the file. A second pass
/// that writes different bytes is an error and leaves no file. `blocks`: how the bytes go out (see
/// [`Blocks`]: [`Blocks::Huge`] for models mapped and read in place).
pub fn write_model_file_with<F>(
    path: &Path,
    header: &ModelHeader,
    blocks: Blocks,
    fill: F,
) -> Result<()>
where
    F: Fn(&mut dyn Write) -> std::io::Result<()>,
{
    let json = header_json(header)?;
    let mut sink = CrcSink::default();
    fill(&mut sink).map_err(|e| Error::io(path, e))?;
    let (payload_len, crc) = (sink.len, sink.hasher.finalize());
    write_atomically_in(path, blocks, |w| {
        write_prefix(w, &json, payload_len, crc)?;
        let mut check = CrcSink {
            inner: Some(w),
            ..CrcSink::default()
        };
        fill(&mut check)?;
        if check.len != payload_len || check.hasher.finalize() != crc {
            return Err(std::io::Error::other(
                "the model payload changed between its checksum pass and its write",
            ));
        }
        Ok(())
    })
}

/// Writes a model file atomically whose payload `fill` produces once, in pieces (for payloads
/// too large to produce twice or to hold): the payload goes straight to the temporary file while
/// its length and CRC-32 are taken, then the prefix is completed. Same bytes as
/// [`write_model_file_with`]; an error from `fill` leaves no file. The header is serialized and
/// freed before `fill` runs. `blocks`: as [`write_model_file_with`]'s.
pub fn write_model_file_once<R>(
    path: &Path,
    header: ModelHeader,
    blocks: Blocks,
    fill: impl FnOnce(&mut dyn Write) -> Result<R>,
) -> Result<R> {
    let json = header_json(&header)?;
    drop(header);
    write_atomically_file(path, |file| {
        let io = |e: std::io::Error| Error::io(path, e);
        let mut w = blocks.writer(&mut *file);
        write_prefix(&mut w, &json, 0, 0).map_err(io)?;
        let mut sink = CrcSink {
            inner: Some(&mut w),
            ..CrcSink::default()
        };
        let value = fill(&mut sink)?;
        let (payload_len, crc) = (sink.len, sink.hasher.finalize());
        w.flush().map_err(io)?;
        drop(w);
        file.seek(SeekFrom::Start(LENGTHS_AT)).map_err(io)?;
        file.write_all(&payload_len.to_le_bytes()).map_err(io)?;
        file.write_all(&crc.to_le_bytes()).map_err(io)?;
        Ok(value)
    })
}

/// Where the payload length and CRC-32 lie in the prefix.
const LENGTHS_AT: u64 = 16;

/// The JSON header, padded with spaces to a multiple of 8 bytes.
fn header_json(header: &ModelHeader) -> Result<Vec<u8>> {
    let mut json = serde_json::to_vec(header).map_err(|e| Error::invalid(e.to_string()))?;
    while json.len() % 8 != 0 {
        json.push(b' ');
    }
    Ok(json)
}

/// The 32-byte prefix, then the header.
fn write_prefix(w: &mut dyn Write, json: &[u8], payload_len: u64, crc: u32) -> std::io::Result<()> {
    w.write_all(&MAGIC)?;
    w.write_all(&CONTAINER_VERSION.to_le_bytes())?;
    w.write_all(&(json.len() as u32).to_le_bytes())?;
    w.write_all(&payload_len.to_le_bytes())?;
    w.write_all(&crc.to_le_bytes())?;
    w.write_all(&0u32.to_le_bytes())?;
    w.write_all(json)
}

/// Counts and checksums the bytes written through it, forwarding them to `inner` if any.
#[derive(Default)]
struct CrcSink<'a> {
    inner: Option<&'a mut dyn Write>,
    hasher: crc32fast::Hasher,
    len: u64,
}

impl Write for CrcSink<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = match self.inner.as_mut() {
            Some(w) => w.write(buf)?,
            None => buf.len(),
        };
        self.hasher.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self.inner.as_mut() {
            Some(w) => w.flush(),
            None => Ok(()),
        }
    }
}

/// An opened, checked model file, memory-mapped.
pub struct ModelFile {
    path: PathBuf,
    map: Mmap,
    header: ModelHeader,
    payload_start: usize,
}

impl ModelFile {
    /// Opens and checks a model file: magic, version, lengths, header JSON and payload checksum.
    pub fn open(path: &Path) -> Result<ModelFile> {
        let file = open_regular_file(path)?;
        let len = file.metadata().map_err(|e| Error::io(path, e))?.len();
        if len == 0 {
            return Err(Error::EmptyFile(path.to_path_buf()));
        }
        // SAFETY: read-only map of a file lmlab does not modify while it is open.
        let map = unsafe { Mmap::map(&file) }.map_err(|e| Error::io(path, e))?;
        // Huge pages where the page cache holds the file in huge folios: fewer TLB misses for the
        // random reads of models used in place. Advice that fails changes nothing.
        #[cfg(target_os = "linux")]
        let _ = map.advise(memmap2::Advice::HugePage);
        let (header, payload_start, crc) = parse(path, &map)?;
        let file = ModelFile {
            path: path.to_path_buf(),
            map,
            header,
            payload_start,
        };
        let mut hasher = crc32fast::Hasher::new();
        let payload = file.payload();
        for from in (0..payload.len()).step_by(CHECK_STRETCH) {
            let to = (from + CHECK_STRETCH).min(payload.len());
            hasher.update(&payload[from..to]);
            file.release_range(from..to);
        }
        if hasher.finalize() != crc {
            return Err(Error::bad_file(
                path,
                "payload checksum mismatch; the file is corrupted",
            ));
        }
        Ok(file)
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The header.
    pub fn header(&self) -> &ModelHeader {
        &self.header
    }

    /// The payload bytes (8-byte aligned in the file).
    pub fn payload(&self) -> &[u8] {
        &self.map[self.payload_start..]
    }

    /// Lets the whole pages inside `range` of the payload leave this process's resident memory, as
    /// [`ModelFile::release_pages`] does for the whole file (pages the range only partly covers
    /// stay; 4 KiB pages assumed: on other page sizes the advice may fail, which changes nothing).
    pub fn release_range(&self, range: std::ops::Range<usize>) {
        const PAGE: usize = 4096;
        let start = (self.payload_start + range.start).div_ceil(PAGE) * PAGE;
        let end = (self.payload_start + range.end) / PAGE * PAGE;
        if start < end {
            self.release(start, end - start);
        }
    }

    /// Lets the mapped bytes leave this process's resident memory (after the checks that read them
    /// all); they stay in the page cache and come back, page by page, as they are read again.
    pub fn release_pages(&self) {
        self.release(0, self.map.len());
    }

    /// Drops the mapped pages of `len` bytes from `offset` (page aligned) from resident memory.
    fn release(&self, offset: usize, len: usize) {
        #[cfg(unix)]
        // SAFETY: the map is read-only and never written through; dropping its pages only means
        // they are read from the file again on the next access. Advice that fails changes
        // nothing, so its result is ignored.
        let _ = unsafe {
            self.map
                .unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, offset, len)
        };
        #[cfg(not(unix))]
        let _ = (offset, len);
    }
}

/// True when `path` starts with the model-file magic (false when it cannot be read: the caller's own
/// reading then reports why).
pub fn is_model_file(path: &Path) -> bool {
    let mut head = [0u8; MAGIC.len()];
    std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head))
        .is_ok_and(|()| head == MAGIC)
}

fn read_u32(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"))
}

/// The header, the payload's offset and its expected CRC-32 (checked by the caller).
fn parse(path: &Path, bytes: &[u8]) -> Result<(ModelHeader, usize, u32)> {
    let magic_len = bytes.len().min(MAGIC.len());
    if bytes[..magic_len] != MAGIC[..magic_len] {
        return Err(Error::bad_file(
            path,
            "not an lmlab model file (unknown magic bytes)",
        ));
    }
    if bytes.len() < PREFIX_LEN {
        return Err(truncated(path, PREFIX_LEN, bytes.len()));
    }
    let version = read_u32(bytes, 8);
    if version > CONTAINER_VERSION {
        return Err(Error::bad_file(
            path,
            format!(
                "model file format version {version} is newer than this lmlab reads \
                 ({CONTAINER_VERSION}); upgrade lmlab"
            ),
        ));
    }
    if version == 0 {
        return Err(Error::bad_file(
            path,
            "model file format version 0 is invalid",
        ));
    }
    let header_len = read_u32(bytes, 12) as usize;
    let payload_len = u64::from_le_bytes(bytes[16..24].try_into().expect("8 bytes"));
    let crc = read_u32(bytes, 24);
    let payload_start = PREFIX_LEN + header_len;
    let expected = (payload_start as u64).saturating_add(payload_len);
    if (bytes.len() as u64) < expected {
        return Err(truncated(path, expected as usize, bytes.len()));
    }
    if (bytes.len() as u64) > expected {
        return Err(Error::bad_file(
            path,
            format!(
                "has {} bytes after the end of the model; the file is corrupted",
                bytes.len() as u64 - expected
            ),
        ));
    }
    let header: ModelHeader = serde_json::from_slice(&bytes[PREFIX_LEN..payload_start])
        .map_err(|e| Error::bad_file(path, format!("corrupted model header: {e}")))?;
    Ok((header, payload_start, crc))
}

/// Bytes of a mapped payload checksummed at a time by [`ModelFile::open`], each stretch's pages
/// released once read, so that opening a model does not make the whole file resident.
const CHECK_STRETCH: usize = 4 << 20;

fn truncated(path: &Path, expected: usize, found: usize) -> Error {
    Error::bad_file(
        path,
        format!("truncated model file: expected {expected} bytes, found {found}"),
    )
}

/// Builds a model payload from little-endian numbers and length-prefixed arrays.
#[derive(Default)]
pub struct PayloadWriter {
    bytes: Vec<u8>,
}

impl PayloadWriter {
    /// An empty payload.
    pub fn new() -> Self {
        Self::default()
    }
    /// Appends a u64.
    pub fn u64(&mut self, value: u64) {
        self.bytes.extend_from_slice(&value.to_le_bytes());
    }
    /// Appends an f64.
    pub fn f64(&mut self, value: f64) {
        self.bytes.extend_from_slice(&value.to_le_bytes());
    }
    /// Appends a length-prefixed u32 array.
    pub fn u32_slice(&mut self, values: &[u32]) {
        self.u64(values.len() as u64);
        for v in values {
            self.bytes.extend_from_slice(&v.to_le_bytes());
        }
    }
    /// Appends a length-prefixed u64 array.
    pub fn u64_slice(&mut self, values: &[u64]) {
        self.u64(values.len() as u64);
        for &v in values {
            self.u64(v);
        }
    }
    /// The finished payload.
    pub fn finish(self) -> Vec<u8> {
        self.bytes
    }
}

/// Reads what a [`PayloadWriter`] wrote, with a clear error when the payload ends early.
pub struct PayloadReader<'a> {
    path: &'a Path,
    bytes: &'a [u8],
    at: usize,
}

impl<'a> PayloadReader<'a> {
    /// Reads `bytes`, naming `path` in errors.
    pub fn new(path: &'a Path, bytes: &'a [u8]) -> Self {
        PayloadReader { path, bytes, at: 0 }
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len());
        match end {
            Some(end) => {
                let slice = &self.bytes[self.at..end];
                self.at = end;
                Ok(slice)
            }
            None => Err(Error::bad_file(
                self.path,
                "model payload ends early; the file is corrupted",
            )),
        }
    }
    /// Reads a u64.
    pub fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().expect("8")))
    }
    /// Reads an f64.
    pub fn f64(&mut self) -> Result<f64> {
        Ok(f64::from_le_bytes(self.take(8)?.try_into().expect("8")))
    }
    fn len(&mut self, width: usize) -> Result<usize> {
        let n = self.u64()?;
        usize::try_from(n)
            .ok()
            .filter(|n| n.checked_mul(width).is_some())
            .ok_or_else(|| Error::bad_file(self.path, "model payload array length is absurd"))
    }
    /// Reads a length-prefixed u32 array.
    pub fn u32_vec(&mut self) -> Result<Vec<u32>> {
        let n = self.len(4)?;
        let bytes = self.take(n * 4)?;
        Ok(bytes
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes(c.try_into().expect("4")))
            .collect())
    }
    /// Reads a length-prefixed u64 array.
    pub fn u64_vec(&mut self) -> Result<Vec<u64>> {
        let n = self.len(8)?;
        let bytes = self.take(n * 8)?;
        Ok(bytes
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes(c.try_into().expect("8")))
            .collect())
    }
    /// Fails unless every byte was read.
    pub fn finish(self) -> Result<()> {
        if self.at == self.bytes.len() {
            Ok(())
        } else {
            Err(Error::bad_file(
                self.path,
                "model payload has unexpected trailing bytes",
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> ModelHeader {
        ModelHeader {
            kind: "test".into(),
            kind_version: 1,
            tokenizer: serde_json::json!({"kind": "bytes"}),
            tokenizer_fingerprint: "abc".into(),
            provenance: Provenance {
                corpus_sha256: "00".into(),
                corpus_name: "c.txt".into(),
                sequences: SequenceMode::Line,
                options: serde_json::json!({}),
                seed: None,
                lmlab_version: "0".into(),
            },
        }
    }

    #[test]
    fn round_trip_and_alignment() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.lmlab");
        write_model_file(&path, &header(), b"payload!").unwrap();
        let file = ModelFile::open(&path).unwrap();
        assert_eq!(file.header(), &header());
        assert_eq!(file.payload(), b"payload!");
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!((bytes.len() - 8) % 8, 0);
    }

    #[test]
    fn streamed_payload_equals_the_sliced_one() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.lmlab"), dir.path().join("b.lmlab"));
        let payload: Vec<u8> = (0..100_000u32).flat_map(|i| i.to_le_bytes()).collect();
        write_model_file(&a, &header(), &payload).unwrap();
        write_model_file_with(&b, &header(), Blocks::Huge, |w| {
            payload.chunks(777).try_for_each(|c| w.write_all(c))
        })
        .unwrap();
        assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
        assert_eq!(ModelFile::open(&b).unwrap().payload(), &payload[..]);

        // A fill that is not repeatable is refused and leaves no file.
        let c = dir.path().join("c.lmlab");
        let calls = std::cell::Cell::new(0u8);
        let err = write_model_file_with(&c, &header(), Blocks::Buffered, |w| {
            calls.set(calls.get() + 1);
            w.write_all(&[calls.get()])
        })
        .unwrap_err();
        assert!(err.to_string().contains("changed between"), "{err}");
        assert!(!c.exists());
    }

    #[test]
    fn every_truncation_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.lmlab");
        write_model_file(&path, &header(), b"some payload bytes").unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let cut = dir.path().join("cut.lmlab");
        for len in 0..bytes.len() {
            std::fs::write(&cut, &bytes[..len]).unwrap();
            let msg = ModelFile::open(&cut)
                .err()
                .expect("truncated file loaded")
                .to_string();
            assert!(
                msg.contains("truncated") || msg.contains("empty"),
                "length {len}: {msg}"
            );
        }
    }

    #[test]
    fn foreign_future_and_corrupted_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.lmlab");
        std::fs::write(&path, b"\\data\\\nngram 1=3\n").unwrap();
        let msg = ModelFile::open(&path).err().unwrap().to_string();
        assert!(msg.contains("not an lmlab model file"), "{msg}");

        write_model_file(&path, &header(), b"xyz").unwrap();
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[8] = 9;
        std::fs::write(&path, &bytes).unwrap();
        let msg = ModelFile::open(&path).err().unwrap().to_string();
        assert!(msg.contains("version 9 is newer"), "{msg}");

        bytes[8] = 1;
        let last = bytes.len() - 1;
        bytes[last] ^= 0xff;
        std::fs::write(&path, &bytes).unwrap();
        let msg = ModelFile::open(&path).err().unwrap().to_string();
        assert!(msg.contains("checksum"), "{msg}");
    }

    #[test]
    fn kind_and_kind_version_are_checked() {
        let h = header();
        let p = Path::new("m");
        assert!(h.require_kind(p, "test", 1).is_ok());
        let msg = h.require_kind(p, "ngram", 1).unwrap_err().to_string();
        assert!(
            msg.contains("is a 'test' model, expected a 'ngram' model"),
            "{msg}"
        );
        let msg = h.require_kind(p, "test", 0).unwrap_err().to_string();
        assert!(msg.contains("newer than this lmlab reads"), "{msg}");
    }

    #[test]
    fn payload_reader_reports_short_payloads() {
        let mut w = PayloadWriter::new();
        w.u32_slice(&[1, 2, 3]);
        w.f64(0.5);
        let bytes = w.finish();
        let mut r = PayloadReader::new(Path::new("m"), &bytes);
        assert_eq!(r.u32_vec().unwrap(), vec![1, 2, 3]);
        assert_eq!(r.f64().unwrap(), 0.5);
        r.finish().unwrap();
        let mut short = PayloadReader::new(Path::new("m"), &bytes[..10]);
        assert!(short
            .u32_vec()
            .unwrap_err()
            .to_string()
            .contains("ends early"));
    }
}

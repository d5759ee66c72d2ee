//! Transparent compression by file name (writing) and by magic bytes (reading).

use lmlab_core::corpus::open_regular_file;
use lmlab_core::{Error, Result};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;

/// How a file is compressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Compression {
    None,
    Gzip,
    Xz,
}

/// The ARPA file names lmlab reads and writes, for messages.
const SUPPORTED_NAMES: &str = ".arpa, .arpa.gz (gzip) or .arpa.xz (xz)";

/// Suffixes of compressions lmlab does not read or write: refused whatever precedes them.
const UNSUPPORTED_COMPRESSIONS: [&str; 10] = [
    "bz2", "zst", "zstd", "lz4", "lzma", "lz", "z", "br", "7z", "zip",
];

impl Compression {
    /// The compression a file name asks for: `.gz` gzip, `.xz` xz, otherwise none. Refused: a
    /// compression suffix lmlab does not support (`.bz2`, `.zst`, ...) and anything but `.gz` or
    /// `.xz` after `.arpa` (`x.arpa.bak`), so such a name never silently means plain text.
    pub(crate) fn for_name(path: &Path) -> Result<Compression> {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        let after_arpa = name.rfind(".arpa").map(|at| &name[at + ".arpa".len()..]);
        let unsupported = UNSUPPORTED_COMPRESSIONS
            .contains(&extension.to_ascii_lowercase().as_str())
            || !matches!(after_arpa, None | Some("" | ".gz" | ".xz"));
        if unsupported {
            return Err(Error::invalid(format!(
                "{}: unsupported compression suffix '.{extension}'; ARPA files are {SUPPORTED_NAMES}",
                path.display()
            )));
        }
        Ok(match extension {
            "gz" => Compression::Gzip,
            "xz" => Compression::Xz,
            _ => Compression::None,
        })
    }
}

/// Opens `path` for reading lines, decompressing gzip or xz when its first bytes say so; a name
/// with an unsupported compression suffix is refused ([`Compression::for_name`]).
pub(crate) fn open_text(path: &Path) -> Result<Box<dyn BufRead>> {
    Compression::for_name(path)?;
    let file = open_regular_file(path)?;
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let head = reader.fill_buf().map_err(|e| Error::io(path, e))?;
    if head.is_empty() {
        return Err(Error::EmptyFile(path.to_path_buf()));
    }
    let inner: Box<dyn Read + Send> = if head.starts_with(&[0x1f, 0x8b]) {
        Box::new(flate2::bufread::MultiGzDecoder::new(reader))
    } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
        Box::new(xz2::bufread::XzDecoder::new_multi_decoder(reader))
    } else {
        return Ok(Box::new(reader));
    };
    Ok(Box::new(BufReader::with_capacity(
        1 << 16,
        Pipelined::spawn(inner),
    )))
}

/// Decompresses on a helper thread, a few chunks ahead of the reader, so parsing and
/// decompression overlap.
struct Pipelined {
    chunks: std::sync::mpsc::Receiver<std::io::Result<Vec<u8>>>,
    current: Vec<u8>,
    at: usize,
}

impl Pipelined {
    const CHUNK: usize = 1 << 20;

    fn spawn(mut inner: Box<dyn Read + Send>) -> Pipelined {
        let (send, chunks) = std::sync::mpsc::sync_channel(4);
        std::thread::spawn(move || loop {
            let mut chunk = vec![0u8; Self::CHUNK];
            let mut filled = 0;
            let result = loop {
                match inner.read(&mut chunk[filled..]) {
                    Ok(0) => break Ok(()),
                    Ok(n) => {
                        filled += n;
                        if filled == chunk.len() {
                            break Ok(());
                        }
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => break Err(e),
                }
            };
            chunk.truncate(filled);
            let done = filled == 0 || result.is_err();
            let message = result.map(|()| chunk);
            // A closed receiver means the reader stopped early (an error): stop quietly.
            if send.send(message).is_err() || done {
                return;
            }
        });
        Pipelined {
            chunks,
            current: Vec::new(),
            at: 0,
        }
    }
}

impl Read for Pipelined {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.at == self.current.len() {
            match self.chunks.recv() {
                Ok(Ok(chunk)) => {
                    self.current = chunk;
                    self.at = 0;
                }
                Ok(Err(e)) => return Err(e),
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len() - self.at);
        buf[..n].copy_from_slice(&self.current[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// Wraps `out` in the encoder `compression` names; `finish` must be called on the result.
pub(crate) fn encoder<'a>(
    out: &'a mut dyn Write,
    compression: Compression,
) -> Box<dyn FinishWrite + 'a> {
    match compression {
        Compression::None => Box::new(Plain(out)),
        Compression::Gzip => Box::new(flate2::write::GzEncoder::new(
            out,
            flate2::Compression::default(),
        )),
        Compression::Xz => Box::new(xz2::write::XzEncoder::new(out, 6)),
    }
}

/// A writer whose stream must be finished (compression trailers).
pub(crate) trait FinishWrite: Write {
    /// Writes any trailer.
    fn finish_stream(self: Box<Self>) -> std::io::Result<()>;
}

struct Plain<'a>(&'a mut dyn Write);

impl Write for Plain<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

impl FinishWrite for Plain<'_> {
    fn finish_stream(self: Box<Self>) -> std::io::Result<()> {
        self.0.flush()
    }
}

impl<W: Write> FinishWrite for flate2::write::GzEncoder<W> {
    fn finish_stream(self: Box<Self>) -> std::io::Result<()> {
        (*self).finish().map(|_| ())
    }
}

impl<W: Write> FinishWrite for xz2::write::XzEncoder<W> {
    fn finish_stream(self: Box<Self>) -> std::io::Result<()> {
        (*self).finish().map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_choose_the_compression_and_unknown_suffixes_are_refused() {
        for (name, want) in [
            ("kn.arpa", Compression::None),
            ("kn5.lm", Compression::None),
            ("kn.arpa.gz", Compression::Gzip),
            ("kn.arpa.xz", Compression::Xz),
            ("dir.arpa.d/kn.gz", Compression::Gzip),
        ] {
            assert_eq!(
                Compression::for_name(Path::new(name)).unwrap(),
                want,
                "{name}"
            );
        }
        for name in [
            "kn.arpa.bz2",
            "kn.arpa.zst",
            "kn.bz2",
            "kn.arpa.bak",
            "kn.ZST",
        ] {
            let msg = Compression::for_name(Path::new(name))
                .unwrap_err()
                .to_string();
            assert!(
                msg.contains(name) && msg.contains(".arpa.gz (gzip) or .arpa.xz (xz)"),
                "{msg}"
            );
        }
    }
}

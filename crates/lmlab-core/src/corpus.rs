//! Reading text corpora: validated UTF-8, memory-mapped, split into sequences (lines, paragraphs or one
//! stream).

use crate::error::{Error, Result};
use memmap2::Mmap;
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::path::{Path, PathBuf};

/// How a corpus is cut into sequences; each sequence is scored from a start context and ends with the
/// end-of-sequence token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum SequenceMode {
    /// Each line is one sequence (KenLM, PTB).
    #[default]
    Line,
    /// Blocks separated by blank lines are sequences (TinyStories).
    Paragraph,
    /// The whole file is one token stream with the end token after every line, so context crosses lines.
    Stream,
}

impl std::str::FromStr for SequenceMode {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "line" => Ok(SequenceMode::Line),
            "paragraph" => Ok(SequenceMode::Paragraph),
            "stream" => Ok(SequenceMode::Stream),
            other => Err(Error::invalid(format!(
                "unknown sequence mode '{other}' (expected line, paragraph or stream)"
            ))),
        }
    }
}

impl std::fmt::Display for SequenceMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SequenceMode::Line => "line",
            SequenceMode::Paragraph => "paragraph",
            SequenceMode::Stream => "stream",
        })
    }
}

/// One sequence of a corpus: a span of the text made of one or more whole lines (one line unless in
/// paragraph or stream mode), without the final newline. In stream mode every line is followed by an
/// end token inside the sequence. Borrowing the span (no per-line list) keeps reading allocation-free.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sequence<'a> {
    /// The text of the sequence: its lines joined by their newlines.
    pub text: &'a str,
}

impl<'a> Sequence<'a> {
    /// The lines of the sequence, without their newline characters.
    pub fn lines(&self) -> impl Iterator<Item = &'a str> {
        self.text.split('\n')
    }

    /// UTF-8 bytes of the sequence, each line counting its newline (the bits-per-byte denominator).
    pub fn byte_count(&self) -> usize {
        self.text.len() + 1
    }

    /// Whitespace-separated words plus one end-of-line per line (the word-level perplexity denominator).
    pub fn word_count(&self) -> usize {
        let line_ends = self.text.bytes().filter(|&b| b == b'\n').count() + 1;
        self.text.split_whitespace().count() + line_ends
    }
}

enum Storage {
    Mapped(Mmap),
    Owned(String),
}

/// A validated UTF-8 corpus, memory-mapped when read from a file.
pub struct Corpus {
    path: PathBuf,
    storage: Storage,
}

impl Corpus {
    /// Opens and validates a corpus file. Missing files, directories, empty files and invalid UTF-8
    /// are errors naming the file (and line and byte offset for UTF-8).
    pub fn open(path: &Path) -> Result<Corpus> {
        let file = open_regular_file(path)?;
        let len = file.metadata().map_err(|e| Error::io(path, e))?.len();
        if len == 0 {
            return Err(Error::EmptyFile(path.to_path_buf()));
        }
        // SAFETY: the map is read-only; lmlab never writes to input corpora while reading them.
        let map = unsafe { Mmap::map(&file) }.map_err(|e| Error::io(path, e))?;
        validate_utf8(path, &map)?;
        Ok(Corpus {
            path: path.to_path_buf(),
            storage: Storage::Mapped(map),
        })
    }

    /// A corpus from text already in memory (tests, the embedded demo corpus).
    pub fn from_text(name: &str, text: impl Into<String>) -> Corpus {
        Corpus {
            path: PathBuf::from(name),
            storage: Storage::Owned(text.into()),
        }
    }

    /// The file the corpus came from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The whole text.
    pub fn text(&self) -> &str {
        match &self.storage {
            // SAFETY: validated as UTF-8 in `open`, and the map is read-only.
            Storage::Mapped(map) => unsafe { std::str::from_utf8_unchecked(map) },
            Storage::Owned(s) => s,
        }
    }

    /// Lets the mapped text leave this process's resident memory until it is read again (its
    /// pages stay in the page cache and come back on the next access). Nothing for text held in
    /// memory. For long runs that are done with the text.
    pub fn release_pages(&self) {
        #[cfg(unix)]
        if let Storage::Mapped(map) = &self.storage {
            // SAFETY: the map is read-only and never written through; dropping its pages only
            // means they are read from the file again on the next access. Advice that fails
            // changes nothing, so its result is ignored.
            let _ = unsafe { map.unchecked_advise(memmap2::UncheckedAdvice::DontNeed) };
        }
    }

    /// SHA-256 of the corpus bytes, hex.
    pub fn sha256(&self) -> String {
        crate::hashing::sha256_hex(self.text().as_bytes())
    }

    /// The corpus cut into sequences.
    pub fn sequences(&self, mode: SequenceMode) -> Vec<Sequence<'_>> {
        split_sequences(self.text(), mode)
    }
}

/// Opens a file for reading, with lmlab's messages for missing files and directories.
pub fn open_regular_file(path: &Path) -> Result<File> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if meta.is_dir() {
        return Err(Error::IsDirectory(path.to_path_buf()));
    }
    File::open(path).map_err(|e| Error::io(path, e))
}

/// Reads a whole text file as validated UTF-8, refusing empty files.
pub fn read_text_file(path: &Path) -> Result<String> {
    let corpus = Corpus::open(path)?;
    Ok(corpus.text().to_owned())
}

/// Checks that `bytes` are UTF-8; the error names the line and byte offset of the first bad byte.
pub fn validate_utf8(path: &Path, bytes: &[u8]) -> Result<()> {
    match std::str::from_utf8(bytes) {
        Ok(_) => Ok(()),
        Err(e) => {
            let offset = e.valid_up_to();
            let before = &bytes[..offset];
            let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
            let line_start = before
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |p| p + 1);
            Err(Error::InvalidUtf8 {
                path: path.to_path_buf(),
                line,
                byte_offset: offset,
                column: offset - line_start,
            })
        }
    }
}

/// The lines of `text` without newlines; a final newline does not start an extra empty line.
pub fn lines_of(text: &str) -> impl Iterator<Item = &str> {
    let body = text.strip_suffix('\n').unwrap_or(text);
    let empty = text.is_empty();
    body.split('\n').filter(move |_| !empty)
}

/// Cuts `text` into sequences as `mode` says.
pub fn split_sequences(text: &str, mode: SequenceMode) -> Vec<Sequence<'_>> {
    match mode {
        SequenceMode::Line => lines_of(text).map(|line| Sequence { text: line }).collect(),
        SequenceMode::Stream => {
            if text.is_empty() {
                Vec::new()
            } else {
                let body = text.strip_suffix('\n').unwrap_or(text);
                vec![Sequence { text: body }]
            }
        }
        SequenceMode::Paragraph => {
            let mut sequences = Vec::new();
            // Byte range of the block being gathered: from its first line's start to its last line's end.
            let mut block: Option<(usize, usize)> = None;
            let base = text.as_ptr() as usize;
            for line in lines_of(text) {
                let start = line.as_ptr() as usize - base;
                if line.trim().is_empty() {
                    if let Some((from, to)) = block.take() {
                        sequences.push(Sequence {
                            text: &text[from..to],
                        });
                    }
                } else {
                    let from = block.map_or(start, |(from, _)| from);
                    block = Some((from, start + line.len()));
                }
            }
            if let Some((from, to)) = block {
                sequences.push(Sequence {
                    text: &text[from..to],
                });
            }
            sequences
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_mode_keeps_empty_lines_and_ignores_final_newline() {
        let seqs = split_sequences("a b\n\nc\n", SequenceMode::Line);
        let lines: Vec<_> = seqs.iter().map(|s| s.text).collect();
        assert_eq!(lines, vec!["a b", "", "c"]);
        assert_eq!(seqs.iter().map(Sequence::byte_count).sum::<usize>(), 7);
    }

    #[test]
    fn paragraph_mode_splits_on_blank_lines() {
        let seqs = split_sequences("a\nb\n\n  \nc\n", SequenceMode::Paragraph);
        assert_eq!(seqs.len(), 2);
        assert_eq!(seqs[0].lines().collect::<Vec<_>>(), vec!["a", "b"]);
        assert_eq!(seqs[1].text, "c");
        assert_eq!(seqs[0].byte_count() + seqs[1].byte_count(), 6);
    }

    #[test]
    fn stream_mode_is_one_sequence() {
        let seqs = split_sequences("a\nb", SequenceMode::Stream);
        assert_eq!(seqs.len(), 1);
        assert_eq!(seqs[0].lines().collect::<Vec<_>>(), vec!["a", "b"]);
        assert_eq!(seqs[0].word_count(), 4);
        assert_eq!(seqs[0].byte_count(), 4);
    }

    #[test]
    fn invalid_utf8_names_line_and_offset() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.txt");
        std::fs::write(&path, b"good line\nok \xff here\n").unwrap();
        let msg = Corpus::open(&path).err().unwrap().to_string();
        assert!(msg.contains("bad.txt"), "{msg}");
        assert!(msg.contains("line 2"), "{msg}");
        assert!(msg.contains("byte offset 13"), "{msg}");
    }

    #[test]
    fn missing_directory_and_empty_inputs_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let missing = Corpus::open(&dir.path().join("nope.txt")).err().unwrap();
        assert!(missing.to_string().contains("no such file"), "{missing}");
        let directory = Corpus::open(dir.path()).err().unwrap();
        assert!(
            directory.to_string().contains("is a directory"),
            "{directory}"
        );
        let empty_path = dir.path().join("empty.txt");
        std::fs::write(&empty_path, b"").unwrap();
        let empty = Corpus::open(&empty_path).err().unwrap();
        assert!(empty.to_string().contains("file is empty"), "{empty}");
    }

    #[test]
    fn sequence_mode_parses_and_rejects() {
        assert_eq!(
            "stream".parse::<SequenceMode>().unwrap(),
            SequenceMode::Stream
        );
        let err = "lines".parse::<SequenceMode>().unwrap_err().to_string();
        assert!(err.contains("expected line, paragraph or stream"), "{err}");
    }
}

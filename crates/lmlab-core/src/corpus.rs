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
        if self.text.is_ascii() {
            return ascii_words(self.text.as_bytes()) + 1;
        }
        let line_ends = self.text.bytes().filter(|&b| b == b'\n').count() + 1;
        self.text.split_whitespace().count() + line_ends
    }
}

/// The words of ASCII `text` (a word starts at each non-space byte after a space or at the start)
/// plus its newlines. Each byte is compared with the one before it, without a carried flag, and
/// counted into `u8` sums over stretches of 255 bytes, so the compiler turns the loop into vector
/// instructions: 4–10× faster than a byte-at-a-time pass, measured on PTB lines, which `lmlab
/// eval` counts for word perplexity.
fn ascii_words(text: &[u8]) -> usize {
    let Some(&first) = text.first() else {
        return 0;
    };
    let (mut starts, mut newlines) = (0, 0);
    for from in (1..text.len()).step_by(255) {
        let to = (from + 255).min(text.len());
        let (mut s, mut n) = (0u8, 0u8);
        for (&before, &byte) in text[from - 1..to - 1].iter().zip(&text[from..to]) {
            s += u8::from(is_ascii_white(before) & !is_ascii_white(byte));
            n += u8::from(byte == b'\n');
        }
        starts += usize::from(s);
        newlines += usize::from(n);
    }
    starts + usize::from(!is_ascii_white(first)) + newlines + usize::from(first == b'\n')
}

/// Bytes of a mapped corpus checked as UTF-8 at a time by [`Corpus::open`].
const VALIDATE_BLOCK: usize = 4 << 20;

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
        let corpus = Corpus {
            path: path.to_path_buf(),
            storage: Storage::Mapped(map),
        };
        corpus.validate()?;
        Ok(corpus)
    }

    /// Checks that the mapped bytes are UTF-8, [`VALIDATE_BLOCK`] bytes at a time, each block's
    /// pages released once checked, so that opening a large corpus does not make it resident.
    fn validate(&self) -> Result<()> {
        let Storage::Mapped(map) = &self.storage else {
            return Ok(());
        };
        let mut at = 0;
        while at < map.len() {
            let end = (at + VALIDATE_BLOCK).min(map.len());
            let checked = match std::str::from_utf8(&map[at..end]) {
                Ok(_) => end,
                // A character cut by the block's end: check it with the next block.
                Err(e) if e.error_len().is_none() && end < map.len() => at + e.valid_up_to(),
                // The message names the line and column: found over the whole text.
                Err(_) => return validate_utf8(&self.path, map),
            };
            self.release_range(at..checked);
            at = checked;
        }
        Ok(())
    }

    /// [`Corpus::release_pages`] for the bytes `range` only (whole pages inside it and the pages
    /// it starts and ends in).
    pub fn release_range(&self, range: std::ops::Range<usize>) {
        #[cfg(unix)]
        if let Storage::Mapped(map) = &self.storage {
            if range.start < range.end && range.end <= map.len() {
                // SAFETY: as in `release_pages`: the map is read-only, and released pages are
                // read from the file again on the next access.
                let _ = unsafe {
                    map.unchecked_advise_range(
                        memmap2::UncheckedAdvice::DontNeed,
                        range.start,
                        range.end - range.start,
                    )
                };
            }
        }
        #[cfg(not(unix))]
        let _ = range;
    }

    /// Byte ranges of the text, about `bytes` long each, that end where a sequence of `mode` ends,
    /// so that splitting each into sequences gives the corpus's sequences in order. Line mode is
    /// cut at newlines; the other modes are one range (their sequences span lines).
    pub fn blocks(&self, mode: SequenceMode, bytes: usize) -> Vec<std::ops::Range<usize>> {
        let text = self.text().as_bytes();
        if mode != SequenceMode::Line {
            return std::iter::once(0..text.len()).collect();
        }
        let mut blocks = Vec::new();
        let mut start = 0;
        while start < text.len() {
            let from = (start + bytes.max(1)).min(text.len());
            let end = text[from - 1..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(text.len(), |p| from + p);
            blocks.push(start..end);
            start = end;
        }
        blocks
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

/// The words of `text` between whitespace: exactly [`str::split_whitespace`]'s, found byte by byte
/// when the text is ASCII (the common case, and about three times faster than decoding chars).
pub fn whitespace_words(text: &str) -> WhitespaceWords<'_> {
    if text.is_ascii() {
        WhitespaceWords::Ascii { text, at: 0 }
    } else {
        WhitespaceWords::Unicode(text.split_whitespace())
    }
}

/// The iterator of [`whitespace_words`].
pub enum WhitespaceWords<'a> {
    /// ASCII text, read from byte `at`.
    Ascii {
        /// The text.
        text: &'a str,
        /// Where the next word is looked for.
        at: usize,
    },
    /// Any other text.
    Unicode(std::str::SplitWhitespace<'a>),
}

/// The ASCII characters that `char::is_whitespace` accepts (tab, newline, vertical tab, form feed,
/// carriage return, space).
#[inline]
fn is_ascii_white(b: u8) -> bool {
    // Tab, newline, vertical tab, form feed and carriage return are 9..=13.
    b == b' ' || b.wrapping_sub(b'\t') < 5
}

impl<'a> Iterator for WhitespaceWords<'a> {
    type Item = &'a str;

    #[inline]
    fn next(&mut self) -> Option<&'a str> {
        match self {
            WhitespaceWords::Ascii { text, at } => {
                let bytes = text.as_bytes();
                let start = *at + bytes[*at..].iter().position(|&b| !is_ascii_white(b))?;
                let end = bytes[start..]
                    .iter()
                    .position(|&b| is_ascii_white(b))
                    .map_or(bytes.len(), |p| start + p);
                *at = end;
                Some(&text[start..end])
            }
            WhitespaceWords::Unicode(words) => words.next(),
        }
    }
}

/// The words of ASCII `bytes` as [`whitespace_words`] finds them, by position: word i is
/// `bytes[starts[i]..ends[i]]`; returns their number (`starts` and `ends` are grown as needed and
/// may be longer). 64 bytes at a time: a mask of their whitespace ([`white_mask`]), from which the
/// words' starts and ends are bit tricks, read off with `trailing_zeros`. [`whitespace_words`]'
/// byte loops paid a mispredicted branch at most words' end.
pub(crate) fn ascii_word_bounds(bytes: &[u8], starts: &mut Vec<u32>, ends: &mut Vec<u32>) -> usize {
    // At most one word per two bytes, and one more.
    let room = bytes.len() / 2 + 2;
    for bounds in [&mut *starts, &mut *ends] {
        if bounds.len() < room {
            bounds.resize(room, 0);
        }
    }
    let (mut words, mut ended) = (0, 0);
    // Bit k: byte k − 1 is whitespace (before the text: yes).
    let mut white_before = 1u64;
    let mut mark = |white: u64, base: usize| {
        let after_white = (white << 1) | white_before;
        let mut word_starts = !white & after_white;
        let mut word_ends = white & !after_white;
        while word_starts != 0 {
            starts[words] = (base + word_starts.trailing_zeros() as usize) as u32;
            words += 1;
            word_starts &= word_starts - 1;
        }
        while word_ends != 0 {
            ends[ended] = (base + word_ends.trailing_zeros() as usize) as u32;
            ended += 1;
            word_ends &= word_ends - 1;
        }
        white_before = white >> 63;
    };
    let mut chunks = bytes.chunks_exact(64);
    for (i, chunk) in (&mut chunks).enumerate() {
        mark(white_mask(chunk.try_into().expect("64 bytes")), 64 * i);
    }
    let rest = chunks.remainder();
    // The last bytes padded with spaces, which end the last word where the text ends.
    let mut padded = [b' '; 64];
    padded[..rest.len()].copy_from_slice(rest);
    mark(white_mask(&padded), bytes.len() - rest.len());
    debug_assert_eq!(words, ended);
    words
}

/// Bit k set where `chunk[k]` is ASCII whitespace ([`is_ascii_white`]).
#[cfg(target_arch = "x86_64")]
#[inline]
fn white_mask(chunk: &[u8; 64]) -> u64 {
    use std::arch::x86_64::*;
    // SAFETY: SSE2 is part of every x86-64 CPU; each load reads 16 of the chunk's 64 bytes.
    unsafe {
        let (space, tab, four) = (
            _mm_set1_epi8(b' ' as i8),
            _mm_set1_epi8(9),
            _mm_set1_epi8(4),
        );
        let mut mask = 0;
        for i in 0..4 {
            let v = _mm_loadu_si128(chunk.as_ptr().add(16 * i).cast::<__m128i>());
            // Tab to carriage return are 9..=13: v − 9 ≤ 4, unsigned.
            let from_tab = _mm_sub_epi8(v, tab);
            let control = _mm_cmpeq_epi8(_mm_min_epu8(from_tab, four), from_tab);
            let white = _mm_or_si128(_mm_cmpeq_epi8(v, space), control);
            mask |= u64::from(_mm_movemask_epi8(white) as u16) << (16 * i);
        }
        mask
    }
}

/// Bit k set where `chunk[k]` is ASCII whitespace ([`is_ascii_white`]).
#[cfg(not(target_arch = "x86_64"))]
#[inline]
fn white_mask(chunk: &[u8; 64]) -> u64 {
    white_mask_by_bytes(chunk)
}

/// [`white_mask`] byte by byte.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn white_mask_by_bytes(chunk: &[u8; 64]) -> u64 {
    (chunk.iter().enumerate()).fold(0, |mask, (k, &b)| mask | u64::from(is_ascii_white(b)) << k)
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

/// How many sequences [`split_sequences`] cuts `text` into, without gathering them (in line mode
/// a count of newlines, which the compiler vectorises).
pub fn count_sequences(text: &str, mode: SequenceMode) -> usize {
    match mode {
        SequenceMode::Line if text.is_empty() => 0,
        SequenceMode::Line => {
            let body = text.strip_suffix('\n').unwrap_or(text);
            body.bytes().filter(|&b| b == b'\n').count() + 1
        }
        SequenceMode::Stream => usize::from(!text.is_empty()),
        SequenceMode::Paragraph => split_sequences(text, mode).len(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn sequences_counted_are_sequences_split() {
        use super::{count_sequences, split_sequences, SequenceMode};
        for text in [
            "",
            "\n",
            "\n\n",
            "a",
            "a\n",
            "a\nb",
            "a\n\nb\n",
            " \n \nc\n\n",
        ] {
            for mode in [
                SequenceMode::Line,
                SequenceMode::Stream,
                SequenceMode::Paragraph,
            ] {
                let split = split_sequences(text, mode).len();
                assert_eq!(count_sequences(text, mode), split, "{text:?} {mode:?}");
            }
        }
    }

    #[test]
    fn whitespace_words_are_split_whitespaces() {
        for text in [
            "",
            "  ",
            "a",
            " a  b\tc\r\nd\x0be\x0cf ",
            "one two",
            "caf\u{e9} na\u{ef}ve\u{3000}x\u{a0}y",
            "\u{1c}a\u{1f}b",
        ] {
            let ours: Vec<&str> = super::whitespace_words(text).collect();
            let std: Vec<&str> = text.split_whitespace().collect();
            assert_eq!(ours, std, "{text:?}");
            if text.is_ascii() {
                let (mut starts, mut ends) = (vec![7; 1], Vec::new());
                let n = super::ascii_word_bounds(text.as_bytes(), &mut starts, &mut ends);
                let bounded: Vec<&str> = (0..n)
                    .map(|i| &text[starts[i] as usize..ends[i] as usize])
                    .collect();
                assert_eq!(bounded, std, "{text:?}");
            }
            let lines = text.bytes().filter(|&b| b == b'\n').count() + 1;
            let sequence = super::Sequence { text };
            assert_eq!(sequence.word_count(), std.len() + lines, "{text:?}");
        }
    }

    /// The vectorised ASCII count agrees with `split_whitespace` on texts longer than its 255-byte
    /// stretches: every mix of letters and the six ASCII spaces, words across stretch edges,
    /// newlines first and last.
    #[test]
    fn ascii_word_counts_across_stretches_are_split_whitespaces() {
        let alphabet = b"ab \t\n\x0b\x0c\rz ";
        let mut state = 7u64;
        for len in [
            1, 2, 63, 64, 65, 127, 128, 254, 255, 256, 257, 511, 1000, 4099,
        ] {
            for _ in 0..20 {
                let text: String = (0..len)
                    .map(|_| {
                        state = state
                            .wrapping_mul(6364136223846793005)
                            .wrapping_add(1442695040888963407);
                        alphabet[(state >> 33) as usize % alphabet.len()] as char
                    })
                    .collect();
                let newlines = text.bytes().filter(|&b| b == b'\n').count();
                let expected = text.split_whitespace().count() + newlines + 1;
                assert_eq!(Sequence { text: &text }.word_count(), expected, "{text:?}");
                let (mut starts, mut ends) = (Vec::new(), Vec::new());
                let n = ascii_word_bounds(text.as_bytes(), &mut starts, &mut ends);
                let words: Vec<&str> = (0..n)
                    .map(|i| &text[starts[i] as usize..ends[i] as usize])
                    .collect();
                assert_eq!(
                    words,
                    text.split_whitespace().collect::<Vec<_>>(),
                    "{text:?}"
                );
            }
        }
    }

    use super::*;

    #[test]
    fn white_masks_mark_every_byte_as_is_ascii_white_does() {
        for first in (0..=255u8).step_by(64) {
            let chunk: [u8; 64] = std::array::from_fn(|k| first.wrapping_add(k as u8));
            assert_eq!(white_mask(&chunk), white_mask_by_bytes(&chunk), "{first}");
            let expected = (0..64).filter(|&k| chunk[k].is_ascii_whitespace() || chunk[k] == 0x0b);
            assert_eq!(
                white_mask(&chunk),
                expected.fold(0, |m, k| m | 1 << k),
                "bytes from {first}"
            );
        }
    }

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

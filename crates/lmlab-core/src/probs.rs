//! Per-token probability files (`*.probs.tsv`) and the one-probability-per-line format of Herel &
//! Mikolov (github DavidHerel/sota_lm).
//!
//! ```text
//! # lmlab-probs 1
//! # model: <description>
//! # tokenizer: <fingerprint>
//! # corpus: <sha256 of the scored text>
//! # bytes: <UTF-8 bytes of the sequences, each counting its newline>   (optional)
//! # words: <whitespace words + line ends>                               (optional)
//! seq<TAB>pos<TAB>token<TAB>logp
//! 0<TAB>0<TAB>the<TAB>-3.0187
//! ```
//! `logp` is a natural log; tokens are escaped with [`escape_token`](crate::vocab::escape_token).

use crate::atomic::write_atomically;
use crate::corpus::read_text_file;
use crate::error::{Error, Result};
use crate::hashing::sha256_hex;
use std::path::Path;

/// The probability-file format version this build writes and reads.
pub const PROBS_FORMAT_VERSION: u32 = 1;
const COLUMNS: &str = "seq\tpos\ttoken\tlogp";

/// What a probability file says about itself.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct ProbsHeader {
    /// The model that scored the tokens.
    pub model: String,
    /// Fingerprint of the tokenizer that made the token stream.
    pub tokenizer: String,
    /// SHA-256 of the scored text.
    pub corpus_sha256: String,
    /// UTF-8 bytes of the scored text (each sequence counting its newline), when known.
    pub bytes: Option<u64>,
    /// Whitespace words plus line ends of the scored text, when known.
    pub words: Option<u64>,
}

/// One scored token.
#[derive(Clone, Debug, PartialEq)]
pub struct ProbRow {
    /// Sequence index (0-based).
    pub seq: u32,
    /// Position in the sequence (0-based).
    pub pos: u32,
    /// The token, escaped.
    pub token: String,
    /// Natural-log probability.
    pub logp: f64,
}

/// A probability file in memory.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct ProbsFile {
    /// Header fields.
    pub header: ProbsHeader,
    /// One row per scored token.
    pub rows: Vec<ProbRow>,
}

impl ProbsFile {
    /// Sum of the log-probabilities (nats).
    pub fn log_prob_sum(&self) -> f64 {
        self.rows.iter().map(|r| r.logp).sum()
    }

    /// Perplexity per token.
    pub fn perplexity(&self) -> f64 {
        (-self.log_prob_sum() / self.rows.len() as f64).exp()
    }

    /// Writes the file atomically.
    pub fn write(&self, path: &Path) -> Result<()> {
        write_atomically(path, |w| {
            let h = &self.header;
            writeln!(w, "# lmlab-probs {PROBS_FORMAT_VERSION}")?;
            writeln!(w, "# model: {}", h.model.replace('\n', " "))?;
            writeln!(w, "# tokenizer: {}", h.tokenizer)?;
            writeln!(w, "# corpus: {}", h.corpus_sha256)?;
            if let Some(bytes) = h.bytes {
                writeln!(w, "# bytes: {bytes}")?;
            }
            if let Some(words) = h.words {
                writeln!(w, "# words: {words}")?;
            }
            writeln!(w, "{COLUMNS}")?;
            for r in &self.rows {
                writeln!(w, "{}\t{}\t{}\t{}", r.seq, r.pos, r.token, r.logp)?;
            }
            Ok(())
        })
    }

    /// Reads and checks a probability file: version, columns, and every log-probability finite and
    /// at most 0 (a probability in (0, 1]).
    pub fn read(path: &Path) -> Result<ProbsFile> {
        let text = read_text_file(path)?;
        let mut lines = text.lines().enumerate();
        let bad =
            |line: usize, why: String| Error::bad_file(path, format!("line {}: {why}", line + 1));
        match lines.next() {
            Some((_, first)) if first.starts_with("# lmlab-probs ") => {
                let version: u32 = first["# lmlab-probs ".len()..]
                    .trim()
                    .parse()
                    .map_err(|_| bad(0, format!("bad version line '{first}'")))?;
                if version > PROBS_FORMAT_VERSION {
                    return Err(Error::bad_file(
                        path,
                        format!(
                            "probability file format version {version} is newer than this lmlab \
                             reads ({PROBS_FORMAT_VERSION}); upgrade lmlab"
                        ),
                    ));
                }
            }
            _ => {
                return Err(Error::bad_file(
                    path,
                    "not an lmlab probability file (no '# lmlab-probs' first line); \
                     for one probability per line use 'lmlab probs import'",
                ))
            }
        }
        let mut header = ProbsHeader::default();
        let mut rows = Vec::new();
        let mut seen_columns = false;
        for (n, line) in lines {
            if let Some(field) = line.strip_prefix("# ") {
                let (key, value) = field.split_once(": ").unwrap_or((field, ""));
                let number = |v: &str| {
                    v.parse::<u64>()
                        .map_err(|_| bad(n, format!("bad {key} '{v}'")))
                };
                match key {
                    "model" => header.model = value.to_string(),
                    "tokenizer" => header.tokenizer = value.to_string(),
                    "corpus" => header.corpus_sha256 = value.to_string(),
                    "bytes" => header.bytes = Some(number(value)?),
                    "words" => header.words = Some(number(value)?),
                    _ => {}
                }
                continue;
            }
            if !seen_columns {
                if line != COLUMNS {
                    return Err(bad(n, format!("expected the column line '{COLUMNS}'")));
                }
                seen_columns = true;
                continue;
            }
            let fields: Vec<&str> = line.split('\t').collect();
            if fields.len() != 4 {
                return Err(bad(
                    n,
                    format!("expected 4 tab-separated fields, found {}", fields.len()),
                ));
            }
            let seq = fields[0]
                .parse()
                .map_err(|_| bad(n, format!("bad seq '{}'", fields[0])))?;
            let pos = fields[1]
                .parse()
                .map_err(|_| bad(n, format!("bad pos '{}'", fields[1])))?;
            let logp: f64 = fields[3]
                .parse()
                .map_err(|_| bad(n, format!("bad logp '{}'", fields[3])))?;
            check_log_prob(logp).map_err(|why| bad(n, why))?;
            rows.push(ProbRow {
                seq,
                pos,
                token: fields[2].to_string(),
                logp,
            });
        }
        if rows.is_empty() {
            return Err(Error::bad_file(path, "probability file has no rows"));
        }
        Ok(ProbsFile { header, rows })
    }
}

/// A log-probability must be finite and at most 0 (probability in (0, 1], with rounding slack).
fn check_log_prob(logp: f64) -> std::result::Result<(), String> {
    if logp.is_nan() {
        Err("log-probability is NaN".into())
    } else if logp == f64::NEG_INFINITY {
        Err("probability 0 (log-probability -inf)".into())
    } else if logp > 1e-9 || logp.is_infinite() {
        Err(format!("probability {} is greater than 1", logp.exp()))
    } else {
        Ok(())
    }
}

/// Checks that `others` score the same token stream as `first`: the same tokenizer, corpus, length and
/// tokens row by row. The error names the file and line that differ.
pub fn check_same_stream(files: &[(&Path, &ProbsFile)]) -> Result<()> {
    let Some(((first_path, first), rest)) = files.split_first() else {
        return Ok(());
    };
    for (path, other) in rest {
        let (a, b) = (first_path.display(), path.display());
        if other.header.tokenizer != first.header.tokenizer {
            return Err(Error::Mismatch(format!(
                "{b} was made with tokenizer {} but {a} with {}; ensembles need the same tokenizer",
                other.header.tokenizer, first.header.tokenizer
            )));
        }
        if other.header.corpus_sha256 != first.header.corpus_sha256 {
            return Err(Error::Mismatch(format!(
                "{b} scores a different text than {a} (corpus sha256 {} vs {})",
                other.header.corpus_sha256, first.header.corpus_sha256
            )));
        }
        let data_line = |i: usize, f: &ProbsFile| i + header_lines(f) + 1;
        for (i, (x, y)) in first.rows.iter().zip(&other.rows).enumerate() {
            if (x.seq, x.pos, &x.token) != (y.seq, y.pos, &y.token) {
                return Err(Error::Mismatch(format!(
                    "token streams differ at row {} ({a} line {}: seq {} pos {} '{}'; {b} line {}: \
                     seq {} pos {} '{}')",
                    i + 1,
                    data_line(i, first),
                    x.seq,
                    x.pos,
                    x.token,
                    data_line(i, other),
                    y.seq,
                    y.pos,
                    y.token
                )));
            }
        }
        if other.rows.len() != first.rows.len() {
            return Err(Error::Mismatch(format!(
                "{a} has {} rows but {b} has {}; they differ from row {}",
                first.rows.len(),
                other.rows.len(),
                first.rows.len().min(other.rows.len()) + 1
            )));
        }
    }
    Ok(())
}

/// Header lines (including the column line) as written by [`ProbsFile::write`].
fn header_lines(f: &ProbsFile) -> usize {
    5 + usize::from(f.header.bytes.is_some()) + usize::from(f.header.words.is_some())
}

/// Imports Herel & Mikolov's format: `words` has one token per line (the scored stream, `</s>` at
/// sentence ends), `probs` one probability per line, aligned. Probabilities must lie in (0, 1].
pub fn import_one_per_line(words: &Path, probs: &Path, model: &str) -> Result<ProbsFile> {
    let words_text = read_text_file(words)?;
    let probs_text = read_text_file(probs)?;
    let tokens: Vec<&str> = words_text.lines().collect();
    let values: Vec<&str> = probs_text.lines().collect();
    if tokens.len() != values.len() {
        return Err(Error::Mismatch(format!(
            "{} has {} lines but {} has {}; they must be aligned one to one",
            words.display(),
            tokens.len(),
            probs.display(),
            values.len()
        )));
    }
    let mut rows = Vec::with_capacity(tokens.len());
    for (n, (token, value)) in tokens.iter().zip(&values).enumerate() {
        let p: f64 = value.trim().parse().map_err(|_| {
            Error::bad_file(
                probs,
                format!("line {}: '{value}' is not a probability", n + 1),
            )
        })?;
        if !(p > 0.0 && p <= 1.0) {
            return Err(Error::bad_file(
                probs,
                format!("line {}: probability {value} is outside (0, 1]", n + 1),
            ));
        }
        rows.push(ProbRow {
            seq: 0,
            pos: n as u32,
            token: crate::vocab::escape_token(token.trim()),
            logp: p.ln(),
        });
    }
    Ok(ProbsFile {
        header: ProbsHeader {
            model: model.to_string(),
            tokenizer: "external-words".into(),
            corpus_sha256: sha256_hex(words_text.as_bytes()),
            bytes: None,
            words: Some(rows.len() as u64),
        },
        rows,
    })
}

/// Exports one probability per line (Herel & Mikolov's format), and optionally the token list.
pub fn export_one_per_line(file: &ProbsFile, probs: &Path, words: Option<&Path>) -> Result<()> {
    write_atomically(probs, |w| {
        for r in &file.rows {
            writeln!(w, "{}", r.logp.exp())?;
        }
        Ok(())
    })?;
    if let Some(words) = words {
        write_atomically(words, |w| {
            for r in &file.rows {
                writeln!(w, "{}", r.token)?;
            }
            Ok(())
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(tokens: &[&str]) -> ProbsFile {
        ProbsFile {
            header: ProbsHeader {
                model: "m".into(),
                tokenizer: "t".into(),
                corpus_sha256: "c".into(),
                bytes: Some(10),
                words: None,
            },
            rows: tokens
                .iter()
                .enumerate()
                .map(|(i, t)| ProbRow {
                    seq: 0,
                    pos: i as u32,
                    token: t.to_string(),
                    logp: -(i as f64 + 1.0) / 3.0,
                })
                .collect(),
        }
    }

    #[test]
    fn write_then_read_is_exact() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.probs.tsv");
        let file = sample(&["a", "b", "</s>"]);
        file.write(&path).unwrap();
        assert_eq!(ProbsFile::read(&path).unwrap(), file);
    }

    #[test]
    fn mismatched_streams_name_the_line() {
        let (a, b) = (sample(&["a", "b", "</s>"]), sample(&["a", "x", "</s>"]));
        let err = check_same_stream(&[(Path::new("A"), &a), (Path::new("B"), &b)]).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("row 2") && msg.contains("line 8") && msg.contains("'x'"),
            "{msg}"
        );
        let short = sample(&["a", "b"]);
        let msg = check_same_stream(&[(Path::new("A"), &a), (Path::new("B"), &short)])
            .unwrap_err()
            .to_string();
        assert!(msg.contains("3 rows but B has 2"), "{msg}");
        let mut other_tok = sample(&["a", "b", "</s>"]);
        other_tok.header.tokenizer = "zz".into();
        let msg = check_same_stream(&[(Path::new("A"), &a), (Path::new("B"), &other_tok)])
            .unwrap_err()
            .to_string();
        assert!(msg.contains("tokenizer zz"), "{msg}");
    }

    #[test]
    fn import_refuses_zero_and_above_one() {
        let dir = tempfile::tempdir().unwrap();
        let words = dir.path().join("w.txt");
        let probs = dir.path().join("p.txt");
        std::fs::write(&words, "a\nb\n</s>\n").unwrap();
        for (bad, shown) in [("0", "0"), ("1.5", "1.5"), ("abc", "abc")] {
            std::fs::write(&probs, format!("0.5\n{bad}\n0.1\n")).unwrap();
            let msg = import_one_per_line(&words, &probs, "m")
                .unwrap_err()
                .to_string();
            assert!(msg.contains("line 2") && msg.contains(shown), "{msg}");
        }
        std::fs::write(&probs, "0.5\n0.25\n1\n").unwrap();
        let file = import_one_per_line(&words, &probs, "m").unwrap();
        assert_eq!(file.rows.len(), 3);
        assert!((file.rows[1].logp - 0.25f64.ln()).abs() < 1e-15);
        let out = dir.path().join("out.txt");
        export_one_per_line(&file, &out, None).unwrap();
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "0.5\n0.25\n1\n");
    }

    #[test]
    fn reading_refuses_bad_values_and_foreign_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.probs.tsv");
        let mut file = sample(&["a", "b"]);
        file.rows[1].logp = 0.5;
        file.write(&path).unwrap();
        let msg = ProbsFile::read(&path).unwrap_err().to_string();
        assert!(
            msg.contains("line 8") && msg.contains("greater than 1"),
            "{msg}"
        );
        std::fs::write(&path, "0.1\n0.2\n").unwrap();
        let msg = ProbsFile::read(&path).unwrap_err().to_string();
        assert!(msg.contains("not an lmlab probability file"), "{msg}");
        std::fs::write(&path, "# lmlab-probs 7\n").unwrap();
        let msg = ProbsFile::read(&path).unwrap_err().to_string();
        assert!(msg.contains("version 7 is newer"), "{msg}");
    }
}

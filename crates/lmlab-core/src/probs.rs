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
use crate::model_file::is_model_file;
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
        let text = read_probability_text(path)?;
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

/// Reads a probability (or token-list) text file, refusing a model file with what to do instead.
fn read_probability_text(path: &Path) -> Result<String> {
    if is_model_file(path) {
        return Err(Error::WrongKindOfFile {
            path: path.to_path_buf(),
            found: "an lmlab model file".into(),
            expected: "a probability file".into(),
            hint: "score text with `lmlab eval MODEL --input TEXT --probs OUT.probs.tsv`".into(),
        });
    }
    read_text_file(path)
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

/// The tokenizer recorded for files imported from one probability per line ([`import_one_per_line`]):
/// nothing is known of how their tokens were made, so they are compared token by token.
pub const EXTERNAL_TOKENIZER: &str = "external-words";

/// Names of the end-of-sequence token that stand for the same token across files (lmlab and KenLM
/// write `</s>`, PTB-style word lists often `<eos>`).
const END_TOKEN_NAMES: [&str; 2] = ["</s>", "<eos>"];

/// True for the end-of-sequence token under any of its names (`</s>`, `<eos>`).
pub fn is_end_token(token: &str) -> bool {
    END_TOKEN_NAMES.contains(&token)
}

/// True when two (escaped) tokens are the same, an end token under any of its names included.
fn same_token(a: &str, b: &str) -> bool {
    a == b || (is_end_token(a) && is_end_token(b))
}

impl ProbsFile {
    /// True for a file imported from elsewhere (its header knows no tokenizer or text).
    pub fn is_external(&self) -> bool {
        self.header.tokenizer == EXTERNAL_TOKENIZER
    }
}

/// Checks that `files` score the same token stream, and says how they line up: for each file, the
/// number of leading rows the ensemble leaves out.
///
/// lmlab's own files must agree exactly: the same tokenizer, text, length, and (seq, pos, token) row
/// by row. An imported file records no tokenizer or text, so it is compared by its tokens, an end
/// token under any of its names (`</s>`, `<eos>`); and since such files may leave out the first
/// token of the text (Herel & Mikolov's do not score the first word), files are aligned at their
/// ends: the longer ones' extra leading row is left out. The error names the first row that differs.
pub fn check_same_stream(files: &[(&Path, &ProbsFile)]) -> Result<Vec<usize>> {
    let own: Vec<_> = files.iter().filter(|(_, f)| !f.is_external()).collect();
    if let Some((first, rest)) = own.split_first() {
        for other in rest {
            check_same_own_stream(**first, **other)?;
        }
    }
    let shortest = files.iter().map(|(_, f)| f.rows.len()).min().unwrap_or(0);
    let skips: Vec<usize> = files.iter().map(|(_, f)| f.rows.len() - shortest).collect();
    if own.len() < files.len() {
        for (other, &skip) in files.iter().zip(&skips).skip(1) {
            check_lengths_align(files[0], *other)?;
            check_same_tokens((files[0], skips[0]), (*other, skip))?;
        }
    }
    Ok(skips)
}

/// At most this many leading tokens may be missing from a file (the first word, which Herel &
/// Mikolov's files do not score).
const MAX_UNSCORED_LEADING: usize = 1;

/// Files whose lengths differ by more than [`MAX_UNSCORED_LEADING`] score different texts.
fn check_lengths_align(
    (a, first): (&Path, &ProbsFile),
    (b, other): (&Path, &ProbsFile),
) -> Result<()> {
    if first.rows.len().abs_diff(other.rows.len()) <= MAX_UNSCORED_LEADING {
        return Ok(());
    }
    Err(Error::Mismatch(format!(
        "{} has {} rows but {} has {}: they score different texts (an imported file may lack \
         only the first token, which Herel & Mikolov's files do not score)",
        a.display(),
        first.rows.len(),
        b.display(),
        other.rows.len()
    )))
}

/// Two of lmlab's own files: same tokenizer, text, length and rows.
fn check_same_own_stream(
    (first_path, first): (&Path, &ProbsFile),
    (path, other): (&Path, &ProbsFile),
) -> Result<()> {
    let (a, b) = (first_path.display(), path.display());
    if other.header.tokenizer != first.header.tokenizer {
        return Err(Error::Mismatch(format!(
            "{b} was made with tokenizer {} but {a} with {}: ensembles and token-by-token \
             comparisons need one token stream, so the same tokenizer (to compare bits per byte \
             across tokenizers, run both in one experiment: `lmlab report` pairs them by sequence)",
            other.header.tokenizer, first.header.tokenizer
        )));
    }
    if other.header.corpus_sha256 != first.header.corpus_sha256 {
        return Err(Error::Mismatch(format!(
            "{b} scores a different text than {a} (corpus sha256 {} vs {})",
            other.header.corpus_sha256, first.header.corpus_sha256
        )));
    }
    let differs =
        |(x, y): (&ProbRow, &ProbRow)| (x.seq, x.pos, &x.token) != (y.seq, y.pos, &y.token);
    if let Some(i) = first.rows.iter().zip(&other.rows).position(differs) {
        return Err(rows_differ((first_path, first, i), (path, other, i), ""));
    }
    if other.rows.len() != first.rows.len() {
        return Err(Error::Mismatch(format!(
            "{a} has {} rows but {b} has {}; they differ from row {}",
            first.rows.len(),
            other.rows.len(),
            first.rows.len().min(other.rows.len()) + 1
        )));
    }
    Ok(())
}

/// Two files aligned after leaving out their first `skip` rows: the same tokens.
fn check_same_tokens(
    ((first_path, first), first_skip): ((&Path, &ProbsFile), usize),
    ((path, other), skip): ((&Path, &ProbsFile), usize),
) -> Result<()> {
    let (x, y) = (&first.rows[first_skip..], &other.rows[skip..]);
    let Some(i) = x
        .iter()
        .zip(y)
        .position(|(x, y)| !same_token(&x.token, &y.token))
    else {
        return Ok(());
    };
    let aligned = match (first_skip, skip) {
        (0, 0) => String::new(),
        _ => format!(
            " (aligned at their ends: {} leading rows of {} and {} of {} left out)",
            first_skip,
            first_path.display(),
            skip,
            path.display()
        ),
    };
    Err(rows_differ(
        (first_path, first, first_skip + i),
        (path, other, skip + i),
        &aligned,
    ))
}

/// "token streams differ at row N (A line L: seq S pos P 'x'; B line ...)": rows are 1-based
/// rows of the first file, lines the file's own lines as written by [`ProbsFile::write`].
fn rows_differ(
    (a, first, i): (&Path, &ProbsFile, usize),
    (b, other, j): (&Path, &ProbsFile, usize),
    note: &str,
) -> Error {
    let describe = |path: &Path, f: &ProbsFile, at: usize| {
        let r = &f.rows[at];
        format!(
            "{} line {}: seq {} pos {} '{}'",
            path.display(),
            at + header_lines(f) + 1,
            r.seq,
            r.pos,
            r.token
        )
    };
    Error::Mismatch(format!(
        "token streams differ at row {} ({}; {}){note}",
        i + 1,
        describe(a, first, i),
        describe(b, other, j)
    ))
}

/// Header lines (including the column line) as written by [`ProbsFile::write`].
fn header_lines(f: &ProbsFile) -> usize {
    5 + usize::from(f.header.bytes.is_some()) + usize::from(f.header.words.is_some())
}

/// Imports Herel & Mikolov's format: `words` has one token per line (the scored stream, `</s>` at
/// sentence ends), `probs` one probability per line, aligned. Probabilities must lie in (0, 1].
pub fn import_one_per_line(words: &Path, probs: &Path, model: &str) -> Result<ProbsFile> {
    let words_text = read_probability_text(words)?;
    let probs_text = read_probability_text(probs)?;
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
            tokenizer: EXTERNAL_TOKENIZER.into(),
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

    fn imported(tokens: &[&str]) -> ProbsFile {
        let mut file = sample(tokens);
        file.header.tokenizer = EXTERNAL_TOKENIZER.into();
        file.header.corpus_sha256 = "words".into();
        file.header.bytes = None;
        file
    }

    #[test]
    fn imported_files_align_by_tokens_with_end_names_mapped() {
        let (a, b) = (Path::new("A"), Path::new("B"));
        let own = sample(&["no", "it", "was", "</s>", "but"]);
        let herel = imported(&["it", "was", "<eos>", "but"]);
        assert_eq!(
            check_same_stream(&[(a, &own), (b, &herel)]).unwrap(),
            [1, 0]
        );
        assert_eq!(
            check_same_stream(&[(b, &herel), (a, &own)]).unwrap(),
            [0, 1]
        );

        let other = imported(&["it", "is", "<eos>", "and"]);
        let msg = check_same_stream(&[(a, &own), (b, &other)])
            .unwrap_err()
            .to_string();
        // The first differing row: A's row 3 (line 3 + 6 header lines), B's row 2 (line 2 + 5).
        assert!(
            msg.contains("differ at row 3")
                && msg.contains("A line 9: seq 0 pos 2 'was'")
                && msg.contains("B line 7: seq 0 pos 1 'is'"),
            "{msg}"
        );
        let short = imported(&["<eos>", "but"]);
        let msg = check_same_stream(&[(a, &own), (b, &short)])
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("A has 5 rows but B has 2: they score different texts"),
            "{msg}"
        );
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
        let mut model = crate::model_file::MAGIC.to_vec();
        model.extend_from_slice(&[0xff, 0xfe, 0, 0]);
        std::fs::write(&path, &model).unwrap();
        let msg = ProbsFile::read(&path).unwrap_err().to_string();
        assert!(
            msg.contains("is an lmlab model file, not a probability file")
                && msg.contains("lmlab eval MODEL --input TEXT --probs OUT.probs.tsv"),
            "{msg}"
        );
        std::fs::write(&path, "# lmlab-probs 7\n").unwrap();
        let msg = ProbsFile::read(&path).unwrap_err().to_string();
        assert!(msg.contains("version 7 is newer"), "{msg}");
    }
}

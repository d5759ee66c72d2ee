//! Reads an ARPA file into a model over a words tokenizer made of its unigrams (`<unk>`, `<s>`,
//! `</s>` first, then the unigrams in file order). Every error names the file and line.

use super::compress::open_text;
use crate::count::make_key;
use crate::model::NgramModel;
use crate::table::{OrderTable, BOS_LOG10};
use lmlab_core::vocab::{BOS, EOS, UNK};
use lmlab_core::{Error, Result, TokenId, Tokenizer};
use lmlab_tokenize::WordsTokenizer;
use std::collections::HashMap;
use std::io::BufRead;
use std::path::Path;

/// log10 probability given to `<unk>` when the file has none.
const MISSING_UNK_LOG10: f32 = -100.0;

struct Lines<'a> {
    path: &'a Path,
    inner: Box<dyn BufRead>,
    buf: String,
    number: usize,
}

impl Lines<'_> {
    /// The next line without its line ending, or `None` at the end of the file.
    fn next(&mut self) -> Result<Option<&str>> {
        self.buf.clear();
        let read = self
            .inner
            .read_line(&mut self.buf)
            .map_err(|e| Error::bad_file(self.path, format!("line {}: {e}", self.number + 1)))?;
        if read == 0 {
            return Ok(None);
        }
        self.number += 1;
        Ok(Some(self.buf.trim_end_matches(['\n', '\r'])))
    }

    fn error(&self, reason: impl std::fmt::Display) -> Error {
        Error::bad_file(self.path, format!("line {}: {reason}", self.number))
    }
}

/// One parsed n-gram line; `words` is the part of the line holding its n words.
struct Entry<'s> {
    prob: f32,
    words: &'s str,
    bow: f32,
}

/// Parses `log10p w1 … wn [log10bow]`; errors name `path` and line `number`.
fn parse_entry<'s>(line: &'s str, n: usize, path: &Path, number: usize) -> Result<Entry<'s>> {
    let error = |reason: String| Error::bad_file(path, format!("line {number}: {reason}"));
    let offset = |field: &str| field.as_ptr() as usize - line.as_ptr() as usize;
    let parse = |field: &str| -> Result<f32> {
        field
            .parse::<f32>()
            .map_err(|_| error(format!("'{field}' is not a number")))
    };
    let mut fields = line.split_whitespace();
    let mut next = || fields.next();
    let shape = |found: usize| {
        error(format!(
            "expected a {n}-gram line (log10 probability, {n} words, optional backoff), found \
             {found} fields"
        ))
    };
    let total = || line.split_whitespace().count();
    let prob = next().ok_or_else(|| shape(0))?;
    let first = next().ok_or_else(|| shape(total()))?;
    let mut last = first;
    for _ in 1..n {
        last = next().ok_or_else(|| shape(total()))?;
    }
    let bow = next();
    if next().is_some() {
        return Err(shape(total()));
    }
    Ok(Entry {
        prob: parse(prob)?,
        words: &line[offset(first)..offset(last) + last.len()],
        bow: match bow {
            Some(b) => parse(b)?,
            None => 0.0,
        },
    })
}

/// Reads an ARPA file (plain, gzip or xz).
pub fn read_arpa(path: &Path) -> Result<NgramModel> {
    let mut lines = Lines {
        path,
        inner: open_text(path)?,
        buf: String::new(),
        number: 0,
    };
    // \data\ header.
    loop {
        match lines.next()? {
            None => {
                return Err(Error::bad_file(
                    path,
                    "missing \\data\\ section: not an ARPA file",
                ))
            }
            Some(l) if l.trim() == "\\data\\" => break,
            Some(_) => {}
        }
    }
    let mut declared: Vec<usize> = Vec::new();
    let mut first_section = loop {
        let line = match lines.next()? {
            None => return Err(lines.error("file ends inside the \\data\\ section")),
            Some(l) => l.trim().to_string(),
        };
        if line.is_empty() {
            continue;
        }
        if let Some(spec) = line.strip_prefix("ngram ") {
            let (n, count) = spec
                .split_once('=')
                .ok_or_else(|| lines.error(format!("bad \\data\\ line '{line}'")))?;
            let n: usize = n
                .trim()
                .parse()
                .map_err(|_| lines.error(format!("bad order in '{line}'")))?;
            let count: usize = count
                .trim()
                .parse()
                .map_err(|_| lines.error(format!("bad count in '{line}'")))?;
            if n != declared.len() + 1 {
                return Err(lines.error(format!(
                    "\\data\\ lists order {n} where order {} was expected",
                    declared.len() + 1
                )));
            }
            declared.push(count);
        } else {
            break line;
        }
    };
    if declared.is_empty() {
        return Err(lines.error("the \\data\\ section lists no n-gram counts"));
    }
    let order = declared.len();
    if order > crate::options::MAX_ORDER {
        return Err(lines.error(format!(
            "order {order} is larger than {}",
            crate::options::MAX_ORDER
        )));
    }
    let mut tokenizer: Option<WordsTokenizer> = None;
    let mut tables: Vec<OrderTable> = Vec::with_capacity(order);
    for n in 1..=order {
        let header = format!("\\{n}-grams:");
        if first_section != header {
            return Err(lines.error(format!(
                "missing section {header} (found '{first_section}')"
            )));
        }
        let expected = declared[n - 1];
        if n == 1 {
            let (tok, table) = read_unigrams(&mut lines, expected, order)?;
            tokenizer = Some(tok);
            tables.push(table);
        } else {
            let tok = tokenizer.as_ref().expect("unigrams first");
            let table = read_order(&mut lines, n, expected, order, tok, &tables)?;
            tables.push(table);
        }
        first_section = next_header(&mut lines)?;
    }
    if first_section != "\\end\\" {
        return Err(lines.error(format!(
            "expected \\end\\ after the {order}-grams, found '{first_section}'"
        )));
    }
    let tokenizer = tokenizer.expect("order ≥ 1");
    Ok(NgramModel::from_parts(
        Box::new(tokenizer),
        tables,
        Vec::new(),
        Vec::new(),
        0,
    ))
}

/// Skips blank lines and returns the next non-blank one (a section header), or an error at the end.
fn next_header(lines: &mut Lines<'_>) -> Result<String> {
    loop {
        match lines.next()? {
            None => return Err(lines.error("file ends before \\end\\ (truncated?)")),
            Some(l) if l.trim().is_empty() => {}
            Some(l) => return Ok(l.trim().to_string()),
        }
    }
}

/// Reads `expected` entries of a section; a blank line, header or the end of file before that is
/// an error naming both numbers.
fn read_section<F>(lines: &mut Lines<'_>, n: usize, expected: usize, mut each: F) -> Result<()>
where
    F: FnMut(Entry<'_>, usize) -> Result<()>,
{
    for found in 0..expected {
        let number = lines.number + 1;
        let path = lines.path;
        let line = match lines.next()? {
            Some(l) if !l.trim().is_empty() && !l.starts_with('\\') => l,
            _ => {
                return Err(Error::bad_file(
                    path,
                    format!(
                        "line {number}: \\data\\ says there are {expected} {n}-grams but the \
                         section has {found}"
                    ),
                ))
            }
        };
        let entry = parse_entry(line, n, path, number)?;
        each(entry, number)?;
    }
    // More entries than declared?
    let number = lines.number + 1;
    if let Some(l) = peek_nonblank_entry(lines)? {
        return Err(Error::bad_file(
            lines.path,
            format!(
                "line {number}: \\data\\ says there are {expected} {n}-grams but the section has \
                 more ('{l}')"
            ),
        ));
    }
    Ok(())
}

/// Returns the next line if it is an n-gram entry (not blank, not a header), consuming it.
fn peek_nonblank_entry(lines: &mut Lines<'_>) -> Result<Option<String>> {
    // Entries end with a blank line in well-formed files; anything else right after is an extra.
    match lines.next()? {
        None => Ok(None),
        Some(l) if l.trim().is_empty() => Ok(None),
        Some(l) if l.starts_with('\\') => {
            let l = l.to_string();
            Err(lines.error(format!("expected a blank line before '{l}'")))
        }
        Some(l) => Ok(Some(l.to_string())),
    }
}

fn read_unigrams(
    lines: &mut Lines<'_>,
    expected: usize,
    order: usize,
) -> Result<(WordsTokenizer, OrderTable)> {
    let mut words: Vec<String> = Vec::with_capacity(expected);
    let mut values: HashMap<String, (f32, f32, usize)> = HashMap::with_capacity(expected);
    let path = lines.path;
    read_section(lines, 1, expected, |entry, line| {
        let word = entry.words.to_string();
        if let Some(&(_, _, first)) = values.get(&word) {
            return Err(Error::bad_file(
                path,
                format!("line {line}: duplicate 1-gram '{word}' (first at line {first})"),
            ));
        }
        values.insert(word.clone(), (entry.prob, entry.bow, line));
        words.push(word);
        Ok(())
    })?;
    let tokenizer = WordsTokenizer::from_words(
        words
            .into_iter()
            .filter(|w| w != UNK && w != BOS && w != EOS),
    );
    let vocab = tokenizer.vocab();
    let mut log_prob = vec![0f32; vocab.len()];
    let mut log_bow = vec![0f32; vocab.len()];
    for (id, token) in vocab.tokens().iter().enumerate() {
        let (p, b) = match values.get(token) {
            Some(&(p, b, _)) => (p, b),
            None if token == BOS => (BOS_LOG10, 0.0),
            None => (MISSING_UNK_LOG10, 0.0),
        };
        log_prob[id] = p;
        log_bow[id] = b;
    }
    let bos = tokenizer.specials().bos as usize;
    log_prob[bos] = BOS_LOG10;
    if order == 1 {
        log_bow.iter_mut().for_each(|b| *b = 0.0);
    }
    let table = OrderTable::unigrams(log_prob.into_iter().zip(log_bow));
    Ok((tokenizer, table))
}

fn read_order(
    lines: &mut Lines<'_>,
    n: usize,
    expected: usize,
    order: usize,
    tokenizer: &WordsTokenizer,
    lower: &[OrderTable],
) -> Result<OrderTable> {
    let vocab = tokenizer.vocab();
    let path = lines.path;
    let mut rows: Vec<(u64, f32, f32, u32)> = Vec::with_capacity(expected);
    let mut ids: Vec<TokenId> = Vec::with_capacity(n);
    read_section(lines, n, expected, |entry, line| {
        ids.clear();
        for w in entry.words.split_whitespace() {
            let id = vocab.id(w).ok_or_else(|| {
                Error::bad_file(
                    path,
                    format!("line {line}: word '{w}' of a {n}-gram is not among the unigrams"),
                )
            })?;
            ids.push(id);
        }
        // Rank of the suffix (words 2..n) through the lower orders.
        let mut rank = ids[n - 1];
        for (level, &w) in ids[1..n - 1].iter().rev().enumerate() {
            rank = lower[level + 1].find(rank, w).ok_or_else(|| {
                let words: Vec<&str> = entry.words.split_whitespace().collect();
                Error::bad_file(
                    path,
                    format!(
                        "line {line}: the {n}-gram '{}' has no lower-order entry '{}'",
                        words.join(" "),
                        words[n - 2 - level..].join(" ")
                    ),
                )
            })?;
        }
        rows.push((make_key(rank, ids[0]), entry.prob, entry.bow, line as u32));
        Ok(())
    })?;
    rows.sort_unstable_by_key(|r| r.0);
    if let Some(w) = rows.windows(2).find(|w| w[0].0 == w[1].0) {
        let (a, b) = (w[0].3.min(w[1].3), w[0].3.max(w[1].3));
        return Err(Error::bad_file(
            path,
            format!("line {b}: duplicate {n}-gram (first at line {a})"),
        ));
    }
    let mut table = OrderTable::hashed(rows.len());
    for &(key, prob, bow, _) in &rows {
        let bow = if n < order { bow } else { 0.0 };
        table
            .insert(key, prob, bow)
            .expect("duplicates were rejected above");
    }
    Ok(table)
}

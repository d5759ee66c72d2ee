//! Writes a model as an ARPA file: `\data\` counts, then per order `log10 p <TAB> words [<TAB> log10
//! backoff]`, then `\end\`. `<s>` is written with log10 p = -99 (it is never predicted).

use super::compress::{encoder, Compression};
use crate::model::NgramModel;
use lmlab_core::atomic::write_atomically;
use lmlab_core::vocab::escape_token;
use lmlab_core::Result;
use std::io::Write;
use std::path::Path;

/// Writes `model` to `path` atomically, compressed when the name ends in `.gz` or `.xz`; other
/// compression suffixes (`.bz2`, `.zst`, ...) are refused before anything is written.
pub fn write_arpa(model: &NgramModel, path: &Path) -> Result<()> {
    let compression = Compression::for_name(path)?;
    write_atomically(path, |out| {
        let mut enc = encoder(out, compression);
        write_arpa_to(model, &mut enc)?;
        enc.finish_stream()
    })
}

/// Writes `model` as ARPA text to `out`.
pub fn write_arpa_to(model: &NgramModel, out: &mut dyn Write) -> std::io::Result<()> {
    let order = model.order();
    let vocab = model.tokenizer.vocab();
    writeln!(out, "\\data\\")?;
    for (n, count) in model.ngram_counts().iter().enumerate() {
        writeln!(out, "ngram {}={count}", n + 1)?;
    }
    let mut line = String::new();
    for (i, table) in model.tables.iter().enumerate() {
        let n = i + 1;
        write!(out, "\n\\{n}-grams:\n")?;
        for id in table.ids() {
            line.clear();
            use std::fmt::Write as _;
            let _ = write!(line, "{}\t", table.prob(id));
            for (j, w) in model.ngram_words(n, id).into_iter().enumerate() {
                if j > 0 {
                    line.push(' ');
                }
                push_token(&mut line, vocab.token(w));
            }
            if n < order {
                let _ = write!(line, "\t{}", table.bow(id));
            }
            line.push('\n');
            out.write_all(line.as_bytes())?;
        }
    }
    writeln!(out, "\n\\end\\")
}

/// Appends a token as an ARPA word: verbatim (backslashes included, as KenLM reads them), except a
/// token with whitespace inside (bytes tokenizers), which is escaped so the line keeps its fields.
fn push_token(line: &mut String, token: &str) {
    if token.chars().any(char::is_whitespace) {
        line.push_str(&escape_token(token));
    } else {
        line.push_str(token);
    }
}

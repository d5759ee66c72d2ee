//! The WikiText detokenizer BYOD applies to each document in its long-range probe (it joins
//! WikiText's spaced punctuation, ` @-@ ` number separators and bracket spacing). Replacements run
//! in BYOD's order; each bracket rule strips the whitespace just inside every pair of brackets or
//! quotes, pairing each opener with the first closer after it.

/// `wikitext_detokenizer(text)` of BYOD's `hf_utils.py`.
pub fn wikitext_detokenize(text: &str) -> String {
    let mut s = text.replace("s '", "s'");
    // BYOD's r"/' [0-9]/" is a literal pattern (slashes and a class written out), so only that
    // exact text changes, into the literal "/'[0-9]/".
    for digit in '0'..='9' {
        s = s.replace(&format!("/' {digit}/"), "/'[0-9]/");
    }
    for (from, to) in [
        (" @-@ ", "-"),
        (" @,@ ", ","),
        (" @.@ ", "."),
        (" : ", ": "),
        (" ; ", "; "),
        (" . ", ". "),
        (" ! ", "! "),
        (" ? ", "? "),
        (" , ", ", "),
        ("\\'", "'"),
    ] {
        s = s.replace(from, to);
    }
    for (open, close) in [('(', ')'), ('[', ']'), ('{', '}'), ('"', '"'), ('\'', '\'')] {
        s = tighten_pairs(&s, open, close);
    }
    for (from, to) in [
        ("= = = =", "===="),
        ("= = =", "==="),
        ("= =", "=="),
        (" \u{b0} ", "\u{b0}"),
        (" \n", "\n"),
        ("\n ", "\n"),
        (" N ", " 1 "),
        (" 's", "'s"),
    ] {
        s = s.replace(from, to);
    }
    s
}

/// `re.sub(r"<open>\s*([^<close>]*?)\s*<close>", r"<open>\1<close>", s)`: every `open` with a
/// `close` after it (scanning left to right, matches not overlapping) loses the whitespace just
/// inside both ends.
fn tighten_pairs(s: &str, open: char, close: char) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find(open) {
        out.push_str(&rest[..at]);
        let after = &rest[at + open.len_utf8()..];
        match after.find(close) {
            Some(end) => {
                out.push(open);
                out.push_str(after[..end].trim_matches(char::is_whitespace));
                out.push(close);
                rest = &after[end + close.len_utf8()..];
            }
            None => {
                out.push(open);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wikitext_spacing_is_joined() {
        assert_eq!(
            wikitext_detokenize("It rose 1 @,@ 000 m ( 3 @.@ 2 ft ) , he said \" yes \" ."),
            "It rose 1,000 m (3.2 ft), he said \"yes\" ."
        );
        assert_eq!(wikitext_detokenize(" = = Plot = = \n"), " == Plot ==\n");
    }
}

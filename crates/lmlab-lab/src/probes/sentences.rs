//! Sentence splitting as NLTK's Punkt sentence tokenizer does it (Kiss & Strunk 2006) with no
//! trained parameters: no abbreviation list, collocations, sentence starters or orthographic
//! statistics. A `.`, `?` or `!` followed by whitespace and a token, or by closing punctuation,
//! ends a sentence unless Punkt's rules say otherwise without parameters: an ellipsis never
//! does; an initial (`J.`) does only before a token that starts with neither a letter nor
//! punctuation; a number (`1999.`) does not before a lowercase word or punctuation. Closing
//! quotes and brackets after the end are moved into the sentence they close.
//!
//! BYOD calls `nltk.sent_tokenize`, whose English model also knows abbreviations (`Mr.`, `U.S.`,
//! `e.g.`) and splits less there; the two differ only where those learned parameters apply.

/// The sentences of `text`, as slices of it.
pub fn sentences(text: &str) -> Vec<&str> {
    let slices = break_slices(text);
    realign(text, &slices)
        .into_iter()
        .map(|(start, end)| &text[start..end])
        .collect()
}

/// Characters that cannot be inside a word (Punkt's "non-word" class).
fn is_non_word(c: char) -> bool {
    matches!(
        c,
        ')' | '"'
            | ';'
            | '}'
            | ']'
            | '*'
            | ':'
            | '@'
            | '\''
            | '('
            | '{'
            | '['
            | '\u{2018}'
            | '\u{2019}'
            | '\u{201c}'
            | '\u{201d}'
            | '\u{ab}'
            | '\u{bb}'
            | '?'
            | '!'
    )
}

fn is_sent_end(c: char) -> bool {
    matches!(c, '.' | '?' | '!')
}

/// A candidate end: the byte range of the end character and where the next token starts (when
/// whitespace follows) or the range of the closing character that follows.
struct Candidate {
    start: usize,
    end: usize,
    next_token: Option<usize>,
    after_end: usize,
}

/// Every `.?!` followed by a non-word character or by whitespace and a token.
fn candidates(text: &str) -> Vec<Candidate> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut found = Vec::new();
    for (k, &(start, c)) in chars.iter().enumerate() {
        if !is_sent_end(c) {
            continue;
        }
        let end = start + c.len_utf8();
        let Some(&(_, next)) = chars.get(k + 1) else {
            continue;
        };
        if is_non_word(next) {
            found.push(Candidate {
                start,
                end,
                next_token: None,
                after_end: end + next.len_utf8(),
            });
            continue;
        }
        if !next.is_whitespace() {
            continue;
        }
        let mut j = k + 1;
        while j < chars.len() && chars[j].1.is_whitespace() {
            j += 1;
        }
        if j == chars.len() {
            continue;
        }
        let token_start = chars[j].0;
        let mut token_end = j;
        while token_end < chars.len() && !chars[token_end].1.is_whitespace() {
            token_end += 1;
        }
        let after_end = chars.get(token_end).map_or(text.len(), |&(i, _)| i);
        found.push(Candidate {
            start,
            end,
            next_token: Some(token_start),
            after_end,
        });
    }
    found
}

/// Punkt's potential ends with their contexts (the word before, the end, what follows); runs of
/// end characters (`!!!`) give one context, at the last of them.
fn contexts(text: &str) -> Vec<(Candidate, String)> {
    let mut out = Vec::new();
    let mut previous: Option<(Candidate, usize, usize)> = None;
    for candidate in candidates(text) {
        let (previous_start, previous_stop) = previous
            .as_ref()
            .map_or((0, 0), |(_, start, stop)| (*start, *stop));
        let before = &text[previous_stop..candidate.start];
        // Python's helper returns 0 both for "none" and for whitespace at index 0.
        let word_start = match before.char_indices().rev().find(|(_, c)| c.is_whitespace()) {
            Some((i, c)) if i > 0 => previous_stop + i + c.len_utf8(),
            _ => previous_start,
        };
        if let Some((match_, start, stop)) = previous.take() {
            if stop <= word_start {
                let context = format!(
                    "{}{}",
                    &text[start..stop],
                    &text[match_.start..match_.after_end]
                );
                out.push((match_, context));
            }
        }
        let stop = candidate.start;
        previous = Some((candidate, word_start, stop));
    }
    if let Some((match_, start, stop)) = previous {
        let context = format!(
            "{}{}",
            &text[start..stop],
            &text[match_.start..match_.after_end]
        );
        out.push((match_, context));
    }
    out
}

/// The sentence slices before realignment.
fn break_slices(text: &str) -> Vec<(usize, usize)> {
    let mut slices = Vec::new();
    let mut last_break = 0;
    for (candidate, context) in contexts(text) {
        if contains_break(&context) {
            slices.push((last_break, candidate.end));
            last_break = candidate.next_token.unwrap_or(candidate.end);
        }
    }
    slices.push((last_break, text.trim_end().len()));
    slices
}

/// Moves closing quotes and brackets at the start of a sentence to the end of the one before.
fn realign(text: &str, slices: &[(usize, usize)]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut shift = 0;
    for (k, &(start, stop)) in slices.iter().enumerate() {
        let first = (start + shift, stop);
        let Some(&(next_start, next_stop)) = slices.get(k + 1) else {
            if first.0 < first.1 {
                out.push(first);
            }
            continue;
        };
        match closing_run(&text[next_start..next_stop]) {
            Some((kept, consumed)) => {
                out.push((first.0, next_start + kept));
                shift = consumed;
            }
            None => {
                shift = 0;
                if first.0 < first.1 {
                    out.push(first);
                }
            }
        }
    }
    out
}

/// Punkt's realignment pattern at the start of `s`: the shortest run of closing quotes or brackets
/// followed by whitespace, `--` or a line end. Returns the run's length and the match's length.
fn closing_run(s: &str) -> Option<(usize, usize)> {
    let is_closing = |c: char| {
        matches!(
            c,
            '"' | '\''
                | ')'
                | ']'
                | '}'
                | '\u{2018}'
                | '\u{2019}'
                | '\u{201c}'
                | '\u{201d}'
                | '\u{ab}'
                | '\u{bb}'
        )
    };
    for (i, c) in s.char_indices() {
        if !is_closing(c) {
            break;
        }
        let end = i + c.len_utf8();
        let rest = &s[end..];
        if rest.is_empty() || rest.starts_with('\n') || rest.starts_with("--") {
            return Some((end, end));
        }
        let spaces: usize = rest
            .chars()
            .take_while(|c| c.is_whitespace())
            .map(char::len_utf8)
            .sum();
        if spaces > 0 {
            return Some((end, end + spaces));
        }
    }
    None
}

/// Whether Punkt marks a sentence break at a token of `context` that is not its last.
fn contains_break(context: &str) -> bool {
    let tokens: Vec<&str> = context
        .split('\n')
        .filter(|line| !line.trim().is_empty())
        .flat_map(punkt_words)
        .collect();
    (0..tokens.len().saturating_sub(1)).any(|i| is_break(tokens[i], tokens.get(i + 1).copied()))
}

/// Punkt's decision for one token followed by `next`, with no trained parameters.
fn is_break(token: &str, next: Option<&str>) -> bool {
    if matches!(token, "." | "?" | "!") {
        return true;
    }
    if is_ellipsis(token) || !token.ends_with('.') || token.ends_with("..") {
        return false;
    }
    let Some(next) = next else { return true };
    let initial = is_initial(token);
    if !initial && !is_number(token) {
        return true;
    }
    let first = next.chars().next().unwrap_or(' ');
    let punctuation = matches!(next, ";" | ":" | "," | "." | "!" | "?");
    if punctuation || first.is_lowercase() {
        return false;
    }
    !(initial && first.is_uppercase())
}

fn is_ellipsis(token: &str) -> bool {
    token.len() >= 2 && token.chars().all(|c| c == '.')
}

/// One letter and a period (`J.`).
fn is_initial(token: &str) -> bool {
    let mut chars = token.chars();
    matches!((chars.next(), chars.next(), chars.next()),
        (Some(c), Some('.'), None) if c.is_alphabetic() || c == '_')
}

/// Punkt's number pattern: `-?[.,]?\d[\d,.-]*\.?`.
fn is_number(token: &str) -> bool {
    let rest = token.strip_prefix('-').unwrap_or(token);
    let rest = rest
        .strip_prefix('.')
        .or_else(|| rest.strip_prefix(','))
        .unwrap_or(rest);
    let mut chars = rest.chars();
    chars.next().is_some_and(|c| c.is_numeric())
        && chars.all(|c| c.is_numeric() || matches!(c, ',' | '.' | '-'))
}

/// Punkt's word tokens of one line: multi-character punctuation (`--`, `...`), words (which end
/// before whitespace, a non-word character, multi-character punctuation or a word-final comma),
/// and any other single character.
fn punkt_words(line: &str) -> Vec<&str> {
    let chars: Vec<(usize, char)> = line.char_indices().collect();
    let at = |k: usize| chars.get(k).map(|&(_, c)| c);
    let byte = |k: usize| chars.get(k).map_or(line.len(), |&(i, _)| i);
    let multi_char = |k: usize| -> usize {
        match at(k) {
            Some('-') | Some('.') => {
                let c = at(k).unwrap();
                let run = (k..chars.len()).take_while(|&j| at(j) == Some(c)).count();
                if run >= 2 {
                    return run;
                }
                if c == '.' {
                    let mut pairs = 0;
                    while at(k + 2 * pairs) == Some('.')
                        && at(k + 2 * pairs + 1).is_some_and(char::is_whitespace)
                    {
                        pairs += 1;
                    }
                    if pairs >= 2 && at(k + 2 * pairs) == Some('.') {
                        return 2 * pairs + 1;
                    }
                }
                0
            }
            _ => 0,
        }
    };
    let word_end = |k: usize| -> bool {
        match at(k) {
            None => true,
            Some(c) if c.is_whitespace() || is_non_word(c) => true,
            Some(',') => {
                at(k + 1).is_none_or(|n| n.is_whitespace() || is_non_word(n))
                    || multi_char(k + 1) > 0
            }
            Some(_) => multi_char(k) > 0,
        }
    };
    let mut tokens = Vec::new();
    let mut k = 0;
    while k < chars.len() {
        let c = chars[k].1;
        if c.is_whitespace() {
            k += 1;
            continue;
        }
        let run = multi_char(k);
        let end = if run > 0 {
            k + run
        } else if !matches!(
            c,
            '(' | '"'
                | '`'
                | '{'
                | '['
                | ':'
                | ';'
                | '&'
                | '#'
                | '*'
                | '@'
                | ')'
                | '}'
                | ']'
                | '-'
                | ','
        ) {
            let mut j = k + 1;
            while !word_end(j) {
                j += 1;
            }
            j
        } else {
            k + 1
        };
        tokens.push(&line[byte(k)..byte(end)]);
        k = end;
    }
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ends_of_sentences_split_and_closing_quotes_stay() {
        assert_eq!(
            sentences("The cat sat. It was warm! Was it? \"Yes.\" Then it left."),
            vec![
                "The cat sat.",
                "It was warm!",
                "Was it?",
                "\"Yes.\"",
                "Then it left."
            ]
        );
        assert_eq!(
            sentences("(See above.) Next one."),
            vec!["(See above.)", "Next one."]
        );
    }

    #[test]
    fn initials_numbers_and_ellipses_do_not_end_sentences() {
        assert_eq!(
            sentences("J. Smith came. He sat."),
            vec!["J. Smith came.", "He sat."]
        );
        assert_eq!(sentences("In 1999. and later"), vec!["In 1999. and later"]);
        assert_eq!(sentences("Wait... Then go."), vec!["Wait... Then go."]);
        assert_eq!(
            sentences("Very bad acting!!! I promise."),
            vec!["Very bad acting!!!", "I promise."]
        );
        assert_eq!(sentences("no end here"), vec!["no end here"]);
        assert!(sentences("   ").is_empty());
    }

    #[test]
    fn punkt_words_split_punctuation_but_not_periods() {
        assert_eq!(
            punkt_words("Hi, you... (no) end."),
            vec!["Hi", ",", "you", "...", "(", "no", ")", "end."]
        );
    }
}

//! BYOD's four text transformations and the data preparation around them, on the documents (lines)
//! of any text. Each probe seeds its own generator with the seed, as each of BYOD's run scripts
//! calls `random.seed(seed)` before its metric; [`PyRandom`] draws what Python's `random` draws.

use super::detok::wikitext_detokenize;
use super::pyrandom::PyRandom;
use super::sentences::sentences;
use super::words::word_tokens;
use serde::Serialize;

/// Python's `len(text.split())`.
pub fn word_count(text: &str) -> usize {
    text.split_whitespace().count()
}

/// A sentence and the same sentence with "not" after its first is/was/are/were.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NegationPair {
    pub original: String,
    pub negated: String,
}

/// BYOD's `apply_transformation`: the first of " is ", " was ", " are ", " were " (tried in that
/// order) that occurs and is not already followed by "not" gets " not " after it, at its first
/// occurrence; `None` when no verb qualifies.
pub fn negate(sentence: &str) -> Option<String> {
    ["is", "was", "are", "were"].iter().find_map(|verb| {
        let plain = format!(" {verb} ");
        let negated = format!(" {verb} not ");
        (sentence.contains(&plain) && !sentence.contains(&negated))
            .then(|| sentence.replacen(&plain, &negated, 1))
    })
}

/// The negation pairs of the documents' sentences, in order (sentences of at most 2,000
/// characters, as BYOD's sentence loader keeps), the first `max_examples`.
pub fn negation_pairs(documents: &[&str], max_examples: usize) -> Vec<NegationPair> {
    documents
        .iter()
        .flat_map(|doc| sentences(doc))
        .filter(|s| s.chars().count() <= 2000)
        .filter_map(|s| {
            negate(s).map(|negated| NegationPair {
                original: s.to_string(),
                negated,
            })
        })
        .take(max_examples)
        .collect()
}

/// A sentence and its word tokens joined by spaces after `n` random swaps.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SwapPair {
    pub original: String,
    pub swapped: String,
}

/// BYOD's `swap_words_in_sentence` over the documents of more than 20 words, then its shuffle of
/// the pairs and the first `max_examples`: from each document, one random sentence of more than
/// five words; its word tokens with two random positions swapped `n_swap` times, joined by
/// spaces (with `n_swap` 0 the sentence is paired with itself). A document with no such sentence
/// is skipped (BYOD's `random.choice` fails on it).
pub fn word_order_pairs(
    documents: &[&str],
    n_swap: usize,
    seed: u64,
    max_examples: usize,
) -> Vec<SwapPair> {
    let mut rng = PyRandom::new(seed);
    let mut pairs = Vec::new();
    for doc in documents.iter().filter(|d| word_count(d) > 20) {
        let candidates: Vec<&str> = sentences(doc)
            .into_iter()
            .filter(|s| word_count(s) > 5)
            .collect();
        if candidates.is_empty() {
            continue;
        }
        let sentence = candidates[rng.choice_index(candidates.len())];
        if n_swap == 0 {
            pairs.push(SwapPair {
                original: sentence.to_string(),
                swapped: sentence.to_string(),
            });
            continue;
        }
        let mut tokens = word_tokens(sentence);
        if tokens.len() < 2 {
            continue;
        }
        for _ in 0..n_swap {
            let picked = rng.sample_range(tokens.len(), 2);
            tokens.swap(picked[0], picked[1]);
        }
        pairs.push(SwapPair {
            original: sentence.to_string(),
            swapped: tokens.join(" "),
        });
    }
    rng.shuffle(&mut pairs);
    pairs.truncate(max_examples);
    pairs
}

/// A document's last sentence in its own context and after sentences of another document.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ContextTriplet {
    /// The last sentence, whose tokens are scored.
    pub last: String,
    /// The document's last `sentences_input` sentences joined by spaces.
    pub original: String,
    /// `sentences_swap` first sentences of the previous document (after the shuffle) and the
    /// document's last `sentences_input − sentences_swap` sentences, joined by spaces.
    pub replaced: String,
}

/// BYOD's `get_triplets` inside `lrs_metric`: the documents are shuffled; each one (WikiText
/// detokenized, stripped, newlines dropped when one is in its last ten characters) with at least
/// `sentences_input + sentences_swap + 1` sentences gives a triplet whose foreign sentences are
/// the first `sentences_swap` of the document before it in the shuffled order (the last document
/// for the first), taken as they are; the first `max_examples` triplets are kept.
/// `sentences_input` must exceed `sentences_swap`.
pub fn long_range_triplets(
    documents: &[&str],
    sentences_input: usize,
    sentences_swap: usize,
    seed: u64,
    max_examples: usize,
) -> Vec<ContextTriplet> {
    assert!(sentences_input > sentences_swap, "checked by the caller");
    let mut rng = PyRandom::new(seed);
    let mut data: Vec<&str> = documents.to_vec();
    rng.shuffle(&mut data);
    let mut triplets = Vec::new();
    for (i, element) in data.iter().enumerate() {
        let detokenized = wikitext_detokenize(element);
        let tail_start = detokenized
            .char_indices()
            .rev()
            .nth(9)
            .map_or(0, |(at, _)| at);
        let cleaned = if detokenized[tail_start..].contains('\n') {
            detokenized.replace('\n', "").trim().to_string()
        } else {
            detokenized.trim().to_string()
        };
        let own = sentences(&cleaned);
        if own.len() < sentences_input + sentences_swap + 1 {
            continue;
        }
        let other = if i == 0 {
            data[data.len() - 1]
        } else {
            data[i - 1]
        };
        let foreign = sentences(other);
        let foreign = &foreign[..sentences_swap.min(foreign.len())];
        let kept = &own[own.len() - (sentences_input - sentences_swap)..];
        triplets.push(ContextTriplet {
            last: own[own.len() - 1].to_string(),
            original: own[own.len() - sentences_input..].join(" "),
            replaced: foreign
                .iter()
                .chain(kept)
                .copied()
                .collect::<Vec<_>>()
                .join(" "),
        });
    }
    triplets.truncate(max_examples);
    triplets
}

/// BYOD's `chop_string_every_n_characters`: the text cut every `every` characters (the last piece
/// shorter); `every` ≥ 1.
pub fn cut_every(text: &str, every: usize) -> Vec<&str> {
    assert!(every >= 1, "checked by the caller");
    let mut pieces = Vec::new();
    let mut start = 0;
    for (count, (at, _)) in text.char_indices().enumerate() {
        if count > 0 && count % every == 0 {
            pieces.push(&text[start..at]);
            start = at;
        }
    }
    if start < text.len() {
        pieces.push(&text[start..]);
    }
    pieces
}

/// The tokenization probe's texts: the sentences of more than five words of the documents of at
/// least 50 characters, shuffled as `create_tokenization_pairs` shuffles them, the first
/// `max_examples`.
pub fn tokenization_texts(documents: &[&str], seed: u64, max_examples: usize) -> Vec<String> {
    let mut texts: Vec<String> = documents
        .iter()
        .filter(|d| d.chars().count() >= 50)
        .flat_map(|d| sentences(d))
        .filter(|s| word_count(s) > 5)
        .map(str::to_string)
        .collect();
    let mut rng = PyRandom::new(seed);
    rng.shuffle(&mut texts);
    texts.truncate(max_examples);
    texts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negation_inserts_not_after_the_first_qualifying_verb() {
        assert_eq!(
            negate("The sky is blue and is wide.").unwrap(),
            "The sky is not blue and is wide."
        );
        assert_eq!(
            negate("It was not here, they were there.").unwrap(),
            "It was not here, they were not there."
        );
        assert_eq!(negate("Is it? no verb here."), None);
        assert_eq!(
            negate("This island is big"),
            Some("This island is not big".to_string())
        );
    }

    #[test]
    fn cuts_fall_every_k_characters() {
        assert_eq!(cut_every("abcdefghijk", 5), vec!["abcde", "fghij", "k"]);
        assert_eq!(cut_every("abcde", 5), vec!["abcde"]);
        assert_eq!(cut_every("héllo wörld", 3), vec!["hél", "lo ", "wör", "ld"]);
        assert!(cut_every("", 5).is_empty());
    }

    #[test]
    fn swaps_keep_the_tokens_and_short_documents_are_skipped() {
        let long = "Short one. The quick brown fox jumps over the lazy dog today. It ran and ran and ran far away from here.";
        let docs = [long, "too short to use"];
        let pairs = word_order_pairs(&docs, 1, 42, 1000);
        assert_eq!(pairs.len(), 1);
        let mut a = word_tokens(&pairs[0].original);
        let mut b: Vec<String> = pairs[0].swapped.split(' ').map(str::to_string).collect();
        assert_ne!(a, b, "one swap of two distinct tokens");
        a.sort();
        b.sort();
        assert_eq!(a, b);
        assert_eq!(
            pairs,
            word_order_pairs(&docs, 1, 42, 1000),
            "same seed, same pairs"
        );
    }

    #[test]
    fn context_triplets_replace_the_earlier_sentences() {
        let a = "A one. A two. A three. A four. A five. A six.";
        let b = "B one. B two. B three. B four. B five. B six. B seven.";
        let triplets = long_range_triplets(&[a, b], 3, 2, 42, 1000);
        assert_eq!(triplets.len(), 2);
        for t in &triplets {
            let own = &t.last[..1];
            let other = if own == "A" { "B" } else { "A" };
            assert!(t.original.starts_with(own) && t.original.ends_with(&t.last));
            assert_eq!(t.replaced, format!("{other} one. {other} two. {}", t.last));
        }
    }
}

//! The Generalized Language Model of Pickhardt, Gottron, Körner, Wagner, Speicher and Staab
//! (ACL 2014, arXiv:1404.3377): modified Kneser-Ney interpolated over *skipped* histories as well
//! as shortened ones.
//!
//! For a history h of n−1 words, P(w | h) = max(c(hw) − D(c(hw)), 0)/c(h•) + γ(h)·Σ_j 1/(n−1)
//! P̂(w | ∂_j h), where the skip operator ∂_j replaces history word j by a wildcard (∂ of the first
//! word deletes it, so the path ∂₁∂₁… is modified Kneser-Ney's back-off). Every lower pattern uses
//! continuation counts N1+(• pattern w), wildcard positions summed over, with the same recursion
//! over its remaining words (weights 1/(number of kept words)), down to the unigram interpolated
//! with the uniform distribution over every token but `<s>`. Each pattern has its own D1, D2, D3+
//! from its own counts-of-counts (the paper's Appendix A, Chen & Goodman's closed form, KenLM's
//! fallback on request), and γ(h) = (D1·N1(h•) + D2·N2(h•) + D3+·N3+(h•))/c(h•). A history never
//! seen takes the plain mean of the estimates one skip below. Modules: `pattern` (masks, the skip
//! operator), `count` (one sorted pass per pattern, raw and continuation counts), `table` (rows,
//! γ, history index, entry index), `estimate`, `model` (queries, distributions, [`LanguageModel`]
//! (lmlab_core::LanguageModel)), `grouped` (whole sequences scored a group of positions at a time,
//! their cache misses overlapped), `file` (model file of kind `glm`).
//!
//! Choices where the paper is silent, or where it and GLMTK (renepickhardt/
//! generalized-language-modeling-toolkit, `de.glmtk`) differ; this module follows:
//! - **Sentence boundaries as lmplz.** One `<s>` before each sequence; an occurrence whose first
//!   kept word is `<s>` keeps its raw count at every level (nothing can precede it), the top
//!   pattern always uses raw counts — lmplz's adjusted counts. With `--skips none` the model is
//!   lmlab's (and so KenLM's) modified Kneser-Ney, down to lmplz's counts-of-counts quirk (the
//!   stream's last lower-order n-gram counted with its raw count), which is reproduced for the
//!   contiguous patterns only. GLMTK pads `<s>` tokens differently and has no such quirk.
//! - **The first word is deleted, and wildcards it exposes with it.** The paper's ∂₁ deletes
//!   the first word; GLMTK's `DiffInterpolEstimator` defaults to `BackoffMode.SKP`, which puts a
//!   wildcard there instead (`NGram.getDifferentiatedNGrams`; its `DEL_FRONT` mode is the paper's),
//!   so its histories keep their length and `_ b c` differs from `b c`. Here ∂₁ of `a _ c` gives
//!   `c`, not `_ c`: a leading wildcard only says "something came before", which every non-initial
//!   position has. So the patterns of order N are the 2^(N−1) subsets of the history, and ∂ is
//!   "clear one bit". GLMTK averages over the *set* of differentiated histories; with this
//!   representation the children of a pattern are always distinct, so the two agree.
//! - **Unseen history**: the plain mean of the lower estimates (GLMTK's behaviour; the paper does
//!   not say). For `--skips none` that is the back-off weight 1 of lmplz/KenLM.
//! - **Continuation counts of skipped patterns** count distinct left words, the skipped positions
//!   summed over (the reading of the paper). GLMTK's `ContinuationMaximumLikelihoodEstimator`
//!   turns every skipped position into a continuation wildcard as well (`convertSkpToWskp`), so it
//!   counts distinct (left word, skipped words) tuples. A one-off trial of GLMTK's counting (not
//!   kept) moved PTB test perplexity by under 1% (order 3: 156.30 → 155.83; order 5: 172.71 →
//!   171.51, against MKN's 148.28 and 141.19), so it does not explain the GLM's gap to MKN here.
//! - **Discounts of lower patterns** are indexed by the continuation count (as lmplz and Chen &
//!   Goodman), where the paper's formula writes D(c(∂_j w…)) with the raw count; GLMTK indexes by
//!   the count it uses too.
//! - **Unigram level**: interpolated with the uniform distribution over every token but `<s>`
//!   (lmplz); GLMTK's unigram uses the vocabulary it saw.
//!
//! GLMTK could not be built here for a probability comparison (checked on its `develop` branch
//! with Debian's OpenJDK 17 `javac`): the estimator package `de.glmtk.querying.estimator` needs
//! `de.glmtk.common` (`NGram`, `Pattern`, `CountCache`), `de.glmtk.counts` and
//! `de.glmtk.logging`; compiling those with the estimators alone fails on packages the JDK does not
//! ship — `org.yaml.snakeyaml` (pattern/status files), `org.slf4j` (logging),
//! `org.fusesource.jansi` (console colours) — and on GLMTK's own `de.glmtk.exceptions`,
//! `de.glmtk.files`, `de.glmtk.counting` and `de.glmtk.querying.calculator`, which pull in the
//! counting pipeline and Stanford CoreNLP. Stripping those out means rewriting the count cache the
//! estimators read, i.e. no longer GLMTK's code, so the comparison the issue asks for is not made.
//!
//! Memory: counting holds one 32-byte record per token for the pattern being counted (patterns
//! go one at a time); the model keeps every pattern's table. Measured at order 5 on PTB train: 16
//! patterns, 8.65 M stored entries against MKN's 2.32 M n-grams (3.7×), a 141 MB model file against
//! 49 MB, 333 MiB peak RSS to build against 81 MiB. `--memory` (spilling to disk) is not
//! implemented for the GLM, and loading copies the arrays (the file is not used in place).
//! Scoring whole sequences (`log_probs`, eval) builds each pattern's entry index on first use:
//! 4 bytes × the power of two at or above 1.5 × its entries, so 6–12 bytes per entry.

mod budget;
mod count;
mod estimate;
mod file;
mod grouped;
mod model;
mod options;
mod pattern;
mod sort;
mod table;

pub use estimate::{train, train_stream, train_stream_to_file};
pub use file::{KIND, KIND_VERSION};
pub use model::GlmModel;
pub use options::{GlmOptions, Skips, MAX_ORDER};
pub use pattern::pattern_name;

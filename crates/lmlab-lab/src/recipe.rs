//! The one description of a training run: which family with which options, over which tokenizer,
//! cutting text into which sequences, under which budget and seed.
//!
//! Every way of starting a run builds a [`Recipe`]: the `lmlab train` subcommands, `lmlab train
//! --recipe`, the demo, experiment arms and the Python package. Each option has one default, here.
//! A new model family is one more [`ModelChoice`] arm (and one more arm in [`crate::run`]'s
//! `fit` and in [`crate::registry`]).
//!
//! In TOML:
//! ```toml
//! sequences = "line"            # line (default) | paragraph | stream
//! seed = 1                      # default 0
//! budget_cpu_seconds = 60       # optional; neural runs stop inside it, others record their cost
//! [tokenizer]
//! kind = "bpe"                  # bytes | chars | words | bpe | scaffold-bpe | file
//! vocab_size = 2000
//! [model]
//! family = "ngram"              # uniform | baseline | ngram | glm | memory | transformer | lstm
//! order = 4
//! ```
//! Neural families take the network's shape in `[model]` and the optimizer in `[train]`.

use lmlab_baseline::Smoothing;
use lmlab_core::{Error, Result, SequenceMode};
use lmlab_memory::MemoryOptions;
use lmlab_neural::config::{Arch, ModelConfig, TrainConfig};
use lmlab_ngram::glm::GlmOptions;
use lmlab_ngram::NgramOptions;
use lmlab_tokenize::{BpeTrainer, CharsTrainer, PreTokenizerPattern, WordsTrainer};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The recipe format this lmlab writes; a recipe of a higher format is refused.
pub const RECIPE_FORMAT: u32 = 1;

/// Learned vocabulary of a BPE or Scaffold-BPE tokenizer when the recipe gives none (the
/// trainer's own default: one value in lmlab).
pub const DEFAULT_BPE_VOCAB: usize = lmlab_tokenize::bpe::DEFAULT_VOCAB_SIZE;

/// The pseudo-count of add-k smoothing when none is given.
pub const DEFAULT_ADD_K: f64 = 0.01;

/// The smoothing of the baseline bigram when the recipe gives none.
pub const DEFAULT_SMOOTHING: Smoothing = Smoothing::WittenBell;

/// Which tokenizer a model is trained over. `vocab_size` has one meaning for every learned kind:
/// the most entries learned from the training text, special tokens (`<unk>`, `<s>`, `</s>`, ...)
/// not counted. For BPE that is 256 bytes + merges, and the size is reached when the text has
/// enough pairs; for words and characters it is a cap (most frequent first), none by default.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum TokenizerChoice {
    /// Bytes: 256 ids and the specials.
    Bytes,
    /// Characters seen in the training text, and `<unk>`.
    Chars {
        /// Keep at most this many characters.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        vocab_size: Option<usize>,
        /// Keep characters seen at least this often (0 and 1 keep all).
        #[serde(default, skip_serializing_if = "is_zero")]
        min_count: u64,
        /// NFC-normalize text before counting and encoding.
        #[serde(default, skip_serializing_if = "is_false")]
        nfc: bool,
        /// Special tokens beyond `<unk>`, `<s>`, `</s>`.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        specials: Vec<String>,
    },
    /// Whitespace-separated words, a closed vocabulary with `<unk>`.
    Words {
        /// Keep at most this many words.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        vocab_size: Option<usize>,
        /// Keep words seen at least this often (0 and 1 keep all).
        #[serde(default, skip_serializing_if = "is_zero")]
        min_count: u64,
    },
    /// Byte-level BPE.
    Bpe(BpeChoice),
    /// Scaffold-BPE (Lian et al. 2025).
    ScaffoldBpe(BpeChoice),
    /// A tokenizer file written by `lmlab tokenizer train`.
    File {
        /// Its path.
        path: PathBuf,
    },
}

/// The options of a learned BPE or Scaffold-BPE tokenizer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BpeChoice {
    /// Learned vocabulary: 256 bytes + merges, specials not counted.
    #[serde(default = "default_bpe_vocab")]
    pub vocab_size: usize,
    /// Smallest pair count still merged (0 and 1 merge any pair).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub min_count: u64,
    /// The pre-tokenization regex.
    #[serde(default)]
    pub pattern: PreTokenizerPattern,
    /// Special tokens beyond `<s>` and `</s>`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub specials: Vec<String>,
}

impl Default for BpeChoice {
    fn default() -> Self {
        BpeChoice {
            vocab_size: DEFAULT_BPE_VOCAB,
            min_count: 0,
            pattern: PreTokenizerPattern::default(),
            specials: Vec::new(),
        }
    }
}

fn default_bpe_vocab() -> usize {
    DEFAULT_BPE_VOCAB
}
fn is_zero(n: &u64) -> bool {
    *n == 0
}
fn is_false(b: &bool) -> bool {
    !*b
}

impl Default for TokenizerChoice {
    /// Words, every word kept: KenLM's and PTB's convention.
    fn default() -> Self {
        TokenizerChoice::Words {
            vocab_size: None,
            min_count: 0,
        }
    }
}

impl TokenizerChoice {
    /// The kind's name as recipes and the CLI write it (`bytes`, `scaffold-bpe`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            TokenizerChoice::Bytes => "bytes",
            TokenizerChoice::Chars { .. } => "chars",
            TokenizerChoice::Words { .. } => "words",
            TokenizerChoice::Bpe(_) => "bpe",
            TokenizerChoice::ScaffoldBpe(_) => "scaffold-bpe",
            TokenizerChoice::File { .. } => "file",
        }
    }

    /// A short label for tables and file names: the kind and, where one is set, its size
    /// (`bpe-2000`, `words`).
    pub fn label(&self) -> String {
        match self {
            TokenizerChoice::Bpe(b) | TokenizerChoice::ScaffoldBpe(b) => {
                format!("{}-{}", self.kind(), b.vocab_size)
            }
            TokenizerChoice::Chars {
                vocab_size: Some(n),
                ..
            }
            | TokenizerChoice::Words {
                vocab_size: Some(n),
                ..
            } => format!("{}-{n}", self.kind()),
            TokenizerChoice::File { path } => path
                .file_stem()
                .map_or("file".into(), |s| s.to_string_lossy().into_owned()),
            _ => self.kind().to_string(),
        }
    }

    /// The choice for `kind` (as [`TokenizerChoice::kind`] names it) with its defaults, then
    /// `vocab_size` and `min_count` where given.
    pub fn for_kind(kind: &str, vocab_size: Option<usize>, min_count: u64) -> Result<Self> {
        let bpe = || BpeChoice {
            vocab_size: vocab_size.unwrap_or(DEFAULT_BPE_VOCAB),
            min_count,
            ..BpeChoice::default()
        };
        Ok(match kind {
            "bytes" => TokenizerChoice::Bytes,
            "chars" => TokenizerChoice::Chars {
                vocab_size,
                min_count,
                nfc: false,
                specials: Vec::new(),
            },
            "words" => TokenizerChoice::Words {
                vocab_size,
                min_count,
            },
            "bpe" => TokenizerChoice::Bpe(bpe()),
            "scaffold-bpe" => TokenizerChoice::ScaffoldBpe(bpe()),
            other => {
                return Err(Error::invalid(format!(
                    "unknown tokenizer kind '{other}' (known: bytes, chars, words, bpe, scaffold-bpe, file)"
                )))
            }
        })
    }

    /// The same choice with the options only some kinds take: BPE's pre-tokenizer `pattern`,
    /// extra `specials` (BPE, chars), NFC normalization (chars); the others ignore them.
    pub fn with_extras(
        mut self,
        pattern: PreTokenizerPattern,
        extra: &[String],
        nfc: bool,
    ) -> Self {
        match &mut self {
            TokenizerChoice::Bpe(b) | TokenizerChoice::ScaffoldBpe(b) => {
                b.pattern = pattern;
                b.specials = extra.to_vec();
            }
            TokenizerChoice::Chars {
                specials,
                nfc: normalize,
                ..
            } => {
                *specials = extra.to_vec();
                *normalize = nfc;
            }
            _ => {}
        }
        self
    }

    /// Checks the values a parser cannot.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(Error::invalid(format!("tokenizer: {m}")));
        match self {
            TokenizerChoice::Bpe(b) | TokenizerChoice::ScaffoldBpe(b) if b.vocab_size < 256 => {
                bad(format!(
                    "vocab_size counts the 256 bytes, so it must be at least 256, got {}",
                    b.vocab_size
                ))
            }
            TokenizerChoice::Chars {
                vocab_size: Some(0),
                ..
            }
            | TokenizerChoice::Words {
                vocab_size: Some(0),
                ..
            } => bad("vocab_size must be at least 1, got 0".into()),
            _ => Ok(()),
        }
    }

    /// The trainer of a learned kind (`None` for bytes and files).
    pub(crate) fn trainer(&self) -> Option<Trainer> {
        Some(match self {
            TokenizerChoice::Bytes | TokenizerChoice::File { .. } => return None,
            TokenizerChoice::Chars {
                vocab_size,
                min_count,
                nfc,
                specials,
            } => Trainer::Chars(CharsTrainer {
                max_chars: *vocab_size,
                min_count: *min_count,
                nfc: *nfc,
                specials: specials.clone(),
            }),
            TokenizerChoice::Words {
                vocab_size,
                min_count,
            } => Trainer::Words(WordsTrainer {
                max_words: *vocab_size,
                min_count: *min_count,
            }),
            TokenizerChoice::Bpe(b) | TokenizerChoice::ScaffoldBpe(b) => Trainer::Bpe(BpeTrainer {
                vocab_size: b.vocab_size,
                min_frequency: b.min_count,
                pattern: b.pattern,
                specials: b.specials.clone(),
                scaffold: matches!(self, TokenizerChoice::ScaffoldBpe(_)),
            }),
        })
    }
}

/// A tokenizer trainer.
pub(crate) enum Trainer {
    Chars(CharsTrainer),
    Words(WordsTrainer),
    Bpe(BpeTrainer),
}

/// The model family and its options. `family` names the arm in files.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "family", rename_all = "lowercase")]
pub enum ModelChoice {
    /// Every token equally likely: the floor.
    Uniform,
    /// The interpolated unigram-bigram baseline.
    Baseline(BaselineChoice),
    /// Interpolated modified Kneser-Ney, as KenLM's lmplz.
    Ngram(NgramOptions),
    /// The generalized language model (Pickhardt et al. 2014): modified Kneser-Ney over skipped
    /// histories.
    Glm(GlmOptions),
    /// Memory-based: IGTree or TRIBL2.
    Memory(MemoryOptions),
    /// A decoder-only transformer of this shape (`vocab_size` comes from the tokenizer).
    Transformer(ModelConfig),
    /// An LSTM of this shape.
    Lstm(ModelConfig),
}

/// The baseline bigram's options.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaselineChoice {
    /// Witten-Bell (default) or add-k.
    #[serde(default = "default_smoothing")]
    pub smoothing: Smoothing,
}

fn default_smoothing() -> Smoothing {
    DEFAULT_SMOOTHING
}

impl Default for BaselineChoice {
    fn default() -> Self {
        BaselineChoice {
            smoothing: DEFAULT_SMOOTHING,
        }
    }
}

impl ModelChoice {
    /// The family's name (`ngram`, `transformer`, ...).
    pub fn family(&self) -> &'static str {
        match self {
            ModelChoice::Uniform => "uniform",
            ModelChoice::Baseline(_) => "baseline",
            ModelChoice::Ngram(_) => "ngram",
            ModelChoice::Glm(_) => "glm",
            ModelChoice::Memory(_) => "memory",
            ModelChoice::Transformer(_) => "transformer",
            ModelChoice::Lstm(_) => "lstm",
        }
    }

    /// A neural family: trained in a run directory, by steps, inside a budget.
    pub fn is_neural(&self) -> bool {
        self.network().is_some()
    }

    /// The network's shape, with `arch` set by the family.
    pub fn network(&self) -> Option<ModelConfig> {
        let (config, arch) = match self {
            ModelChoice::Transformer(c) => (c, Arch::Transformer),
            ModelChoice::Lstm(c) => (c, Arch::Lstm),
            _ => return None,
        };
        Some(ModelConfig {
            arch,
            ..config.clone()
        })
    }

    /// A short name for file names: `kn4`, `bigram-wb`, `igtree3`, `transformer`.
    pub fn slug(&self) -> String {
        match self {
            ModelChoice::Uniform => "uniform".into(),
            ModelChoice::Baseline(BaselineChoice {
                smoothing: Smoothing::WittenBell,
            }) => "bigram-wb".into(),
            ModelChoice::Baseline(_) => "bigram-addk".into(),
            ModelChoice::Ngram(o) => format!("kn{}", o.order),
            ModelChoice::Glm(o) => format!("glm{}-{}", o.order, o.skips),
            ModelChoice::Memory(m) => format!("{}{}", m.algorithm, m.context),
            ModelChoice::Transformer(_) | ModelChoice::Lstm(_) => self.family().into(),
        }
    }

    /// A short description for tables: `KN 4-gram`, `IGTree K=3`, `transformer 2x64`.
    pub fn describe(&self) -> String {
        match self {
            ModelChoice::Uniform => "uniform".into(),
            ModelChoice::Baseline(b) => format!("bigram {}", b.smoothing),
            ModelChoice::Ngram(o) => format!("KN {}-gram", o.order),
            ModelChoice::Glm(o) => format!("GLM {}-gram (skips {})", o.order, o.skips),
            ModelChoice::Memory(m) => {
                let name = match m.algorithm {
                    lmlab_memory::Algorithm::IgTree => "IGTree",
                    lmlab_memory::Algorithm::Tribl2 => "TRIBL2",
                };
                format!("{name} K={}", m.context)
            }
            ModelChoice::Transformer(c) | ModelChoice::Lstm(c) => {
                format!("{} {}x{}", self.family(), c.n_layer, c.n_embd)
            }
        }
    }
}

/// Everything that decides a training run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recipe {
    /// The recipe format ([`RECIPE_FORMAT`]); a newer one is refused.
    #[serde(default = "recipe_format")]
    pub format: u32,
    /// The family and its options.
    pub model: ModelChoice,
    /// The tokenizer (default: words, every word kept).
    #[serde(default)]
    pub tokenizer: TokenizerChoice,
    /// How text is cut into sequences (default: one per line).
    #[serde(default)]
    pub sequences: SequenceMode,
    /// Neural families only: the optimizer and loop (its `seed` is replaced by the recipe's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train: Option<TrainConfig>,
    /// CPU seconds the run may spend (all threads): neural runs stop inside it; count-based and
    /// memory-based runs cannot stop early and record what they cost.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget_cpu_seconds: Option<f64>,
    /// Seed of everything random in the run (neural initialization and batches).
    #[serde(default)]
    pub seed: u64,
}

fn recipe_format() -> u32 {
    RECIPE_FORMAT
}

impl Recipe {
    /// A recipe for `model` with every other option at its default.
    pub fn new(model: ModelChoice) -> Recipe {
        Recipe {
            format: RECIPE_FORMAT,
            model,
            tokenizer: TokenizerChoice::default(),
            sequences: SequenceMode::default(),
            train: None,
            budget_cpu_seconds: None,
            seed: 0,
        }
    }

    /// Parses TOML (or JSON when the text starts with `{`) and validates it.
    pub fn parse(text: &str) -> Result<Recipe> {
        let recipe: Recipe = if text.trim_start().starts_with('{') {
            let value: serde_json::Value =
                serde_json::from_str(text).map_err(|e| Error::invalid(format!("recipe: {e}")))?;
            check_format(value.get("format").and_then(|f| f.as_u64()))?;
            serde_json::from_value(value).map_err(|e| Error::invalid(format!("recipe: {e}")))?
        } else {
            let value: toml::Value =
                toml::from_str(text).map_err(|e| Error::invalid(format!("recipe: {e}")))?;
            check_format(
                value
                    .get("format")
                    .and_then(|f| f.as_integer())
                    .map(|f| f as u64),
            )?;
            value
                .try_into()
                .map_err(|e: toml::de::Error| Error::invalid(format!("recipe: {e}")))?
        };
        recipe.validate()?;
        Ok(recipe)
    }

    /// Reads and parses a recipe file; errors name the file.
    pub fn load(path: &Path) -> Result<Recipe> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Recipe::parse(&text).map_err(|e| Error::bad_file(path, e.to_string()))
    }

    /// The recipe as TOML.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("a recipe serializes to TOML")
    }

    /// Checks everything that can be checked before a run: the format, the tokenizer, the
    /// family's options, the budget, and that `[train]` is given exactly for neural families.
    pub fn validate(&self) -> Result<()> {
        check_format(Some(self.format as u64))?;
        self.tokenizer.validate()?;
        if let Some(b) = self.budget_cpu_seconds {
            if !(b.is_finite() && b > 0.0) {
                return Err(Error::invalid(format!(
                    "budget_cpu_seconds must be a positive number of CPU seconds, got {b}"
                )));
            }
        }
        match (&self.model, &self.train) {
            (ModelChoice::Transformer(_) | ModelChoice::Lstm(_), None) => {
                return Err(Error::invalid(format!(
                    "a {} recipe needs a [train] table (batch_size, max_steps, learning_rate, min_lr)",
                    self.model.family()
                )))
            }
            (ModelChoice::Transformer(_) | ModelChoice::Lstm(_), Some(train)) => train.validate()?,
            (_, Some(_)) => {
                return Err(Error::invalid(format!(
                    "[train] is for neural families; a {} model has no optimizer",
                    self.model.family()
                )))
            }
            _ => {}
        }
        match &self.model {
            ModelChoice::Ngram(o) if o.order == 0 => Err(Error::invalid(
                "model: order must be at least 1 (1 = unigrams), got 0",
            )),
            ModelChoice::Glm(o) => o.validate(),
            ModelChoice::Memory(m) if m.context == 0 => Err(Error::invalid(
                "model: context must be at least 1 previous token, got 0",
            )),
            ModelChoice::Baseline(BaselineChoice {
                smoothing: Smoothing::AddK { k },
            }) if !(k.is_finite() && *k > 0.0) => Err(Error::invalid(format!(
                "model: add-k smoothing needs k > 0, got {k}"
            ))),
            ModelChoice::Transformer(_) | ModelChoice::Lstm(_) => {
                let mut probe = self.model.network().expect("neural");
                probe.vocab_size = probe.vocab_size.max(3);
                probe.validate()
            }
            _ => Ok(()),
        }
    }

    /// The recipe of a neural run config (`lmlab train transformer --config`): its shape and
    /// loop, its tokenizer, sequences and seed.
    pub fn from_run_config(config: &lmlab_neural::RunConfig) -> Recipe {
        let model = match config.model.arch {
            Arch::Transformer => ModelChoice::Transformer(config.model.clone()),
            Arch::Lstm => ModelChoice::Lstm(config.model.clone()),
        };
        let tokenizer = match &config.tokenizer {
            lmlab_neural::config::TokenizerSpec::Bytes => TokenizerChoice::Bytes,
            lmlab_neural::config::TokenizerSpec::Chars => {
                TokenizerChoice::for_kind("chars", None, 0).expect("a known kind")
            }
            lmlab_neural::config::TokenizerSpec::File(path) => {
                TokenizerChoice::File { path: path.clone() }
            }
        };
        Recipe {
            tokenizer,
            sequences: config.sequences,
            train: Some(config.train.clone()),
            seed: config.train.seed,
            ..Recipe::new(model)
        }
    }

    /// A short name for tables: `KN 4-gram / bpe-2000`.
    pub fn describe(&self) -> String {
        format!("{} / {}", self.model.describe(), self.tokenizer.label())
    }
}

/// Refuses a recipe written by a newer lmlab.
fn check_format(format: Option<u64>) -> Result<()> {
    match format {
        Some(f) if f > RECIPE_FORMAT as u64 => Err(Error::invalid(format!(
            "recipe format {f} is newer than this lmlab ({}) reads (format {RECIPE_FORMAT}): \
             upgrade lmlab to run it",
            lmlab_core::LMLAB_VERSION
        ))),
        Some(0) => Err(Error::invalid(
            "recipe format 0 does not exist (the first is 1)",
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ngram_recipe_reads_with_defaults_and_round_trips() {
        let r = Recipe::parse(
            "seed = 3\n[tokenizer]\nkind = \"bpe\"\nvocab_size = 2000\n[model]\nfamily = \"ngram\"\norder = 4\n",
        )
        .unwrap();
        assert_eq!(r.sequences, SequenceMode::Line);
        assert_eq!(r.seed, 3);
        match &r.model {
            ModelChoice::Ngram(o) => {
                assert_eq!(o.order, 4);
                assert!(o.prune.is_empty());
                assert_eq!(o.discount_fallback, None);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(r.tokenizer.label(), "bpe-2000");
        assert_eq!(Recipe::parse(&r.to_toml()).unwrap(), r);
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(Recipe::parse(&json).unwrap(), r);
    }

    #[test]
    fn one_bpe_default() {
        let r =
            Recipe::parse("[tokenizer]\nkind = \"scaffold-bpe\"\n[model]\nfamily = \"uniform\"\n")
                .unwrap();
        assert_eq!(
            r.tokenizer,
            TokenizerChoice::ScaffoldBpe(BpeChoice::default())
        );
        assert_eq!(
            TokenizerChoice::for_kind("bpe", None, 0).unwrap(),
            TokenizerChoice::Bpe(BpeChoice {
                vocab_size: DEFAULT_BPE_VOCAB,
                ..BpeChoice::default()
            })
        );
    }

    #[test]
    fn a_transformer_recipe_takes_its_shape_and_train_table() {
        let r = Recipe::parse(
            "budget_cpu_seconds = 30\n[tokenizer]\nkind = \"bytes\"\n[model]\nfamily = \"transformer\"\n\
             n_layer = 2\nn_head = 4\nn_embd = 64\nblock_size = 64\n\
             [train]\nbatch_size = 8\nmax_steps = 100\nlearning_rate = 1e-3\nmin_lr = 1e-4\n",
        )
        .unwrap();
        let net = r.model.network().unwrap();
        assert_eq!(
            (net.n_layer, net.n_embd, net.arch),
            (2, 64, Arch::Transformer)
        );
        assert_eq!(r.train.as_ref().unwrap().max_steps, 100);
        assert_eq!(Recipe::parse(&r.to_toml()).unwrap(), r);
    }

    fn error(text: &str) -> String {
        Recipe::parse(text).unwrap_err().to_string()
    }

    #[test]
    fn a_glm_recipe_reads_round_trips_and_checks_its_options() {
        let r = Recipe::parse("[model]\nfamily = \"glm\"\norder = 4\nskips = \"none\"\n").unwrap();
        match &r.model {
            ModelChoice::Glm(o) => {
                assert_eq!(o.order, 4);
                assert_eq!(o.skips, lmlab_ngram::glm::Skips::None);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(r.model.slug(), "glm4-none");
        assert_eq!(Recipe::parse(&r.to_toml()).unwrap(), r);
        let m = error("[model]\nfamily = \"glm\"\norder = 1\n");
        assert!(m.contains("GLM order 1 is invalid"), "{m}");
        let m = error("[model]\nfamily = \"glm\"\nskips = \"some\"\n");
        assert!(
            m.contains("unknown variant `some`, expected `all` or `none`"),
            "{m}"
        );
    }

    #[test]
    fn bad_recipes_say_what_is_wrong() {
        let m = error("[model]\nfamily = \"ngram\"\norder = 3\ncolour = 1\n");
        assert!(m.contains("colour"), "{m}");
        let m = error("[model]\nfamily = \"quantum\"\n");
        assert!(m.contains("quantum"), "{m}");
        let m = error("[tokenizer]\nkind = \"bpe\"\nvocab = 3\n[model]\nfamily = \"uniform\"\n");
        assert!(m.contains("vocab"), "{m}");
        let m =
            error("[tokenizer]\nkind = \"bpe\"\nvocab_size = 100\n[model]\nfamily = \"uniform\"\n");
        assert!(m.contains("at least 256"), "{m}");
        let m = error("budget_cpu_seconds = -1\n[model]\nfamily = \"uniform\"\n");
        assert!(m.contains("positive"), "{m}");
        let m = error("[model]\nfamily = \"ngram\"\norder = 0\n");
        assert!(m.contains("order must be at least 1"), "{m}");
        let m = error("[model]\nfamily = \"lstm\"\nn_layer = 1\nn_embd = 8\nblock_size = 8\n");
        assert!(m.contains("[train]"), "{m}");
        let m = error(
            "[model]\nfamily = \"ngram\"\n[train]\nbatch_size = 8\nmax_steps = 100\nlearning_rate = 1e-3\nmin_lr = 1e-4\n",
        );
        assert!(m.contains("neural"), "{m}");
        let m = error("nonsense = 1\n[model]\nfamily = \"uniform\"\n");
        assert!(m.contains("nonsense"), "{m}");
    }

    #[test]
    fn a_recipe_from_a_newer_lmlab_is_refused_and_says_so() {
        let m = error("format = 2\n[model]\nfamily = \"uniform\"\nwhatever = 1\n");
        assert!(m.contains("format 2 is newer"), "{m}");
        assert!(m.contains("upgrade"), "{m}");
        let m = error("{\"format\": 9, \"model\": {\"family\": \"uniform\"}}");
        assert!(m.contains("format 9 is newer"), "{m}");
    }
}

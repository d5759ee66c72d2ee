//! Command-line arguments of every subcommand.

use clap::{Args, Parser, Subcommand, ValueEnum};
use lmlab_core::SequenceMode;
use lmlab_lab::experiment::slurm;
use std::path::PathBuf;

/// lmlab: a laboratory for small language models on one CPU.
///
/// Train tokenizers and language models (bigram baselines, Kneser-Ney n-grams as KenLM, memory-based
/// IGTree/TRIBL2, transformers and LSTMs), evaluate them the same way (perplexity, bits per byte,
/// per-token probability files), ensemble them, sample text from them and compare them. Start with
/// `lmlab demo`.
#[derive(Parser, Debug)]
#[command(name = "lmlab", version, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Train a model: a family's subcommand, or any family from a recipe file (--recipe).
    Train(Box<TrainArgs>),
    /// Evaluate any model on a text file: tokens, OOVs, perplexity, bits per byte, word perplexity.
    Eval(EvalArgs),
    /// Minimal-pair accuracy (BLiMP or any jsonl of sentence_good / sentence_bad): overall, per
    /// linguistics_term and per paradigm, beside the BLiMP paper's published accuracies.
    EvalPairs(EvalPairsArgs),
    /// Fit linear-interpolation weights by EM on dev probability files and report dev/test perplexity.
    Ensemble(EnsembleArgs),
    /// Compare two models' probability files of the same text: Δ bits/byte, log-likelihood per token
    /// and perplexity (B − A) with bootstrap intervals and p-values, and where the difference comes from.
    Compare(CompareArgs),
    /// Convert probability files from and to one-probability-per-line (Herel & Mikolov).
    #[command(subcommand)]
    Probs(ProbsCommand),
    /// Sample text from any model.
    Generate(GenerateArgs),
    /// What a model is: kind, shape, parameters, tokenizer, provenance; for a neural run directory
    /// also its architecture, steps, validation loss and compute.
    Info(InfoArgs),
    /// Write a neural run directory's weights, config and tokenizer as one model file (no optimizer
    /// state) that every command loads.
    Export(ExportRunArgs),
    /// The most likely next tokens after a context, for any model (its full next-token distribution).
    Predict(PredictArgs),
    /// Tokenizers: train, encode, decode, statistics, Hugging Face export.
    #[command(subcommand)]
    Tokenizer(TokenizerCommand),
    /// Memory-based model tools: explain a prediction, add training data.
    #[command(subcommand)]
    Memory(MemoryCommand),
    /// N-gram model tools: ARPA export and import.
    #[command(subcommand)]
    Ngram(NgramCommand),
    /// Chunk-distilled LM (CD-LM): build the chunks a transformer predicts confidently on a corpus,
    /// for `generate --chunks` and `eval --chunks`.
    #[command(subcommand)]
    Chunks(ChunksCommand),
    /// Train every model kind on the embedded corpus, evaluate, ensemble and sample.
    Demo(DemoArgs),
    /// Run an experiment file: every arm × budget × seed, skipping runs already finished.
    #[command(subcommand)]
    Experiment(ExperimentCommand),
    /// An experiment folder's results as one self-contained HTML page: the verdict on its claim,
    /// compute plots, learning curves, fitted compute laws, per-arm tables, provenance.
    Report(ReportArgs),
    /// Learning dynamics of a neural run trained with `[train] analysis = { every = N }`:
    /// pico-analyze's metrics (CKA, PWCCA, effective rank, condition number, sparsity, norms) per
    /// saved step, layer and component, as JSON and plots in RUN/analysis/.
    Analyze(AnalyzeArgs),
    /// An experiment's results from its store: arm × budget, mean ± sd over seeds.
    Results(ResultsArgs),
    /// Self-supervised probes ("Bring Your Own Data!", Jain et al. 2023) on any text: negation,
    /// word-order, long-range and tokenization sensitivity, as BYOD's code defines them. Toxicity,
    /// BYOD's fifth probe, is left out: it needs a list of offensive words and sampled generations
    /// at scale.
    EvalProbes(EvalProbesArgs),
    /// Merge neural runs of one shape and tokenizer (a mergekit YAML config): linear and greedy
    /// soups, task arithmetic, TIES, DARE, SLERP.
    Merge(crate::commands::merge::MergeArgs),
    /// Grow a transformer run deeper and wider keeping its function, into a new run to train on.
    Grow(crate::commands::grow::GrowArgs),
    /// Prune a transformer run: magnitude (kept zero through further training), attention heads,
    /// or MLP neurons (a smaller model), into a new run to train on.
    Prune(crate::commands::prune::PruneArgs),
    /// Tasks with checkable answers (addition, sorting, Countdown): make task files, write their
    /// worked solutions as training text.
    #[command(subcommand)]
    Tasks(crate::commands::tasks::TasksCommand),
    /// Reinforcement learning with verifiable rewards: GRPO (plain, Scaf-GRPO, decaying hints) and
    /// pass@1 by difficulty.
    #[command(subcommand)]
    Rl(crate::commands::rl::RlCommand),
}

/// `lmlab train`: a family's subcommand, or `--recipe`.
#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct TrainArgs {
    #[command(subcommand)]
    pub command: Option<TrainCommand>,
    #[command(flatten)]
    pub recipe: Option<RecipeArgs>,
}

/// `lmlab train --recipe R.toml --train F -o OUT`.
#[derive(Args, Debug)]
pub struct RecipeArgs {
    /// A recipe file (TOML or JSON): family and options, tokenizer, sequences, budget, seed.
    #[arg(long, required = true)]
    pub recipe: PathBuf,
    /// Training text (UTF-8).
    #[arg(long, required = true)]
    pub train: PathBuf,
    /// Validation text: neural families validate on it; every family is evaluated on it.
    #[arg(long)]
    pub valid: Option<PathBuf>,
    /// Test text, evaluated after training.
    #[arg(long)]
    pub test: Option<PathBuf>,
    /// Where the model goes: a model file, or a run directory for neural families.
    #[arg(short, long, required = true)]
    pub output: PathBuf,
    /// Neural: continue the run in the output directory from its checkpoint.
    #[arg(long, conflicts_with = "force")]
    pub resume: bool,
    /// Neural: start afresh in an output directory that holds a checkpoint.
    #[arg(long)]
    pub force: bool,
    /// Print the run record as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Model families to train.
#[derive(Subcommand, Debug)]
pub enum TrainCommand {
    /// An interpolated unigram-bigram model (Witten-Bell or add-k): small, fast, a real baseline.
    Baseline(BaselineArgs),
    /// An interpolated modified Kneser-Ney n-gram model, computed exactly as KenLM's lmplz.
    Ngram(NgramArgs),
    /// A generalized language model (Pickhardt et al. 2014): modified Kneser-Ney interpolated over
    /// skipped histories as well as shortened ones.
    Glm(GlmArgs),
    /// A memory-based model (IGTree or TRIBL2, as TiMBL) over the K previous tokens.
    Memory(MemoryArgs),
    /// A decoder-only transformer on lmlab's CPU engine (config: TOML or JSON).
    Transformer(NeuralArgs),
    /// An LSTM language model on lmlab's CPU engine (config with model.arch = "lstm").
    Lstm(NeuralArgs),
}

/// `lmlab train transformer|lstm`.
#[derive(Args, Debug)]
pub struct NeuralArgs {
    /// The run config (TOML or JSON): model shape, training loop, tokenizer, sequences.
    #[arg(long)]
    pub config: PathBuf,
    /// Training text (UTF-8).
    #[arg(long)]
    pub train: PathBuf,
    /// Validation text (UTF-8).
    #[arg(long)]
    pub valid: PathBuf,
    /// The run directory: config, tokenizer, checkpoint, report.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Continue the run in the output directory from its checkpoint (the config and the training
    /// and validation texts must be unchanged).
    #[arg(long, conflicts_with = "force")]
    pub resume: bool,
    /// Start afresh in an output directory that holds a checkpoint, discarding it.
    #[arg(long)]
    pub force: bool,
    /// Override train.max_steps of the config.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_steps: Option<u64>,
    /// Override train.precision of the config: f32, or bf16 (matrix products on bf16 operands
    /// with f32 sums; CPUs with AVX512_BF16 only).
    #[arg(long)]
    pub precision: Option<String>,
    /// Stop cleanly once the run has spent this many CPU seconds (a checkpoint is kept).
    #[arg(long, value_parser = parse_positive, allow_negative_numbers = true)]
    pub budget: Option<f64>,
    /// Pause after this many steps with a checkpoint (continue with --resume).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub stop_after: Option<u64>,
    /// Distil from this model (model file or run directory, the student's tokenizer); repeated:
    /// from their mixture, weighted by EM on the validation text. Sets the config's [train] distill.
    #[arg(long)]
    pub teacher: Vec<PathBuf>,
    /// Distillation temperature τ > 0 (default: the library's, 2).
    #[arg(long, requires = "teacher", allow_negative_numbers = true)]
    pub distill_temperature: Option<f64>,
    /// Weight α ∈ [0, 1] of τ²·KL(teacher ‖ student); 1 − α goes to the cross-entropy (default 0.5).
    #[arg(long, requires = "teacher", allow_negative_numbers = true)]
    pub distill_weight: Option<f64>,
    /// Print the final report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Memory-based algorithms.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlgorithmKind {
    /// Exact-match descent of a trie ordered by gain ratio (TiMBL -a1).
    Igtree,
    /// Exact match to the first mismatch, then nearest neighbours below it (TiMBL -a4).
    Tribl2,
}

/// `lmlab train memory`.
#[derive(Args, Debug)]
pub struct MemoryArgs {
    /// Training text (UTF-8).
    #[arg(long)]
    pub input: PathBuf,
    /// Where to write the model file.
    #[arg(short, long)]
    pub output: PathBuf,
    /// The algorithm.
    #[arg(long, value_enum, default_value = "igtree")]
    pub algorithm: AlgorithmKind,
    /// K: how many previous tokens are the features (OLIFANT uses 4).
    #[arg(long, default_value_t = lmlab_memory::DEFAULT_CONTEXT as u64, value_parser = clap::value_parser!(u64).range(1..=64))]
    pub context: u64,
    /// Prune subtrees whose instances all agree with their parent's prediction (TiMBL's IGTree).
    #[arg(long)]
    pub prune: bool,
    #[command(flatten)]
    pub tokenizer: TokenizerArgs,
    #[command(flatten)]
    pub sequences: SequencesArg,
    /// Print the training record as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Memory-based model tools.
#[derive(Subcommand, Debug)]
pub enum MemoryCommand {
    /// Why the model predicts what it predicts after a context: matched depth, backing instances,
    /// top candidates with counts.
    Explain(ExplainArgs),
    /// Add the instances of more text to an existing model, without retraining.
    Add(AddArgs),
}

/// `lmlab memory explain`.
#[derive(Args, Debug)]
pub struct ExplainArgs {
    /// The memory model file.
    pub model: PathBuf,
    /// The context (text after the start of a sequence); only its last K tokens are used.
    #[arg(long, default_value = "")]
    pub context: String,
    /// How many candidates to list.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    pub top_k: u64,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `lmlab memory add`.
#[derive(Args, Debug)]
pub struct AddArgs {
    /// The memory model file.
    pub model: PathBuf,
    /// More training text (UTF-8), read with the model's tokenizer and sequence mode.
    #[arg(long)]
    pub input: PathBuf,
    /// Where to write the grown model (may be the same file: the write is atomic).
    #[arg(short, long)]
    pub output: PathBuf,
}

/// The tokenizer a model is trained over, learned from the training text or read from a file.
#[derive(Args, Debug)]
pub struct TokenizerArgs {
    /// Tokenizer to learn from the training text.
    #[arg(
        long,
        value_enum,
        default_value = "words",
        conflicts_with = "tokenizer_file"
    )]
    pub tokenizer: TokenizerKind,
    /// Use a tokenizer file instead (from `lmlab tokenizer train`).
    #[arg(long)]
    pub tokenizer_file: Option<PathBuf>,
    /// words: keep at most this many words (the same as --vocab-size).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..), conflicts_with = "vocab_size")]
    pub max_words: Option<u64>,
    /// words: keep words seen at least this often.
    #[arg(long, default_value_t = 1)]
    pub min_count: u64,
    /// Learned vocabulary size, specials not counted: bpe, scaffold-bpe: 256 bytes + merges
    /// (default 4096); words, chars: keep at most this many, most frequent first (default: all).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub vocab_size: Option<u64>,
}

/// `lmlab train ngram`.
#[derive(Args, Debug)]
pub struct NgramArgs {
    /// Training text (UTF-8).
    #[arg(long)]
    pub input: PathBuf,
    /// Where to write the model file.
    #[arg(short, long)]
    pub output: PathBuf,
    /// The order N (1 = unigrams), any value from 1 to 64.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=64))]
    pub order: u64,
    /// When an order's closed-form discounts are out of range, use these (D1 D2 D3+; default 0.5 1 1.5)
    /// instead of stopping with an error, as KenLM's --discount_fallback. Without this flag such an
    /// order is an error (lmplz's default), and the message says which order and count.
    #[arg(long, num_args = 0..=3, value_name = "D", allow_negative_numbers = true)]
    pub discount_fallback: Option<Vec<f64>>,
    /// Count-threshold pruning exactly as lmplz's --prune: one threshold per order starting with the
    /// unigrams (which must be 0: unigrams are never pruned), the last repeating for higher orders;
    /// n-grams whose adjusted count is at most their order's threshold are dropped. E.g. `0 0 1`.
    #[arg(long, num_args = 1..)]
    pub prune: Vec<u64>,
    /// Memory setting, as KenLM's -S (e.g. 500M, 2G, 80%; no unit = KiB): when the counts could
    /// outgrow it (12 bytes per token to count, up to 16 per token and order to keep), finished
    /// orders wait in --temp instead of memory, giving the same model. Counting itself still
    /// needs its 12 bytes per token. Default: no limit (everything in memory).
    #[arg(long, value_name = "SIZE", value_parser = parse_memory)]
    pub memory: Option<u64>,
    /// Directory for the temporary files of --memory (default: the system temp dir).
    #[arg(long, value_name = "DIR")]
    pub temp: Option<PathBuf>,
    #[command(flatten)]
    pub tokenizer: TokenizerArgs,
    #[command(flatten)]
    pub sequences: SequencesArg,
    /// Print the training record as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `lmlab train glm`.
#[derive(Args, Debug)]
pub struct GlmArgs {
    /// Training text (UTF-8).
    #[arg(long)]
    pub input: PathBuf,
    /// Where to write the model file.
    #[arg(short, long)]
    pub output: PathBuf,
    /// The order N, from 2 to 7.
    #[arg(long)]
    pub order: u64,
    /// Which history words may be skipped: all (the paper's GLM) or none (modified Kneser-Ney,
    /// equal to `lmlab train ngram`).
    #[arg(long, default_value = "all")]
    pub skips: String,
    /// As for `lmlab train ngram`: when a skip pattern's closed-form discounts are out of range,
    /// use these (D1 D2 D3+; default 0.5 1 1.5) instead of stopping with an error.
    #[arg(long, num_args = 0..=3, value_name = "D", allow_negative_numbers = true)]
    pub discount_fallback: Option<Vec<f64>>,
    /// Memory setting, as KenLM's -S (e.g. 500M, 2G; no unit = KiB): the token stream (4 bytes per
    /// token) stays in memory; a skip pattern whose sort (16 bytes per token) and counts do not
    /// fit the rest is sorted in runs spilled to --temp and merged, giving the same model. Each
    /// pattern goes to the model file as soon as it is counted. A setting below the stream plus
    /// 64 KiB is refused. Default: no limit. Skipping multiplies the tables: an order-N GLM has
    /// 2^(N-1) skip patterns; on PTB it stores 1.4x / 2.2x / 3.7x MKN's entries at orders 3 / 4 /
    /// 5, in 0.7x / 1.4x / 2.9x the model file bytes.
    #[arg(long, value_name = "SIZE", value_parser = parse_memory)]
    pub memory: Option<u64>,
    /// Directory for the temporary files of --memory (default: the system temp dir).
    #[arg(long, value_name = "DIR")]
    pub temp: Option<PathBuf>,
    #[command(flatten)]
    pub tokenizer: TokenizerArgs,
    #[command(flatten)]
    pub sequences: SequencesArg,
    /// Print the training record as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Parses `--memory` (KenLM's -S sizes).
fn parse_memory(text: &str) -> Result<u64, String> {
    lmlab_ngram::parse_memory_size(text).map_err(|e| e.to_string())
}

/// N-gram tools.
#[derive(Subcommand, Debug)]
pub enum NgramCommand {
    /// Write an n-gram model as an ARPA file (.gz or .xz compress it).
    ExportArpa(ExportArpaArgs),
    /// Read an ARPA file (plain, .gz, .xz) into an lmlab n-gram model.
    ImportArpa(ImportArpaArgs),
    /// Prune a finished n-gram model (lmlab file or ARPA) by counts (lmplz's --prune) or by
    /// relative entropy (Stolcke 1998, SRILM's -prune); backoff weights are recomputed.
    Prune(PruneArgs),
}

/// CD-LM chunks files.
#[derive(Subcommand, Debug)]
pub enum ChunksCommand {
    /// Run TARGET over a corpus and keep the chunks CD-LM keeps: maximal runs of tokens the target
    /// predicts with probability above --threshold, each entered by the token before it and keyed
    /// by the target's final hidden state there.
    Build(ChunksBuildArgs),
}

/// `lmlab chunks build`.
#[derive(Args, Debug)]
pub struct ChunksBuildArgs {
    /// The target: a transformer run directory or an exported neural model file.
    pub target: PathBuf,
    /// The corpus (UTF-8), usually the target's training text.
    #[arg(long)]
    pub input: PathBuf,
    /// Where to write the chunks file.
    #[arg(short, long)]
    pub output: PathBuf,
    /// A chunk token's target probability must exceed this, in (0, 1) (default 0.3).
    #[arg(long, allow_negative_numbers = true)]
    pub threshold: Option<f64>,
    /// The fewest tokens after a chunk's entry (default 2; the authors' code keeps 1).
    #[arg(long)]
    pub min_tokens: Option<usize>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Sequence mode (default: the one the target was trained with).
    #[command(flatten)]
    pub sequences: SequencesArg,
}

/// `lmlab ngram prune`.
#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("criterion").required(true).args(["count", "entropy"])))]
pub struct PruneArgs {
    /// The n-gram model: an lmlab model file or an ARPA file (plain, .gz, .xz).
    pub model: PathBuf,
    /// Where to write the pruned model (ARPA when the name contains `.arpa`).
    #[arg(short, long)]
    pub output: PathBuf,
    /// Count thresholds as lmplz's --prune, one per order from the unigrams (which must be 0), the
    /// last repeating: n-grams whose raw count in --input is at most their order's threshold go.
    #[arg(long, num_args = 1.., value_name = "T", requires = "input")]
    pub count: Option<Vec<u64>>,
    /// Relative-entropy threshold (SRILM's -prune): drop an n-gram when removing it raises the
    /// model's perplexity by less than this relative amount (e.g. 1e-8).
    #[arg(long, value_name = "THRESHOLD", allow_hyphen_values = true, conflicts_with = "input",
          value_parser = parse_entropy)]
    pub entropy: Option<f64>,
    /// The training text of the model (needed by --count: a finished model stores no counts).
    #[arg(long)]
    pub input: Option<PathBuf>,
}

/// Parses `--entropy`.
fn parse_entropy(text: &str) -> Result<f64, String> {
    lmlab_ngram::prune_built::parse_entropy_threshold(text).map_err(|e| e.to_string())
}

/// `lmlab ngram export-arpa`.
#[derive(Args, Debug)]
pub struct ExportArpaArgs {
    /// The n-gram model file.
    pub model: PathBuf,
    /// The ARPA file to write.
    #[arg(short, long)]
    pub output: PathBuf,
}

/// `lmlab ngram import-arpa`.
#[derive(Args, Debug)]
pub struct ImportArpaArgs {
    /// The ARPA file.
    pub arpa: PathBuf,
    /// The model file to write.
    #[arg(short, long)]
    pub output: PathBuf,
}

/// `lmlab predict`.
#[derive(Args, Debug)]
pub struct PredictArgs {
    /// The model file (any kind).
    pub model: PathBuf,
    /// The context (text after the start of a sequence).
    #[arg(long, default_value = "")]
    pub context: String,
    /// How many tokens to list.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    pub top_k: u64,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Tokenizers a model can be trained over.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenizerKind {
    /// Whitespace-separated words, closed vocabulary from the training text, `<unk>` for the rest.
    Words,
    /// UTF-8 bytes.
    Bytes,
    /// Unicode characters seen in the training text, `<unk>` for the rest.
    Chars,
    /// Byte-level BPE (GPT-2 pre-tokenization by default).
    Bpe,
    /// Scaffold-BPE (Lian et al., AAAI-25).
    ScaffoldBpe,
}

/// Smoothing of the baseline.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmoothingKind {
    /// Witten-Bell (no parameter).
    WittenBell,
    /// Add-k with a unigram prior (set k with --k).
    AddK,
}

/// How the training/evaluation text is cut into sequences.
#[derive(Args, Debug, Clone)]
pub struct SequencesArg {
    /// line: each line a sequence; paragraph: blank-line-separated blocks; stream: the whole file one
    /// sequence with an end token after every line.
    #[arg(long, value_parser = parse_sequences)]
    pub sequences: Option<SequenceMode>,
}

/// `lmlab train baseline`.
#[derive(Args, Debug)]
pub struct BaselineArgs {
    /// Training text (UTF-8).
    #[arg(long)]
    pub input: PathBuf,
    /// Where to write the model file.
    #[arg(short, long)]
    pub output: PathBuf,
    #[command(flatten)]
    pub tokenizer: TokenizerArgs,
    /// Smoothing method.
    #[arg(long, value_enum, default_value = "witten-bell")]
    pub smoothing: SmoothingKind,
    /// The add-k pseudo-count (> 0).
    #[arg(long, default_value_t = lmlab_lab::recipe::DEFAULT_ADD_K, value_parser = parse_positive, allow_negative_numbers = true)]
    pub k: f64,
    #[command(flatten)]
    pub sequences: SequencesArg,
    /// Print the training record as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `lmlab eval`.
#[derive(Args, Debug)]
pub struct EvalArgs {
    /// The model file (any kind).
    pub model: PathBuf,
    /// Text to evaluate (UTF-8).
    #[arg(long)]
    pub input: PathBuf,
    /// Also write the per-token probability file (`*.probs.tsv`).
    #[arg(long)]
    pub probs: Option<PathBuf>,
    /// Also top-1 / top-5 next-token accuracy (a memory model's top-1 is its classifier's answer,
    /// TiMBL's accuracy), expected calibration error and the reliability table. Computes the whole
    /// next-token distribution at every token: slower than perplexity alone.
    #[arg(long)]
    pub accuracy: bool,
    /// Write lm-evaluation-harness-shaped output to this folder: results.json and
    /// samples_<input>.jsonl (one line per sequence).
    #[arg(long)]
    pub output_path: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// Sequence mode (default: the one the model was trained with).
    #[command(flatten)]
    pub sequences: SequencesArg,
    /// CD-LM's perplexity with this chunks file (`lmlab chunks build`): the target's token
    /// probabilities mixed with retrieved chunks, every segmentation summed.
    #[arg(long, conflicts_with_all = ["probs", "accuracy", "output_path"])]
    pub chunks: Option<PathBuf>,
    /// CD-LM's similarity thresholds in [-1, 1], comma-separated (1 = the target alone; default 0.9).
    #[arg(
        long,
        requires = "chunks",
        value_delimiter = ',',
        allow_negative_numbers = true
    )]
    pub similarity: Vec<f64>,
}

/// `lmlab eval-pairs` (a command of its own: `eval` takes the model as its first argument, so an
/// `eval pairs` subcommand would clash with a model file named `pairs`).
#[derive(Args, Debug)]
pub struct EvalPairsArgs {
    /// The model file or run directory (any kind).
    pub model: PathBuf,
    /// jsonl files of pairs (`sentence_good`, `sentence_bad`; `UID`, `linguistics_term` when
    /// present), or directories of them (their `*.jsonl`, sorted by name).
    #[arg(long, num_args = 1.., required = true)]
    pub input: Vec<PathBuf>,
    /// Do not score the end token `</s>` after each sentence (the paper scores it).
    #[arg(long)]
    pub no_eos: bool,
    /// The folder of the paper's accuracies (models_summary.jsonl, human_validation_summary.csv);
    /// default: `published/` beside the inputs, when there.
    #[arg(long)]
    pub published: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `lmlab ensemble`.
#[derive(Args, Debug)]
pub struct EnsembleArgs {
    /// Dev probability files, one per model: the weights are fitted on these.
    #[arg(long, num_args = 1.., required = true)]
    pub dev: Vec<PathBuf>,
    /// Test probability files of the same models, in the same order.
    #[arg(long, num_args = 1..)]
    pub test: Vec<PathBuf>,
    /// Write the ensemble's own probability file (of test, or of dev without --test).
    #[arg(long)]
    pub write_probs: Option<PathBuf>,
    /// Most EM iterations.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub max_iterations: u64,
    /// Stop when the relative dev log-likelihood gain falls below this.
    #[arg(long, default_value_t = 1e-10, value_parser = parse_non_negative, allow_negative_numbers = true)]
    pub tolerance: f64,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// Also print the dev log-likelihood of every EM iteration.
    #[arg(long, short)]
    pub verbose: bool,
}

/// `lmlab compare`.
#[derive(Args, Debug)]
pub struct CompareArgs {
    /// Probability file of model A (`*.probs.tsv`).
    pub a: PathBuf,
    /// Probability file of model B, over the same text: differences are B − A.
    pub b: PathBuf,
    /// Bootstrap resamples of the sequences.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    pub resamples: u64,
    /// Seed of the bootstrap: the same seed gives the same numbers.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Tokens (and contexts) to list each way.
    #[arg(long, default_value_t = 10)]
    pub top: usize,
    /// Also list the contexts of N preceding tokens with the largest gains.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=100))]
    pub context: Option<u64>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Probability-file conversions.
#[derive(Subcommand, Debug)]
pub enum ProbsCommand {
    /// One probability per line + one token per line → `*.probs.tsv`.
    Import(ImportArgs),
    /// `*.probs.tsv` → one probability per line (and optionally one token per line).
    Export(ExportArgs),
}

/// `lmlab probs import`.
#[derive(Args, Debug)]
pub struct ImportArgs {
    /// The token of every line (e.g. sota_lm's words_test.txt).
    #[arg(long)]
    pub words: PathBuf,
    /// The probability of every line.
    #[arg(long)]
    pub probs: PathBuf,
    /// Model name for the header (default: the probability file's stem).
    #[arg(long)]
    pub model: Option<String>,
    /// Output `*.probs.tsv`.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Print what was written as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `lmlab probs export`.
#[derive(Args, Debug)]
pub struct ExportArgs {
    /// Input `*.probs.tsv`.
    pub input: PathBuf,
    /// Output: one probability per line.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Also write one token per line here.
    #[arg(long)]
    pub words: Option<PathBuf>,
}

/// `lmlab generate`.
#[derive(Args, Debug)]
pub struct GenerateArgs {
    /// The model file (any kind).
    pub model: PathBuf,
    /// Text to continue (default: start a new sequence).
    #[arg(long, default_value = "")]
    pub prompt: String,
    /// Random seed: same seed, model and prompt give the same text.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Most tokens to generate (stops earlier at the end token, unless --ignore-eos).
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub max_tokens: u64,
    /// Softmax temperature (0: greedy, the most likely token every time).
    #[arg(long, default_value_t = 1.0, value_parser = parse_non_negative, allow_negative_numbers = true)]
    pub temperature: f64,
    /// Greedy decoding: always the most likely token (the same as --temperature 0).
    #[arg(long, conflicts_with = "temperature")]
    pub greedy: bool,
    /// How many samples to draw: sample i uses seed SEED + i, so each can be redrawn alone.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub num_samples: u64,
    /// Go on past the end token `</s>` until --max-tokens (it is printed as a newline). Models
    /// trained with `--sequences stream` always do.
    #[arg(long)]
    pub ignore_eos: bool,
    /// Byte-level tokenizers: allow control characters and bytes that are not valid UTF-8 (by
    /// default such tokens are never sampled).
    #[arg(long)]
    pub raw_bytes: bool,
    /// Print JSON (the samples with their seeds, ids and text) instead of text.
    #[arg(long)]
    pub json: bool,
    /// Sample only among the k most likely tokens (0: all).
    #[arg(long, default_value_t = 0)]
    pub top_k: usize,
    /// Sample only among the most likely tokens whose probabilities add up to p (nucleus; 1: all).
    #[arg(long, default_value_t = 1.0, value_parser = parse_unit_interval, allow_negative_numbers = true)]
    pub top_p: f64,
    /// Speculative decoding: this model (any kind, the same tokenizer) proposes tokens that MODEL
    /// checks, several per call; the output is distributed as MODEL's alone.
    #[arg(long)]
    pub draft: Option<PathBuf>,
    /// Tokens the draft proposes per call of MODEL (default 4; 1 to 64).
    #[arg(long, requires = "draft")]
    pub draft_tokens: Option<usize>,
    /// CD-LM: a chunks file built for MODEL (`lmlab chunks build`); a chunk whose entry state is
    /// within --similarity of MODEL's is emitted without MODEL predicting its tokens (not lossless).
    #[arg(long, conflicts_with = "draft")]
    pub chunks: Option<PathBuf>,
    /// CD-LM's cosine-similarity threshold in [-1, 1]; 1 turns retrieval off (default 0.9).
    #[arg(long, requires = "chunks", allow_negative_numbers = true)]
    pub similarity: Option<f64>,
}

/// `lmlab info`.
#[derive(Args, Debug)]
pub struct InfoArgs {
    /// The model file or neural run directory.
    pub model: PathBuf,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `lmlab export`.
#[derive(Args, Debug)]
pub struct ExportRunArgs {
    /// The neural run directory.
    pub run: PathBuf,
    /// The model file to write (`*.lmlab`).
    #[arg(short, long)]
    pub output: PathBuf,
    /// Print what was written as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `lmlab experiment ...`.
#[derive(Subcommand, Debug)]
pub enum ExperimentCommand {
    /// Run (or finish) an experiment: its runs go to DIR/runs, its results to DIR/results.sqlite.
    Run(ExperimentRunArgs),
    /// Run one run of an experiment folder (what `run` starts in a child process per run).
    #[command(hide = true)]
    RunOne(RunOneArgs),
    /// Where an experiment stands: runs finished, failed and pending against its plan, and the
    /// failures' errors (first records in the store any runs it lacks).
    Status(ExperimentDirArgs),
    /// Rebuild DIR/results.sqlite from the runs' run.json and failed.json files.
    Reindex(ExperimentDirArgs),
    /// Cancel the Slurm jobs of an experiment run with `--executor slurm` (its coordinator, if
    /// still running, records the cancelled runs as failed and stops).
    Cancel(ExperimentDirArgs),
}

/// `lmlab experiment status|reindex DIR`.
#[derive(Args, Debug)]
pub struct ExperimentDirArgs {
    /// The experiment folder.
    pub dir: PathBuf,
    /// Print as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `lmlab results DIR`.
#[derive(Args, Debug)]
pub struct ResultsArgs {
    /// The experiment folder.
    pub dir: PathBuf,
    /// table (aligned text), csv, or json (lm-evaluation-harness's results layout).
    #[arg(long, value_enum, default_value_t = ResultsFormat::Table)]
    pub format: ResultsFormat,
}

/// How `lmlab results` prints.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResultsFormat {
    /// Aligned text.
    Table,
    /// Comma-separated values.
    Csv,
    /// lm-evaluation-harness's results.json layout.
    Json,
}

/// `lmlab experiment run`.
#[derive(Args, Debug)]
pub struct ExperimentRunArgs {
    /// The experiment file (TOML).
    pub experiment: PathBuf,
    /// The experiment folder (created if needed; re-running it skips finished runs).
    #[arg(long)]
    pub out: PathBuf,
    /// Print the runs and the CPU seconds they will take, run nothing.
    #[arg(long)]
    pub plan: bool,
    /// Runs at a time, each in its own process.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    pub jobs: u64,
    /// Threads per run (a run's budget counts the CPU seconds of all its threads).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    pub threads_per_run: u64,
    /// Where runs execute: local child processes, or Slurm job arrays (`lmlab experiment
    /// run-one` tasks; the experiment folder must be on a filesystem every node sees).
    #[arg(long, value_enum, default_value_t = ExecutorChoice::Local)]
    pub executor: ExecutorChoice,
    /// Slurm: the partition (default: the cluster's default partition).
    #[arg(long)]
    pub partition: Option<String>,
    /// Slurm: the account to charge.
    #[arg(long)]
    pub account: Option<String>,
    /// Slurm: a run's time limit is its budget × this factor, plus minutes for evaluation.
    #[arg(long, default_value_t = slurm::DEFAULT_TIME_FACTOR)]
    pub time_factor: f64,
    /// Slurm: one more sbatch argument, passed as it is (repeatable), e.g. `--sbatch-arg=--mem=4G`.
    #[arg(long, allow_hyphen_values = true)]
    pub sbatch_arg: Vec<String>,
    /// Slurm: times a run that Slurm killed (time limit, memory, node failure, cancelled task)
    /// is submitted again.
    #[arg(long, default_value_t = slurm::DEFAULT_RETRIES)]
    pub retries: u32,
    /// Slurm: seconds between two looks at the cluster.
    #[arg(long, default_value_t = slurm::DEFAULT_POLL_SECONDS)]
    pub poll_seconds: f64,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Where `lmlab experiment run` executes runs.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExecutorChoice {
    /// Child processes on this machine, `--jobs` at a time.
    Local,
    /// Slurm job arrays.
    Slurm,
}

/// `lmlab report`.
#[derive(Args, Debug)]
pub struct ReportArgs {
    /// The experiment folder (`lmlab experiment run ... --out DIR`).
    pub dir: PathBuf,
    /// The HTML file to write.
    #[arg(short, long)]
    pub output: PathBuf,
}

/// `lmlab experiment run-one`.
#[derive(Args, Debug)]
pub struct RunOneArgs {
    /// The experiment folder.
    pub dir: PathBuf,
    /// The run's id.
    pub id: String,
}

/// `lmlab demo`.
#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Keep models, probability files and leaderboard.json here (default: a temporary folder).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Seed of the samples.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

fn parse_sequences(s: &str) -> Result<SequenceMode, String> {
    s.parse().map_err(|e: lmlab_core::Error| e.to_string())
}

fn parse_number(s: &str) -> Result<f64, String> {
    s.parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or_else(|| format!("'{s}' is not a finite number"))
}

fn parse_positive(s: &str) -> Result<f64, String> {
    parse_number(s).and_then(|v| {
        if v > 0.0 {
            Ok(v)
        } else {
            Err(format!("must be greater than 0, got {v}"))
        }
    })
}

fn parse_unit_interval(s: &str) -> Result<f64, String> {
    parse_number(s).and_then(|v| {
        if v > 0.0 && v <= 1.0 {
            Ok(v)
        } else {
            Err(format!("must lie in (0, 1], got {v}"))
        }
    })
}

fn parse_non_negative(s: &str) -> Result<f64, String> {
    parse_number(s).and_then(|v| {
        if v >= 0.0 {
            Ok(v)
        } else {
            Err(format!("must be 0 or more, got {v}"))
        }
    })
}

/// Tokenizer tools.
#[derive(Subcommand, Debug)]
pub enum TokenizerCommand {
    /// Learn a tokenizer from text files and write it as lmlab JSON.
    Train(TokenizerTrainArgs),
    /// Print the token ids of text, one line of ids per input line.
    Encode(EncodeArgs),
    /// Print the text of token ids.
    Decode(DecodeArgs),
    /// Bytes per token, tokens per word (fertility), vocabulary utilisation and unused tokens.
    Stats(StatsArgs),
    /// Write a Hugging Face tokenizer.json (bytes, bpe; scaffold-bpe only with --expanded-scaffold).
    ExportHf(ExportHfArgs),
}

/// `lmlab tokenizer train`.
#[derive(Args, Debug)]
pub struct TokenizerTrainArgs {
    /// Tokenizer kind.
    #[arg(long, value_enum)]
    pub kind: TokenizerKind,
    /// Training text files (UTF-8).
    #[arg(long, num_args = 1.., required = true)]
    pub input: Vec<PathBuf>,
    /// Where to write the tokenizer JSON.
    #[arg(short, long)]
    pub output: PathBuf,
    /// bpe, scaffold-bpe: learned vocabulary size (256 bytes + merges); words, chars: keep at most
    /// this many entries (most frequent first). Specials are not counted.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub vocab_size: Option<u64>,
    /// Smallest count kept (bpe: pair count to merge; words, chars: occurrences).
    #[arg(long, default_value_t = 0)]
    pub min_frequency: u64,
    /// bpe, scaffold-bpe: the pre-tokenization regex.
    #[arg(long, value_enum, default_value = "gpt2")]
    pub pattern: PatternKind,
    /// Extra special tokens (e.g. `<|endoftext|>`), never split and never produced from text.
    #[arg(long = "special", num_args = 1..)]
    pub specials: Vec<String>,
    /// chars: NFC-normalize text.
    #[arg(long)]
    pub nfc: bool,
    /// Print JSON (path, kind, vocabulary size, fingerprint) instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Pre-tokenization regexes.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatternKind {
    /// GPT-2's.
    Gpt2,
    /// cl100k-style (GPT-4's).
    Cl100k,
}

/// `lmlab tokenizer encode`.
#[derive(Args, Debug)]
pub struct EncodeArgs {
    /// The tokenizer JSON.
    pub tokenizer: PathBuf,
    /// Text to encode.
    #[arg(long, conflicts_with = "input", required_unless_present = "input")]
    pub text: Option<String>,
    /// A file to encode line by line.
    #[arg(long)]
    pub input: Option<PathBuf>,
    /// Encode literal special-token strings as the special tokens (default: as ordinary text).
    #[arg(long)]
    pub allow_special: bool,
    /// Print JSON: one object per input line with its ids and tokens.
    #[arg(long)]
    pub json: bool,
}

/// `lmlab tokenizer decode`.
#[derive(Args, Debug)]
pub struct DecodeArgs {
    /// The tokenizer JSON.
    pub tokenizer: PathBuf,
    /// Token ids separated by spaces or commas.
    #[arg(long)]
    pub ids: String,
}

/// `lmlab tokenizer stats`.
#[derive(Args, Debug)]
pub struct StatsArgs {
    /// The tokenizer JSON.
    pub tokenizer: PathBuf,
    /// Text to measure.
    #[arg(long)]
    pub input: PathBuf,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `lmlab tokenizer export-hf`.
#[derive(Args, Debug)]
pub struct ExportHfArgs {
    /// The tokenizer JSON.
    pub tokenizer: PathBuf,
    /// Where to write tokenizer.json.
    #[arg(short, long)]
    pub output: PathBuf,
    /// scaffold-bpe: export the expanded vocabulary (scaffold tokens included) as plain BPE. Its ids
    /// are those before demolition, so they differ from lmlab's.
    #[arg(long)]
    pub expanded_scaffold: bool,
}

/// `lmlab eval-probes`. Unset numbers take BYOD's defaults (lmlab_lab::probes::ProbeSettings).
#[derive(Args, Debug)]
pub struct EvalProbesArgs {
    /// The model file or run directory (any kind).
    pub model: PathBuf,
    /// The text: one document per line (long-range needs two lines of over 100 words, word order
    /// one of over 20).
    #[arg(long)]
    pub input: PathBuf,
    /// Seeds the random sentence choices, swaps and shuffles, as BYOD's `random.seed` [default: 42].
    #[arg(long)]
    pub seed: Option<u64>,
    /// Most examples per probe [default: 1000].
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_examples: Option<u64>,
    /// The tokenization probe cuts each sentence every this many characters [default: 5].
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub cut_every: Option<u64>,
    /// Print JSON (with every example's score) instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `lmlab analyze`.
#[derive(Args, Debug)]
pub struct AnalyzeArgs {
    /// The neural run directory.
    pub run: PathBuf,
    /// Metrics, comma-separated: cka, pwcca, per, condition_number, gini, hoyer, frobenius,
    /// nuclear, inf (default: all).
    #[arg(long, value_delimiter = ',')]
    pub metrics: Vec<String>,
    /// Layers, comma-separated (default: all).
    #[arg(long, value_delimiter = ',')]
    pub layers: Vec<usize>,
    /// The saved step CKA and PWCCA compare each step with (default: the last saved step).
    #[arg(long)]
    pub compare_to: Option<usize>,
    /// Also plot each attention head's OV circuit (the heads together are always plotted).
    #[arg(long)]
    pub plot_heads: bool,
    /// He & Su's equi-learning law instead: each layer's least-squares prediction residual of the
    /// next token and the fitted per-layer ratio, per saved step.
    #[arg(long)]
    pub law: bool,
    /// Where the run agrees with this model file (an n-gram or memory-based model over the run's
    /// tokenizer) instead: per context length, top-1 agreement and KL(neural ‖ model) at each
    /// saved step, over the text of --input.
    #[arg(long, value_name = "MODEL", requires = "input", conflicts_with = "law")]
    pub agree_with: Option<PathBuf>,
    /// The held-out text of --agree-with.
    #[arg(long, value_name = "TEXT", requires = "agree_with")]
    pub input: Option<PathBuf>,
    /// With --agree-with: the longest context length with a row of its own (default: the run's
    /// context window less one; 64 for an LSTM).
    #[arg(long, requires = "agree_with")]
    pub max_context: Option<usize>,
    /// Print the analysis as JSON instead of a summary.
    #[arg(long)]
    pub json: bool,
}

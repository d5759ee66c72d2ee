//! lmlab-neural: lmlab's own CPU engine for small neural language models — layers with explicit
//! forward and backward passes over preallocated buffers, a decoder-only transformer built from them,
//! AdamW training with checkpoints, and the [`lmlab_core::LanguageModel`] face of a trained run.

pub mod budget;
pub mod cdlm;
pub mod checkpoint;
pub mod config;
pub mod data;
pub mod derived_run;
pub mod distill;
pub mod dynamics;
pub mod export;
pub mod float;
pub mod gemm;
pub mod grow;
pub mod grpo;
pub mod layers;
pub mod ledger;
pub mod lm;
pub mod merge;
pub mod model;
pub mod optim;
pub mod prune;
pub mod run_files;
mod simd;
mod team;
pub mod train;

pub use config::RunConfig;
pub use lm::{load_model, LstmModel, NeuralLm, TransformerModel};
pub use train::{train, TrainEvent, TrainOptions, TrainReport};

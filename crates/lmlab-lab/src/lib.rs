//! lmlab-lab: what runs experiments over the model crates — one recipe for every family, training
//! runs with compute accounting and provenance, loading any model kind from its file, ensembles and comparisons of probability files, and the demo.

pub mod agreement;
pub mod cdlm;
pub mod compare;
pub mod demo;
pub mod dynamics;
pub mod ensembles;
pub mod evaluation;
pub mod experiment;
pub mod info;
pub mod pairs;
pub mod plot;
pub mod probes;
pub mod recipe;
pub mod registry;
pub mod rl;
pub mod run;
pub mod stories;
pub mod tasks;
pub mod teacher;
pub mod tokenizer_stats;
pub mod training;

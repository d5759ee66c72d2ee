//! lmlab-lab: what runs experiments over the model crates — loading any model kind from its file,
//! training runs with compute accounting and provenance, ensembles and comparisons of probability files, and the demo.

pub mod compare;
pub mod demo;
pub mod ensembles;
pub mod info;
pub mod pairs;
pub mod plot;
pub mod registry;
pub mod stories;
pub mod tokenizer_stats;
pub mod training;

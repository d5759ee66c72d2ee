//! ARPA back-off files, plain or compressed (`.gz`, `.xz`): export of any n-gram model and import
//! into a model over a words tokenizer built from the file's unigrams.

mod compress;
mod read;
mod write;

pub use read::read_arpa;
pub use write::{write_arpa, write_arpa_to};

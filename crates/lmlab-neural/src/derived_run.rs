//! A run directory made from weights computed out of other runs (a merge, a grown model): config,
//! tokenizer and a checkpoint at step 0 with a fresh optimizer (zero AdamW moments) and the batch
//! sampler where a new run of the config starts, so every command reads it like a trained run and
//! `lmlab train transformer --config OUT/config.json ... -o OUT --resume` trains it further.

use crate::checkpoint::{self, Checkpoint};
use crate::config::RunConfig;
use crate::data::Batcher;
use crate::train::files;
use lmlab_core::atomic::write_bytes_atomically;
use lmlab_core::{Error, Result, Tokenizer};
use std::path::Path;

/// Refuses an output that exists and is not an empty directory (a derived run never overwrites).
pub fn refuse_used_output(out: &Path) -> Result<()> {
    let used = match std::fs::read_dir(out) {
        Ok(mut entries) => entries.next().is_some(),
        Err(_) => out.exists(),
    };
    if used {
        return Err(Error::invalid(format!(
            "{}: the output exists and is not an empty directory; give a new run directory",
            out.display()
        )));
    }
    Ok(())
}

/// Writes `params` of `config` with `tokenizer` as a new run directory at `out`.
pub fn write_derived_run(
    out: &Path,
    config: RunConfig,
    params: Vec<f32>,
    tokenizer: &dyn Tokenizer,
) -> Result<()> {
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    let zeros = vec![0f32; params.len()];
    let checkpoint = Checkpoint {
        rng: Batcher::new(config.train.seed.wrapping_add(1)).state(),
        config,
        params,
        adam_m: zeros.clone(),
        adam_v: zeros,
        adam_t: 0,
        step: 0,
        tokens_seen: 0,
        tokenizer_fingerprint: tokenizer.fingerprint(),
        val_history: Vec::new(),
    };
    let config_json = serde_json::to_string_pretty(&checkpoint.config).expect("config serializes");
    write_bytes_atomically(&out.join(files::CONFIG), config_json.as_bytes())?;
    lmlab_tokenize::save_tokenizer_file(tokenizer, &out.join(files::TOKENIZER))?;
    checkpoint.save(&out.join(checkpoint::FILE_NAME))
}

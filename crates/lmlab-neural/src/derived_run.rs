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

/// Writes the weights of the run in `run_dir` as a new run directory at `out` (step 0, fresh
/// optimizer): training it continues from the parent's weights. A pruned parent's
/// `pruning.json` comes along, so its zeros stay zero.
pub fn restart_run(run_dir: &Path, out: &Path) -> Result<()> {
    let (ck, tokenizer) = crate::lm::load_parts(run_dir)?;
    refuse_used_output(out)?;
    write_derived_run(out, ck.config, ck.params, tokenizer.as_ref())?;
    let mask = run_dir.join(crate::prune::FILE_NAME);
    if mask.is_file() {
        let bytes = std::fs::read(&mask).map_err(|e| Error::io(&mask, e))?;
        write_bytes_atomically(&out.join(crate::prune::FILE_NAME), &bytes)?;
    }
    Ok(())
}

/// Gives the step-0 derived run at `out` another loop, tokenizer spec or sequence mode: its
/// checkpoint and `config.json` then record `config` (whose model must be the run's), and its
/// batch sampler starts where a new run of `config` starts.
pub fn retarget_derived_run(out: &Path, config: RunConfig) -> Result<()> {
    let path = out.join(checkpoint::FILE_NAME);
    let mut ck = Checkpoint::load(&path)?;
    if ck.step != 0 {
        return Err(Error::invalid(format!(
            "{}: at step {}, not a derived run at step 0",
            out.display(),
            ck.step
        )));
    }
    let mut reshaped = ck.config.clone();
    reshaped.model = config.model.clone();
    if let Some(field) = ck.config.first_difference(&reshaped) {
        return Err(Error::Mismatch(format!(
            "{}: the new config's model differs from the run's in `{field}`",
            out.display()
        )));
    }
    ck.rng = Batcher::new(config.train.seed.wrapping_add(1)).state();
    ck.config = config;
    let config_json = serde_json::to_string_pretty(&ck.config).expect("config serializes");
    write_bytes_atomically(&out.join(files::CONFIG), config_json.as_bytes())?;
    ck.save(&path)
}

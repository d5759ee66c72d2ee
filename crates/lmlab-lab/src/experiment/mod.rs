//! Experiments: a question as one file ([`spec`]), run by the [`runner`] into a folder, collected
//! in a results store and reported.
//!
//! An experiment folder `DIR` holds:
//! - `experiment.json`: the experiment as last run ([`ExperimentState`]: the spec with absolute
//!   data paths, and the data files' digests, which later runs must match);
//! - `runs/<id>/`: one folder per run, written only by that run: the model (`model.lmlab`, or the
//!   run directory `model/` for neural families), `valid.probs.tsv`, `test.probs.tsv`, and last,
//!   atomically, `run.json` ([`RunEntry`]), or `failed.json` ([`RunFailure`]) when it failed;
//! - `results.sqlite`: the store, written only by the coordinating process, rebuilt from the
//!   `run.json` files by `reindex`;
//! - `lock`: held by the `run` in progress;
//! - `slurm/`: with the Slurm executor, its scripts, task logs and submitted arrays
//!   ([`slurm`]).

pub mod claim;
pub mod derive;
pub mod report;
pub mod results;
pub mod runner;
pub mod slurm;
pub mod spec;
pub mod store;

use crate::run::{FileDigest, RunRecord};
use lmlab_core::atomic::write_bytes_atomically;
use lmlab_core::{Error, Result};
use serde::{Deserialize, Serialize};
use spec::ExperimentSpec;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The experiment as last run.
pub const STATE_FILE: &str = "experiment.json";
/// The folder of the runs.
pub const RUNS_DIR: &str = "runs";
/// A finished run's record, in its folder.
pub const RUN_FILE: &str = "run.json";
/// A failed run's error, in its folder.
pub const FAILED_FILE: &str = "failed.json";
/// The results store.
pub const STORE_FILE: &str = "results.sqlite";
/// The lock of the `run` in progress.
pub const LOCK_FILE: &str = "lock";

/// The folder of run `id`.
pub fn run_dir(dir: &Path, id: &str) -> PathBuf {
    dir.join(RUNS_DIR).join(id)
}

/// What `experiment.json` holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExperimentState {
    /// The spec, data paths absolute.
    pub spec: ExperimentSpec,
    /// The data files' digests by split, as when the experiment first ran.
    pub data: BTreeMap<String, FileDigest>,
}

impl ExperimentState {
    /// Reads `DIR/experiment.json` (`None` when the experiment has not run yet).
    pub fn load(dir: &Path) -> Result<Option<ExperimentState>> {
        let path = dir.join(STATE_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text)
                .map(Some)
                .map_err(|e| Error::bad_file(&path, e.to_string())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io(&path, e)),
        }
    }

    /// Writes `DIR/experiment.json` atomically.
    pub fn save(&self, dir: &Path) -> Result<()> {
        let json = serde_json::to_vec_pretty(self).expect("serializes");
        write_bytes_atomically(&dir.join(STATE_FILE), &json)
    }

    /// The data digests as run ids use them (split → sha256).
    pub fn data_sha256(&self) -> BTreeMap<String, String> {
        self.data
            .iter()
            .map(|(k, v)| (k.clone(), v.sha256.clone()))
            .collect()
    }
}

/// A finished run: what `runs/<id>/run.json` holds. Paths in the record (model, artifacts) are
/// relative to the run's folder.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunEntry {
    /// The run's id.
    pub id: String,
    /// The experiment's name.
    pub experiment: String,
    /// The arm's name.
    pub arm: String,
    /// When it finished (RFC 3339, UTC).
    pub finished: String,
    /// The run record.
    pub record: RunRecord,
}

/// A failed run: what `runs/<id>/failed.json` holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunFailure {
    /// The run's id.
    pub id: String,
    /// The experiment's name.
    pub experiment: String,
    /// The arm's name.
    pub arm: String,
    /// The recipe it ran.
    pub recipe: crate::recipe::Recipe,
    /// The error, as printed.
    pub error: String,
    /// When it failed (RFC 3339, UTC).
    pub failed: String,
}

/// Reads a JSON file written by a run (`None` when it does not exist).
pub fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Option<T>> {
    match std::fs::read_to_string(path) {
        Ok(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| Error::bad_file(path, e.to_string())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(path, e)),
    }
}

/// Every finished run and every failure under `DIR/runs`, in id order (the files, not the store).
pub fn scan_runs(dir: &Path) -> Result<(Vec<RunEntry>, Vec<RunFailure>)> {
    let runs = dir.join(RUNS_DIR);
    let mut ids: Vec<String> = match std::fs::read_dir(&runs) {
        Ok(rd) => rd
            .filter_map(|e| e.ok())
            .filter(|e| e.path().is_dir())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(Error::io(&runs, e)),
    };
    ids.sort();
    let (mut entries, mut failures) = (Vec::new(), Vec::new());
    for id in ids {
        let folder = run_dir(dir, &id);
        if let Some(entry) = read_json::<RunEntry>(&folder.join(RUN_FILE))? {
            entries.push(entry);
        } else if let Some(failure) = read_json::<RunFailure>(&folder.join(FAILED_FILE))? {
            failures.push(failure);
        }
    }
    Ok((entries, failures))
}

/// Now, as RFC 3339 UTC to the second.
pub fn utc_now() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

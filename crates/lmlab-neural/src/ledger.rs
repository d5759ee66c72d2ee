//! The run's compute ledger: CPU seconds spent by all sessions of a run, kept in its own small file
//! beside the checkpoint so that the checkpoint holds only what the seed and inputs determine.
//!
//! The ledger is written (atomically) just before each checkpoint. If a run is killed between the
//! two writes, the ledger already counts the work the lost checkpoint would have saved: that CPU was
//! spent, and a `--budget` should see it.

use lmlab_core::atomic::write_bytes_atomically;
use lmlab_core::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// File name of the ledger inside a run directory.
pub const FILE_NAME: &str = "compute.json";

/// CPU accounting of a run across its sessions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ComputeLedger {
    /// CPU seconds spent so far (process user + system time), all sessions together.
    pub cpu_seconds: f64,
    /// The step reached when the ledger was last written.
    pub step: usize,
}

impl ComputeLedger {
    /// Reads the ledger of `run_dir`; a run without one (a fresh run) has spent nothing.
    pub fn load(run_dir: &Path) -> Result<ComputeLedger> {
        let path = run_dir.join(FILE_NAME);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| Error::bad_file(&path, format!("unreadable compute ledger: {e}"))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(ComputeLedger::default()),
            Err(e) => Err(Error::io(&path, e)),
        }
    }

    /// Writes the ledger into `run_dir` atomically.
    pub fn save(&self, run_dir: &Path) -> Result<()> {
        let json = serde_json::to_string_pretty(self).expect("ledger serializes");
        write_bytes_atomically(&run_dir.join(FILE_NAME), json.as_bytes())
    }
}

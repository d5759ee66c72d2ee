//! What a run directory keeps beside its checkpoint for the people reading it: the data it was
//! trained on (`data.json`, sha256 of the training and validation text, checked on `--resume`) and
//! its learning curve (`metrics.jsonl`, one JSON object per logged step and per validation), and
//! the learning-rate schedule fitted to a budget (`schedule.json`, read on `--resume`).

use crate::config::TrainConfig;
use lmlab_core::atomic::write_bytes_atomically;
use lmlab_core::hashing::sha256_hex;
use lmlab_core::{Error, Result};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

/// File name of the data record.
pub const DATA: &str = "data.json";
/// File name of the learning curve.
pub const METRICS: &str = "metrics.jsonl";
/// File name of the schedule fitted to a budget.
pub const SCHEDULE: &str = "schedule.json";

/// The learning-rate schedule of a budgeted run, fitted to the steps its budget allows: steps
/// before `fitted_at_step` followed the config's schedule (`train.max_steps`, `lr_decay_steps`),
/// steps from it on follow the same warmup and cosine with `horizon` in place of `max_steps`
/// (and `lr_decay_steps`, when set, at most `horizon`). Given this record, the run's learning
/// rates are fixed; `--resume` reads it back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FittedSchedule {
    /// The step the cosine decay ends at.
    pub horizon: usize,
    /// Steps completed when the horizon was fitted.
    pub fitted_at_step: usize,
}

impl FittedSchedule {
    /// Writes the schedule into `run_dir` atomically.
    pub fn save(&self, run_dir: &Path) -> Result<()> {
        let json = serde_json::to_string_pretty(self).expect("schedule serializes");
        write_bytes_atomically(&run_dir.join(SCHEDULE), json.as_bytes())
    }

    /// The schedule of `run_dir`, if one was fitted.
    pub fn load(run_dir: &Path) -> Result<Option<FittedSchedule>> {
        let path = run_dir.join(SCHEDULE);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| Error::bad_file(&path, format!("unreadable fitted schedule: {e}"))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io(&path, e)),
        }
    }

    /// The training settings step `step` (0-based) takes its learning rate from.
    pub fn config_for(&self, step: usize, train: &TrainConfig) -> TrainConfig {
        let mut c = train.clone();
        if step >= self.fitted_at_step {
            c.max_steps = self.horizon;
            if c.lr_decay_steps > 0 {
                c.lr_decay_steps = c.lr_decay_steps.min(self.horizon);
            }
        }
        c
    }
}

/// The texts a run was trained and validated on, by content.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataRecord {
    /// sha256 of the training text.
    pub train_sha256: String,
    /// Its size in bytes.
    pub train_bytes: u64,
    /// sha256 of the validation text.
    pub valid_sha256: String,
    /// Its size in bytes.
    pub valid_bytes: u64,
}

impl DataRecord {
    /// The record of these texts.
    pub fn of(train: &str, valid: &str) -> DataRecord {
        DataRecord {
            train_sha256: sha256_hex(train.as_bytes()),
            train_bytes: train.len() as u64,
            valid_sha256: sha256_hex(valid.as_bytes()),
            valid_bytes: valid.len() as u64,
        }
    }

    /// Writes the record into `run_dir` atomically.
    pub fn save(&self, run_dir: &Path) -> Result<()> {
        let json = serde_json::to_string_pretty(self).expect("data record serializes");
        write_bytes_atomically(&run_dir.join(DATA), json.as_bytes())
    }

    /// The record of `run_dir`, if it has one (runs made before lmlab recorded data have none).
    pub fn load(run_dir: &Path) -> Result<Option<DataRecord>> {
        let path = run_dir.join(DATA);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| Error::bad_file(&path, format!("unreadable data record: {e}"))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io(&path, e)),
        }
    }

    /// Refuses to resume `run_dir` on texts other than those it recorded, naming both hashes.
    pub fn check_resume(&self, run_dir: &Path) -> Result<()> {
        let Some(recorded) = DataRecord::load(run_dir)? else {
            return Ok(());
        };
        let texts = [
            (
                "training",
                &recorded.train_sha256,
                recorded.train_bytes,
                &self.train_sha256,
                self.train_bytes,
            ),
            (
                "validation",
                &recorded.valid_sha256,
                recorded.valid_bytes,
                &self.valid_sha256,
                self.valid_bytes,
            ),
        ];
        for (what, was, was_bytes, now, now_bytes) in texts {
            if was != now {
                return Err(Error::Mismatch(format!(
                    "--resume refused: the {what} text differs from the run's: the run recorded \
                     sha256 {was} ({was_bytes} bytes), this one is sha256 {now} ({now_bytes} bytes); \
                     give the same file, or start a new run"

                )));
            }
        }
        Ok(())
    }
}

/// One line of `metrics.jsonl`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum MetricsLine {
    /// A logged optimizer step.
    Step {
        /// Steps completed.
        step: usize,
        /// Mean training loss of the step (nats per token).
        loss: f64,
        /// Learning rate used.
        lr: f64,
        /// Gradient norm before clipping.
        grad_norm: f64,
        /// Training tokens per wall second over the session so far.
        tokens_per_second: f64,
        /// CPU seconds the run has spent (all sessions).
        cpu_seconds: f64,
    },
    /// A validation estimate.
    Eval {
        /// Steps completed.
        step: usize,
        /// Mean validation loss (nats per token).
        val_loss: f64,
        /// CPU seconds the run had spent when the estimate was done (all sessions; 0 in files
        /// written before lmlab recorded it).
        #[serde(default)]
        cpu_seconds: f64,
        /// Training tokens seen by then.
        #[serde(default)]
        tokens_seen: u64,
    },
}

impl MetricsLine {
    fn step(&self) -> usize {
        match self {
            MetricsLine::Step { step, .. } | MetricsLine::Eval { step, .. } => *step,
        }
    }
}

/// The learning curve, appended to as the run goes (a line per event, flushed).
pub struct MetricsLog {
    path: PathBuf,
    file: std::fs::File,
}

impl MetricsLog {
    /// Starts the log of `run_dir`. A fresh run starts it empty; a resumed run keeps the lines up to
    /// `resumed_at` (the checkpoint's step) and drops those of steps the checkpoint does not hold,
    /// which the resumed run logs again.
    pub fn open(run_dir: &Path, resumed_at: Option<usize>) -> Result<MetricsLog> {
        let path = run_dir.join(METRICS);
        let kept: Vec<MetricsLine> = match resumed_at {
            Some(step) => read_lines(&path)?
                .into_iter()
                .filter(|line| line.step() <= step)
                .collect(),
            None => Vec::new(),
        };
        let mut text = String::new();
        for line in &kept {
            text.push_str(&serde_json::to_string(line).expect("metrics serialize"));
            text.push('\n');
        }
        write_bytes_atomically(&path, text.as_bytes())?;
        let file = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        Ok(MetricsLog { path, file })
    }

    /// Appends one line.
    pub fn append(&mut self, line: &MetricsLine) -> Result<()> {
        let mut text = serde_json::to_string(line).expect("metrics serialize");
        text.push('\n');
        self.file
            .write_all(text.as_bytes())
            .map_err(|e| Error::io(&self.path, e))
    }
}

/// The lines of a metrics log (none when it does not exist).
pub fn read_lines(path: &Path) -> Result<Vec<MetricsLine>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io(path, e)),
    };
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| {
            serde_json::from_str(line)
                .map_err(|e| Error::bad_file(path, format!("line {}: {e}", i + 1)))
        })
        .collect()
}

/// The `(step, training loss)` points of a run's metrics log.
pub fn train_history(run_dir: &Path) -> Result<Vec<(usize, f64)>> {
    Ok(read_lines(&run_dir.join(METRICS))?
        .into_iter()
        .filter_map(|line| match line {
            MetricsLine::Step { step, loss, .. } => Some((step, loss)),
            MetricsLine::Eval { .. } => None,
        })
        .collect())
}

/// A point of the validation learning curve.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CurvePoint {
    /// Steps completed.
    pub step: usize,
    /// CPU seconds the run had spent (all sessions).
    pub cpu_seconds: f64,
    /// Training tokens seen.
    pub tokens_seen: u64,
    /// Mean validation loss, nats per token.
    pub val_loss: f64,
}

/// The validation estimates of a run, in order, from `metrics.jsonl`.
pub fn learning_curve(run_dir: &Path) -> Result<Vec<CurvePoint>> {
    Ok(read_lines(&run_dir.join(METRICS))?
        .into_iter()
        .filter_map(|line| match line {
            MetricsLine::Eval {
                step,
                val_loss,
                cpu_seconds,
                tokens_seen,
            } => Some(CurvePoint {
                step,
                cpu_seconds,
                tokens_seen,
                val_loss,
            }),
            MetricsLine::Step { .. } => None,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_resumed_log_drops_the_steps_its_checkpoint_does_not_hold() {
        let dir = tempfile::tempdir().unwrap();
        let step = |step| MetricsLine::Step {
            step,
            loss: 1.0 / step as f64,
            lr: 0.1,
            grad_norm: 1.0,
            tokens_per_second: 10.0,
            cpu_seconds: step as f64,
        };
        let mut log = MetricsLog::open(dir.path(), None).unwrap();
        for s in [1, 2, 3, 4] {
            log.append(&step(s)).unwrap();
        }
        log.append(&MetricsLine::Eval {
            step: 4,
            val_loss: 2.0,
            cpu_seconds: 1.0,
            tokens_seen: 64,
        })
        .unwrap();
        drop(log);
        let mut log = MetricsLog::open(dir.path(), Some(2)).unwrap();
        log.append(&step(3)).unwrap();
        let history = train_history(dir.path()).unwrap();
        assert_eq!(
            history.iter().map(|p| p.0).collect::<Vec<_>>(),
            vec![1, 2, 3]
        );
        // A fresh run starts an empty log.
        drop(MetricsLog::open(dir.path(), None).unwrap());
        assert!(train_history(dir.path()).unwrap().is_empty());
    }

    #[test]
    fn resuming_on_other_data_names_both_hashes() {
        let dir = tempfile::tempdir().unwrap();
        DataRecord::of("abc", "v").save(dir.path()).unwrap();
        DataRecord::of("abc", "v").check_resume(dir.path()).unwrap();
        let err = DataRecord::of("abd", "v")
            .check_resume(dir.path())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(&sha256_hex(b"abc")) && err.contains(&sha256_hex(b"abd")),
            "{err}"
        );
        assert!(err.contains("training"), "{err}");
        let err = DataRecord::of("abc", "w")
            .check_resume(dir.path())
            .unwrap_err()
            .to_string();
        assert!(err.contains("validation"), "{err}");
    }
}

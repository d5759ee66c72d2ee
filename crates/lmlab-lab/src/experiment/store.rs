//! The results store, `DIR/results.sqlite`: the experiment, its runs (key numbers as columns, the
//! whole [`RunEntry`] as JSON), their metrics (final evaluations and learning-curve points), their
//! artifacts and their failures. Every write is one transaction; the coordinating process is the
//! only writer. The runs' `run.json` and `failed.json` files are the source of truth: [`reindex`]
//! rebuilds the store from them.

use super::runner::{DirLock, Outcome};
use super::slurm::{submissions, SlurmRecord, Submission, TaskEnd};
use super::{scan_runs, ExperimentState, RunEntry, RunFailure, STATE_FILE, STORE_FILE};
use lmlab_core::{Error, Result};
use rusqlite::{params, Connection, Transaction};
use std::path::{Path, PathBuf};

/// The schema version this lmlab writes (SQLite's `user_version`).
pub const SCHEMA_VERSION: i64 = 2;

/// What version 2 added to version 1: the Slurm tasks (a version-1 store is migrated on open).
const SLURM_TASKS: &str = "
CREATE TABLE slurm_tasks (
    job_id TEXT NOT NULL,
    task INTEGER NOT NULL,
    run_id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    cpus INTEGER NOT NULL,
    minutes INTEGER NOT NULL,
    submitted TEXT NOT NULL,
    outcome TEXT,
    state TEXT,
    reason TEXT,
    PRIMARY KEY (job_id, task)
);
CREATE INDEX slurm_tasks_run ON slurm_tasks (run_id);
";

const SCHEMA: &str = "
CREATE TABLE experiments (
    name TEXT PRIMARY KEY,
    state_json TEXT NOT NULL
);
CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    experiment TEXT NOT NULL,
    arm TEXT NOT NULL,
    family TEXT NOT NULL,
    tokenizer TEXT NOT NULL,
    budget REAL,
    seed INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('finished', 'failed')),
    time TEXT NOT NULL,
    cpu_seconds REAL,
    wall_seconds REAL,
    tokens_seen INTEGER,
    parameters INTEGER,
    peak_rss_bytes INTEGER,
    model_bytes INTEGER,
    recipe_json TEXT NOT NULL,
    entry_json TEXT
);
CREATE TABLE metrics (
    run_id TEXT NOT NULL,
    split TEXT NOT NULL,
    metric TEXT NOT NULL,
    value REAL NOT NULL,
    step INTEGER,
    cpu_seconds REAL
);
CREATE INDEX metrics_run ON metrics (run_id);
CREATE TABLE artifacts (
    run_id TEXT NOT NULL,
    name TEXT NOT NULL,
    path TEXT NOT NULL,
    PRIMARY KEY (run_id, name)
);
CREATE TABLE failures (
    run_id TEXT PRIMARY KEY,
    error TEXT NOT NULL,
    time TEXT NOT NULL,
    failure_json TEXT NOT NULL
);
";

const TABLES: [&str; 6] = [
    "experiments",
    "runs",
    "metrics",
    "artifacts",
    "failures",
    "slurm_tasks",
];

/// An open results store.
pub struct Store {
    conn: Connection,
    path: PathBuf,
    dir: PathBuf,
}

/// A finished run's numbers as the results need them, read from columns (no JSON parsing).
#[derive(Clone, Debug, PartialEq)]
pub struct RunNumbers {
    /// The run's id.
    pub id: String,
    /// Its arm.
    pub arm: String,
    /// Its model family.
    pub family: String,
    /// Its tokenizer's label.
    pub tokenizer: String,
    /// Its budget (`None`: count-based).
    pub budget: Option<f64>,
    /// Its seed.
    pub seed: u64,
    /// When it finished (RFC 3339).
    pub finished: String,
    /// Training CPU seconds.
    pub cpu_seconds: f64,
    /// Parameters.
    pub parameters: u64,
    /// Bytes of the model.
    pub model_bytes: u64,
    /// Peak resident memory of the run.
    pub peak_rss_bytes: u64,
    /// Final evaluations: (split, metric, value).
    pub metrics: Vec<(String, String, f64)>,
}

impl RunNumbers {
    /// The numbers of an entry (what the store's columns hold).
    pub fn of(entry: &RunEntry) -> RunNumbers {
        let r = &entry.record;
        RunNumbers {
            id: entry.id.clone(),
            arm: entry.arm.clone(),
            family: r.recipe.model.family().to_string(),
            tokenizer: r.recipe.tokenizer.label(),
            budget: r.recipe.budget_cpu_seconds,
            seed: r.recipe.seed,
            finished: entry.finished.clone(),
            cpu_seconds: r.compute.cpu_seconds,
            parameters: r.compute.parameters,
            model_bytes: r.model_bytes,
            peak_rss_bytes: r.compute.peak_rss_bytes,
            metrics: final_metrics(entry),
        }
    }

    /// The value of `split.metric`, if evaluated.
    pub fn metric(&self, split: &str, metric: &str) -> Option<f64> {
        self.metrics
            .iter()
            .find(|(s, m, _)| s == split && m == metric)
            .map(|(_, _, v)| *v)
    }
}

/// The numbers of each evaluation in an entry, by split.
fn final_metrics(entry: &RunEntry) -> Vec<(String, String, f64)> {
    let mut out = Vec::new();
    for (split, e) in &entry.record.eval {
        let values = [
            ("sequences", e.sequences as f64),
            ("tokens", e.tokens as f64),
            ("oov", e.oov as f64),
            ("bytes", e.bytes as f64),
            ("words", e.words as f64),
            ("log_prob_sum", e.log_prob_sum),
            ("perplexity", e.perplexity),
            ("perplexity_excluding_oov", e.perplexity_excluding_oov),
            ("bits_per_byte", e.bits_per_byte),
            ("word_perplexity", e.word_perplexity),
            (
                "comparable_across_tokenizers",
                f64::from(u8::from(e.comparable_across_tokenizers)),
            ),
        ];
        out.extend(
            values
                .into_iter()
                .map(|(m, v)| (split.clone(), m.to_string(), v)),
        );
    }
    out
}

/// A Slurm task as the store records it.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct SlurmTaskRow {
    /// The array's job id.
    pub job_id: String,
    /// The task's index in it.
    pub task: usize,
    /// The run it ran.
    pub run_id: String,
    /// Which attempt of the run (1: the first).
    pub attempt: u32,
    /// `finished`, `failed`, `retried` or `cancelled`; `None` while it runs.
    pub outcome: Option<String>,
    /// Slurm's state when last seen.
    pub state: Option<String>,
    /// Slurm's reason.
    pub reason: Option<String>,
}

/// Where the store of experiment folder `dir` lives.
pub fn store_path(dir: &Path) -> PathBuf {
    dir.join(STORE_FILE)
}

impl Store {
    /// Opens `DIR/results.sqlite`, creating it (with its schema) when it does not exist. A file
    /// that is not this lmlab's store (not SQLite, another schema, a newer schema version, damaged)
    /// is refused with an error that names it and says to run `lmlab experiment reindex DIR`.
    pub fn open(dir: &Path) -> Result<Store> {
        Store::open_file(&store_path(dir), dir)
    }

    /// Opens the store at `path` (of experiment folder `dir`, named in errors).
    fn open_file(path: &Path, dir: &Path) -> Result<Store> {
        let path = path.to_path_buf();
        check_header(&path, dir)?;
        let conn = Connection::open(&path).map_err(|e| sql_error(&path, dir, e))?;
        let store = Store {
            conn,
            path,
            dir: dir.to_path_buf(),
        };
        store.prepare()?;
        Ok(store)
    }

    /// The store's file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn err(&self, e: rusqlite::Error) -> Error {
        sql_error(&self.path, &self.dir, e)
    }

    /// Checks the schema version and tables; creates them in a new (empty) database.
    fn prepare(&self) -> Result<()> {
        let c = &self.conn;
        c.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(|e| self.err(e))?;
        let version: i64 = c
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        let tables: Vec<String> = {
            let mut st = c
                .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
                .map_err(|e| self.err(e))?;
            let rows = st
                .query_map([], |r| r.get::<_, String>(0))
                .map_err(|e| self.err(e))?;
            rows.collect::<rusqlite::Result<_>>()
                .map_err(|e| self.err(e))?
        };
        let refuse = |why: String| Err(damaged(&self.path, &self.dir, &why));
        if version > SCHEMA_VERSION {
            return refuse(format!(
                "its schema version is {version}, newer than this lmlab's ({SCHEMA_VERSION}): \
                 written by a newer lmlab"
            ));
        }
        if version == 0 {
            if !tables.is_empty() {
                return refuse(format!(
                    "a SQLite database without lmlab's schema (tables: {})",
                    tables.join(", ")
                ));
            }
            // A new database (or one whose creation was interrupted, which rolled back).
            let batch = format!(
                "BEGIN IMMEDIATE; {SCHEMA} {SLURM_TASKS} PRAGMA user_version = {SCHEMA_VERSION}; \
                 COMMIT;"
            );
            return c.execute_batch(&batch).map_err(|e| self.err(e));
        }
        if version == 1 && !tables.iter().any(|t| t == "slurm_tasks") {
            // Version 1 lacks only the Slurm tasks: added in one transaction.
            let batch = format!("BEGIN IMMEDIATE; {SLURM_TASKS} PRAGMA user_version = 2; COMMIT;");
            c.execute_batch(&batch).map_err(|e| self.err(e))?;
            return self.prepare();
        }
        if version < SCHEMA_VERSION {
            return refuse(format!(
                "its schema version is {version}, older than this lmlab's ({SCHEMA_VERSION})"
            ));
        }
        if let Some(missing) = TABLES.iter().find(|t| !tables.iter().any(|n| n == *t)) {
            return refuse(format!("it has no table '{missing}'"));
        }
        Ok(())
    }

    /// Runs `f` in one write transaction (all of it is stored, or none).
    fn write<T>(&mut self, f: impl FnOnce(&Transaction) -> rusqlite::Result<T>) -> Result<T> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(|e| sql_error(&self.path, &self.dir, e))?;
        let value = f(&tx).map_err(|e| sql_error(&self.path, &self.dir, e))?;
        tx.commit()
            .map_err(|e| sql_error(&self.path, &self.dir, e))?;
        Ok(value)
    }

    /// Records the experiment (replacing what was recorded under its name).
    pub fn ingest_state(&mut self, state: &ExperimentState) -> Result<()> {
        let json = serde_json::to_string(state).expect("serializes");
        self.write(|tx| {
            tx.execute(
                "INSERT OR REPLACE INTO experiments (name, state_json) VALUES (?1, ?2)",
                params![state.spec.name, json],
            )
            .map(drop)
        })
    }

    /// Records a finished run, replacing whatever was recorded under its id (a failure included).
    /// Ingesting the same entry twice leaves the same rows.
    pub fn ingest_entry(&mut self, entry: &RunEntry) -> Result<()> {
        self.write(|tx| insert_entry(tx, entry))
    }

    /// Records a failed run, replacing whatever was recorded under its id.
    pub fn ingest_failure(&mut self, failure: &RunFailure) -> Result<()> {
        self.write(|tx| insert_failure(tx, failure))
    }

    /// Records a submitted Slurm job array: one row per task.
    pub fn ingest_submission(&mut self, submission: &Submission) -> Result<()> {
        self.write(|tx| insert_submission(tx, submission))
    }

    /// Records how a Slurm task ended.
    pub fn ingest_task_end(&mut self, end: &TaskEnd) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE slurm_tasks SET outcome = ?3, state = ?4, reason = ?5 \
                 WHERE job_id = ?1 AND task = ?2",
                params![
                    end.job_id,
                    end.task as i64,
                    end.outcome,
                    end.state,
                    end.reason
                ],
            )
            .map(drop)
        })
    }

    /// Every recorded Slurm task, by job id (numerically) and task.
    pub fn slurm_tasks(&self) -> Result<Vec<SlurmTaskRow>> {
        let mut st = self
            .conn
            .prepare(
                "SELECT job_id, task, run_id, attempt, outcome, state, reason FROM slurm_tasks \
                 ORDER BY CAST(job_id AS INTEGER), task",
            )
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([], |r| {
                Ok(SlurmTaskRow {
                    job_id: r.get(0)?,
                    task: r.get::<_, i64>(1)? as usize,
                    run_id: r.get(2)?,
                    attempt: r.get::<_, i64>(3)? as u32,
                    outcome: r.get(4)?,
                    state: r.get(5)?,
                    reason: r.get(6)?,
                })
            })
            .map_err(|e| self.err(e))?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| self.err(e))?;
        Ok(rows)
    }

    /// Every finished run, in id order.
    pub fn entries(&self) -> Result<Vec<RunEntry>> {
        self.json_column("SELECT entry_json FROM runs WHERE status = 'finished' ORDER BY id")
    }

    /// Every failed run (not since finished), in id order.
    pub fn failures(&self) -> Result<Vec<RunFailure>> {
        self.json_column("SELECT failure_json FROM failures ORDER BY run_id")
    }

    /// The recorded experiments, by name.
    pub fn states(&self) -> Result<Vec<ExperimentState>> {
        self.json_column("SELECT state_json FROM experiments ORDER BY name")
    }

    /// The recipe of one finished run of each arm (the first by id), as JSON.
    pub fn arm_recipes(&self) -> Result<Vec<(String, serde_json::Value)>> {
        let mut st = self
            .conn
            .prepare(
                "SELECT arm, recipe_json FROM runs WHERE status = 'finished' \
                 GROUP BY arm HAVING id = MIN(id) ORDER BY arm",
            )
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .map_err(|e| self.err(e))?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| self.err(e))?;
        rows.into_iter()
            .map(|(arm, json)| Ok((arm, self.parse(&json)?)))
            .collect()
    }

    /// The JSON values of the one column `sql` selects, parsed.
    fn json_column<T: serde::de::DeserializeOwned>(&self, sql: &str) -> Result<Vec<T>> {
        let mut st = self.conn.prepare(sql).map_err(|e| self.err(e))?;
        let texts = st
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(|e| self.err(e))?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| self.err(e))?;
        texts.iter().map(|t| self.parse(t)).collect()
    }

    fn parse<T: serde::de::DeserializeOwned>(&self, text: &str) -> Result<T> {
        serde_json::from_str(text).map_err(|e| damaged(&self.path, &self.dir, &e.to_string()))
    }

    /// The numbers of every finished run, in id order, read from columns (fast: no JSON).
    pub fn run_numbers(&self) -> Result<Vec<RunNumbers>> {
        let mut st = self
            .conn
            .prepare(
                "SELECT id, arm, family, tokenizer, budget, seed, time, cpu_seconds, parameters, \
                 model_bytes, peak_rss_bytes FROM runs WHERE status = 'finished' ORDER BY id",
            )
            .map_err(|e| self.err(e))?;
        let mut runs = st
            .query_map([], |r| {
                Ok(RunNumbers {
                    id: r.get(0)?,
                    arm: r.get(1)?,
                    family: r.get(2)?,
                    tokenizer: r.get(3)?,
                    budget: r.get(4)?,
                    seed: r.get::<_, i64>(5)? as u64,
                    finished: r.get(6)?,
                    cpu_seconds: r.get::<_, Option<f64>>(7)?.unwrap_or(f64::NAN),
                    parameters: r.get::<_, Option<i64>>(8)?.unwrap_or(0) as u64,
                    model_bytes: r.get::<_, Option<i64>>(9)?.unwrap_or(0) as u64,
                    peak_rss_bytes: r.get::<_, Option<i64>>(10)?.unwrap_or(0) as u64,
                    metrics: Vec::new(),
                })
            })
            .map_err(|e| self.err(e))?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| self.err(e))?;
        let index: std::collections::HashMap<String, usize> = runs
            .iter()
            .enumerate()
            .map(|(i, r)| (r.id.clone(), i))
            .collect();
        let mut st = self
            .conn
            .prepare("SELECT run_id, split, metric, value FROM metrics WHERE step IS NULL")
            .map_err(|e| self.err(e))?;
        let mut rows = st.query([]).map_err(|e| self.err(e))?;
        while let Some(row) = rows.next().map_err(|e| self.err(e))? {
            let id: String = row.get(0).map_err(|e| self.err(e))?;
            if let Some(&i) = index.get(&id) {
                let split: String = row.get(1).map_err(|e| self.err(e))?;
                let metric: String = row.get(2).map_err(|e| self.err(e))?;
                let value: f64 = row.get(3).map_err(|e| self.err(e))?;
                runs[i].metrics.push((split, metric, value));
            }
        }
        Ok(runs)
    }

    /// `(id, status, time)` of every recorded run.
    pub fn recorded(&self) -> Result<Vec<(String, String, String)>> {
        let mut st = self
            .conn
            .prepare("SELECT id, status, time FROM runs ORDER BY id")
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .map_err(|e| self.err(e))?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| self.err(e))?;
        Ok(rows)
    }

    /// Ingests what the folder holds and the store lacks: `experiment.json`, and every `run.json`
    /// or `failed.json` not recorded as it is (a run killed between writing its file and being
    /// ingested, a `run` that was killed, ...). Returns how many runs were ingested.
    pub fn catch_up(&mut self, dir: &Path) -> Result<usize> {
        if let Some(state) = ExperimentState::load(dir)? {
            let recorded = self.states()?;
            if !recorded.contains(&state) {
                self.ingest_state(&state)?;
            }
        }
        let recorded: std::collections::HashMap<String, (String, String)> = self
            .recorded()?
            .into_iter()
            .map(|(id, status, time)| (id, (status, time)))
            .collect();
        let (entries, failures) = scan_runs(dir)?;
        let is_recorded = |id: &str, status: &str, time: &str| {
            recorded
                .get(id)
                .is_some_and(|(s, t)| s == status && t == time)
        };
        let entries: Vec<&RunEntry> = entries
            .iter()
            .filter(|e| !is_recorded(&e.id, "finished", &e.finished))
            .collect();
        let failures: Vec<&RunFailure> = failures
            .iter()
            .filter(|f| !is_recorded(&f.id, "failed", &f.failed))
            .collect();
        let n = entries.len() + failures.len();
        let jobs = submissions(dir)?;
        let recorded_jobs: std::collections::HashSet<String> =
            self.slurm_tasks()?.into_iter().map(|t| t.job_id).collect();
        let new_jobs: Vec<&Submission> = jobs
            .iter()
            .filter(|s| !recorded_jobs.contains(&s.job_id))
            .collect();
        if !new_jobs.is_empty() {
            self.write(|tx| new_jobs.iter().try_for_each(|s| insert_submission(tx, s)))?;
        }
        if n > 0 {
            self.write(|tx| {
                for e in entries {
                    insert_entry(tx, e)?;
                }
                for f in failures {
                    insert_failure(tx, f)?;
                }
                Ok(())
            })?;
        }
        Ok(n)
    }
}

/// Deletes every row of run `id`.
fn delete_run(tx: &Transaction, id: &str) -> rusqlite::Result<()> {
    for table in ["metrics", "artifacts", "failures"] {
        tx.execute(&format!("DELETE FROM {table} WHERE run_id = ?1"), [id])?;
    }
    tx.execute("DELETE FROM runs WHERE id = ?1", [id])?;
    Ok(())
}

fn insert_entry(tx: &Transaction, entry: &RunEntry) -> rusqlite::Result<()> {
    delete_run(tx, &entry.id)?;
    let r = &entry.record;
    let recipe = serde_json::to_string(&r.recipe).expect("serializes");
    let json = serde_json::to_string(entry).expect("serializes");
    tx.execute(
        "INSERT INTO runs (id, experiment, arm, family, tokenizer, budget, seed, status, time, \
         cpu_seconds, wall_seconds, tokens_seen, parameters, peak_rss_bytes, model_bytes, \
         recipe_json, entry_json) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'finished', ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
        params![
            entry.id,
            entry.experiment,
            entry.arm,
            r.recipe.model.family(),
            r.recipe.tokenizer.label(),
            r.recipe.budget_cpu_seconds,
            r.recipe.seed as i64,
            entry.finished,
            r.compute.cpu_seconds,
            r.compute.wall_seconds,
            r.compute.tokens_seen as i64,
            r.compute.parameters as i64,
            r.compute.peak_rss_bytes as i64,
            r.model_bytes as i64,
            recipe,
            json,
        ],
    )?;
    let mut metric = tx.prepare_cached(
        "INSERT INTO metrics (run_id, split, metric, value, step, cpu_seconds) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for (split, name, value) in final_metrics(entry) {
        metric.execute(params![
            entry.id,
            split,
            name,
            value,
            None::<i64>,
            None::<f64>
        ])?;
    }
    for point in &r.curve {
        for (name, value) in [
            ("loss", point.val_loss),
            ("bits_per_byte", point.val_bits_per_byte),
        ] {
            metric.execute(params![
                entry.id,
                "valid",
                name,
                value,
                point.step as i64,
                point.cpu_seconds
            ])?;
        }
    }
    let mut artifact =
        tx.prepare_cached("INSERT INTO artifacts (run_id, name, path) VALUES (?1, ?2, ?3)")?;
    artifact.execute(params![entry.id, "model", r.model_path.to_string_lossy()])?;
    for (name, path) in &r.artifacts {
        artifact.execute(params![entry.id, name, path.to_string_lossy()])?;
    }
    Ok(())
}

fn insert_submission(tx: &Transaction, submission: &Submission) -> rusqlite::Result<()> {
    let mut row = tx.prepare_cached(
        "INSERT OR IGNORE INTO slurm_tasks (job_id, task, run_id, attempt, cpus, minutes, \
         submitted) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    for (task, (run, attempt)) in submission.runs.iter().zip(&submission.attempts).enumerate() {
        row.execute(params![
            submission.job_id,
            task as i64,
            run,
            *attempt as i64,
            submission.cpus as i64,
            submission.minutes as i64,
            submission.submitted,
        ])?;
    }
    Ok(())
}

fn insert_failure(tx: &Transaction, failure: &RunFailure) -> rusqlite::Result<()> {
    delete_run(tx, &failure.id)?;
    let recipe = serde_json::to_string(&failure.recipe).expect("serializes");
    tx.execute(
        "INSERT INTO runs (id, experiment, arm, family, tokenizer, budget, seed, status, time, \
         recipe_json) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'failed', ?8, ?9)",
        params![
            failure.id,
            failure.experiment,
            failure.arm,
            failure.recipe.model.family(),
            failure.recipe.tokenizer.label(),
            failure.recipe.budget_cpu_seconds,
            failure.recipe.seed as i64,
            failure.failed,
            recipe,
        ],
    )?;
    let json = serde_json::to_string(failure).expect("serializes");
    tx.execute(
        "INSERT INTO failures (run_id, error, time, failure_json) VALUES (?1, ?2, ?3, ?4)",
        params![failure.id, failure.error, failure.failed, json],
    )?;
    Ok(())
}

/// Rebuilds `DIR/results.sqlite` from the folder's `experiment.json` and its runs' `run.json` and
/// `failed.json` files: written to a temporary file, then renamed over the store (a reader sees
/// the old store or the new one). Holds the folder's lock meanwhile (no `run` may be writing).
/// Returns the number of runs and failures recorded.
pub fn reindex(dir: &Path) -> Result<(usize, usize)> {
    if !dir.is_dir() {
        return Err(Error::invalid(format!(
            "{}: not an experiment folder (no such directory)",
            dir.display()
        )));
    }
    let has_state = dir.join(STATE_FILE).is_file();
    if !has_state && !dir.join(super::RUNS_DIR).is_dir() {
        return Err(Error::invalid(format!(
            "{}: not an experiment folder (no {STATE_FILE}, no {}/)",
            dir.display(),
            super::RUNS_DIR
        )));
    }
    let _lock = DirLock::acquire(dir)?;
    let (entries, failures) = scan_runs(dir)?;
    let built = dir.join(format!(".{STORE_FILE}.reindex-{}", std::process::id()));
    let _ = std::fs::remove_file(&built);
    let result = build_store(dir, &built, &entries, &failures);
    if let Err(e) = result {
        let _ = std::fs::remove_file(&built);
        return Err(e);
    }
    let target = store_path(dir);
    // A journal left by a write to the old store would be applied to the new one: remove it.
    for suffix in ["-journal", "-wal", "-shm"] {
        let side = PathBuf::from(format!("{}{suffix}", target.display()));
        match std::fs::remove_file(&side) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(&side, e)),
        }
    }
    std::fs::rename(&built, &target).map_err(|e| Error::io(&target, e))?;
    Ok((entries.len(), failures.len()))
}

/// Writes a new store at `path` holding the folder's experiment and the given runs.
fn build_store(
    dir: &Path,
    path: &Path,
    entries: &[RunEntry],
    failures: &[RunFailure],
) -> Result<()> {
    {
        let mut store = Store::open_file(path, dir)?;
        if let Some(state) = ExperimentState::load(dir)? {
            store.ingest_state(&state)?;
        }
        let submissions = submissions(dir)?;
        store.write(|tx| {
            for e in entries {
                insert_entry(tx, e)?;
            }
            for f in failures {
                insert_failure(tx, f)?;
            }
            // The tasks' job ids come back; how each ended is only in the store that was.
            for s in &submissions {
                insert_submission(tx, s)?;
            }
            Ok(())
        })?;
    }
    // The rename must not come before the new file's bytes are on disk.
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    file.sync_all().map_err(|e| Error::io(path, e))
}

/// The first bytes of a SQLite database file.
const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

/// Refuses an existing, non-empty file that is not a SQLite database.
fn check_header(path: &Path, dir: &Path) -> Result<()> {
    use std::io::Read;
    let mut file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io(path, e)),
    };
    let mut head = Vec::with_capacity(16);
    (&mut file)
        .take(16)
        .read_to_end(&mut head)
        .map_err(|e| Error::io(path, e))?;
    if head.is_empty() || head == SQLITE_HEADER {
        Ok(())
    } else {
        Err(damaged(path, dir, "not a SQLite database"))
    }
}

/// The error for a store that cannot be used: names the file and says how to rebuild it.
fn damaged(path: &Path, dir: &Path, why: &str) -> Error {
    Error::bad_file(
        path,
        format!(
            "not a usable lmlab results store ({why}); rebuild it from the runs' run.json files \
             with `lmlab experiment reindex {}`",
            dir.display()
        ),
    )
}

/// A SQLite error on the store: damage is reported as [`damaged`], the rest as they are.
fn sql_error(path: &Path, dir: &Path, e: rusqlite::Error) -> Error {
    use rusqlite::ErrorCode;
    match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => {
            damaged(path, dir, &e.to_string())
        }
        _ => Error::bad_file(path, format!("results store: {e}")),
    }
}

/// The store's side of `lmlab experiment run`: opened (and caught up with the folder) before any
/// run starts, so a damaged store is refused early; then records each run as the runner reports
/// it (the runner's `on_done`), and the experiment with the first of them.
pub struct Recorder {
    store: std::sync::Mutex<Store>,
    dir: PathBuf,
    state_recorded: std::sync::atomic::AtomicBool,
}

impl Recorder {
    /// Opens the store of `dir` (created if needed) and ingests what the folder holds and the
    /// store lacks.
    pub fn start(dir: &Path) -> Result<Recorder> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let mut store = Store::open(dir)?;
        store.catch_up(dir)?;
        Ok(Recorder {
            store: std::sync::Mutex::new(store),
            dir: dir.to_path_buf(),
            state_recorded: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// Records a finished or failed run (and, the first time, the folder's `experiment.json`).
    pub fn record(&self, outcome: Outcome) -> Result<()> {
        let mut store = self.store.lock().expect("store");
        if !self
            .state_recorded
            .swap(true, std::sync::atomic::Ordering::SeqCst)
        {
            self.record_state(&mut store)?;
        }
        match outcome {
            Outcome::Finished(entry) => store.ingest_entry(entry),
            Outcome::Failed(failure) => store.ingest_failure(failure),
            Outcome::Slurm(SlurmRecord::Submitted(s)) => store.ingest_submission(s),
            Outcome::Slurm(SlurmRecord::TaskEnded(end)) => store.ingest_task_end(end),
        }
    }

    /// Records the folder's `experiment.json` as it is now (call after the runner is done).
    pub fn finish(&self) -> Result<()> {
        let mut store = self.store.lock().expect("store");
        self.record_state(&mut store)
    }

    fn record_state(&self, store: &mut Store) -> Result<()> {
        match ExperimentState::load(&self.dir)? {
            Some(state) => store.ingest_state(&state),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::recipe::{BaselineChoice, ModelChoice, Recipe};
    use crate::run::{CurvePoint, EvalSummary, RunRecord, RUN_RECORD_FORMAT};
    use lmlab_core::compute::ComputeRecord;
    use std::collections::BTreeMap;

    /// A finished run with made-up numbers: test bits per byte `bpb`, valid `bpb + 0.1`.
    pub(crate) fn entry(id: &str, arm: &str, budget: Option<f64>, seed: u64, bpb: f64) -> RunEntry {
        let summary = |bpb: f64| EvalSummary {
            sequences: 10,
            tokens: 1000,
            oov: 0,
            bytes: 1000,
            words: 200,
            log_prob_sum: -bpb * 1000.0 * std::f64::consts::LN_2,
            perplexity: bpb.exp2(),
            perplexity_excluding_oov: bpb.exp2(),
            bits_per_byte: bpb,
            word_perplexity: (bpb * 5.0).exp2(),
            comparable_across_tokenizers: true,
        };
        let recipe = Recipe {
            budget_cpu_seconds: budget,
            seed,
            ..Recipe::new(ModelChoice::Baseline(BaselineChoice::default()))
        };
        RunEntry {
            id: id.into(),
            experiment: "x".into(),
            arm: arm.into(),
            finished: "2026-12-01T10:00:00Z".into(),
            record: RunRecord {
                format: RUN_RECORD_FORMAT,
                recipe,
                data: BTreeMap::new(),
                compute: ComputeRecord {
                    cpu_seconds: 1.5 + seed as f64,
                    wall_seconds: 2.0,
                    tokens_seen: 1000,
                    parameters: 4096,
                    peak_rss_bytes: 1 << 20,
                },
                model_path: "model.lmlab".into(),
                model_bytes: 5000,
                artifacts: [("test.probs".to_string(), "test.probs.tsv".into())].into(),
                eval: [
                    ("test".to_string(), summary(bpb)),
                    ("valid".to_string(), summary(bpb + 0.1)),
                ]
                .into(),
                curve: vec![CurvePoint {
                    step: 10,
                    cpu_seconds: 0.7,
                    tokens_seen: 500,
                    val_loss: 1.1,
                    val_bits_per_byte: 1.6 + 0.1 / 3.0,
                }],
                stop: None,
                warnings: vec![],
                lmlab_version: "test".into(),
                derived: None,
            },
        }
    }

    pub(crate) fn failure(id: &str) -> RunFailure {
        RunFailure {
            id: id.into(),
            experiment: "x".into(),
            arm: "a".into(),
            recipe: Recipe::new(ModelChoice::Uniform),
            error: "out of memory".into(),
            failed: "2026-12-01T09:00:00Z".into(),
        }
    }

    fn count(store: &Store, table: &str) -> i64 {
        store
            .conn
            .query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
            .unwrap()
    }

    fn write_json(path: &Path, value: &impl serde::Serialize) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, serde_json::to_vec_pretty(value).unwrap()).unwrap();
    }

    #[test]
    fn entries_round_trip_and_ingesting_twice_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let (a, b) = (
            entry("b1", "a", Some(2.0), 1, 1.25),
            entry("a1", "a", None, 0, 2.5),
        );
        store.ingest_entry(&a).unwrap();
        store.ingest_entry(&b).unwrap();
        let rows: Vec<i64> = TABLES.iter().map(|t| count(&store, t)).collect();
        store.ingest_entry(&a).unwrap();
        assert_eq!(rows, TABLES.map(|t| count(&store, t)).to_vec());
        // 2 runs; 11 numbers per split × 2 splits + 2 curve numbers per run; model + 1 artifact.
        assert_eq!(rows, vec![0, 2, 2 * 24, 4, 0, 0]);
        assert_eq!(store.entries().unwrap(), vec![b.clone(), a.clone()]);
        // The columns agree with the entries.
        let numbers = store.run_numbers().unwrap();
        let mut expected = RunNumbers::of(&a);
        expected.metrics.sort_by(|x, y| x.partial_cmp(y).unwrap());
        let mut got = numbers[1].clone();
        got.metrics.sort_by(|x, y| x.partial_cmp(y).unwrap());
        assert_eq!(got, expected);
        // Reopening finds the same.
        drop(store);
        assert_eq!(
            Store::open(dir.path()).unwrap().entries().unwrap(),
            vec![b, a]
        );
    }

    #[test]
    fn a_later_success_replaces_a_failure_of_the_same_run() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        store.ingest_failure(&failure("r1")).unwrap();
        store.ingest_failure(&failure("r1")).unwrap();
        assert_eq!(store.failures().unwrap(), vec![failure("r1")]);
        assert!(store.entries().unwrap().is_empty());
        store.ingest_entry(&entry("r1", "a", None, 0, 2.0)).unwrap();
        assert!(store.failures().unwrap().is_empty());
        assert_eq!(store.entries().unwrap().len(), 1);
        assert_eq!(count(&store, "runs"), 1);
    }

    #[test]
    fn reindex_rebuilds_the_same_store_from_the_run_files() {
        let dir = tempfile::tempdir().unwrap();
        let entries = [
            entry("e1", "a", Some(2.0), 1, 1.0),
            entry("e2", "a", Some(2.0), 2, 1.5),
        ];
        for e in &entries {
            write_json(
                &super::super::run_dir(dir.path(), &e.id).join("run.json"),
                e,
            );
        }
        let f = failure("f1");
        write_json(
            &super::super::run_dir(dir.path(), "f1").join("failed.json"),
            &f,
        );
        let mut store = Store::open(dir.path()).unwrap();
        // Catching up ingests what the store lacks, once.
        assert_eq!(store.catch_up(dir.path()).unwrap(), 3);
        assert_eq!(store.catch_up(dir.path()).unwrap(), 0);
        let before = (store.entries().unwrap(), store.failures().unwrap());
        assert_eq!(before.0, entries.to_vec());
        drop(store);
        std::fs::remove_file(store_path(dir.path())).unwrap();
        assert_eq!(reindex(dir.path()).unwrap(), (2, 1));
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(
            (store.entries().unwrap(), store.failures().unwrap()),
            before
        );
        drop(store);
        // Over a damaged store too, and no temporary file is left.
        std::fs::write(store_path(dir.path()), b"garbage, not a database at all").unwrap();
        reindex(dir.path()).unwrap();
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(
            (store.entries().unwrap(), store.failures().unwrap()),
            before
        );
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains("reindex"))
            .collect();
        assert!(names.is_empty(), "{names:?}");
    }

    #[test]
    fn a_store_that_is_not_ours_is_refused_with_a_pointer_to_reindex() {
        let dir = tempfile::tempdir().unwrap();
        let path = store_path(dir.path());
        let check = |what: &str| {
            let m = Store::open(dir.path()).err().expect(what).to_string();
            assert!(m.contains("results.sqlite"), "{what}: {m}");
            assert!(m.contains("lmlab experiment reindex"), "{what}: {m}");
            m
        };
        std::fs::write(&path, b"this is not SQLite, but it is long enough").unwrap();
        check("garbage");
        std::fs::remove_file(&path).unwrap();
        let foreign = Connection::open(&path).unwrap();
        foreign
            .execute_batch("CREATE TABLE songs (title TEXT);")
            .unwrap();
        drop(foreign);
        assert!(check("foreign").contains("songs"));
        std::fs::remove_file(&path).unwrap();
        drop(Store::open(dir.path()).unwrap());
        let newer = Connection::open(&path).unwrap();
        newer.pragma_update(None, "user_version", 99).unwrap();
        drop(newer);
        assert!(check("newer").contains("99"));
        // A store damaged past its header.
        std::fs::remove_file(&path).unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        for i in 0..50 {
            store
                .ingest_entry(&entry(&format!("r{i}"), "a", None, 0, 1.0))
                .unwrap();
        }
        drop(store);
        let mut bytes = std::fs::read(&path).unwrap();
        let len = bytes.len();
        bytes[100..len].iter_mut().for_each(|b| *b = 0xA5);
        std::fs::write(&path, bytes).unwrap();
        check("damaged pages");
    }

    #[test]
    fn a_version_1_store_is_migrated_and_keeps_its_runs_and_slurm_tasks_are_recorded() {
        let dir = tempfile::tempdir().unwrap();
        let path = store_path(dir.path());
        // A store as lmlab wrote it before Slurm: version 1, without slurm_tasks.
        let old = Connection::open(&path).unwrap();
        old.execute_batch(&format!("{SCHEMA} PRAGMA user_version = 1;"))
            .unwrap();
        drop(old);
        {
            let mut v1 = Connection::open(&path).unwrap();
            let tx = v1.transaction().unwrap();
            insert_entry(&tx, &entry("r1", "a", None, 0, 1.0)).unwrap();
            tx.commit().unwrap();
        }
        let mut store = Store::open(dir.path()).unwrap();
        let version: i64 = store
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
        assert_eq!(store.entries().unwrap().len(), 1);
        let submission = Submission {
            job_id: "41".into(),
            runs: vec!["r1".into(), "r2".into()],
            attempts: vec![1, 2],
            cpus: 2,
            minutes: 10,
            submitted: "2026-12-05T00:00:00Z".into(),
        };
        store.ingest_submission(&submission).unwrap();
        store
            .ingest_task_end(&TaskEnd {
                job_id: "41".into(),
                task: 1,
                outcome: "retried",
                state: "NODE_FAIL".into(),
                reason: "NodeDown".into(),
            })
            .unwrap();
        let tasks = store.slurm_tasks().unwrap();
        assert_eq!(tasks.len(), 2);
        assert_eq!(
            (tasks[0].run_id.as_str(), tasks[0].outcome.as_deref()),
            ("r1", None)
        );
        assert_eq!(tasks[1].attempt, 2);
        assert_eq!(tasks[1].state.as_deref(), Some("NODE_FAIL"));
        assert_eq!(tasks[1].reason.as_deref(), Some("NodeDown"));
    }
}

//! Long calls that Ctrl-C interrupts. Python runs signal handlers only between bytecodes of the
//! main thread, so a call that stays inside Rust would see Ctrl-C only once it returns. Here the
//! work runs on a thread of its own while the calling thread, without the GIL, takes the GIL every
//! [`SIGNAL_POLL`] to run Python's signal handlers. When one raises (`KeyboardInterrupt`), the call
//! stops as the work's [`OnInterrupt`] says and raises it:
//! - work that polls [`lmlab_core::interrupt::requested`] is asked to stop
//!   ([`lmlab_core::interrupt::request`], withdrawn once the work has ended): a training loop ends
//!   its step and writes a checkpoint (the call waits for it; a second Ctrl-C stops waiting), the
//!   experiment runner starts no further run;
//! - work that is not waited for is left to end on its thread with its result dropped. Its
//!   [`Outcome`] is abandoned, so it puts nothing in place ([`Outcome::commit`]), and its
//!   temporary files are removed when it ends or, at the latest, when Python exits
//!   ([`remove_abandoned_files`]).

use lmlab_core::interrupt;
use pyo3::prelude::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex, MutexGuard};
use std::time::Duration;

/// How often the waiting thread runs Python's signal handlers.
const SIGNAL_POLL: Duration = Duration::from_millis(50);

/// Texts at least this long are worked on through [`run`] (a thread costs tens of microseconds,
/// which a sentence-sized call would notice).
pub const LONG_INPUT_BYTES: usize = 1 << 20;

/// Set once a call has left work running on its thread.
static ABANDONED: AtomicBool = AtomicBool::new(false);

/// What an interrupted call does with its work.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnInterrupt {
    /// Leave it at once (it polls nothing).
    Leave,
    /// Ask it to stop ([`interrupt::request`]), then leave it (it stops between units of work,
    /// which may be long).
    RequestAndLeave,
    /// Ask it to stop and wait until it has (a training step); a second interrupt leaves it.
    RequestAndWait,
}

/// Where the work stands, as the call and the work see it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stage {
    Running,
    /// Asked to stop through [`interrupt::request`]; the work withdraws it when it ends.
    StopRequested,
    /// The call has returned; the result is not wanted.
    Abandoned {
        requested: bool,
    },
    Ended,
}

/// Shared by the work and the waiting call.
#[derive(Clone)]
pub struct Outcome {
    stage: Arc<Mutex<Stage>>,
}

impl Outcome {
    fn lock(&self) -> MutexGuard<'_, Stage> {
        self.stage.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `finish` (moving a result into place) unless the call was interrupted and left this
    /// work: then returns `None` and `finish` never runs. The check and `finish` are one step, so a
    /// result appears either before the interrupted call returns or never.
    pub fn commit<R>(&self, finish: impl FnOnce() -> R) -> Option<R> {
        let stage = self.lock();
        (!matches!(*stage, Stage::Abandoned { .. })).then(finish)
    }

    /// The work has ended: withdraws the stop it was asked for.
    fn end(&self) {
        let mut stage = self.lock();
        if matches!(
            *stage,
            Stage::StopRequested | Stage::Abandoned { requested: true }
        ) {
            interrupt::withdraw();
        }
        *stage = Stage::Ended;
    }

    /// Asks the work to stop, unless it has ended.
    fn request_stop(&self) {
        let mut stage = self.lock();
        if *stage == Stage::Running {
            interrupt::request();
            *stage = Stage::StopRequested;
        }
    }

    /// Leaves the work, unless it has ended.
    fn abandon(&self) {
        let mut stage = self.lock();
        if *stage != Stage::Ended {
            let requested = *stage == Stage::StopRequested;
            *stage = Stage::Abandoned { requested };
            ABANDONED.store(true, Ordering::SeqCst);
        }
    }
}

/// Runs `work` on its own thread, raising `KeyboardInterrupt` promptly on Ctrl-C (see the module
/// documentation). A panic in `work` resumes here.
pub fn run<T: Send + 'static>(
    py: Python<'_>,
    on_interrupt: OnInterrupt,
    work: impl FnOnce(&Outcome) -> T + Send + 'static,
) -> PyResult<T> {
    let outcome = Outcome {
        stage: Arc::new(Mutex::new(Stage::Running)),
    };
    let (sender, receiver) = mpsc::sync_channel(1);
    let theirs = outcome.clone();
    std::thread::Builder::new()
        .name("lmlab-call".into())
        .spawn(move || {
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(&theirs)));
            theirs.end();
            // The receiver is gone when the call was interrupted and left this work.
            let _ = sender.send(result);
        })
        .map_err(|e| {
            pyo3::exceptions::PyRuntimeError::new_err(format!("cannot start a thread: {e}"))
        })?;
    let received = py.detach(move || {
        let mut raised: Option<PyErr> = None;
        loop {
            match receiver.recv_timeout(SIGNAL_POLL) {
                Ok(result) => return raised.map_or(Ok(result), Err),
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    let Err(error) = Python::attach(|py| py.check_signals()) else {
                        continue;
                    };
                    if on_interrupt != OnInterrupt::Leave {
                        outcome.request_stop();
                    }
                    if on_interrupt != OnInterrupt::RequestAndWait || raised.is_some() {
                        outcome.abandon();
                        return Err(raised.unwrap_or(error));
                    }
                    raised = Some(error);
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    return Err(pyo3::exceptions::PyRuntimeError::new_err(
                        "lmlab's worker thread ended without a result",
                    ))
                }
            }
        }
    })?;
    match received {
        Ok(value) => Ok(value),
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

/// Removes the temporary files of work that interrupted calls left running (registered with
/// [`lmlab_core::interrupt::TempPath`]); `lmlab` calls it when Python exits, since the threads of
/// such work end with the process and cannot clean up after themselves.
#[pyfunction]
pub fn remove_abandoned_files() {
    if ABANDONED.load(Ordering::SeqCst) {
        // Held until the process exits: the abandoned work can register nothing more.
        std::mem::forget(interrupt::remove_registered_paths());
    }
}

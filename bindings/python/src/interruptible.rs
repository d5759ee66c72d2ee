//! Long calls that Ctrl-C interrupts. Python runs signal handlers only between bytecodes of the
//! main thread, so a call that holds it inside Rust would see Ctrl-C only once it returns. Here the
//! work runs on a thread of its own while the calling thread, without the GIL, takes the GIL every
//! [`SIGNAL_POLL`] to run Python's signal handlers. On `KeyboardInterrupt` (or any exception a
//! handler raises) it asks lmlab's cooperative work to stop ([`lmlab_core::interrupt::request`]:
//! training loops end their step and write a checkpoint, the experiment runner starts no further
//! run), waits up to [`GRACE`] for it, and raises. Work that does not stop by then is left to end
//! on its thread with its result dropped: its [`Outcome`] is abandoned, so it puts nothing in place
//! (see [`Outcome::commit`]), and its temporary files are removed when it ends or, at the latest,
//! when Python exits ([`remove_abandoned_files`]).

use lmlab_core::interrupt;
use pyo3::prelude::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

/// How often the waiting thread runs Python's signal handlers.
const SIGNAL_POLL: Duration = Duration::from_millis(50);

/// How long an interrupted call waits for cooperative work to stop before leaving it.
const GRACE: Duration = Duration::from_secs(2);

/// Texts at least this long are worked on through [`run`] (a thread costs tens of microseconds,
/// which a sentence-sized call would notice).
pub const LONG_INPUT_BYTES: usize = 1 << 20;

/// Set once a call has left work running on its thread.
static ABANDONED: AtomicBool = AtomicBool::new(false);

/// Whether the work's result is still wanted; shared by the work and the waiting call.
#[derive(Clone, Default)]
pub struct Outcome {
    abandoned: Arc<Mutex<bool>>,
}

impl Outcome {
    /// Runs `finish` (moving a result into place) unless the call was interrupted and left this
    /// work: then returns `None` and `finish` never runs. The caller's check and `finish` are one
    /// step, so a result appears either before the interrupted call returns or never.
    pub fn commit<R>(&self, finish: impl FnOnce() -> R) -> Option<R> {
        let abandoned = self.abandoned.lock().unwrap_or_else(|e| e.into_inner());
        (!*abandoned).then(finish)
    }

    fn abandon(&self) {
        *self.abandoned.lock().unwrap_or_else(|e| e.into_inner()) = true;
    }
}

/// Runs `work` on its own thread, raising `KeyboardInterrupt` promptly on Ctrl-C (see the module
/// documentation). A panic in `work` resumes here.
pub fn run<T: Send + 'static>(
    py: Python<'_>,
    work: impl FnOnce(&Outcome) -> T + Send + 'static,
) -> PyResult<T> {
    let outcome = Outcome::default();
    let (sender, receiver) = mpsc::sync_channel(1);
    let theirs = outcome.clone();
    std::thread::Builder::new()
        .name("lmlab-call".into())
        .spawn(move || {
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(&theirs)));
            // The receiver is gone when the call was interrupted and left this work.
            let _ = sender.send(result);
        })
        .map_err(|e| {
            pyo3::exceptions::PyRuntimeError::new_err(format!("cannot start a thread: {e}"))
        })?;
    let received = py.detach(move || loop {
        match receiver.recv_timeout(SIGNAL_POLL) {
            Ok(result) => return Ok(result),
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if let Err(raised) = Python::attach(|py| py.check_signals()) {
                    stop(&receiver, &outcome);
                    return Err(raised);
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                return Err(pyo3::exceptions::PyRuntimeError::new_err(
                    "lmlab's worker thread ended without a result",
                ))
            }
        }
    })?;
    match received {
        Ok(value) => Ok(value),
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

/// After an interrupt: asks cooperative work to stop, waits up to [`GRACE`] for it, and otherwise
/// abandons it.
fn stop<T>(receiver: &mpsc::Receiver<T>, outcome: &Outcome) {
    interrupt::request();
    let stopped = receiver.recv_timeout(GRACE).is_ok();
    if !stopped {
        outcome.abandon();
        ABANDONED.store(true, Ordering::SeqCst);
    }
    interrupt::withdraw();
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

//! Interrupts (Ctrl-C, SIGTERM) handled so that no work is lost and nothing is left behind.
//!
//! The binary calls [`install_handler`] once. Long work then chooses one of two behaviours:
//! - **cooperative** (training loops): inside a [`Cooperative`] section the first signal only sets a
//!   flag that the loop polls with [`requested`]; it finishes its step, writes a checkpoint and stops.
//!   A second signal stops at once.
//! - **immediate** (everything else): the process exits with status 130 after removing every path
//!   registered with [`TempPath`] (half-written temporary files and folders).
//!
//! Without an installed handler (a library user, a test) signals keep their default behaviour, and
//! [`TempPath`] still removes its path when dropped, so errors leave nothing behind either. A host
//! that catches signals itself (lmlab's Python module) calls [`request`] instead: cooperative work
//! stops at its next step, and [`withdraw`] lets the next work run.

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

static REQUESTED: AtomicBool = AtomicBool::new(false);
static COOPERATIVE: AtomicUsize = AtomicUsize::new(0);
static NEXT_ID: AtomicU64 = AtomicU64::new(0);
static TEMP_PATHS: Mutex<Vec<(u64, PathBuf)>> = Mutex::new(Vec::new());
static INSTALLED: OnceLock<std::result::Result<(), String>> = OnceLock::new();

/// The exit status of a process stopped by an interrupt (128 + SIGINT, as shells report it).
pub const INTERRUPTED_EXIT_CODE: i32 = 130;

/// Installs the SIGINT / SIGTERM handler (idempotent).
pub fn install_handler() -> Result<()> {
    INSTALLED
        .get_or_init(|| ctrlc::set_handler(on_signal).map_err(|e| e.to_string()))
        .clone()
        .map_err(|e| Error::Mismatch(format!("cannot install the Ctrl-C handler: {e}")))
}

fn on_signal() {
    let first = !REQUESTED.swap(true, Ordering::SeqCst);
    if first && COOPERATIVE.load(Ordering::SeqCst) > 0 {
        eprintln!(
            "\ninterrupt received: finishing the current step and writing a checkpoint \
             (interrupt again to stop at once, losing the steps since the last checkpoint)"
        );
        return;
    }
    // The list stays locked until the exit: no thread registers (and so creates) another path.
    let _paths = remove_registered_paths();
    eprintln!("\ninterrupted; temporary files removed");
    std::process::exit(INTERRUPTED_EXIT_CODE);
}

/// Removes every registered temporary path now (before the process exits while work still runs
/// on other threads) and returns the list locked, so that none is registered meanwhile.
pub fn remove_registered_paths() -> std::sync::MutexGuard<'static, Vec<(u64, PathBuf)>> {
    // A path registered just before may be created just after its first removal: remove twice.
    let paths = lock_paths();
    for pass in 0..2 {
        if pass > 0 {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        for (_, path) in paths.iter() {
            remove_path(path);
        }
    }
    paths
}

/// True once an interrupt has been received (or [`request`]ed).
pub fn requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}

/// Requests an interrupt as a first signal does, without exiting: for a host that catches signals
/// itself. Cooperative work (training loops, the experiment runner) stops at its next step.
pub fn request() {
    REQUESTED.store(true, Ordering::SeqCst);
}

/// Withdraws an interrupt once the work it stopped has ended, so that later work runs.
pub fn withdraw() {
    REQUESTED.store(false, Ordering::SeqCst);
}

/// While one of these lives, the first interrupt only sets [`requested`] instead of exiting.
pub struct Cooperative(());

impl Cooperative {
    /// Enters a cooperative section.
    pub fn enter() -> Cooperative {
        COOPERATIVE.fetch_add(1, Ordering::SeqCst);
        Cooperative(())
    }
}

impl Drop for Cooperative {
    fn drop(&mut self) {
        COOPERATIVE.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A temporary file or folder that is removed when this guard drops (error paths, panics) or when
/// the process is interrupted, unless [`TempPath::keep`] was called.
#[derive(Debug)]
pub struct TempPath {
    id: u64,
    path: PathBuf,
}

impl TempPath {
    /// Registers `path` (which need not exist yet) for removal.
    pub fn register(path: impl Into<PathBuf>) -> TempPath {
        let id = NEXT_ID.fetch_add(1, Ordering::SeqCst);
        let path = path.into();
        lock_paths().push((id, path.clone()));
        TempPath { id, path }
    }

    /// The registered path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Forgets the path without removing it (it was renamed into place, or is wanted).
    pub fn keep(self) -> PathBuf {
        unregister(self.id);
        let path = self.path.clone();
        std::mem::forget(self);
        path
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        unregister(self.id);
        remove_path(&self.path);
    }
}

fn lock_paths() -> std::sync::MutexGuard<'static, Vec<(u64, PathBuf)>> {
    // A panic while holding the lock leaves a valid list: keep using it.
    TEMP_PATHS.lock().unwrap_or_else(|e| e.into_inner())
}

fn unregister(id: u64) {
    lock_paths().retain(|(i, _)| *i != id);
}

fn remove_path(path: &Path) {
    // On an interrupt the work goes on in other threads while this runs: a file written into a
    // folder between emptying it and removing it fails the removal ("directory not empty"). Once
    // the folder is gone nothing can be written into it, so a few tries suffice.
    for _ in 0..100 {
        let removed = if path.is_dir() {
            std::fs::remove_dir_all(path)
        } else {
            std::fs::remove_file(path)
        };
        match removed {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound && path.exists() => {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            _ => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_paths_are_removed_on_drop_and_kept_on_keep() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.tmp");
        let b = dir.path().join("b.tmp");
        let sub = dir.path().join("spill");
        std::fs::write(&a, b"x").unwrap();
        std::fs::write(&b, b"y").unwrap();
        std::fs::create_dir_all(sub.join("inner")).unwrap();
        drop(TempPath::register(&a));
        drop(TempPath::register(&sub));
        let kept = TempPath::register(&b).keep();
        assert!(!a.exists() && !sub.exists());
        assert!(kept.exists());
        assert!(lock_paths().iter().all(|(_, p)| p != &a && p != &b));
    }

    #[test]
    fn a_request_is_seen_until_withdrawn() {
        request();
        assert!(requested());
        withdraw();
        assert!(!requested());
    }

    #[test]
    fn cooperative_sections_nest() {
        let before = COOPERATIVE.load(Ordering::SeqCst);
        let outer = Cooperative::enter();
        let inner = Cooperative::enter();
        assert_eq!(COOPERATIVE.load(Ordering::SeqCst), before + 2);
        drop(inner);
        drop(outer);
        assert_eq!(COOPERATIVE.load(Ordering::SeqCst), before);
    }
}

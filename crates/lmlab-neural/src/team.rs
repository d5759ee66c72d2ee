//! A second thread for the KV cache's products (`layers/packed`): the caller and one helper each
//! run half of a job, the helper waiting for the next job by spinning for a while, then sleeping.
//!
//! Why not rayon: a KV step is 17 products of 10–300 µs each, and a rayon `join` from a thread
//! outside the pool hands its task to a pool thread and waits on a lock: on the 2-core machine of
//! `bench/speculative.sh` splitting each product's panels in two through `rayon::join` made
//! generation 1.3–1.8× slower (timed by hand, target-only and speculative alike). A helper that
//! spins between the products of a step answers within a microsecond.
//!
//! The split never changes a result: each part computes whole output elements, the same way on
//! either thread. One caller uses the helper at a time; another caller meanwhile runs both parts
//! itself, and so does a rayon worker (work already spread over the cores, such as CD-LM's build
//! or GRPO's rollouts, gains nothing from a helper competing with it). The helper exists only where rayon's pool has at least two threads (so
//! `RAYON_NUM_THREADS=1` keeps generation on one thread), is made at first use and lives as long
//! as the process.

use std::cell::UnsafeCell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread::{self, Thread};
use std::time::Duration;

/// Spins of the helper before it sleeps (about 50–100 µs: longer than the gaps between the
/// products of a step, shorter than anything a person would notice as a busy core).
const SPINS: u32 = 20_000;

/// A job: called once with 0 on the caller's thread and once with 1 on the helper's.
type Job = dyn Fn(usize) + Sync;

struct Shared {
    /// The posted job, valid from `posted`'s increment until `done` reaches it (the poster waits).
    job: UnsafeCell<Option<*const Job>>,
    posted: AtomicU64,
    done: AtomicU64,
    sleeping: AtomicBool,
    failed: AtomicBool,
    /// Held by the caller whose job the helper runs.
    busy: AtomicBool,
}

// SAFETY: `job` is written only by the caller holding `busy`, before it publishes `posted`
// (release), and read by the helper after it sees that value (acquire); the caller does not
// return (so the job outlives its use) before `done` says the helper is finished with it.
unsafe impl Sync for Shared {}
// SAFETY: as above; the raw pointer is only dereferenced under that protocol.
unsafe impl Send for Shared {}

struct Team {
    shared: Arc<Shared>,
    helper: Thread,
}

/// The process's helper, made at the first call (none where rayon has one thread).
fn team() -> Option<&'static Team> {
    static TEAM: OnceLock<Option<Team>> = OnceLock::new();
    TEAM.get_or_init(|| {
        if rayon::current_num_threads() < 2 {
            return None;
        }
        let shared = Arc::new(Shared {
            job: UnsafeCell::new(None),
            posted: AtomicU64::new(0),
            done: AtomicU64::new(0),
            sleeping: AtomicBool::new(false),
            failed: AtomicBool::new(false),
            busy: AtomicBool::new(false),
        });
        let theirs = Arc::clone(&shared);
        let handle = thread::Builder::new()
            .name("lmlab-kv-helper".into())
            .spawn(move || serve(&theirs))
            .ok()?;
        Some(Team {
            shared,
            helper: handle.thread().clone(),
        })
    })
    .as_ref()
}

/// The helper's loop: wait for a job (spin, then sleep), run part 1, say done.
fn serve(shared: &Shared) {
    let mut seen = 0;
    loop {
        let mut spins = 0;
        loop {
            let posted = shared.posted.load(Ordering::Acquire);
            if posted != seen {
                seen = posted;
                break;
            }
            spins += 1;
            if spins < SPINS {
                std::hint::spin_loop();
                continue;
            }
            shared.sleeping.store(true, Ordering::SeqCst);
            if shared.posted.load(Ordering::SeqCst) == seen {
                thread::park_timeout(Duration::from_millis(50));
            }
            shared.sleeping.store(false, Ordering::SeqCst);
            spins = 0;
        }
        // SAFETY: the poster wrote the job before publishing `seen` and waits for `done`.
        let job = unsafe { (*shared.job.get()).expect("a posted job") };
        // SAFETY: see above: the job outlives this call.
        let ok = catch_unwind(AssertUnwindSafe(|| unsafe { (*job)(1) })).is_ok();
        if !ok {
            shared.failed.store(true, Ordering::Relaxed);
        }
        shared.done.store(seen, Ordering::Release);
    }
}

/// Runs `job(0)` here and `job(1)` on the helper, together, and returns when both are done; both
/// here, one after the other, where there is no helper or another caller holds it.
pub fn split(job: &(dyn Fn(usize) + Sync)) {
    // A rayon worker is one of several doing such work in parallel (CD-LM's build, GRPO's
    // rollouts): the cores are taken, a helper would only compete with them.
    let free = |t: &&Team| {
        t.shared
            .busy
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    };
    let helper = rayon::current_thread_index().is_none().then(team).flatten();
    let Some(team) = helper.filter(free) else {
        job(0);
        job(1);
        return;
    };
    let s = &team.shared;
    // SAFETY: this caller holds `busy`; the helper reads the slot only after the `posted` store
    // below, and this function waits for `done` before the job's borrow ends. The lifetime is
    // erased for the slot's type; it is never used past that wait.
    unsafe {
        let erased: *const Job =
            std::mem::transmute::<*const (dyn Fn(usize) + Sync + '_), *const Job>(job);
        *s.job.get() = Some(erased);
    }
    let ticket = s.posted.load(Ordering::Relaxed) + 1;
    s.posted.store(ticket, Ordering::SeqCst);
    if s.sleeping.load(Ordering::SeqCst) {
        team.helper.unpark();
    }
    let mine = catch_unwind(AssertUnwindSafe(|| job(0)));
    while s.done.load(Ordering::Acquire) != ticket {
        std::hint::spin_loop();
    }
    let failed = s.failed.swap(false, Ordering::Relaxed);
    s.busy.store(false, Ordering::Release);
    if let Err(panic) = mine {
        std::panic::resume_unwind(panic);
    }
    assert!(!failed, "the KV helper thread's half of a product panicked");
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[test]
    fn both_parts_run_once_each_from_many_callers() {
        let sums: Vec<AtomicUsize> = (0..2).map(|_| AtomicUsize::new(0)).collect();
        std::thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| {
                    for _ in 0..500 {
                        split(&|part| {
                            sums[part].fetch_add(1, Ordering::Relaxed);
                        });
                    }
                });
            }
        });
        assert_eq!(sums[0].load(Ordering::Relaxed), 2000);
        assert_eq!(sums[1].load(Ordering::Relaxed), 2000);
    }

    /// A part that panics, on either thread, panics the caller; the helper serves on after it.
    #[test]
    fn a_panicking_part_reaches_the_caller() {
        for bad in 0..2 {
            let r = catch_unwind(|| {
                split(&|part| {
                    if part == bad {
                        panic!("part {part} fails");
                    }
                })
            });
            assert!(r.is_err(), "part {bad}'s panic was lost");
        }
        let ran = AtomicUsize::new(0);
        split(&|_| {
            ran.fetch_add(1, Ordering::Relaxed);
        });
        assert_eq!(ran.load(Ordering::Relaxed), 2);
    }
}

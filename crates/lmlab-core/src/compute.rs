//! Compute accounting: process CPU seconds (user + system), wall seconds and peak memory.

use serde::{Deserialize, Serialize};
use std::time::Instant;

/// What a training run cost.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ComputeRecord {
    /// Process CPU seconds (user + system) spent, all threads together.
    pub cpu_seconds: f64,
    /// Wall-clock seconds.
    pub wall_seconds: f64,
    /// Tokens the run read.
    pub tokens_seen: u64,
    /// Parameters or stored n-gram entries of the result.
    pub parameters: u64,
    /// Peak resident memory of the process so far, bytes (a process-wide high-water mark).
    pub peak_rss_bytes: u64,
}

/// Process CPU time (user + system) in seconds, all threads.
pub fn process_cpu_seconds() -> f64 {
    let usage = rusage();
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
    seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

/// Hands the allocator's free memory back to the system (glibc's `malloc_trim`; nothing
/// elsewhere), so that memory freed in many small pieces, e.g. a large vocabulary, leaves the
/// resident set before a memory-hungry phase. A hint: no effect on results.
pub fn release_free_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns unused heap pages to the kernel; it is thread-safe.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// An empty vector with room for `capacity` elements whose memory is advised to use transparent
/// huge pages (Linux; an ordinary vector elsewhere, or where the advice fails). For large tables
/// read at random (the GLM's indexes): each 2 MiB huge page takes one TLB entry where 4 KiB pages
/// take 512, so the random reads' page walks mostly disappear. Call before writing the elements:
/// pages already touched stay small. A hint: no effect on results.
pub fn huge_page_vec<T>(capacity: usize) -> Vec<T> {
    let v = Vec::with_capacity(capacity);
    #[cfg(target_os = "linux")]
    {
        const HUGE: usize = 2 << 20;
        let start = v.as_ptr() as usize;
        let end = start + capacity * std::mem::size_of::<T>();
        let (from, to) = (start.next_multiple_of(HUGE), end / HUGE * HUGE);
        if to > from {
            // SAFETY: [from, to) lies inside the vector's allocation, which this function owns
            // and has not written; madvise only changes how the kernel backs those pages.
            unsafe {
                libc::madvise(from as *mut libc::c_void, to - from, libc::MADV_HUGEPAGE);
            }
        }
    }
    v
}

/// Peak resident set size of this process in bytes.
pub fn peak_rss_bytes() -> u64 {
    // Linux reports ru_maxrss in KiB.
    rusage().ru_maxrss.max(0) as u64 * 1024
}

fn rusage() -> libc::rusage {
    // SAFETY: getrusage fills the zeroed struct we pass; RUSAGE_SELF is always valid.
    unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    }
}

/// Measures a span of work.
pub struct ComputeMeter {
    cpu_start: f64,
    wall_start: Instant,
}

impl ComputeMeter {
    /// Starts measuring now.
    pub fn start() -> ComputeMeter {
        ComputeMeter {
            cpu_start: process_cpu_seconds(),
            wall_start: Instant::now(),
        }
    }

    /// CPU seconds spent since the start.
    pub fn cpu_seconds(&self) -> f64 {
        process_cpu_seconds() - self.cpu_start
    }

    /// Wall seconds since the start.
    pub fn wall_seconds(&self) -> f64 {
        self.wall_start.elapsed().as_secs_f64()
    }

    /// Ends the span.
    pub fn finish(&self, tokens_seen: u64, parameters: u64) -> ComputeRecord {
        ComputeRecord {
            cpu_seconds: self.cpu_seconds(),
            wall_seconds: self.wall_seconds(),
            tokens_seen,
            parameters,
            peak_rss_bytes: peak_rss_bytes(),
        }
    }
}

/// A compute budget in CPU seconds ("core-seconds"); zero or negative budgets are refused.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Budget {
    cpu_seconds: f64,
}

impl Budget {
    /// A budget of `cpu_seconds`, which must be a positive finite number.
    pub fn cpu_seconds(cpu_seconds: f64) -> crate::Result<Budget> {
        if cpu_seconds.is_finite() && cpu_seconds > 0.0 {
            Ok(Budget { cpu_seconds })
        } else {
            Err(crate::Error::invalid(format!(
                "a budget must be a positive number of CPU seconds, got {cpu_seconds}"
            )))
        }
    }

    /// True once `meter` has spent the budget.
    pub fn is_spent(&self, meter: &ComputeMeter) -> bool {
        meter.cpu_seconds() >= self.cpu_seconds
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_huge_page_vec_is_an_empty_vec_with_its_room() {
        // 6 MiB: at least one whole 2 MiB page inside, so the advice is given.
        let mut v: Vec<u64> = huge_page_vec(3 << 18);
        assert!(v.is_empty() && v.capacity() >= 3 << 18);
        v.extend((0..3u64 << 18).map(|i| i * 3));
        assert_eq!(
            (v.len(), v[12345], v[(3 << 18) - 1]),
            (3 << 18, 37035, ((3 << 18) - 1) * 3)
        );
        assert!(huge_page_vec::<u8>(0).is_empty());
    }

    #[test]
    fn cpu_time_advances_with_work_and_budgets_are_checked() {
        let meter = ComputeMeter::start();
        let mut x = 0u64;
        for i in 0..20_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        std::hint::black_box(x);
        let record = meter.finish(10, 5);
        assert!(record.cpu_seconds > 0.0 && record.peak_rss_bytes > 0);
        assert!(Budget::cpu_seconds(0.0)
            .unwrap_err()
            .to_string()
            .contains("positive"));
        assert!(Budget::cpu_seconds(f64::NAN).is_err());
        assert!(Budget::cpu_seconds(1e-9).unwrap().is_spent(&meter));
    }
}

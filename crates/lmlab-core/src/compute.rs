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

    /// Ends the span.
    pub fn finish(&self, tokens_seen: u64, parameters: u64) -> ComputeRecord {
        ComputeRecord {
            cpu_seconds: self.cpu_seconds(),
            wall_seconds: self.wall_start.elapsed().as_secs_f64(),
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

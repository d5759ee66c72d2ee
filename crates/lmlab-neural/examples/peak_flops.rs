//! The CPU's peak floating-point rate, measured: chains of independent fused multiply-adds held in
//! registers (no memory traffic), for each vector instruction set the CPU has — fp32 FMA with AVX2
//! and with AVX-512, and bf16 dot products (`vdpbf16ps`) where AVX512_BF16 exists — on one thread and
//! on every core. Benchmarks print their achieved GFLOP/s beside these figures, so a throughput beyond
//! the hardware shows up as a bug in the measurement. The best of three runs of about half a second
//! each is the figure. Each run is also timed in CPU seconds of the process: GFLOP per CPU-second is
//! one core's rate even when other work shares the cores (a wall-clock rate then reads low), so
//! benchmarks on a busy machine compare their own GFLOP per CPU-second with it.
//!
//! Run: `cargo run --release -p lmlab-neural --example peak_flops` (bench/peak_flops.sh). Prints one
//! line per instruction set and, last, `PEAK_FP32_1T=… PEAK_FP32_ALL=… PEAK_FP32_PER_CPU_S=…`
//! (GFLOP/s of the widest fp32 path on one thread and on all cores, and its GFLOP per CPU-second
//! on one thread) for scripts.

use lmlab_core::compute::process_cpu_seconds;
use std::arch::x86_64::*;
use std::hint::black_box;
use std::time::Instant;

/// Independent accumulators per thread: enough to cover the FMA latency (4 cycles) on two pipes.
const CHAINS: usize = 12;
/// FMA rounds per timing call (each round: CHAINS instructions).
const ROUNDS: u64 = 20_000_000;

/// One measured path: its name, FLOPs per instruction and the loop that runs `ROUNDS` rounds.
struct Path {
    name: &'static str,
    flops_per_instruction: u64,
    run: fn() -> f32,
}

#[target_feature(enable = "avx2,fma")]
unsafe fn fma_avx2() -> f32 {
    let (a, b) = (_mm256_set1_ps(black_box(0.999_999)), _mm256_set1_ps(1e-7));
    let mut acc = [_mm256_set1_ps(1.0); CHAINS];
    for _ in 0..black_box(ROUNDS) {
        for x in acc.iter_mut() {
            *x = _mm256_fmadd_ps(*x, a, b);
        }
    }
    let mut out = [0f32; 8];
    let total = acc
        .iter()
        .fold(_mm256_setzero_ps(), |s, &x| _mm256_add_ps(s, x));
    _mm256_storeu_ps(out.as_mut_ptr(), total);
    out.iter().sum()
}

#[target_feature(enable = "avx512f")]
unsafe fn fma_avx512() -> f32 {
    let (a, b) = (_mm512_set1_ps(black_box(0.999_999)), _mm512_set1_ps(1e-7));
    let mut acc = [_mm512_set1_ps(1.0); CHAINS];
    for _ in 0..black_box(ROUNDS) {
        for x in acc.iter_mut() {
            *x = _mm512_fmadd_ps(*x, a, b);
        }
    }
    _mm512_reduce_add_ps(
        acc.iter()
            .fold(_mm512_setzero_ps(), |s, &x| _mm512_add_ps(s, x)),
    )
}

#[target_feature(enable = "avx512f,avx512bf16")]
unsafe fn dot_bf16_avx512() -> f32 {
    let pairs = _mm512_cvtne2ps_pbh(_mm512_set1_ps(black_box(1e-3)), _mm512_set1_ps(1e-3));
    let mut acc = [_mm512_set1_ps(1.0); CHAINS];
    for _ in 0..black_box(ROUNDS) {
        for x in acc.iter_mut() {
            *x = _mm512_dpbf16_ps(*x, pairs, pairs);
        }
    }
    _mm512_reduce_add_ps(
        acc.iter()
            .fold(_mm512_setzero_ps(), |s, &x| _mm512_add_ps(s, x)),
    )
}

/// The paths this CPU can run, narrowest first.
fn paths() -> Vec<Path> {
    let mut out = Vec::new();
    if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
        out.push(Path {
            name: "fp32 FMA, AVX2 (8 lanes)",
            flops_per_instruction: 16,
            // SAFETY: the features were detected just above.
            run: || unsafe { fma_avx2() },
        });
    }
    if is_x86_feature_detected!("avx512f") {
        out.push(Path {
            name: "fp32 FMA, AVX-512 (16 lanes)",
            flops_per_instruction: 32,
            // SAFETY: detected.
            run: || unsafe { fma_avx512() },
        });
    }
    if is_x86_feature_detected!("avx512f") && is_x86_feature_detected!("avx512bf16") {
        out.push(Path {
            name: "bf16 dot product, AVX512_BF16 (16 lanes x 2 pairs)",
            flops_per_instruction: 64,
            // SAFETY: detected.
            run: || unsafe { dot_bf16_avx512() },
        });
    }
    out
}

/// GFLOP per wall second and per CPU-second of `path` on `threads` threads at once, each the best
/// of three.
fn measure(path: &Path, threads: usize) -> (f64, f64) {
    let flops = ROUNDS * CHAINS as u64 * path.flops_per_instruction * threads as u64;
    (0..3)
        .map(|_| {
            let (start, cpu) = (Instant::now(), process_cpu_seconds());
            std::thread::scope(|s| {
                for _ in 0..threads {
                    s.spawn(|| black_box((path.run)()));
                }
            });
            let gflop = flops as f64 / 1e9;
            (
                gflop / start.elapsed().as_secs_f64(),
                gflop / (process_cpu_seconds() - cpu),
            )
        })
        .fold((0.0, 0.0), |(w, c), (w2, c2)| (w.max(w2), c.max(c2)))
}

fn main() {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let paths = paths();
    if paths.is_empty() {
        eprintln!("peak_flops: this CPU has neither AVX2+FMA nor AVX-512; nothing to measure");
        std::process::exit(1);
    }
    let mut widest_fp32 = (0.0, 0.0, 0.0);
    for path in &paths {
        let ((one, per_cpu_s), (all, _)) = (measure(path, 1), measure(path, cores));
        println!(
            "{:52} 1 thread {one:7.1} GFLOP/s   {cores} threads {all:7.1} GFLOP/s   \
             {per_cpu_s:7.1} GFLOP/CPU-s",
            path.name
        );
        if path.name.starts_with("fp32") {
            widest_fp32 = (one, all, per_cpu_s);
        }
    }
    println!(
        "PEAK_FP32_1T={:.1} PEAK_FP32_ALL={:.1} PEAK_FP32_PER_CPU_S={:.1}",
        widest_fp32.0, widest_fp32.1, widest_fp32.2
    );
}

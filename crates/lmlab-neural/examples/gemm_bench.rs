//! GFLOP/s of the engine's GEMM kernels side by side on the shapes a small transformer runs:
//! `matrixmultiply`'s sgemm (AVX2 + FMA) and, where the CPU has them, this crate's AVX-512 f32 and
//! bf16 kernels (`lmlab_neural::gemm::avx512`), each on one thread (ratios against
//! `matrixmultiply`), then the kernel products use by
//! default ([`lmlab_neural::gemm::f32_kernel`]) split over rayon. Each shape's kernels are timed
//! one after the other, three rounds, best of each. Usage:
//! `cargo run --release -p lmlab-neural --example gemm_bench`.

#[cfg(target_arch = "x86_64")]
use lmlab_neural::gemm::avx512::{self, Precision};
use lmlab_neural::gemm::{f32_kernel, matmul, Mat};
use std::time::Instant;

/// Seconds per product of `f`, best of three rounds of `reps` calls.
fn best(reps: usize, mut f: impl FnMut()) -> f64 {
    (0..3)
        .map(|_| {
            let t0 = Instant::now();
            for _ in 0..reps {
                f();
            }
            t0.elapsed().as_secs_f64() / reps as f64
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() {
    println!("default kernel: {:?}", f32_kernel());
    // (m, k, n): rows × inner × outputs, e.g. B·T = 768 rows of d = 128 (nanoGPT shakespeare-char
    // CPU), 4096 = 16 × 256 rows at d = 256 (qkv, MLP up, MLP down, the head's 256 bytes).
    let shapes = [
        (768, 128, 384),
        (768, 128, 512),
        (768, 512, 128),
        (128, 768, 384),
        (64, 32, 64),
        (4096, 256, 768),
        (4096, 256, 1024),
        (4096, 1024, 256),
        (256, 4096, 768),
    ];
    for (m, k, n) in shapes {
        let a: Vec<f32> = (0..m * k).map(|i| (i % 7) as f32 * 0.1).collect();
        let b: Vec<f32> = (0..k * n).map(|i| (i % 5) as f32 * 0.1).collect();
        let mut c = vec![0f32; m * n];
        let flops = 2.0 * (m * k * n) as f64;
        let reps = ((1e9 / flops) as usize).clamp(3, 20_000);
        let mut line = format!("{m:>5}x{k:<4} @ {k:>4}x{n:<4}");
        let portable = best(reps, || {
            // SAFETY: row-major buffers of the stated sizes.
            unsafe {
                matrixmultiply::sgemm(
                    m,
                    k,
                    n,
                    1.0,
                    a.as_ptr(),
                    k as isize,
                    1,
                    b.as_ptr(),
                    n as isize,
                    1,
                    0.0,
                    c.as_mut_ptr(),
                    n as isize,
                    1,
                );
            }
            std::hint::black_box(&mut c);
        });
        line += &format!("  matrixmultiply {:6.1}", flops / portable / 1e9);
        #[cfg(target_arch = "x86_64")]
        for precision in [Precision::F32, Precision::Bf16] {
            if !avx512::available(precision) {
                continue;
            }
            let fast = best(reps, || {
                // SAFETY: as above; the CPU runs `precision`.
                unsafe {
                    avx512::sgemm(
                        precision,
                        m,
                        k,
                        n,
                        a.as_ptr(),
                        (k as isize, 1),
                        b.as_ptr(),
                        (n as isize, 1),
                        c.as_mut_ptr(),
                        n,
                        false,
                    );
                }
                std::hint::black_box(&mut c);
            });
            line += &format!(
                "  avx512 {precision:?} {:6.1} ({:.2}x)",
                flops / fast / 1e9,
                portable / fast
            );
        }
        let split = best(reps, || {
            matmul(Mat::new(&a, m, k), Mat::new(&b, k, n), &mut c, false);
            std::hint::black_box(&mut c);
        });
        line += &format!(
            "  default on rayon ({} threads) {:6.1} GFLOP/s",
            rayon::current_num_threads(),
            flops / split / 1e9
        );
        println!("{line}");
    }
}

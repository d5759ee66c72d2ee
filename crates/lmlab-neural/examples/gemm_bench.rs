//! GFLOP/s of the engine's GEMM (matrixmultiply sgemm, one thread and split over rayon) on the shapes a
//! small transformer runs. Usage: `cargo run --release -p lmlab-neural --example gemm_bench`.

use lmlab_neural::gemm::{matmul, matmul_serial, Mat};
use std::time::Instant;

fn main() {
    // (m, k, n): rows × inner × outputs, e.g. B·T = 768 rows of d = 128 (nanoGPT shakespeare-char CPU).
    let shapes = [
        (768, 128, 384),
        (768, 128, 512),
        (768, 512, 128),
        (128, 768, 384),
        (64, 32, 64),
        (4096, 256, 768),
    ];
    for (m, k, n) in shapes {
        let a: Vec<f32> = (0..m * k).map(|i| (i % 7) as f32 * 0.1).collect();
        let b: Vec<f32> = (0..k * n).map(|i| (i % 5) as f32 * 0.1).collect();
        let mut c = vec![0f32; m * n];
        let flops = 2.0 * (m * k * n) as f64;
        let reps = ((2e9 / flops) as usize).clamp(3, 20_000);
        for (name, parallel) in [("1 thread", false), ("rayon", true)] {
            let t0 = Instant::now();
            for _ in 0..reps {
                if parallel {
                    matmul(Mat::new(&a, m, k), Mat::new(&b, k, n), &mut c, false);
                } else {
                    matmul_serial(Mat::new(&a, m, k), Mat::new(&b, k, n), &mut c, false);
                    std::hint::black_box(&mut c);
                }
            }
            let s = t0.elapsed().as_secs_f64();
            println!(
                "{m:>5}x{k:<4} @ {k:>4}x{n:<4} {name:>8}: {:6.1} GFLOP/s",
                flops * reps as f64 / s / 1e9
            );
        }
    }
}

//! The KV cache's linear layers before and after `layers/packed`: the products of one step of n
//! rows (1..9, and 65: a window change) through the linear layers of the transformer of
//! `bench/speculative.sh` (4 blocks × 256: q/k/v 256 → 768, projection 256 → 256, MLP 256 → 1024 →
//! 256, head 256 → 260; random weights, 13 MB of f32), by `PackedLinear::forward` (panels, fused
//! multiply-adds) and by `linear::forward_rows` (the row tiles the cache used before, summed as
//! `dot`), on one thread. The paths alternate round by round and each size is reported by its
//! median, with the GFLOP/s they imply (compare with `examples/peak_flops.rs` on the same machine)
//! and the GB/s of weights read.
//! Usage: `cargo run --release -p lmlab-neural --example packed_rows [ROUNDS]` (default 100).

use lmlab_neural::layers::linear;
use lmlab_neural::layers::packed::PackedLinear;
use std::time::Instant;

#[path = "common/target_shapes.rs"]
mod target_shapes;

fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .map_or(100, |s| s.parse().expect("ROUNDS: a number"));
    let shapes = target_shapes::shapes();
    let weights = target_shapes::weights(&shapes);
    let packed: Vec<PackedLinear<f32>> = weights
        .iter()
        .zip(&shapes)
        .map(|(w, &(i, o))| PackedLinear::new(w, i, o))
        .collect();
    let sizes = [1, 2, 3, 4, 5, 6, 7, 8, 9, 65];
    let x: Vec<f32> = (0..65 * 1024)
        .map(|k| ((k * 13) % 89) as f32 / 89.0 - 0.5)
        .collect();
    let mut y = vec![0f32; 65 * 1024];
    let mut run = |packed_path: bool, n: usize| {
        let t0 = Instant::now();
        for (p, (w, &(d_in, d_out))) in packed.iter().zip(weights.iter().zip(&shapes)) {
            if packed_path {
                p.forward(&mut y, &x, None, n);
            } else {
                linear::forward_rows(&mut y, &x, w, None, n, d_in, d_out);
            }
            std::hint::black_box(&y);
        }
        t0.elapsed().as_secs_f64()
    };
    let mut times = vec![vec![Vec::with_capacity(rounds); sizes.len()]; 2];
    // Each round runs every size through one path, then through the other: the two copies of the
    // weights (26 MB) do not fit in the L3 of a small machine together, and in a process only one
    // of them exists.
    // The first size after a switch meets the other copy in the cache: the sizes rotate, so each
    // is first in a tenth of the rounds.
    for round in 0..rounds {
        for (path, t) in times.iter_mut().enumerate() {
            for j in 0..sizes.len() {
                let i = (j + round) % sizes.len();
                t[i].push(run(path == 0, sizes[i]));
            }
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let macs: usize = shapes.iter().map(|&(i, o)| i * o).sum();
    println!("rows  packed µs  GFLOP/s  GB/s   forward_rows µs  GFLOP/s  GB/s   speed-up");
    for (i, &n) in sizes.iter().enumerate() {
        let (a, b) = (median(&mut times[0][i]), median(&mut times[1][i]));
        let gflops = |t: f64| 2.0 * (macs * n) as f64 / t / 1e9;
        let gbs = |t: f64| (macs * 4) as f64 / t / 1e9;
        println!(
            "{n:>4}  {:>9.1}  {:>7.1}  {:>5.1}  {:>15.1}  {:>7.1}  {:>5.1}  {:>7.2}",
            a * 1e6,
            gflops(a),
            gbs(a),
            b * 1e6,
            gflops(b),
            gbs(b),
            b / a
        );
    }
}

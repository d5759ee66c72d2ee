//! The row tiles' two paths side by side: the products of one step of n = 1..9 rows through the
//! linear layers of the transformer of `bench/speculative.sh` (4 blocks × 256: q/k/v 256 → 768,
//! projection 256 → 256, MLP 256 → 1024 → 256, head 256 → 260; random weights), by
//! `linear::forward_rows` (AVX-512 tiles where the CPU has them) and by
//! `row_tiles::forward_avx_tiles` (the AVX tiles a CPU without AVX-512 runs), on one thread. The paths
//! and sizes are interleaved round by round and each is reported by its median, so a change of load on
//! a shared machine reaches all alike; both give the same values (checked).
//! Usage: `cargo run --release -p lmlab-neural --example row_tiles [ROUNDS]` (default 200).

use lmlab_neural::layers::{linear, row_tiles};
use std::time::Instant;

#[path = "common/target_shapes.rs"]
mod target_shapes;

type Forward = fn(&mut [f32], &[f32], &[f32], Option<&[f32]>, usize, usize, usize);

fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .map_or(200, |s| s.parse().expect("ROUNDS: a number"));
    let shapes = target_shapes::shapes();
    let weights = target_shapes::weights(&shapes);
    let x: Vec<f32> = (0..9 * 1024)
        .map(|k| ((k * 13) % 89) as f32 / 89.0 - 0.5)
        .collect();
    let mut y = vec![0f32; 9 * 1024];
    let paths: [(&str, Forward); 2] = [
        ("forward_rows", linear::forward_rows::<f32>),
        ("AVX tiles", row_tiles::forward_avx_tiles::<f32>),
    ];
    let step = |f: Forward, y: &mut [f32], n: usize| {
        let mut sum = 0f32;
        for (w, &(d_in, d_out)) in weights.iter().zip(&shapes) {
            f(y, &x, w, None, n, d_in, d_out);
            sum += y[0];
        }
        sum
    };
    for n in 1..=9 {
        let (a, b) = (step(paths[0].1, &mut y, n), step(paths[1].1, &mut y, n));
        assert_eq!(a.to_bits(), b.to_bits(), "the two paths differ at {n} rows");
    }
    let mut times = vec![
        (0..9)
            .map(|_| Vec::with_capacity(rounds))
            .collect::<Vec<_>>();
        2
    ];
    for _ in 0..rounds {
        for n in 1..=9 {
            for (p, &(_, f)) in paths.iter().enumerate() {
                let t0 = Instant::now();
                std::hint::black_box(step(f, &mut y, n));
                times[p][n - 1].push(t0.elapsed().as_secs_f64());
            }
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    println!("rows  {:>14} µs  {:>14} µs  ratio", paths[0].0, paths[1].0);
    for n in 1..=9 {
        let a = median(&mut times[0][n - 1]);
        let b = median(&mut times[1][n - 1]);
        println!(
            "{n:>4}  {:>17.1}  {:>17.1}  {:>5.2}",
            a * 1e6,
            b * 1e6,
            b / a
        );
    }
}

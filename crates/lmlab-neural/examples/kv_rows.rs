//! What a speculative verification costs against one step: the time of `step_many` over n = 1..9
//! new rows after 64 cached positions, for the transformer of `bench/speculative.sh` (4 blocks × 256,
//! 128 positions, 260 tokens, random weights), on one thread unless `RAYON_NUM_THREADS` says more
//! (two or more: the products split with the KV helper thread). The sizes are interleaved round by round
//! and each is reported by its median, so a change of load on a shared machine reaches every size alike.
//! Also times a window change: 65 rows from an empty cache (the last half window and the new token),
//! with every row's outputs and with only the last's (`step_rows`, as the stepper rebuilds a window).
//! Usage: `cargo run --release -p lmlab-neural --example kv_rows [ROUNDS]` (default 200).

use lmlab_neural::config::{Arch, Mlp, ModelConfig, Norm, Positions};
use lmlab_neural::model::Transformer;
use std::time::Instant;

fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .map_or(200, |s| s.parse().expect("ROUNDS: a number"));
    if std::env::var_os("RAYON_NUM_THREADS").is_none() {
        rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build_global()
            .expect("the first pool");
    }
    let c = ModelConfig {
        arch: Arch::Transformer,
        vocab_size: 260,
        n_layer: 4,
        n_head: 4,
        n_embd: 256,
        d_ff: 0,
        block_size: 128,
        norm: Norm::LayerNorm,
        mlp: Mlp::Gelu,
        positions: Positions::Learned,
        tied_head: true,
        bias: false,
        dropout: 0.0,
    };
    let m = Transformer::<f32>::new(&c, 1).expect("config");
    let tokens: Vec<u32> = (0..80).map(|i| (i * 37 % 250) as u32).collect();
    let mut cache = m.new_cache();
    m.step_many(&mut cache, &tokens[..64]);
    let sizes = 1..=9usize;
    let mut times: Vec<Vec<f64>> = sizes.clone().map(|_| Vec::with_capacity(rounds)).collect();
    // A window change: the last half window (64 inputs) and the new token, from an empty cache,
    // every row given out (`step_many`) or only the new token's (`step_rows`, as `KvScorer` does).
    let (mut window, mut rebuild) = (Vec::with_capacity(rounds), Vec::with_capacity(rounds));
    for _ in 0..rounds {
        for n in sizes.clone() {
            cache.truncate(64);
            let t0 = Instant::now();
            std::hint::black_box(m.step_many(&mut cache, &tokens[64..64 + n]));
            times[n - 1].push(t0.elapsed().as_secs_f64());
        }
        cache.clear();
        let t0 = Instant::now();
        std::hint::black_box(m.step_many(&mut cache, &tokens[..65]));
        window.push(t0.elapsed().as_secs_f64());
        cache.clear();
        let t0 = Instant::now();
        std::hint::black_box(m.step_rows(&mut cache, &tokens[..65], 64));
        rebuild.push(t0.elapsed().as_secs_f64());
        cache.truncate(64);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let one = median(&mut times[0]);
    println!("rows  median µs  / one step");
    for n in sizes {
        let t = median(&mut times[n - 1]);
        println!("{n:>4} {:>10.1} {:>10.2}", t * 1e6, t / one);
    }
    let (t, r) = (median(&mut window), median(&mut rebuild));
    println!(
        "window change (65 rows from an empty cache) {:.1} µs, {:.2} steps; \
         giving out only the last row {:.1} µs, {:.2} steps",
        t * 1e6,
        t / one,
        r * 1e6,
        r / one
    );
}

//! The linear layers of the transformer of `bench/speculative.sh` (4 blocks × 256: q/k/v 256 → 768,
//! projection 256 → 256, MLP 256 → 1024 → 256, head 256 → 260) with fixed pseudo-random weights,
//! shared by the examples that time one KV step's products.

/// `(d_in, d_out)` of each linear layer of one step, in order.
pub fn shapes() -> Vec<(usize, usize)> {
    let block = [(256, 768), (256, 256), (256, 1024), (1024, 256)];
    (0..4).flat_map(|_| block).chain([(256, 260)]).collect()
}

/// Weights for `shapes` (`[d_out, d_in]` each, values in [−0.5, 0.5)).
pub fn weights(shapes: &[(usize, usize)]) -> Vec<Vec<f32>> {
    shapes
        .iter()
        .enumerate()
        .map(|(s, &(i, o))| {
            (0..i * o)
                .map(|k| ((k * 31 + s * 7) % 97) as f32 / 97.0 - 0.5)
                .collect()
        })
        .collect()
}

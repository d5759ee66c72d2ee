//! Token embedding plus optional learned position embedding.

use crate::float::Float;

/// `x[r] = wte[tokens[r]] + wpe[r % t]` for `n = tokens.len()` rows of width `d` (sequences of length `t`,
/// position offset `pos0`, so a KV-cache step can embed position `pos0` alone).
pub fn forward<F: Float>(
    x: &mut [F],
    tokens: &[u32],
    wte: &[F],
    wpe: Option<&[F]>,
    t: usize,
    pos0: usize,
    d: usize,
) {
    for (r, &tok) in tokens.iter().enumerate() {
        let row = &mut x[r * d..(r + 1) * d];
        let e = &wte[tok as usize * d..(tok as usize + 1) * d];
        row.copy_from_slice(e);
        if let Some(wpe) = wpe {
            let p = pos0 + r % t;
            for (o, &v) in row.iter_mut().zip(&wpe[p * d..(p + 1) * d]) {
                *o += v;
            }
        }
    }
}

/// Backward: scatters `dx` rows into `dwte` (and `dwpe`).
pub fn backward<F: Float>(
    dwte: &mut [F],
    dwpe: Option<&mut [F]>,
    dx: &[F],
    tokens: &[u32],
    t: usize,
    d: usize,
) {
    for (r, &tok) in tokens.iter().enumerate() {
        let g = &dx[r * d..(r + 1) * d];
        for (o, &v) in dwte[tok as usize * d..(tok as usize + 1) * d]
            .iter_mut()
            .zip(g)
        {
            *o += v;
        }
    }
    if let Some(dwpe) = dwpe {
        for r in 0..tokens.len() {
            let p = r % t;
            for (o, &v) in dwpe[p * d..(p + 1) * d]
                .iter_mut()
                .zip(&dx[r * d..(r + 1) * d])
            {
                *o += v;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::gradcheck::{check, rand_vec};

    #[test]
    fn backward_matches_finite_differences() {
        let (v, t, d) = (5, 3, 4);
        let tokens = [1u32, 4, 1, 0, 2, 1];
        let wte = rand_vec(v * d, 16);
        let wpe = rand_vec(t * d, 17);
        let r = rand_vec(tokens.len() * d, 18);
        let loss = |wte: &[f64], wpe: &[f64]| {
            let mut x = vec![0.0; tokens.len() * d];
            forward(&mut x, &tokens, wte, Some(wpe), t, 0, d);
            x.iter().zip(&r).map(|(a, b)| a * b).sum::<f64>()
        };
        let (mut dwte, mut dwpe) = (vec![0.0; v * d], vec![0.0; t * d]);
        backward(&mut dwte, Some(&mut dwpe), &r, &tokens, t, d);
        check("embedding dwte", &wte, &dwte, |w| loss(w, &wpe));
        check("embedding dwpe", &wpe, &dwpe, |w| loss(&wte, w));
    }
}

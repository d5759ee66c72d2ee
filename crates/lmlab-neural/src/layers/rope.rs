//! Rotary position embedding (half-split pairs, as GPT-NeoX and Llama), applied in place to
//! head-major `[rows, t, hd]` query or key blocks.

use crate::float::Float;

/// Cosine and sine tables: `[max_t, hd/2]` each.
#[derive(Clone, Debug)]
pub struct RopeTables<F> {
    cos: Vec<F>,
    sin: Vec<F>,
    half: usize,
}

impl<F: Float> RopeTables<F> {
    /// Tables for positions `0..max_t` and head size `hd` (even), base 10000.
    pub fn new(max_t: usize, hd: usize) -> Self {
        let half = hd / 2;
        let mut cos = Vec::with_capacity(max_t * half);
        let mut sin = Vec::with_capacity(max_t * half);
        for p in 0..max_t {
            for i in 0..half {
                let theta = p as f64 / 10000f64.powf(2.0 * i as f64 / hd as f64);
                cos.push(F::from_f64(theta.cos()));
                sin.push(F::from_f64(theta.sin()));
            }
        }
        RopeTables { cos, sin, half }
    }

    /// Rotates `x` (blocks of `t` rows of `2·half` values, row `r` of a block at position
    /// `pos0 + r`) forward (`inverse = false`) or back by the same angles (the backward pass).
    pub fn apply(&self, x: &mut [F], t: usize, pos0: usize, inverse: bool) {
        let hd = 2 * self.half;
        for (r, row) in x.chunks_exact_mut(hd).enumerate() {
            let p = pos0 + r % t;
            let (c, s) = (
                &self.cos[p * self.half..(p + 1) * self.half],
                &self.sin[p * self.half..(p + 1) * self.half],
            );
            let (a, b) = row.split_at_mut(self.half);
            for i in 0..self.half {
                let (x1, x2) = (a[i], b[i]);
                let si = if inverse { -s[i] } else { s[i] };
                a[i] = x1 * c[i] - x2 * si;
                b[i] = x2 * c[i] + x1 * si;
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
        let (t, hd) = (3, 4);
        let tables = RopeTables::<f64>::new(8, hd);
        let x = rand_vec(2 * t * hd, 20);
        let r = rand_vec(2 * t * hd, 21);
        let loss = |x: &[f64]| {
            let mut y = x.to_vec();
            tables.apply(&mut y, t, 0, false);
            y.iter().zip(&r).map(|(a, b)| a * b).sum::<f64>()
        };
        let mut dx = r.clone();
        tables.apply(&mut dx, t, 0, true);
        check("rope dx", &x, &dx, loss);
    }
}

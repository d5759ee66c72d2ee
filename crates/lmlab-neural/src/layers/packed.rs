//! A fully connected layer's weights packed for the KV cache's steps (one token, a speculative
//! proposal's K + 1, a window's rebuild): `y[n, d_out] = x[n, d_in] @ wᵀ + b` over weights copied
//! once per model (its `StepWeights`, shared by its caches) into panels of [`PANEL`] output features, input-major
//! (`panel[k][j] = w[p·PANEL + j][k]`, zeros past `d_out`). A step then reads the weights as one
//! stream per panel, in the order the products use them, and each input element is broadcast
//! against a whole panel: every multiply-add works on 16 (AVX-512) or 8 (AVX2) output features at
//! once, and one panel serves all of a tile's rows.
//!
//! Every output element is summed the same way whatever the instruction set and however many rows
//! are fed together: from zero, one fused multiply-add per input element in order
//! (`s = w[o][k] · x[k] + s`, a single rounding each), then the bias added. So a row's outputs are
//! bit for bit the same alone or in a verification of K + 1 rows (greedy speculative output is the
//! target's own), on an AVX-512, an AVX2 or any other CPU (the portable loop uses `mul_add`).
//!
//! Why by hand: `layers/row_tiles` sums as `dot` does (eight lanes, multiply then add) over the
//! `[out, in]` weights as stored; on the 4 × 256 target of `bench/speculative.sh` one step through
//! it reached 5–8 G multiply-adds per second and a 4-row verification 14 (a core's fused peak is
//! ~58 G: `examples/peak_flops.rs`), so a single step was bound neither by memory nor by arithmetic
//! but by short dependency chains over many short weight streams. GEMM crates (`matrixmultiply`)
//! pack their operands on every call (allocation) and split the sums in orders that depend on the
//! shapes, so a verified row would no longer be a single step.

use super::row_tiles::row_groups;
use crate::float::Float;
use std::any::TypeId;

/// Output features per panel: four AVX-512 registers, eight AVX2 ones.
pub const PANEL: usize = 64;
/// The most rows one tile takes (4 registers of sums per row: 24 of AVX-512's 32 at 6 rows); more
/// rows go in groups as even as possible, each a pass over the panel (then in L1/L2).
const MAX_ROWS: usize = 6;

/// A linear layer's `[d_out, d_in]` weights in panels (see the module doc).
#[derive(Clone, Debug)]
pub struct PackedLinear<F> {
    data: Vec<F>,
    d_in: usize,
    d_out: usize,
}

impl<F: Float> PackedLinear<F> {
    /// Packs `w` (`d_out` rows of `d_in`, as a linear layer stores them).
    pub fn new(w: &[F], d_in: usize, d_out: usize) -> PackedLinear<F> {
        assert_eq!(w.len(), d_out * d_in, "weights of {d_out} × {d_in}");
        assert!(d_in > 0, "a linear layer with no inputs");
        let panels = d_out.div_ceil(PANEL);
        let mut data = vec![F::ZERO; panels * d_in * PANEL];
        for (p, panel) in data.chunks_exact_mut(d_in * PANEL).enumerate() {
            for j in 0..PANEL.min(d_out - p * PANEL) {
                let row = &w[(p * PANEL + j) * d_in..(p * PANEL + j + 1) * d_in];
                for (k, &v) in row.iter().enumerate() {
                    panel[k * PANEL + j] = v;
                }
            }
        }
        PackedLinear { data, d_in, d_out }
    }

    /// Inputs and outputs per row: `(d_in, d_out)`.
    pub fn dims(&self) -> (usize, usize) {
        (self.d_in, self.d_out)
    }

    /// `y[n, d_out] = x[n, d_in] @ wᵀ + b` (overwrites `y`), each element summed as the module doc
    /// says; the panels split in two between this thread and the KV helper thread where there is
    /// one ([`crate::team`]: same bits either way). Allocates nothing.
    pub fn forward(&self, y: &mut [F], x: &[F], b: Option<&[F]>, n: usize) {
        let (d_in, d_out) = (self.d_in, self.d_out);
        assert!(
            x.len() >= n * d_in && y.len() >= n * d_out && b.is_none_or(|b| b.len() >= d_out),
            "packed linear out of its slices"
        );
        if n == 0 {
            return;
        }
        let panels = d_out.div_ceil(PANEL);
        let out = OutPtr(y.as_mut_ptr());
        if panels < 2 {
            // SAFETY: `y` holds `n * d_out` elements (checked above) and nothing else writes it.
            unsafe { self.panels_into(out, x, b, n, 0..panels) };
            return;
        }
        let half = panels.div_ceil(2);
        crate::team::split(&|part| {
            let range = if part == 0 { 0..half } else { half..panels };
            // SAFETY: `y` holds `n * d_out` elements (checked above); the two parts write the
            // output columns of disjoint panels, and `split` returns only when both are done.
            unsafe { self.panels_into(out, x, b, n, range) }
        });
    }

    /// The outputs of panels `range` for every row, written through `y` (`n × d_out`).
    ///
    /// # Safety
    /// `y` must point to `n * d_out` writable elements that nothing else reads or writes in the
    /// columns of these panels meanwhile.
    unsafe fn panels_into(
        &self,
        y: OutPtr<F>,
        x: &[F],
        b: Option<&[F]>,
        n: usize,
        range: std::ops::Range<usize>,
    ) {
        let (d_in, d_out) = (self.d_in, self.d_out);
        let mut sums = [[F::ZERO; PANEL]; MAX_ROWS];
        for p in range {
            let panel = &self.data[p * d_in * PANEL..(p + 1) * d_in * PANEL];
            for (r, rows) in row_groups(n, MAX_ROWS) {
                let xs = &x[r * d_in..(r + rows) * d_in];
                if !simd::tile(panel, xs, rows, d_in, &mut sums) {
                    portable_tile(panel, xs, rows, d_in, &mut sums);
                }
                let (o, outs) = (p * PANEL, PANEL.min(d_out - p * PANEL));
                for (ri, s) in sums.iter().take(rows).enumerate() {
                    // SAFETY: row r + ri < n, columns o..o + outs ≤ d_out: inside `y`, and in
                    // this call's panels (the caller's contract).
                    let yr = unsafe {
                        std::slice::from_raw_parts_mut(y.0.add((r + ri) * d_out + o), outs)
                    };
                    match b {
                        Some(b) => {
                            for ((y, &s), &b) in yr.iter_mut().zip(s).zip(&b[o..o + outs]) {
                                *y = s + b;
                            }
                        }
                        None => yr.copy_from_slice(&s[..outs]),
                    }
                }
            }
        }
    }
}

/// The output pointer shared by the two halves of a product (they write disjoint columns).
#[derive(Clone, Copy)]
struct OutPtr<F>(*mut F);
// SAFETY: only used under `panels_into`'s contract (disjoint columns per thread).
unsafe impl<F: Send> Send for OutPtr<F> {}
// SAFETY: as above.
unsafe impl<F: Send> Sync for OutPtr<F> {}

/// The sums of one panel with `rows` input rows (any `F`, any CPU): the reference the vector
/// tiles equal bit for bit.
fn portable_tile<F: Float>(
    panel: &[F],
    xs: &[F],
    rows: usize,
    d_in: usize,
    sums: &mut [[F; PANEL]; MAX_ROWS],
) {
    for (s, xr) in sums.iter_mut().zip(xs.chunks_exact(d_in)).take(rows) {
        s.fill(F::ZERO);
        for (wk, &xk) in panel.chunks_exact(PANEL).zip(xr) {
            for (s, &w) in s.iter_mut().zip(wk) {
                *s = w.mul_add(xk, *s);
            }
        }
    }
}

/// The f32 tiles: AVX-512 F (a panel in four registers, up to six rows), else AVX2 with FMA (the
/// panel in eight registers: the whole panel for one row, halves for up to three rows, quarters
/// for up to six). Same fused multiply-adds in the same order as [`portable_tile`].
mod simd {
    use super::{Float, TypeId, MAX_ROWS, PANEL};

    /// Fills `sums` for one panel and `rows` input rows through the widest vector tiles the CPU
    /// has; false (nothing done) where `F` is not f32 or the CPU has neither AVX-512 F nor AVX2
    /// with FMA.
    #[inline(always)]
    pub(super) fn tile<F: Float>(
        panel: &[F],
        xs: &[F],
        rows: usize,
        d_in: usize,
        sums: &mut [[F; PANEL]; MAX_ROWS],
    ) -> bool {
        #[cfg(target_arch = "x86_64")]
        {
            if TypeId::of::<F>() != TypeId::of::<f32>() {
                return false;
            }
            assert!(
                panel.len() >= d_in * PANEL && xs.len() >= rows * d_in && rows <= MAX_ROWS,
                "tile out of its slices"
            );
            let (w, x) = (panel.as_ptr().cast::<f32>(), xs.as_ptr().cast::<f32>());
            let out = (sums as *mut [[F; PANEL]; MAX_ROWS]).cast::<[[f32; PANEL]; MAX_ROWS]>();
            // SAFETY: F is f32 (checked above), so the slices and `sums` hold f32s; the tiles read
            // `d_in * PANEL` panel floats and `rows * d_in` input floats (bounds checked above)
            // and write the first `rows` rows of `sums`; each runs only where its CPU features are
            // present.
            unsafe {
                if std::arch::is_x86_feature_detected!("avx512f") {
                    x86::avx512(w, x, rows, d_in, &mut *out);
                    return true;
                }
                if std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
                {
                    x86::avx2(w, x, rows, d_in, &mut *out);
                    return true;
                }
            }
        }
        let _ = (panel, xs, rows, d_in, sums);
        false
    }

    #[cfg(target_arch = "x86_64")]
    pub(super) mod x86 {
        use super::{MAX_ROWS, PANEL};
        use std::arch::x86_64::*;

        type Sums = [[f32; PANEL]; MAX_ROWS];

        /// # Safety
        /// AVX-512 F must be present; `w` holds a panel (`d_in * PANEL` floats), `x` `rows`
        /// rows of `d_in`; `1 ≤ rows ≤ MAX_ROWS`.
        #[target_feature(enable = "avx512f")]
        pub(in crate::layers::packed) unsafe fn avx512(
            w: *const f32,
            x: *const f32,
            rows: usize,
            d_in: usize,
            out: &mut Sums,
        ) {
            match rows {
                1 => panel512::<1>(w, x, d_in, out),
                2 => panel512::<2>(w, x, d_in, out),
                3 => panel512::<3>(w, x, d_in, out),
                4 => panel512::<4>(w, x, d_in, out),
                5 => panel512::<5>(w, x, d_in, out),
                6 => panel512::<6>(w, x, d_in, out),
                _ => unreachable!("1 to {MAX_ROWS} rows"),
            }
        }

        #[target_feature(enable = "avx512f")]
        unsafe fn panel512<const R: usize>(
            w: *const f32,
            x: *const f32,
            d_in: usize,
            out: &mut Sums,
        ) {
            let mut acc = [[_mm512_setzero_ps(); 4]; R];
            for k in 0..d_in {
                let wk = w.add(k * PANEL);
                let wv = [
                    _mm512_loadu_ps(wk),
                    _mm512_loadu_ps(wk.add(16)),
                    _mm512_loadu_ps(wk.add(32)),
                    _mm512_loadu_ps(wk.add(48)),
                ];
                for (r, acc_r) in acc.iter_mut().enumerate() {
                    let xv = _mm512_set1_ps(*x.add(r * d_in + k));
                    for (a, &wj) in acc_r.iter_mut().zip(&wv) {
                        *a = _mm512_fmadd_ps(wj, xv, *a);
                    }
                }
            }
            for (o, acc_r) in out.iter_mut().zip(&acc) {
                for (j, &a) in acc_r.iter().enumerate() {
                    _mm512_storeu_ps(o.as_mut_ptr().add(16 * j), a);
                }
            }
        }

        /// # Safety
        /// AVX2 and FMA must be present; as [`avx512`] otherwise.
        #[target_feature(enable = "avx2,fma")]
        pub(in crate::layers::packed) unsafe fn avx2(
            w: *const f32,
            x: *const f32,
            rows: usize,
            d_in: usize,
            out: &mut Sums,
        ) {
            // Twelve registers of sums at most: 8 columns-vectors × 1 row, 4 × up to 3, 2 × up to 6.
            match rows {
                1 => columns256::<8, 1>(w, x, d_in, out, 0),
                2 | 3 => {
                    for c in [0, 32] {
                        match rows {
                            2 => columns256::<4, 2>(w, x, d_in, out, c),
                            _ => columns256::<4, 3>(w, x, d_in, out, c),
                        }
                    }
                }
                _ => {
                    for c in [0, 16, 32, 48] {
                        match rows {
                            4 => columns256::<2, 4>(w, x, d_in, out, c),
                            5 => columns256::<2, 5>(w, x, d_in, out, c),
                            6 => columns256::<2, 6>(w, x, d_in, out, c),
                            _ => unreachable!("1 to {MAX_ROWS} rows"),
                        }
                    }
                }
            }
        }

        /// The panel's columns `c..c + 8·C` for `R` rows.
        #[target_feature(enable = "avx2,fma")]
        unsafe fn columns256<const C: usize, const R: usize>(
            w: *const f32,
            x: *const f32,
            d_in: usize,
            out: &mut Sums,
            c: usize,
        ) {
            let mut acc = [[_mm256_setzero_ps(); C]; R];
            for k in 0..d_in {
                let wk = w.add(k * PANEL + c);
                let mut wv = [_mm256_setzero_ps(); C];
                for (j, v) in wv.iter_mut().enumerate() {
                    *v = _mm256_loadu_ps(wk.add(8 * j));
                }
                for (r, acc_r) in acc.iter_mut().enumerate() {
                    let xv = _mm256_set1_ps(*x.add(r * d_in + k));
                    for (a, &wj) in acc_r.iter_mut().zip(&wv) {
                        *a = _mm256_fmadd_ps(wj, xv, *a);
                    }
                }
            }
            for (o, acc_r) in out.iter_mut().zip(&acc) {
                for (j, &a) in acc_r.iter().enumerate() {
                    _mm256_storeu_ps(o.as_mut_ptr().add(c + 8 * j), a);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::gradcheck::rand_vec;

    fn f32s(n: usize, seed: u64) -> Vec<f32> {
        rand_vec(n, seed).iter().map(|&v| v as f32).collect()
    }

    /// Every shape's edge (outputs not multiples of the panel, rows past a tile, one input): each
    /// element is the fused multiply-adds in input order bit for bit (whichever tiles this CPU
    /// runs), and a row's outputs do not depend on the rows fed with it.
    #[test]
    fn each_element_is_fused_multiply_adds_in_input_order_whatever_the_rows() {
        for (n, d_in, d_out) in [
            (1, 1, 1),
            (1, 8, 4),
            (2, 19, 70),
            (5, 64, 9),
            (9, 37, 130),
            (3, 40, 64),
            (7, 256, 200),
            (13, 16, 65),
            (6, 33, 128),
            (0, 16, 8),
        ] {
            let x = f32s(n * d_in, 3);
            let w = f32s(d_out * d_in, 4);
            let b = f32s(d_out, 5);
            let packed = PackedLinear::new(&w, d_in, d_out);
            let mut y = vec![f32::NAN; n * d_out];
            packed.forward(&mut y, &x, Some(&b), n);
            for r in 0..n {
                let xr = &x[r * d_in..(r + 1) * d_in];
                let mut alone = vec![0.0f32; d_out];
                packed.forward(&mut alone, xr, Some(&b), 1);
                assert_eq!(alone, y[r * d_out..(r + 1) * d_out], "{n}x{d_in}x{d_out}");
                for o in 0..d_out {
                    let wo = &w[o * d_in..(o + 1) * d_in];
                    let s = wo
                        .iter()
                        .zip(xr)
                        .fold(0.0f32, |s, (&w, &x)| w.mul_add(x, s));
                    let want = s + b[o];
                    assert_eq!(
                        y[r * d_out + o].to_bits(),
                        want.to_bits(),
                        "{n}x{d_in}x{d_out} r{r} o{o}"
                    );
                }
            }
            // Without a bias: the sums alone.
            let mut nb = vec![0.0f32; n * d_out];
            packed.forward(&mut nb, &x, None, n);
            for (i, (&with, &without)) in y.iter().zip(&nb).enumerate() {
                assert_eq!(with.to_bits(), (without + b[i % d_out]).to_bits());
            }
        }
    }

    /// The three tile paths (portable, AVX2 with FMA, AVX-512) give the same bits for every row
    /// count, whichever of them this CPU can run.
    #[test]
    fn every_instruction_set_gives_the_same_bits() {
        let d_in = 45;
        let w = f32s(PANEL * d_in, 8);
        let x = f32s(MAX_ROWS * d_in, 9);
        for rows in 1..=MAX_ROWS {
            let mut want = [[0.0f32; PANEL]; MAX_ROWS];
            portable_tile(&w, &x, rows, d_in, &mut want);
            #[cfg(target_arch = "x86_64")]
            {
                let (wp, xp) = (w.as_ptr(), x.as_ptr());
                if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
                    let mut got = [[f32::NAN; PANEL]; MAX_ROWS];
                    // SAFETY: AVX2 and FMA are present; w holds a panel, x MAX_ROWS rows.
                    unsafe { simd::x86::avx2(wp, xp, rows, d_in, &mut got) };
                    assert_eq!(got[..rows], want[..rows], "AVX2, {rows} rows");
                }
                if is_x86_feature_detected!("avx512f") {
                    let mut got = [[f32::NAN; PANEL]; MAX_ROWS];
                    // SAFETY: AVX-512 F is present; w holds a panel, x MAX_ROWS rows.
                    unsafe { simd::x86::avx512(wp, xp, rows, d_in, &mut got) };
                    assert_eq!(got[..rows], want[..rows], "AVX-512, {rows} rows");
                }
            }
        }
    }

    /// f64 (the gradient-check type) goes through the portable loop and agrees with a plain sum.
    #[test]
    fn f64_is_the_plain_product() {
        let (n, d_in, d_out) = (3, 10, 70);
        let x = rand_vec(n * d_in, 1);
        let w = rand_vec(d_out * d_in, 2);
        let packed = PackedLinear::new(&w, d_in, d_out);
        let mut y = vec![0.0; n * d_out];
        packed.forward(&mut y, &x, None, n);
        for r in 0..n {
            for o in 0..d_out {
                let s: f64 = (0..d_in).map(|k| w[o * d_in + k] * x[r * d_in + k]).sum();
                assert!((y[r * d_out + o] - s).abs() < 1e-12);
            }
        }
    }
}

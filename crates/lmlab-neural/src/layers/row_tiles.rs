//! A fully connected layer over a few rows with every element summed as `dot` sums it: the KV
//! cache's attention scores (a query row against the cached keys as weight rows), an LSTM's
//! recurrent step, and `linear::forward` of one row (the KV cache's linear layers go through
//! `layers/packed` instead). Computed in tiles of output features × input rows: on AVX-512 CPUs tiles of
//! 8 features × up to 4 rows or 4 × up to 8 (the `avx512` module); elsewhere, and for the features
//! left over, AVX tiles of [`OUTS`] features × up to [`ROWS`] rows or 2 × up to [`MAX_ROWS`]. Either
//! way one tile takes all of a step's rows where they fit: a second group of rows is a second pass
//! of short dependency chains over every weight tile (`examples/row_tiles.rs` times both paths).
//!
//! Every output element is summed exactly as [`super::linear::dot`] sums it: eight lanes, lane `j`
//! adding `w[8i + j] · x[8i + j]` for `i` in order, the lanes combined by `combine_lanes`, then the
//! tail left to right, then the bias. So a row's outputs are bit for bit the same whatever the number
//! of rows fed with it and whatever the instruction set (the lanes are independent, multiplies and
//! adds stay separate), and a speculative verification gives the probabilities of single steps.
//! The tiles give the CPU independent sums to overlap (one `dot` waits on its own additions) and
//! read each weight tile once for all rows; nothing is allocated.

use super::linear::combine_lanes;
use crate::float::Float;
use crate::simd::simd_dispatch;

/// Output features per tile for up to [`ROWS`] rows: their weight rows stay in L1 while every
/// input row passes over them.
const OUTS: usize = 4;
/// The most rows a tile of [`OUTS`] features takes (`OUTS × ROWS` eight-lane sums live at once, with
/// the rows' and a weight row's vectors: 11 of the 16 AVX registers); more rows take tiles of 2
/// features.
const ROWS: usize = 2;
/// The most rows one tile takes (2 features × 5 rows: 10 registers of sums, 16 with the rows' and a
/// weight row's vectors; 6 rows spilled to the stack, measured slower).
const MAX_ROWS: usize = 5;

simd_dispatch! {
    /// `y[n, d_out] = x[n, d_in] @ w[d_out, d_in]ᵀ + b` (overwrites `y`), each element summed as
    /// [`super::linear::dot`] sums it. Runtime-dispatched SIMD.
    pub fn forward<F: Float>(
        y: &mut [F],
        x: &[F],
        w: &[F],
        b: Option<&[F]>,
        n: usize,
        d_in: usize,
        d_out: usize,
    ) {
        // Whole AVX-512 tiles where the CPU has AVX-512; the features left over by AVX tiles.
        let o = avx512::forward_f32(y, x, w, b, n, d_in, d_out);
        forward_from(y, x, w, b, n, d_in, d_out, o);
    }

    /// [`forward`]'s output features from `o` on, in AVX tiles (a portable loop where the CPU has
    /// no AVX).
    #[allow(clippy::too_many_arguments)]
    fn forward_from<F: Float>(
        y: &mut [F],
        x: &[F],
        w: &[F],
        b: Option<&[F]>,
        n: usize,
        d_in: usize,
        d_out: usize,
        mut o: usize,
    ) {
        if n == 0 {
            return;
        }
        // One tile for all the rows where they fit (up to MAX_ROWS; more in groups as even as
        // possible): OUTS features for up to ROWS rows, 2 features beyond.
        let most = n.div_ceil(n.div_ceil(MAX_ROWS));
        let tile_outs = if most <= ROWS { OUTS } else { 2 };
        while o < d_out {
            let outs = tile_outs.min(d_out - o);
            // The next tile's weight rows, asked for now, arrive while the rows pass over these.
            prefetch_rows(w, (o + outs) * d_in..((o + outs + tile_outs) * d_in).min(w.len()));
            for (r, rows) in row_groups(n, MAX_ROWS) {
                let xs = &x[r * d_in..(r + rows) * d_in];
                if outs == tile_outs {
                    let ws = &w[o * d_in..(o + outs) * d_in];
                    tile_into(y, (outs, rows), ws, xs, b, (o, r), d_in, d_out);
                } else {
                    for k in o..o + outs {
                        let ws = &w[k * d_in..(k + 1) * d_in];
                        tile_into(y, (1, rows), ws, xs, b, (k, r), d_in, d_out);
                    }
                }
            }
            o += outs;
        }
    }
}

/// [`forward`] through the AVX tiles alone, as a CPU without AVX-512 computes it (same values):
/// for comparing the two paths on one machine (`examples/row_tiles.rs`).
#[allow(clippy::too_many_arguments)]
pub fn forward_avx_tiles<F: Float>(
    y: &mut [F],
    x: &[F],
    w: &[F],
    b: Option<&[F]>,
    n: usize,
    d_in: usize,
    d_out: usize,
) {
    forward_from(y, x, w, b, n, d_in, d_out, 0);
}

/// The tile of `outs` × `rows` (a shape `forward` uses) into `y` at features `o..` of rows `r..`.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn tile_into<F: Float>(
    y: &mut [F],
    (outs, rows): (usize, usize),
    ws: &[F],
    xs: &[F],
    b: Option<&[F]>,
    (o, r): (usize, usize),
    d_in: usize,
    d_out: usize,
) {
    match (outs, rows) {
        (4, 1) => store(y, tile::<F, 4, 1>(ws, xs, d_in), b, o, r, d_out),
        (4, 2) => store(y, tile::<F, 4, 2>(ws, xs, d_in), b, o, r, d_out),
        (2, 3) => store(y, tile::<F, 2, 3>(ws, xs, d_in), b, o, r, d_out),
        (2, 4) => store(y, tile::<F, 2, 4>(ws, xs, d_in), b, o, r, d_out),
        (2, 5) => store(y, tile::<F, 2, 5>(ws, xs, d_in), b, o, r, d_out),
        (1, 1) => store(y, tile::<F, 1, 1>(ws, xs, d_in), b, o, r, d_out),
        (1, 2) => store(y, tile::<F, 1, 2>(ws, xs, d_in), b, o, r, d_out),
        (1, 3) => store(y, tile::<F, 1, 3>(ws, xs, d_in), b, o, r, d_out),
        (1, 4) => store(y, tile::<F, 1, 4>(ws, xs, d_in), b, o, r, d_out),
        (1, 5) => store(y, tile::<F, 1, 5>(ws, xs, d_in), b, o, r, d_out),
        _ => unreachable!("tiles of 4 × 1..=2, 2 × 3..=5 or 1 × 1..=5"),
    }
}

/// The `O × R` sums of weight rows `ws` (`O` rows of `d_in`) with input rows `xs` (`R` rows),
/// `[o][r]`, each summed as [`super::linear::dot`] sums it.
#[inline(always)]
fn tile<F: Float, const O: usize, const R: usize>(ws: &[F], xs: &[F], d_in: usize) -> [[F; R]; O] {
    let full = d_in / 8 * 8;
    let mut sums = avx::combined_f32::<F, O, R>(ws, xs, d_in).unwrap_or_else(|| {
        let mut acc = [[[F::ZERO; 8]; R]; O];
        for i in (0..full).step_by(8) {
            for (k, acc_k) in acc.iter_mut().enumerate() {
                let wk = lanes(ws, k * d_in + i);
                for (r, a) in acc_k.iter_mut().enumerate() {
                    add_products(a, wk, lanes(xs, r * d_in + i));
                }
            }
        }
        acc.map(|row| row.map(|a| combine_lanes(&a)))
    });
    for (k, row) in sums.iter_mut().enumerate() {
        for (r, sum) in row.iter_mut().enumerate() {
            *sum = add_tail(
                *sum,
                &ws[k * d_in..(k + 1) * d_in],
                &xs[r * d_in..(r + 1) * d_in],
            );
        }
    }
    sums
}

/// `sum` plus the products of the elements after the last whole eight (`dot`'s tail, left to right).
#[inline(always)]
fn add_tail<F: Float>(mut sum: F, w: &[F], x: &[F]) -> F {
    let full = w.len() / 8 * 8;
    for (&a, &b) in w[full..].iter().zip(&x[full..]) {
        sum += a * b;
    }
    sum
}

/// The first row and the row count of each group when `n` rows go through tiles of at most `max`
/// rows: as few groups as that allows, as even as possible (9 rows by 8: 5 + 4).
pub(super) fn row_groups(n: usize, max: usize) -> impl Iterator<Item = (usize, usize)> {
    let groups = n.div_ceil(max);
    (0..groups).scan(0, move |r, g| {
        let rows = (n - *r).div_ceil(groups - g);
        let first = *r;
        *r += rows;
        Some((first, rows))
    })
}

/// f32 tiles through AVX intrinsics. The portable loop above computes the same lanes, but the
/// compiler kept its `O × R` eight-lane accumulators (arrays of arrays) partly on the stack and
/// checked bounds in the inner loop: a speculative verification of 10 rows cost about 0.45 ms per
/// row against 0.81 ms for a whole single step (`lmlab generate`, the 4 × 256 byte target of
/// bench/speculative.sh). Each lane still adds `w · x` (a vector multiply, then a vector add: no
/// fused multiply-add) in order, and the lanes are combined as `combine_lanes` combines them, so the
/// sums are bit for bit the portable loop's.
mod avx {
    use crate::float::Float;
    use std::any::TypeId;

    /// The `[o][r]` sums of the tile over the first `d_in / 8 * 8` elements (lanes combined), or
    /// `None` where `F` is not f32 or the CPU has no AVX (the portable loop then runs).
    #[inline(always)]
    pub(super) fn combined_f32<F: Float, const O: usize, const R: usize>(
        ws: &[F],
        xs: &[F],
        d_in: usize,
    ) -> Option<[[F; R]; O]> {
        #[cfg(target_arch = "x86_64")]
        {
            if TypeId::of::<F>() == TypeId::of::<f32>()
                && std::arch::is_x86_feature_detected!("avx")
            {
                assert!(
                    ws.len() >= O * d_in && xs.len() >= R * d_in,
                    "tile out of its slices"
                );
                // SAFETY: F is f32 (checked above), so the slices are f32 slices; the bounds are
                // checked above and AVX is present.
                let sums = unsafe {
                    x86::tile(ws.as_ptr().cast::<f32>(), xs.as_ptr().cast::<f32>(), d_in)
                };
                // F is f32: the conversions are exact.
                return Some(sums.map(|row: [f32; R]| row.map(|x| F::from_f64(f64::from(x)))));
            }
        }
        let _ = (ws, xs, d_in);
        None
    }

    #[cfg(target_arch = "x86_64")]
    mod x86 {
        use std::arch::x86_64::*;

        /// The sums of `O` weight rows at `w` with `R` input rows at `x` (each `d_in` floats) over
        /// the first `d_in / 8 * 8` elements, eight lanes combined.
        ///
        /// # Safety
        /// AVX must be present; `w` must hold `O * d_in` floats and `x` `R * d_in`.
        #[target_feature(enable = "avx")]
        pub(super) unsafe fn tile<const O: usize, const R: usize>(
            w: *const f32,
            x: *const f32,
            d_in: usize,
        ) -> [[f32; R]; O] {
            let mut acc = [[_mm256_setzero_ps(); R]; O];
            let full = d_in / 8 * 8;
            let mut i = 0;
            while i < full {
                let mut xv = [_mm256_setzero_ps(); R];
                for (r, v) in xv.iter_mut().enumerate() {
                    *v = _mm256_loadu_ps(x.add(r * d_in + i));
                }
                for (k, acc_k) in acc.iter_mut().enumerate() {
                    let wv = _mm256_loadu_ps(w.add(k * d_in + i));
                    for (a, &v) in acc_k.iter_mut().zip(&xv) {
                        *a = _mm256_add_ps(*a, _mm256_mul_ps(wv, v));
                    }
                }
                i += 8;
            }
            // Loops, not `map`: closures do not inherit the target feature. The lanes combine in
            // registers as `combine_lanes` combines them: lanes j and j + 4 (halves swapped),
            // then those sums in pairs, then the two pair sums, in lane 0.
            let mut out = [[0f32; R]; O];
            for k in 0..O {
                for r in 0..R {
                    let v = acc[k][r];
                    let v = _mm256_add_ps(v, _mm256_permute2f128_ps::<1>(v, v));
                    let v = _mm256_add_ps(v, _mm256_permute_ps::<0b10_11_00_01>(v));
                    let v = _mm256_add_ps(v, _mm256_permute_ps::<0b01_00_11_10>(v));
                    out[k][r] = _mm256_cvtss_f32(v);
                }
            }
            out
        }
    }
}

/// f32 tiles through AVX-512: one 16-lane register holds the eight lanes of two output features
/// (features `2p` and `2p + 1`, the same input row), so each vector multiply and add does the work
/// of two AVX ones. Each lane still adds `w · x` in order (multiply, then add: no fused
/// multiply-add) and the lanes of each feature combine as `combine_lanes` combines them, so the
/// sums are bit for bit those of `dot` and of the AVX tiles.
///
/// A lane's sum is one chain of dependent adds (`dot`'s order), so a tile needs about eight
/// registers of sums in flight to keep the adders busy, and each tile costs a fixed reduction: one
/// tile takes all the rows of a step or verification where it can (up to [`MAX_ROWS`]; more rows
/// are split into groups as even as possible): up to four rows with 4 pairs of features (8 × ≤ 4),
/// more with 2 pairs (4 × ≤ 8). Measured on the 4 × 256 target of `bench/speculative.sh`
/// (`kv_rows`): tiles of at most 4 rows added ~0.25 ms at the fifth row, a second pass of short
/// dependency chains over every weight tile. The weights are not prefetched by hand here: on that
/// machine (an Intel Xeon) the hardware streams them, and the AVX path's explicit prefetch of the
/// next tile made one step ~10% slower (timed by hand with the prefetch switched back on; the
/// prefetches stall once the line fill buffers are full).
mod avx512 {
    use crate::float::Float;
    use std::any::TypeId;

    /// The most rows one tile takes (2 pairs × 8 rows = 16 registers of sums, of the 32).
    const MAX_ROWS: usize = 8;

    /// Computes the first output features of every row of `y` (as [`super::forward`]), all but
    /// the last `d_out % tile` ones, and returns how many: 0, computing nothing, where `F` is not
    /// f32 or the CPU lacks AVX-512 (F and DQ).
    pub(super) fn forward_f32<F: Float>(
        y: &mut [F],
        x: &[F],
        w: &[F],
        b: Option<&[F]>,
        n: usize,
        d_in: usize,
        d_out: usize,
    ) -> usize {
        #[cfg(target_arch = "x86_64")]
        {
            if n > 0
                && TypeId::of::<F>() == TypeId::of::<f32>()
                && std::arch::is_x86_feature_detected!("avx512f")
                && std::arch::is_x86_feature_detected!("avx512dq")
            {
                assert!(
                    x.len() >= n * d_in && w.len() >= d_out * d_in && y.len() >= n * d_out,
                    "row tiles out of their slices"
                );
                let most = n.div_ceil(n.div_ceil(MAX_ROWS));
                let outs = if most <= 4 { 8 } else { 4 };
                let whole = d_out / outs * outs;
                let mut sums = [[0f32; MAX_ROWS]; 8];
                let mut o = 0;
                while o < whole {
                    for (r, rows) in super::row_groups(n, MAX_ROWS) {
                        let (wp, xp) = (w[o * d_in..].as_ptr(), x[r * d_in..].as_ptr());
                        // SAFETY: F is f32 (checked above), so these are f32 pointers; a tile
                        // reads `outs` weight rows from `o` (o + outs ≤ d_out) and `rows` input
                        // rows from `r` (r + rows ≤ n), within the slices checked above; AVX-512
                        // F and DQ are present.
                        unsafe {
                            let (wp, xp) = (wp.cast::<f32>(), xp.cast::<f32>());
                            let sums = &mut sums;
                            match (outs, rows) {
                                (8, 1) => x86::tile::<4, 1>(wp, xp, d_in, sums),
                                (8, 2) => x86::tile::<4, 2>(wp, xp, d_in, sums),
                                (8, 3) => x86::tile::<4, 3>(wp, xp, d_in, sums),
                                (8, 4) => x86::tile::<4, 4>(wp, xp, d_in, sums),
                                (4, 1) => x86::tile::<2, 1>(wp, xp, d_in, sums),
                                (4, 2) => x86::tile::<2, 2>(wp, xp, d_in, sums),
                                (4, 3) => x86::tile::<2, 3>(wp, xp, d_in, sums),
                                (4, 4) => x86::tile::<2, 4>(wp, xp, d_in, sums),
                                (4, 5) => x86::tile::<2, 5>(wp, xp, d_in, sums),
                                (4, 6) => x86::tile::<2, 6>(wp, xp, d_in, sums),
                                (4, 7) => x86::tile::<2, 7>(wp, xp, d_in, sums),
                                (4, 8) => x86::tile::<2, 8>(wp, xp, d_in, sums),
                                _ => unreachable!("tiles of 8 × 1..=4 or 4 × 1..=8"),
                            }
                        }
                        for (k, row) in sums.iter().take(outs).enumerate() {
                            let wk = &w[(o + k) * d_in..(o + k + 1) * d_in];
                            for (ri, &s) in row.iter().take(rows).enumerate() {
                                let xr = &x[(r + ri) * d_in..(r + ri + 1) * d_in];
                                // F is f32: the conversion is exact.
                                let sum = super::add_tail(F::from_f64(f64::from(s)), wk, xr);
                                y[(r + ri) * d_out + o + k] = b.map_or(sum, |b| sum + b[o + k]);
                            }
                        }
                    }
                    o += outs;
                }
                return whole;
            }
        }
        let _ = (y, x, w, b, n, d_in, d_out);
        0
    }

    #[cfg(target_arch = "x86_64")]
    mod x86 {
        use super::MAX_ROWS;
        use std::arch::x86_64::*;

        /// The sums of `2 * P` weight rows at `w` with `R` input rows at `x` (each `d_in` floats)
        /// over the first `d_in / 8 * 8` elements, eight lanes combined, into `out[feature][row]`.
        ///
        /// # Safety
        /// AVX-512 F and DQ must be present; `w` must hold `2 * P * d_in` floats and `x`
        /// `R * d_in`; `2 * P ≤ 8` and `R ≤ MAX_ROWS`.
        #[target_feature(enable = "avx512f,avx512dq")]
        pub(super) unsafe fn tile<const P: usize, const R: usize>(
            w: *const f32,
            x: *const f32,
            d_in: usize,
            out: &mut [[f32; MAX_ROWS]; 8],
        ) {
            let mut acc = [[_mm512_setzero_ps(); R]; P];
            let full = d_in / 8 * 8;
            let mut i = 0;
            while i < full {
                let mut xv = [_mm512_setzero_ps(); R];
                for (r, v) in xv.iter_mut().enumerate() {
                    *v = _mm512_broadcast_f32x8(_mm256_loadu_ps(x.add(r * d_in + i)));
                }
                for (p, acc_p) in acc.iter_mut().enumerate() {
                    let lo = _mm256_loadu_ps(w.add(2 * p * d_in + i));
                    let hi = _mm256_loadu_ps(w.add((2 * p + 1) * d_in + i));
                    let wv = _mm512_insertf32x8::<1>(_mm512_castps256_ps512(lo), hi);
                    for (a, &v) in acc_p.iter_mut().zip(&xv) {
                        *a = _mm512_add_ps(*a, _mm512_mul_ps(wv, v));
                    }
                }
                i += 8;
            }
            // Loops, not closures (they would not inherit the target feature). Each half
            // combines in registers as `combine_lanes` combines eight lanes: lanes j and j + 4
            // (128-bit blocks swapped), then those sums in pairs, then the two pair sums; lane 0
            // ends with the first feature's sum, lane 8 with the second's.
            for p in 0..P {
                for r in 0..R {
                    let v = acc[p][r];
                    let v = _mm512_add_ps(v, _mm512_shuffle_f32x4::<0b10_11_00_01>(v, v));
                    let v = _mm512_add_ps(v, _mm512_permute_ps::<0b10_11_00_01>(v));
                    let v = _mm512_add_ps(v, _mm512_permute_ps::<0b01_00_11_10>(v));
                    out[2 * p][r] = _mm512_cvtss_f32(v);
                    out[2 * p + 1][r] = _mm_cvtss_f32(_mm512_extractf32x4_ps::<2>(v));
                }
            }
        }
    }
}

/// Asks for the cache lines of `v[range]` (a hint; nothing on other targets).
#[inline(always)]
fn prefetch_rows<F>(v: &[F], range: std::ops::Range<usize>) {
    #[cfg(target_arch = "x86_64")]
    {
        let step = 64 / std::mem::size_of::<F>().max(1);
        for at in range.step_by(step.max(1)) {
            // SAFETY: `at` is within `v` (the range is clamped by the caller to v.len()); a
            // prefetch never faults and reads nothing architecturally.
            unsafe {
                std::arch::x86_64::_mm_prefetch(
                    v.as_ptr().add(at).cast::<i8>(),
                    std::arch::x86_64::_MM_HINT_T0,
                )
            };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (v, range);
}

/// The eight elements of `v` from `at`.
#[inline(always)]
fn lanes<F>(v: &[F], at: usize) -> &[F; 8] {
    v[at..at + 8].try_into().expect("eight lanes")
}

/// `acc[j] += w[j] · x[j]` for the eight lanes (one vector multiply and one add).
#[inline(always)]
fn add_products<F: Float>(acc: &mut [F; 8], w: &[F; 8], x: &[F; 8]) {
    for j in 0..8 {
        acc[j] += w[j] * x[j];
    }
}

/// Writes a tile's sums (plus the bias) at output features `o..` of rows `r..` of `y`.
#[inline(always)]
fn store<F: Float, const O: usize, const R: usize>(
    y: &mut [F],
    sums: [[F; R]; O],
    b: Option<&[F]>,
    o: usize,
    r: usize,
    d_out: usize,
) {
    for (k, row) in sums.iter().enumerate() {
        for (ri, &s) in row.iter().enumerate() {
            y[(r + ri) * d_out + o + k] = b.map_or(s, |b| s + b[o + k]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::gradcheck::rand_vec;
    use crate::layers::linear::dot;

    /// Every shape's edge (outputs and rows not multiples of the tile, inputs not of eight): each
    /// element equals `dot` bit for bit, and a row's outputs do not depend on the rows beside it.
    #[test]
    fn tiles_sum_as_dot_whatever_the_rows_fed_together() {
        for (n, d_in, d_out) in [
            (1, 8, 4),
            (2, 19, 7),
            (5, 64, 9),
            (9, 37, 13),
            (3, 40, 16),
            (2, 24, 17),
            (7, 256, 24),
            (4, 24, 16),
            (6, 16, 8),
            (8, 16, 12),
            (17, 24, 8),
            (0, 16, 8),
        ] {
            let x: Vec<f32> = rand_vec(n * d_in, 3).iter().map(|&v| v as f32).collect();
            let w: Vec<f32> = rand_vec(d_out * d_in, 4)
                .iter()
                .map(|&v| v as f32)
                .collect();
            let b: Vec<f32> = rand_vec(d_out, 5).iter().map(|&v| v as f32).collect();
            let mut y = vec![0.0f32; n * d_out];
            forward(&mut y, &x, &w, Some(&b), n, d_in, d_out);
            // The AVX tiles alone (on an AVX-512 CPU they take only the features left over).
            let mut avx = vec![0.0f32; n * d_out];
            forward_avx_tiles(&mut avx, &x, &w, Some(&b), n, d_in, d_out);
            assert_eq!(avx, y, "{n}x{d_in}x{d_out}: AVX tiles");
            for r in 0..n {
                let xr = &x[r * d_in..(r + 1) * d_in];
                let mut alone = vec![0.0f32; d_out];
                forward(&mut alone, xr, &w, Some(&b), 1, d_in, d_out);
                assert_eq!(alone, y[r * d_out..(r + 1) * d_out]);
                for o in 0..d_out {
                    let want = dot(&w[o * d_in..(o + 1) * d_in], xr) + b[o];
                    assert_eq!(
                        y[r * d_out + o].to_bits(),
                        want.to_bits(),
                        "{n}x{d_in}x{d_out}"
                    );
                }
            }
        }
    }
}

//! Matrix products over strided views, split across rayon threads by blocks of output rows.
//!
//! The kernel is `matrixmultiply` (bluss; the GEMM under ndarray). Why this one:
//! - it takes arbitrary row and column strides, so every transpose the backward passes need
//!   (`dy @ W`, `dyᵀ @ x`, `q @ kᵀ`, `Pᵀ @ dy`) is a view, never a copy;
//! - it has f32 and f64 kernels (the f64 one serves the finite-difference checks through the same code);
//! - it is pure Rust with runtime AVX2/FMA dispatch, builds in seconds and pulls in no BLAS system library.
//!
//! Measured on this 2-core AMD EPYC (`cargo run --release -p lmlab-neural --example gemm_bench`, machine
//! shared with other builds, load ≈ 7): single-threaded `sgemm` ran 85–185 GFLOP/s on 768×128 @ 128×384/512
//! and 768×512 @ 512×128 — the engine's shapes are small and skinny, where per-call overhead and packing
//! matter more than peak kernel speed. The `gemm` crate (sarah-ek, 0.18) was measured against it on the
//! engine's shapes (a scratch program outside the repository, one thread, the nanoGPT-shape products
//! forward and backward and the per-head attention products): `matrixmultiply` took 0.49–0.87× its time
//! on every shape but one (the 64×64 @ 64×32 attention product, 1.06×), so it stays. An OpenBLAS
//! binding needs a system library and brings its own thread pool, which fights rayon's.
//! The engine calls GEMM only through [`matmul`] / [`matmul_serial`], so swapping the kernel is one file.
//!
//! Splitting is by blocks of output rows; the kernel's summation order over `k` does not depend on the
//! split, so every output element is computed the same way however many threads run.

use crate::float::Float;
use rayon::prelude::*;

/// A read-only strided matrix view.
#[derive(Clone, Copy, Debug)]
pub struct Mat<'a, F> {
    data: &'a [F],
    rows: usize,
    cols: usize,
    rs: usize,
    cs: usize,
}

impl<'a, F: Float> Mat<'a, F> {
    /// A row-major `rows × cols` matrix stored contiguously in `data`.
    pub fn new(data: &'a [F], rows: usize, cols: usize) -> Self {
        Self::strided(data, rows, cols, cols, 1)
    }

    /// A view with explicit row and column strides (in elements).
    pub fn strided(data: &'a [F], rows: usize, cols: usize, rs: usize, cs: usize) -> Self {
        if rows > 0 && cols > 0 {
            let last = (rows - 1) * rs + (cols - 1) * cs;
            assert!(
                last < data.len(),
                "matrix view {rows}x{cols} (strides {rs},{cs}) exceeds its buffer of {}",
                data.len()
            );
        }
        Mat {
            data,
            rows,
            cols,
            rs,
            cs,
        }
    }

    /// The transposed view (no copy).
    pub fn t(self) -> Self {
        Mat {
            data: self.data,
            rows: self.cols,
            cols: self.rows,
            rs: self.cs,
            cs: self.rs,
        }
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of columns.
    pub fn cols(&self) -> usize {
        self.cols
    }
}

/// Below this many multiply-adds a product runs on the calling thread.
const PARALLEL_WORK: usize = 1 << 16;
/// Output rows per parallel task are a multiple of this (the kernel's register-tile height).
const ROW_ALIGN: usize = 16;

/// `c = a @ b` (or `c += a @ b` when `accumulate`), `c` row-major `a.rows × b.cols`, split over threads.
///
/// One block of rows per thread: every task packs all of `b`, so fewer, larger blocks pack less
/// (with 64-row blocks, packing took as long as the multiply-adds on the engine's shapes).
pub fn matmul<F: Float>(a: Mat<'_, F>, b: Mat<'_, F>, c: &mut [F], accumulate: bool) {
    let (m, k, n) = check(&a, &b, c);
    let threads = rayon::current_num_threads();
    if threads < 2 || m * k * n < PARALLEL_WORK || m < 2 * ROW_ALIGN {
        matmul_serial(a, b, c, accumulate);
        return;
    }
    let rows = m.div_ceil(threads).div_ceil(ROW_ALIGN) * ROW_ALIGN;
    c[..m * n]
        .par_chunks_mut(rows * n)
        .enumerate()
        .for_each(|(block, c_block)| {
            let row0 = block * rows;
            let rows = c_block.len() / n;
            let a_block = Mat {
                data: &a.data[row0 * a.rs..],
                rows,
                cols: k,
                rs: a.rs,
                cs: a.cs,
            };
            matmul_serial(a_block, b, c_block, accumulate);
        });
}

/// `c = a @ b` (or `c += a @ b`) on the calling thread.
pub fn matmul_serial<F: Float>(a: Mat<'_, F>, b: Mat<'_, F>, c: &mut [F], accumulate: bool) {
    let n = b.cols;
    matmul_serial_ld(a, b, c, n, accumulate)
}

/// As [`matmul_serial`], with `c`'s rows `ldc ≥ b.cols` elements apart (a block of a wider matrix).
pub fn matmul_serial_ld<F: Float>(
    a: Mat<'_, F>,
    b: Mat<'_, F>,
    c: &mut [F],
    ldc: usize,
    accumulate: bool,
) {
    assert_eq!(a.cols, b.rows, "inner dimensions differ");
    let (m, k, n) = (a.rows, a.cols, b.cols);
    assert!(ldc >= n, "ldc smaller than the row");
    if m > 0 && k > 0 {
        assert!((m - 1) * a.rs + (k - 1) * a.cs < a.data.len());
    }
    if m > 0 && n > 0 {
        assert!(c.len() > (m - 1) * ldc + n - 1, "output buffer too small");
    }
    if m == 0 || n == 0 {
        return;
    }
    let beta = if accumulate { F::ONE } else { F::ZERO };
    if k == 0 {
        if !accumulate {
            for r in 0..m {
                c[r * ldc..r * ldc + n].fill(F::ZERO);
            }
        }
        return;
    }
    // SAFETY: `Mat` construction and `check` guarantee every reachable index is in bounds; `c` is
    // a distinct mutable slice, so it cannot alias the shared `a` and `b`.
    unsafe {
        F::gemm_raw(
            m,
            k,
            n,
            F::ONE,
            a.data.as_ptr(),
            a.rs as isize,
            a.cs as isize,
            b.data.as_ptr(),
            b.rs as isize,
            b.cs as isize,
            beta,
            c.as_mut_ptr(),
            ldc as isize,
            1,
        );
    }
}

fn check<F: Float>(a: &Mat<'_, F>, b: &Mat<'_, F>, c: &[F]) -> (usize, usize, usize) {
    assert_eq!(a.cols, b.rows, "inner dimensions differ");
    let (m, k, n) = (a.rows, a.cols, b.cols);
    if m > 0 && k > 0 {
        assert!((m - 1) * a.rs + (k - 1) * a.cs < a.data.len());
    }
    assert!(c.len() >= m * n, "output buffer too small");
    (m, k, n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(a: &[f64], b: &[f64], m: usize, k: usize, n: usize) -> Vec<f64> {
        let mut c = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                c[i * n + j] = (0..k).map(|p| a[i * k + p] * b[p * n + j]).sum();
            }
        }
        c
    }

    #[test]
    fn products_and_transposed_views_match_the_naive_product() {
        let (m, k, n) = (130, 7, 5);
        let a: Vec<f64> = (0..m * k).map(|i| (i as f64 * 0.37).sin()).collect();
        let b: Vec<f64> = (0..k * n).map(|i| (i as f64 * 0.11).cos()).collect();
        let want = naive(&a, &b, m, k, n);
        let mut c = vec![0.0; m * n];
        matmul(Mat::new(&a, m, k), Mat::new(&b, k, n), &mut c, false);
        for (x, y) in c.iter().zip(&want) {
            assert!((x - y).abs() < 1e-12);
        }
        // (bᵀ aᵀ)ᵀ = a b: compute cᵀ = bᵀ @ aᵀ through views.
        let mut ct = vec![0.0; n * m];
        matmul(
            Mat::new(&b, k, n).t(),
            Mat::new(&a, m, k).t(),
            &mut ct,
            false,
        );
        for i in 0..m {
            for j in 0..n {
                assert!((ct[j * m + i] - want[i * n + j]).abs() < 1e-12);
            }
        }
        matmul(Mat::new(&a, m, k), Mat::new(&b, k, n), &mut c, true);
        assert!((c[17] - 2.0 * want[17]).abs() < 1e-12);
    }
}

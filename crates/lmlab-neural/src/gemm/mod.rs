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
//! [`avx512`] (issue 20) holds this crate's own AVX-512 tiles, f32 and bf16, chosen per process with
//! [`choose_f32_kernel`] ([`Kernel`]); `matrixmultiply` stays the default. On a Zen 4 EPYC (whose
//! AVX-512 fp32 peak equals its AVX2 peak, 116 GFLOP/s per core by `examples/peak_flops.rs`) the f32
//! tiles ran 0.85–0.99× `matrixmultiply` and the bf16 tiles 1.16–1.56× on the engine's larger shapes
//! (0.79× on a 64 × 32 @ 32 × 64 attention product), packing and rounding included.
//!
//! Splitting is by blocks of output rows; the kernel's summation order over `k` does not depend on the
//! split, so every output element is computed the same way however many threads run.

use crate::config::Precision;
use crate::float::Float;
use rayon::prelude::*;
use std::sync::OnceLock;

#[cfg(target_arch = "x86_64")]
pub mod avx512;

/// The kernel f32 products run on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kernel {
    /// `matrixmultiply` (AVX2 + FMA where the CPU has them, else SSE2): the default.
    Portable,
    /// [`avx512`]'s f32 tiles. Not the default: on the Zen 4 EPYC this was measured on, whose
    /// 512-bit FMAs run as two 256-bit halves, it ran at 0.85–0.99× `matrixmultiply`
    /// (`examples/gemm_bench.rs`, BENCHMARKS.md).
    Avx512F32,
    /// [`avx512`]'s bf16 tiles: operands rounded to bf16, products summed in f32 — not f32
    /// products. Chosen by training runs at `precision = "bf16"` ([`use_precision`]) and by
    /// `examples/throughput.rs`'s `KERNEL=bf16`.
    Avx512Bf16,
}

static KERNEL: OnceLock<Kernel> = OnceLock::new();

/// The kernel of this process: [`Kernel::Portable`] unless [`choose_f32_kernel`] said otherwise
/// before the first product. Decided once per process; each kernel is deterministic, and they sum
/// in different orders (bf16 also rounds the operands), so their results differ.
pub fn f32_kernel() -> Kernel {
    *KERNEL.get_or_init(|| Kernel::Portable)
}

impl Kernel {
    /// The AVX-512 tiles' precision of this kernel (`None`: `matrixmultiply`).
    #[cfg(target_arch = "x86_64")]
    fn tiles(self) -> Option<avx512::Precision> {
        match self {
            Kernel::Portable => None,
            Kernel::Avx512F32 => Some(avx512::Precision::F32),
            Kernel::Avx512Bf16 => Some(avx512::Precision::Bf16),
        }
    }

    /// True when this CPU can run the kernel.
    fn runs(self) -> bool {
        #[cfg(target_arch = "x86_64")]
        return self.tiles().is_none_or(avx512::available);
        #[cfg(not(target_arch = "x86_64"))]
        return self == Kernel::Portable;
    }
}

/// Makes `kernel` this process's kernel; refused once a product has run (or a kernel was chosen)
/// or where the CPU cannot run it.
pub fn choose_f32_kernel(kernel: Kernel) -> Result<(), String> {
    if !kernel.runs() {
        return Err(format!("this CPU cannot run the {kernel:?} kernel"));
    }
    KERNEL
        .set(kernel)
        .map_err(|_| format!("the kernel is already {:?} in this process", f32_kernel()))
}

/// Makes this process multiply as a training run at `precision` asks ([`Precision::Bf16`]: the
/// bf16 tiles, which must be the process's first choice; [`Precision::F32`]: anything but them).
/// The messages say what to do instead.
pub fn use_precision(precision: Precision) -> lmlab_core::Result<()> {
    let refuse = |m: String| Err(lmlab_core::Error::invalid(m));
    match precision {
        Precision::F32 if f32_kernel() == Kernel::Avx512Bf16 => refuse(
            "this process already multiplies in bf16 (an earlier bf16 run): train at precision \
             f32 in a process of its own"
                .into(),
        ),
        Precision::F32 => Ok(()),
        Precision::Bf16 if KERNEL.get() == Some(&Kernel::Avx512Bf16) => Ok(()),
        Precision::Bf16 => {
            if !Kernel::Avx512Bf16.runs() {
                return refuse(
                    "precision bf16 needs a CPU with AVX512_BF16 (vdpbf16ps), and this one has \
                     none: train at precision f32"
                        .into(),
                );
            }
            choose_f32_kernel(Kernel::Avx512Bf16).or_else(|_| {
                refuse(format!(
                    "precision bf16: this process already multiplies with the {:?} kernel (it ran \
                     a product before the run started): train in a process of its own",
                    f32_kernel()
                ))
            })
        }
    }
}

/// `matrixmultiply::sgemm`'s contract, run on [`f32_kernel`] (the AVX-512 kernels take the
/// engine's calls: alpha 1, beta 0 or 1, unit column stride of `c`; anything else goes to
/// `matrixmultiply`).
///
/// # Safety
/// As `matrixmultiply::sgemm`: every element reached lies inside the pointed-to memory, and `c`
/// aliases neither `a` nor `b`.
#[allow(clippy::too_many_arguments)]
pub unsafe fn sgemm(
    m: usize,
    k: usize,
    n: usize,
    alpha: f32,
    a: *const f32,
    rsa: isize,
    csa: isize,
    b: *const f32,
    rsb: isize,
    csb: isize,
    beta: f32,
    c: *mut f32,
    rsc: isize,
    csc: isize,
) {
    #[cfg(target_arch = "x86_64")]
    {
        if let Some(precision) = f32_kernel().tiles() {
            if alpha == 1.0 && (beta == 0.0 || beta == 1.0) && csc == 1 && rsc >= n as isize {
                avx512::sgemm(
                    precision,
                    m,
                    k,
                    n,
                    a,
                    (rsa, csa),
                    b,
                    (rsb, csb),
                    c,
                    rsc as usize,
                    beta == 1.0,
                );
                return;
            }
        }
    }
    matrixmultiply::sgemm(m, k, n, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc)
}

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

    /// Deterministic values in [-1, 1).
    fn values(n: usize, seed: u64) -> Vec<f32> {
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 40) as f32 / (1u64 << 23) as f32 - 1.0
            })
            .collect()
    }

    /// The AVX-512 kernels, `matrixmultiply` and an f64 product agree to 1e-5 of the size of the
    /// terms, on shapes with ragged edges (not multiples of the tile or of the blocks, odd inner
    /// sizes for the bf16 pairs), strided and transposed views, and accumulation. The bf16 kernel's
    /// reference is the f64 product of the operands rounded to bf16 (its sums are f32).
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn avx512_kernels_match_matrixmultiply_and_f64() {
        use avx512::Precision;
        let shapes = [
            (1, 1, 1),
            (5, 3, 7),
            (12, 1, 32),
            (13, 17, 33),
            (25, 300, 31),
            (130, 257, 65),
            (121, 64, 2049 + 15),
            (768, 128, 384),
        ];
        for precision in [Precision::F32, Precision::Bf16] {
            if !avx512::available(precision) {
                eprintln!("this CPU cannot run the {precision:?} kernel: not tested here");
                continue;
            }
            let round = |x: f32| match precision {
                Precision::F32 => x as f64,
                Precision::Bf16 => f32::from_bits(u32::from(avx512::bf16_bits(x)) << 16) as f64,
            };
            for (seed, &(m, k, n)) in shapes.iter().enumerate() {
                for transposed in [false, true] {
                    for accumulate in [false, true] {
                        let a = values(m * k, seed as u64 * 3 + 1);
                        let b = values(k * n, seed as u64 * 3 + 2);
                        let start = values(m * n, seed as u64 * 3 + 3);
                        // A as given, or stored k × m and viewed transposed (column-strided).
                        let (a_store, (rsa, csa)) = if transposed {
                            let mut t = vec![0.0; m * k];
                            for i in 0..m {
                                for p in 0..k {
                                    t[p * m + i] = a[i * k + p];
                                }
                            }
                            (t, (1, m as isize))
                        } else {
                            (a.clone(), (k as isize, 1))
                        };
                        let mut want = vec![0f64; m * n];
                        let mut scale = vec![0f64; m * n];
                        for i in 0..m {
                            for j in 0..n {
                                let base = if accumulate {
                                    start[i * n + j] as f64
                                } else {
                                    0.0
                                };
                                let terms =
                                    (0..k).map(|p| round(a[i * k + p]) * round(b[p * n + j]));
                                want[i * n + j] = base + terms.clone().sum::<f64>();
                                scale[i * n + j] = base.abs() + terms.map(f64::abs).sum::<f64>();
                            }
                        }
                        let (mut fast, mut portable) = (start.clone(), start.clone());
                        let beta = if accumulate { 1.0 } else { 0.0 };
                        // SAFETY: the strides describe the buffers' layouts; outputs are distinct.
                        unsafe {
                            avx512::sgemm(
                                precision,
                                m,
                                k,
                                n,
                                a_store.as_ptr(),
                                (rsa, csa),
                                b.as_ptr(),
                                (n as isize, 1),
                                fast.as_mut_ptr(),
                                n,
                                accumulate,
                            );
                            matrixmultiply::sgemm(
                                m,
                                k,
                                n,
                                1.0,
                                a_store.as_ptr(),
                                rsa,
                                csa,
                                b.as_ptr(),
                                n as isize,
                                1,
                                beta,
                                portable.as_mut_ptr(),
                                n as isize,
                                1,
                            );
                        }
                        for idx in 0..m * n {
                            let tol = 1e-5 * scale[idx].max(1e-30);
                            let what = format!(
                                "{precision:?} {m}x{k}x{n} t={transposed} acc={accumulate} @{idx}"
                            );
                            assert!((fast[idx] as f64 - want[idx]).abs() <= tol, "{what}");
                            if precision == Precision::F32 {
                                assert!((portable[idx] as f64 - want[idx]).abs() <= tol, "{what}");
                            }
                        }
                    }
                }
            }
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn bf16_rounds_to_nearest_even() {
        use avx512::bf16_bits;
        let back = |x: f32| f32::from_bits(u32::from(bf16_bits(x)) << 16);
        assert_eq!(back(1.0), 1.0);
        // Halfway cases go to the even neighbour; anything past halfway rounds up.
        assert_eq!(back(1.0 + 2f32.powi(-8)), 1.0);
        assert_eq!(back(1.0 + 3.0 * 2f32.powi(-8)), 1.0 + 2f32.powi(-6));
        assert_eq!(
            back(1.0 + 2f32.powi(-8) + 2f32.powi(-20)),
            1.0 + 2f32.powi(-7)
        );
        assert_eq!(back(-2.5e-3), -back(2.5e-3));
        assert!(back(f32::NAN).is_nan());
        assert_eq!(back(f32::INFINITY), f32::INFINITY);
    }

    /// Each output element is summed the same way wherever its row lies and however many rows the
    /// product has, so rows computed in pieces (as threads split them) equal the whole product
    /// bit for bit, and a repeated product gives the same bits.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn avx512_rows_in_pieces_equal_the_whole_product() {
        for precision in [avx512::Precision::F32, avx512::Precision::Bf16] {
            if avx512::available(precision) {
                rows_in_pieces_equal_the_whole_product(precision);
            } else {
                eprintln!("this CPU cannot run the {precision:?} kernel: not tested here");
            }
        }
    }

    #[cfg(target_arch = "x86_64")]
    fn rows_in_pieces_equal_the_whole_product(precision: avx512::Precision) {
        let (m, k, n) = (157, 300, 45);
        let a = values(m * k, 7);
        let b = values(k * n, 8);
        let product = |rows: std::ops::Range<usize>| {
            let mut c = vec![0f32; rows.len() * n];
            // SAFETY: rows lie inside `a`; `c` holds rows.len() × n.
            unsafe {
                avx512::sgemm(
                    precision,
                    rows.len(),
                    k,
                    n,
                    a[rows.start * k..].as_ptr(),
                    (k as isize, 1),
                    b.as_ptr(),
                    (n as isize, 1),
                    c.as_mut_ptr(),
                    n,
                    false,
                );
            }
            c
        };
        let whole = product(0..m);
        assert_eq!(product(0..m), whole);
        let mut pieces = Vec::new();
        for range in [0..1, 1..14, 14..100, 100..m] {
            pieces.extend(product(range));
        }
        assert_eq!(pieces, whole);
    }
}

//! f32 products for CPUs with AVX-512F, and bf16 products (f32 in and out, bf16 multiplicands,
//! f32 sums) for CPUs with AVX512_BF16, written here because no crate on stable Rust has them:
//! `matrixmultiply` stops at AVX2 + FMA, and the `gemm` crate's AVX-512 kernels need a nightly
//! compiler (its `nightly` feature). `examples/gemm_bench.rs` times them beside `matrixmultiply`
//! (figures in BENCHMARKS.md); products reach them through [`super::choose_f32_kernel`].
//!
//! The shape is the usual one (Goto / BLIS): for each block of `KC` inner indices, a block of B is
//! packed into panels of [`NR`] columns and each block of `MC` rows of A into panels of [`MR`]
//! rows, and a register tile of 12 × 32 outputs (24 zmm accumulators, two B vectors, A broadcast
//! from memory) runs over the block's inner indices. Ragged edges: A's panels are padded with
//! zero rows, B's with zero columns, and only the valid outputs are stored (masked stores).
//! [`Precision::Bf16`] packs each pair of consecutive inner indices as two bf16 (rounded to
//! nearest even) in one 32-bit lane, and a tile step is one `vdpbf16ps`: two products per lane,
//! summed into the f32 accumulator (an odd last index pairs with a zero).
//!
//! Every output element is summed the same way whatever the matrix sizes, its position, or the
//! thread that computes it: in increasing inner index within a block of `KC`, each block's sum then
//! added to the output. So splitting rows across threads, or stacking more rows into one product,
//! changes no bit.

use std::arch::x86_64::*;
use std::cell::RefCell;

/// Rows of A per register tile.
pub const MR: usize = 12;
/// Columns of B per register tile (two vectors of 16 lanes).
pub const NR: usize = 32;
/// Inner indices per packed block (an f32 B panel of KC × NR is 32 KiB, the L1 data cache).
const KC: usize = 256;
/// Rows of A per packed block (120 × 256 f32 = 120 KiB, well inside L2).
const MC: usize = 10 * MR;
/// Columns of B per packed block (256 × 2048 f32 = 2 MiB).
const NC: usize = 2048;

/// What the tiles multiply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Precision {
    /// f32 fused multiply-adds (AVX-512F).
    F32,
    /// Both operands rounded to bf16, products summed in f32 (AVX512_BF16).
    Bf16,
}

impl Precision {
    /// Inner indices per packed 32-bit element.
    fn step(self) -> usize {
        match self {
            Precision::F32 => 1,
            Precision::Bf16 => 2,
        }
    }
}

thread_local! {
    /// Packing buffers (32-bit elements: f32 bits or bf16 pairs), kept per thread so that a
    /// product allocates nothing once they have grown.
    static PACKS: RefCell<(Vec<u32>, Vec<u32>)> = const { RefCell::new((Vec::new(), Vec::new())) };
}

/// True when this CPU runs [`sgemm`] at `precision`.
pub fn available(precision: Precision) -> bool {
    std::arch::is_x86_feature_detected!("avx512f")
        && (precision == Precision::F32 || std::arch::is_x86_feature_detected!("avx512bf16"))
}

/// `c = a @ b` (`accumulate`: `c += a @ b`) at `precision`, `a` m × k with strides (`rsa`, `csa`),
/// `b` k × n with (`rsb`, `csb`), `c` row-major with rows `ldc` apart.
///
/// # Safety
/// The CPU runs `precision` ([`available`]); every element reached through the dimensions and
/// strides lies inside the pointed-to memory; `c` does not alias `a` or `b`.
#[allow(clippy::too_many_arguments)]
pub unsafe fn sgemm(
    precision: Precision,
    m: usize,
    k: usize,
    n: usize,
    a: *const f32,
    (rsa, csa): (isize, isize),
    b: *const f32,
    (rsb, csb): (isize, isize),
    c: *mut f32,
    ldc: usize,
    accumulate: bool,
) {
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            for i in 0..m {
                std::ptr::write_bytes(c.add(i * ldc), 0, n);
            }
        }
        return;
    }
    PACKS.with(|packs| {
        // A product inside a product on this thread cannot happen, but never panic over it.
        let mut fresh = (Vec::new(), Vec::new());
        let mut guard = packs.try_borrow_mut();
        let (pa, pb) = match guard.as_mut() {
            Ok(p) => {
                let (pa, pb) = &mut **p;
                (pa, pb)
            }
            Err(_) => (&mut fresh.0, &mut fresh.1),
        };
        for jc in (0..n).step_by(NC) {
            let nc = NC.min(n - jc);
            let panels_n = nc.div_ceil(NR);
            for pc in (0..k).step_by(KC) {
                let kc = KC.min(k - pc);
                let kp = kc.div_ceil(precision.step());
                pb.resize(panels_n * NR * kp, 0);
                pack_b(precision, b, (rsb, csb), pc, kc, jc, nc, pb);
                let add = accumulate || pc > 0;
                for ic in (0..m).step_by(MC) {
                    let mc = MC.min(m - ic);
                    let panels_m = mc.div_ceil(MR);
                    pa.resize(panels_m * MR * kp, 0);
                    pack_a(precision, a, (rsa, csa), ic, mc, pc, kc, pa);
                    for jp in 0..panels_n {
                        let cols = NR.min(nc - jp * NR);
                        let bp = pb.as_ptr().add(jp * NR * kp);
                        for ip in 0..panels_m {
                            let rows = MR.min(mc - ip * MR);
                            let ap = pa.as_ptr().add(ip * MR * kp);
                            let cp = c.add((ic + ip * MR) * ldc + jc + jp * NR);
                            let out = (cp, ldc, rows, cols, add);
                            match precision {
                                Precision::F32 => tile_f32(kp, ap, bp, out),
                                Precision::Bf16 => tile_bf16(kp, ap, bp, out),
                            }
                        }
                    }
                }
            }
        }
    });
}

/// One element of A or B as packed: f32 bits, or the bf16 pair of inner indices `p` and `p + 1`
/// (`next`: the second, 0 past the end) with `p`'s in the low half.
#[inline(always)]
fn packed(precision: Precision, first: f32, next: f32) -> u32 {
    match precision {
        Precision::F32 => first.to_bits(),
        Precision::Bf16 => u32::from(bf16_bits(first)) | u32::from(bf16_bits(next)) << 16,
    }
}

/// `x` rounded to bf16 (to nearest, ties to even; NaN stays NaN).
#[inline(always)]
pub fn bf16_bits(x: f32) -> u16 {
    let bits = x.to_bits();
    if x.is_nan() {
        return ((bits >> 16) | 0x40) as u16;
    }
    (bits.wrapping_add(0x7FFF + ((bits >> 16) & 1)) >> 16) as u16
}

/// Packs rows `pc..pc + kc` × columns `jc..jc + nc` of B into panels of [`NR`] columns, each
/// panel a row of NR packed elements per step of inner indices, columns past `nc` zero.
#[allow(clippy::too_many_arguments)]
unsafe fn pack_b(
    precision: Precision,
    b: *const f32,
    (rs, cs): (isize, isize),
    pc: usize,
    kc: usize,
    jc: usize,
    nc: usize,
    out: &mut [u32],
) {
    let step = precision.step();
    let kp = kc.div_ceil(step);
    for (jp, panel) in out.chunks_exact_mut(NR * kp).enumerate() {
        let j0 = jc + jp * NR;
        let cols = NR.min(jc + nc - j0);
        for (q, row) in panel.chunks_exact_mut(NR).enumerate() {
            let p = pc + q * step;
            let src = b.offset(p as isize * rs + j0 as isize * cs);
            let has_next = step == 2 && q * step + 1 < kc;
            for (j, v) in row[..cols].iter_mut().enumerate() {
                let at = src.offset(j as isize * cs);
                let next = if has_next { *at.offset(rs) } else { 0.0 };
                *v = packed(precision, *at, next);
            }
            row[cols..].fill(0);
        }
    }
}

/// Packs rows `ic..ic + mc` × columns `pc..pc + kc` of A into panels of [`MR`] rows, each panel
/// MR packed elements (one per row) per step of inner indices, rows past `mc` zero.
#[allow(clippy::too_many_arguments)]
unsafe fn pack_a(
    precision: Precision,
    a: *const f32,
    (rs, cs): (isize, isize),
    ic: usize,
    mc: usize,
    pc: usize,
    kc: usize,
    out: &mut [u32],
) {
    let step = precision.step();
    let kp = kc.div_ceil(step);
    for (ip, panel) in out.chunks_exact_mut(MR * kp).enumerate() {
        let i0 = ic + ip * MR;
        let rows = MR.min(ic + mc - i0);
        for r in 0..MR {
            if r < rows {
                let src = a.offset((i0 + r) as isize * rs + pc as isize * cs);
                for q in 0..kp {
                    let p = q * step;
                    let at = src.offset(p as isize * cs);
                    let next = if step == 2 && p + 1 < kc {
                        *at.offset(cs)
                    } else {
                        0.0
                    };
                    *panel.get_unchecked_mut(q * MR + r) = packed(precision, *at, next);
                }
            } else {
                for q in 0..kp {
                    *panel.get_unchecked_mut(q * MR + r) = 0;
                }
            }
        }
    }
}

/// A register tile's sums: MR rows of two 16-lane vectors.
type Acc = [[__m512; 2]; MR];

/// Where a tile's sums go: `c` with rows `ldc` apart, the valid rows and columns, and whether
/// they are added to what `c` holds.
type Out = (*mut f32, usize, usize, usize, bool);

/// One f32 register tile: `ap @ bp` over `kp` inner indices, stored to `out`.
#[target_feature(enable = "avx512f")]
unsafe fn tile_f32(kp: usize, ap: *const u32, bp: *const u32, out: Out) {
    let (ap, bp) = (ap.cast::<f32>(), bp.cast::<f32>());
    let mut acc = [[_mm512_setzero_ps(); 2]; MR];
    for p in 0..kp {
        let b0 = _mm512_loadu_ps(bp.add(p * NR));
        let b1 = _mm512_loadu_ps(bp.add(p * NR + 16));
        let a = ap.add(p * MR);
        for (i, row) in acc.iter_mut().enumerate() {
            let x = _mm512_set1_ps(*a.add(i));
            row[0] = _mm512_fmadd_ps(x, b0, row[0]);
            row[1] = _mm512_fmadd_ps(x, b1, row[1]);
        }
    }
    store(&acc, out);
}

/// One bf16 register tile: `ap @ bp` over `kp` packed pairs of inner indices, stored to `out`.
#[target_feature(enable = "avx512f,avx512bf16")]
unsafe fn tile_bf16(kp: usize, ap: *const u32, bp: *const u32, out: Out) {
    let mut acc = [[_mm512_setzero_ps(); 2]; MR];
    for q in 0..kp {
        let b0: __m512bh = std::mem::transmute(_mm512_loadu_si512(bp.add(q * NR).cast()));
        let b1: __m512bh = std::mem::transmute(_mm512_loadu_si512(bp.add(q * NR + 16).cast()));
        let a = ap.add(q * MR);
        for (i, row) in acc.iter_mut().enumerate() {
            let x: __m512bh = std::mem::transmute(_mm512_set1_epi32(*a.add(i) as i32));
            row[0] = _mm512_dpbf16_ps(row[0], x, b0);
            row[1] = _mm512_dpbf16_ps(row[1], x, b1);
        }
    }
    store(&acc, out);
}

/// Stores a tile's sums into `c[..rows][..cols]` (`add`: added to what `c` holds).
#[target_feature(enable = "avx512f")]
#[inline]
unsafe fn store(acc: &Acc, (c, ldc, rows, cols, add): Out) {
    let lanes = |from: usize| -> __mmask16 {
        let n = cols.saturating_sub(from).min(16);
        ((1u32 << n) - 1) as __mmask16
    };
    let (m0, m1) = (lanes(0), lanes(16));
    // Masked-off lanes are neither read nor written (and cannot fault), so the second vector's
    // address may lie past the row when `cols` ≤ 16: hence `wrapping_add`.
    for (i, row) in acc.iter().enumerate().take(rows) {
        let out = c.add(i * ldc);
        let (mut v0, mut v1) = (row[0], row[1]);
        if add {
            v0 = _mm512_add_ps(_mm512_maskz_loadu_ps(m0, out), v0);
            v1 = _mm512_add_ps(_mm512_maskz_loadu_ps(m1, out.wrapping_add(16)), v1);
        }
        _mm512_mask_storeu_ps(out, m0, v0);
        _mm512_mask_storeu_ps(out.wrapping_add(16), m1, v1);
    }
}

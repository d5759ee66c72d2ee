//! The scalar type of the engine: `f32` for training and inference, `f64` for gradient checks.

use std::fmt::Debug;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Sub, SubAssign};

/// A floating-point scalar the layers are written over.
pub trait Float:
    Copy
    + Send
    + Sync
    + Default
    + PartialOrd
    + Debug
    + Sum
    + 'static
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + AddAssign
    + SubAssign
    + MulAssign
    + DivAssign
{
    /// 0.
    const ZERO: Self;
    /// 1.
    const ONE: Self;
    /// Converts from `f64` (rounding for `f32`).
    fn from_f64(x: f64) -> Self;
    /// Converts to `f64`.
    fn to_f64(self) -> f64;
    /// e^self.
    fn exp(self) -> Self;
    /// Natural logarithm.
    fn ln(self) -> Self;
    /// Square root.
    fn sqrt(self) -> Self;
    /// Hyperbolic tangent.
    fn tanh(self) -> Self;
    /// e^self, fast: for `f32` a branch-free polynomial the compiler vectorizes (relative error
    /// below 2e-7 over the f32 range); for `f64` the exact function (gradient checks stay exact).
    fn fast_exp(self) -> Self;
    /// tanh through [`Float::fast_exp`] (absolute error below 1e-6 for `f32`; exact for `f64`).
    fn fast_tanh(self) -> Self;
    /// Cosine.
    fn cos(self) -> Self;
    /// Sine.
    fn sin(self) -> Self;
    /// The larger of two numbers.
    fn max(self, other: Self) -> Self;
    /// True unless NaN or infinite.
    fn is_finite(self) -> bool;
    /// `self · a + b` with one rounding (a fused multiply-add; exact in every instruction set).
    fn mul_add(self, a: Self, b: Self) -> Self;
    /// Raw GEMM: `c = alpha * a @ b + beta * c` over strided matrices.
    ///
    /// # Safety
    /// Every index reached through the dimensions and strides must lie inside the pointed-to memory,
    /// and `c` must not alias `a` or `b`.
    #[allow(clippy::too_many_arguments)]
    unsafe fn gemm_raw(
        m: usize,
        k: usize,
        n: usize,
        alpha: Self,
        a: *const Self,
        rsa: isize,
        csa: isize,
        b: *const Self,
        rsb: isize,
        csb: isize,
        beta: Self,
        c: *mut Self,
        rsc: isize,
        csc: isize,
    );
}

macro_rules! impl_float {
    ($t:ty, $gemm:path, $fexp:path, $ftanh:path) => {
        impl Float for $t {
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            #[inline]
            fn from_f64(x: f64) -> Self {
                x as $t
            }
            #[inline]
            fn to_f64(self) -> f64 {
                self as f64
            }
            #[inline]
            fn exp(self) -> Self {
                <$t>::exp(self)
            }
            #[inline]
            fn ln(self) -> Self {
                <$t>::ln(self)
            }
            #[inline]
            fn sqrt(self) -> Self {
                <$t>::sqrt(self)
            }
            #[inline]
            fn tanh(self) -> Self {
                <$t>::tanh(self)
            }
            #[inline]
            fn fast_exp(self) -> Self {
                $fexp(self)
            }
            #[inline]
            fn fast_tanh(self) -> Self {
                $ftanh(self)
            }
            #[inline]
            fn cos(self) -> Self {
                <$t>::cos(self)
            }
            #[inline]
            fn sin(self) -> Self {
                <$t>::sin(self)
            }
            #[inline]
            fn max(self, other: Self) -> Self {
                <$t>::max(self, other)
            }
            #[inline]
            fn is_finite(self) -> bool {
                <$t>::is_finite(self)
            }
            #[inline]
            fn mul_add(self, a: Self, b: Self) -> Self {
                <$t>::mul_add(self, a, b)
            }
            #[inline]
            unsafe fn gemm_raw(
                m: usize,
                k: usize,
                n: usize,
                alpha: Self,
                a: *const Self,
                rsa: isize,
                csa: isize,
                b: *const Self,
                rsb: isize,
                csb: isize,
                beta: Self,
                c: *mut Self,
                rsc: isize,
                csc: isize,
            ) {
                $gemm(m, k, n, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc)
            }
        }
    };
}

impl_float!(f32, crate::gemm::sgemm, exp_f32, tanh_f32);
impl_float!(f64, matrixmultiply::dgemm, f64::exp, f64::tanh);

/// e^x for f32 without a libm call: x = n·ln2 + r, |r| ≤ ln2/2, e^r by a degree-6 polynomial, 2^n by
/// building the exponent bits. Rounding uses the 1.5·2²³ trick, whose sum also holds n in its low
/// mantissa bits: 2^n is built from those bits by integer arithmetic, with no float → int conversion
/// (Rust's saturating `as i32` kept the loops that call this from vectorizing; same results, 2× faster).
#[inline(always)]
pub fn exp_f32(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_145_75;
    const LN2_LO: f32 = 1.428_606_8e-6;
    const MAGIC: f32 = 12_582_912.0;
    let x = x.clamp(-87.0, 88.0);
    let shifted = x * LOG2E + MAGIC;
    let n = shifted - MAGIC;
    let r = x - n * LN2_HI - n * LN2_LO;
    let p = 1.0
        + r * (1.0
            + r * (0.5
                + r * (1.666_666_7e-1
                    + r * (4.166_658e-2 + r * (8.333_452e-3 + r * 1.393_739_2e-3)))));
    // `shifted` is 0x4B40_0000 + n in bits (|n| ≤ 127, two's complement in the mantissa).
    let biased = shifted
        .to_bits()
        .wrapping_sub(MAGIC.to_bits())
        .wrapping_add(127);
    let scale = f32::from_bits(biased << 23);
    p * scale
}

/// tanh for f32 through [`exp_f32`]: (e^{2x} − 1)/(e^{2x} + 1), clamped where it is ±1 in f32.
#[inline(always)]
pub fn tanh_f32(x: f32) -> f32 {
    let x = x.clamp(-9.0, 9.0);
    let e = exp_f32(2.0 * x);
    (e - 1.0) / (e + 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_exp_and_tanh_are_accurate() {
        let mut worst_exp: f64 = 0.0;
        let mut worst_tanh: f64 = 0.0;
        for i in -80_000..80_000 {
            let x = i as f32 * 1e-3;
            let e = exp_f32(x) as f64;
            worst_exp = worst_exp.max((e - (x as f64).exp()).abs() / (x as f64).exp());
            worst_tanh = worst_tanh.max((tanh_f32(x) as f64 - (x as f64).tanh()).abs());
        }
        assert!(worst_exp < 5e-7, "exp relative error {worst_exp:e}");
        assert!(worst_tanh < 1e-6, "tanh absolute error {worst_tanh:e}");
    }
}

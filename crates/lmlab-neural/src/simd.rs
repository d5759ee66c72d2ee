//! Runtime SIMD dispatch for the engine's element-wise loops.
//!
//! The release build targets baseline x86-64 (SSE2), so a binary runs on any x86-64 CPU. The hot
//! element-wise loops (GELU, softmax, LayerNorm, AdamW) are also compiled for AVX-512 and AVX2 with
//! `multiversion`, which picks the widest version the CPU has at run time. The loops are written so
//! that vectorizing changes no result: maps vectorize, and every sum runs left to right in its own
//! loop (no reassociation), so each version gives the same bits. Measured on the nanoGPT shape
//! (L4 d128 H4 T64 B12, one thread): 39.7 → 32.3 CPU-ms per training step with the whole set.

/// Wraps functions with `#[multiversion]` for this crate's target list (AVX-512, then AVX2 + FMA,
/// then the baseline). Generic functions are fine; methods are not.
macro_rules! simd_dispatch {
    ($($item:item)*) => {
        $(
            #[multiversion::multiversion(targets(
                "x86_64+avx512f+avx512bw+avx512cd+avx512dq+avx512vl+avx2+fma+avx",
                "x86_64+avx2+fma+avx",
            ))]
            $item
        )*
    };
}
pub(crate) use simd_dispatch;

//! CPU cache hints shared by the hashed lookups (the vocabulary index, the n-gram and GLM tables,
//! the builder's passes). Hints only: no effect on any result.

/// Asks the CPU to bring `value`'s cache line in (x86-64; nothing elsewhere). A hint only.
#[inline]
pub fn prefetch<T>(value: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch never faults and reads nothing observable; the pointer is a valid
    // reference anyway.
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>((value as *const T).cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = value;
}

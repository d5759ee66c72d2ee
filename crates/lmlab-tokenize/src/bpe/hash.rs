//! The hash map used for pair tables, caches and vocabularies: FxHash (from `rustc-hash`, the
//! workspace's fast non-cryptographic hasher), for integer and short byte-string keys.

/// A `HashMap` with FxHash.
pub type FastMap<K, V> = rustc_hash::FxHashMap<K, V>;

//! Content hashes used for fingerprints and provenance.

use sha2::{Digest, Sha256};

/// SHA-256 of `bytes` as lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// A short fingerprint (the first 16 hex digits of SHA-256).
pub fn fingerprint(bytes: &[u8]) -> String {
    sha256_hex(bytes)[..16].to_string()
}

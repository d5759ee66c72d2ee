//! Where a table's slots live: in memory (built by training or an ARPA import), or in place inside
//! a memory-mapped model file (loaded models: no copy, and the pages are shared between processes).
//!
//! Loaded tables were once copied into anonymous transparent huge pages, for fewer TLB misses:
//! 7–13% less query CPU on an AMD EPYC, none on an Intel Xeon, where the kernel's zeroing of the
//! fresh pages cost 5–8% of a 10M-token `lmlab eval` and the copy raised peak RSS from 64 to 82 MiB
//! (1.5× KenLM's, bench/ngram_vs_kenlm.sh). The model file's mapping is advised to use huge pages
//! instead ([`lmlab_core::model_file::ModelFile::open`]), which the kernel honours where the page
//! cache holds the file in huge folios.

use crate::table::Entry;
use lmlab_core::model_file::ModelFile;
use std::sync::Arc;

enum Owner {
    Vec(Vec<Entry>),
    File(Arc<ModelFile>),
}

/// An immutable array of [`Entry`], owned or borrowed from a mapped model file.
pub(crate) struct Entries {
    ptr: *const Entry,
    len: usize,
    owner: Owner,
}

// SAFETY: the entries are never mutated through `Entries` once shared (mutation needs `&mut`
// and an owned vector), and both owners keep the memory alive and unchanged while it exists.
unsafe impl Send for Entries {}
// SAFETY: as above; shared access is read-only.
unsafe impl Sync for Entries {}

impl Entries {
    /// Entries owned in memory.
    pub fn owned(entries: Vec<Entry>) -> Entries {
        Entries {
            ptr: entries.as_ptr(),
            len: entries.len(),
            owner: Owner::Vec(entries),
        }
    }

    /// `len` entries at byte `offset` of `file`'s payload, used in place. `None` when the bytes
    /// are out of range or misaligned, or the host is not little-endian (the file's byte order).
    pub fn mapped(file: &Arc<ModelFile>, offset: usize, len: usize) -> Option<Entries> {
        if cfg!(target_endian = "big") {
            return None;
        }
        let payload = file.payload();
        let bytes = len.checked_mul(std::mem::size_of::<Entry>())?;
        if offset.checked_add(bytes)? > payload.len() {
            return None;
        }
        // SAFETY: in bounds (checked above).
        let ptr = unsafe { payload.as_ptr().add(offset) } as *const Entry;
        if !ptr.is_aligned() {
            return None;
        }
        Some(Entries {
            ptr,
            len,
            owner: Owner::File(Arc::clone(file)),
        })
    }

    /// Mutable access to owned entries (building a table); `None` for mapped ones.
    pub fn as_mut_slice(&mut self) -> Option<&mut [Entry]> {
        match &mut self.owner {
            Owner::Vec(v) => Some(v.as_mut_slice()),
            Owner::File(_) => None,
        }
    }

    /// True when the entries live in a mapped file.
    pub fn is_mapped(&self) -> bool {
        matches!(self.owner, Owner::File(_))
    }
}

impl std::ops::Deref for Entries {
    type Target = [Entry];
    fn deref(&self) -> &[Entry] {
        // SAFETY: `ptr`/`len` describe memory kept alive by `owner`: a vector that is only
        // mutated through `as_mut_slice` (which does not move it), or a read-only file mapping
        // whose bytes are valid `Entry` values (any bit pattern is a valid u64/f32).
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

impl Clone for Entries {
    fn clone(&self) -> Entries {
        match &self.owner {
            Owner::Vec(v) => Entries::owned(v.clone()),
            Owner::File(f) => Entries {
                ptr: self.ptr,
                len: self.len,
                owner: Owner::File(Arc::clone(f)),
            },
        }
    }
}

impl Default for Entries {
    fn default() -> Entries {
        Entries::owned(Vec::new())
    }
}

impl PartialEq for Entries {
    fn eq(&self, other: &Entries) -> bool {
        **self == **other
    }
}

impl std::fmt::Debug for Entries {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} entries{}",
            self.len,
            match &self.owner {
                Owner::Vec(_) => String::new(),
                Owner::File(_) => " (mapped)".to_string(),
            }
        )
    }
}

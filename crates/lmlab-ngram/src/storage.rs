//! Where a table's slots live: in memory (built by training or an ARPA import), copied from a model
//! file into huge pages (loaded models' large tables), or in place inside a memory-mapped model
//! file (loaded models' small tables: no copy, and the pages are shared between processes).

use crate::table::Entry;
use lmlab_core::model_file::ModelFile;
use std::sync::Arc;

enum Owner {
    Vec(Vec<Entry>),
    File(Arc<ModelFile>),
    /// Anonymous memory (huge pages where the system gives them), never written after the copy.
    Anon(memmap2::MmapMut),
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

    /// A copy of `entries` in anonymous memory advised to use transparent huge pages (Linux), or
    /// `None` where such memory cannot be had. Huge pages let the lookups' random reads miss
    /// the TLB far less: `lmlab eval` of a PTB 5-gram took 7–13% less CPU (bench/ngram_vs_kenlm.sh,
    /// BENCHMARKS.md), at the cost of the copy (milliseconds) and of pages no longer shared with
    /// other processes mapping the same file.
    ///
    /// The copy goes a stretch of 1 MiB at a time, `copied(range)` told the byte range of
    /// `entries` each stretch covered (so that their source pages can be released).
    pub fn copied_to_huge_pages(
        entries: &[Entry],
        mut copied: impl FnMut(std::ops::Range<usize>),
    ) -> Option<Entries> {
        let bytes = std::mem::size_of_val(entries);
        let mut map = memmap2::MmapMut::map_anon(bytes.max(1)).ok()?;
        #[cfg(target_os = "linux")]
        // Advice that fails leaves ordinary pages: slower, as correct.
        let _ = map.advise(memmap2::Advice::HugePage);
        // SAFETY: the map is page aligned (so aligned for `Entry`), at least `bytes` long, and
        // `Entry` is plain data (any bytes are a valid `Entry` and the source ones are valid).
        let copy = unsafe {
            std::slice::from_raw_parts_mut(map.as_mut_ptr().cast::<Entry>(), entries.len())
        };
        const SIZE: usize = std::mem::size_of::<Entry>();
        const STRETCH: usize = (1 << 20) / SIZE;
        for from in (0..entries.len()).step_by(STRETCH) {
            let to = (from + STRETCH).min(entries.len());
            copy[from..to].copy_from_slice(&entries[from..to]);
            copied(from * SIZE..to * SIZE);
        }
        Some(Entries {
            ptr: map.as_ptr().cast::<Entry>(),
            len: entries.len(),
            owner: Owner::Anon(map),
        })
    }

    /// Mutable access to owned entries (building a table); `None` for mapped ones.
    pub fn as_mut_slice(&mut self) -> Option<&mut [Entry]> {
        match &mut self.owner {
            Owner::Vec(v) => Some(v.as_mut_slice()),
            Owner::File(_) | Owner::Anon(_) => None,
        }
    }

    /// True when the entries live in a mapped file.
    pub fn is_mapped(&self) -> bool {
        matches!(self.owner, Owner::File(_))
    }

    /// True when the entries were copied out of a model file ([`Entries::copied_to_huge_pages`]).
    pub fn is_copied(&self) -> bool {
        matches!(self.owner, Owner::Anon(_))
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
            Owner::Anon(_) => Entries::copied_to_huge_pages(self, |_| {})
                .unwrap_or_else(|| Entries::owned(self.to_vec())),
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
                Owner::Anon(map) => format!(" (copied into {} bytes of huge pages)", map.len()),
            }
        )
    }
}

//! Sorting one skip pattern's occurrences within a memory bound. Up to `capacity` items are
//! sorted in memory; beyond that, each full buffer is sorted and appended to one temporary file as
//! a run, and the runs are merged, each read back through its share of the same buffer space
//! (an external merge sort, as lmplz's). Either way the items come out ascending, the same
//! sequence: the bound changes where they wait, never what they are.

use crate::spill::{Column, Plain, SpillDir, Stored};
use lmlab_core::{Error, Result};
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// The fewest items a run's read buffer holds while merging, however many runs there are.
const MIN_RUN_BUFFER: usize = 64;

/// Items in ascending order: a sorted vector, or the merge of sorted runs in a file.
pub(crate) enum Sorted<T> {
    /// Everything fitted in memory.
    Memory(std::vec::IntoIter<T>),
    /// Runs spilled to a file, merged.
    Merged(Merge<T>),
}

impl<T: Plain + Ord> Iterator for Sorted<T> {
    type Item = T;

    #[inline]
    fn next(&mut self) -> Option<T> {
        match self {
            Sorted::Memory(items) => items.next(),
            Sorted::Merged(merge) => merge.next(),
        }
    }
}

impl<T> Sorted<T> {
    /// Fails if reading a run back failed (the iteration then ended early).
    pub fn finish(self) -> Result<()> {
        match self {
            Sorted::Memory(_) => Ok(()),
            Sorted::Merged(merge) => merge.error.map_or(Ok(()), Err),
        }
    }

    /// Number of spilled runs (0 when everything was sorted in memory).
    #[cfg(test)]
    fn runs(&self) -> usize {
        match self {
            Sorted::Memory(_) => 0,
            Sorted::Merged(merge) => merge.cursors.len(),
        }
    }
}

/// Sorts `items` holding at most `capacity` (≥ 1) of them at once; runs go to a file of `dir`
/// when there are more (without `dir`, everything is sorted in memory whatever `capacity` says,
/// `capacity` only sizing the first allocation).
pub(crate) fn sort_bounded<T: Plain + Ord>(
    items: impl Iterator<Item = T>,
    capacity: usize,
    dir: Option<&SpillDir>,
) -> Result<Sorted<T>> {
    let Some(dir) = dir else {
        let mut all: Vec<T> = Vec::with_capacity(capacity);
        all.extend(items);
        all.sort_unstable();
        return Ok(Sorted::Memory(all.into_iter()));
    };
    let capacity = capacity.max(1);
    let mut items = items.peekable();
    let mut buffer: Vec<T> = Vec::with_capacity(capacity);
    buffer.extend(items.by_ref().take(capacity));
    buffer.sort_unstable();
    if items.peek().is_none() {
        return Ok(Sorted::Memory(buffer.into_iter()));
    }
    let mut file = Column::new(Some(dir))?;
    let mut bounds = Vec::new();
    let mut at = 0;
    loop {
        file.extend(&buffer)?;
        bounds.push((at, at + buffer.len()));
        at += buffer.len();
        buffer.clear();
        buffer.extend(items.by_ref().take(capacity));
        if buffer.is_empty() {
            break;
        }
        buffer.sort_unstable();
    }
    drop(buffer);
    Merge::start(file.finish()?, &bounds, capacity)
}

/// A k-way merge of sorted runs lying one after another in a file.
pub(crate) struct Merge<T> {
    runs: Stored<T>,
    cursors: Vec<Cursor<T>>,
    heap: BinaryHeap<Reverse<(T, usize)>>,
    /// The first read error; iteration stops there.
    error: Option<Error>,
}

/// Where one run is being read.
struct Cursor<T> {
    buffer: Vec<T>,
    /// Next item of `buffer` to hand out.
    at: usize,
    /// The run's next unread item in the file, and its end.
    next: usize,
    end: usize,
}

impl<T: Plain + Ord> Merge<T> {
    fn start(runs: Stored<T>, bounds: &[(usize, usize)], capacity: usize) -> Result<Sorted<T>> {
        let share = (capacity / bounds.len()).max(MIN_RUN_BUFFER);
        let mut merge = Merge {
            runs,
            cursors: Vec::with_capacity(bounds.len()),
            heap: BinaryHeap::with_capacity(bounds.len()),
            error: None,
        };
        for (run, &(start, end)) in bounds.iter().enumerate() {
            merge.cursors.push(Cursor {
                buffer: Vec::with_capacity(share.min(end - start)),
                at: 0,
                next: start,
                end,
            });
            if let Some(first) = merge.read_next(run)? {
                merge.heap.push(Reverse((first, run)));
            }
        }
        Ok(Sorted::Merged(merge))
    }

    /// The next item of run `run`, reading its next piece when its buffer is spent.
    fn read_next(&mut self, run: usize) -> Result<Option<T>> {
        let cursor = &mut self.cursors[run];
        if cursor.at == cursor.buffer.len() {
            if cursor.next == cursor.end {
                return Ok(None);
            }
            let n = cursor.buffer.capacity().min(cursor.end - cursor.next);
            cursor.buffer.clear();
            cursor.buffer.resize(n, T::default());
            self.runs.read_into(cursor.next, &mut cursor.buffer)?;
            cursor.next += n;
            cursor.at = 0;
        }
        cursor.at += 1;
        Ok(Some(cursor.buffer[cursor.at - 1]))
    }
}

impl<T: Plain + Ord> Iterator for Merge<T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        let Reverse((item, run)) = self.heap.pop()?;
        match self.read_next(run) {
            Ok(Some(next)) => self.heap.push(Reverse((next, run))),
            Ok(None) => {}
            Err(e) => {
                self.error = Some(e);
                self.heap.clear();
            }
        }
        Some(item)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 1,000 pseudo-random u128 values with repeats.
    fn values() -> Vec<u128> {
        let mut state = 7u64;
        (0..1000)
            .map(|_| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                u128::from(state >> 54)
            })
            .collect()
    }

    #[test]
    fn bounded_sorts_give_the_sorted_sequence_whatever_the_capacity() {
        let temp = tempfile::tempdir().unwrap();
        let dir = SpillDir::new(temp.path()).unwrap();
        let mut expected = values();
        expected.sort_unstable();
        for (capacity, runs) in [(1, 1000), (7, 143), (999, 2), (1000, 0), (5000, 0)] {
            let sorted = sort_bounded(values().into_iter(), capacity, Some(&dir)).unwrap();
            assert_eq!(sorted.runs(), runs, "capacity {capacity}");
            let mut sorted = sorted;
            let got: Vec<u128> = sorted.by_ref().collect();
            sorted.finish().unwrap();
            assert_eq!(got, expected, "capacity {capacity}");
        }
        let unbounded = sort_bounded(values().into_iter(), 1, None).unwrap();
        assert_eq!(unbounded.runs(), 0);
        assert_eq!(unbounded.collect::<Vec<_>>(), expected);
    }
}

//! Encoding many texts on several threads (any tokenizer kind; BPE's piece caches are per thread).

use lmlab_core::{TokenId, Tokenizer};

/// Encodes each of `texts` independently on up to `threads` threads (0: one per core); the results
/// are in the order of `texts` and equal to encoding each one alone.
pub fn encode_batch(tok: &dyn Tokenizer, texts: &[&str], threads: usize) -> Vec<Vec<TokenId>> {
    let threads = if threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        threads
    }
    .clamp(1, texts.len().max(1));
    if threads == 1 {
        return texts.iter().map(|t| tok.encode(t)).collect();
    }
    // Chunks of about equal byte size, one per thread.
    let total: usize = texts.iter().map(|t| t.len()).sum();
    let target = total.div_ceil(threads).max(1);
    let mut bounds = vec![0];
    let mut acc = 0;
    for (i, t) in texts.iter().enumerate() {
        acc += t.len();
        if acc >= target && i + 1 < texts.len() {
            bounds.push(i + 1);
            acc = 0;
        }
    }
    bounds.push(texts.len());
    let mut out: Vec<Vec<TokenId>> = vec![Vec::new(); texts.len()];
    std::thread::scope(|scope| {
        let mut rest = out.as_mut_slice();
        let mut start = 0;
        for &end in &bounds[1..] {
            let (chunk, tail) = std::mem::take(&mut rest).split_at_mut(end - start);
            rest = tail;
            let inputs = &texts[start..end];
            scope.spawn(move || {
                for (slot, text) in chunk.iter_mut().zip(inputs) {
                    tok.encode_into(text, slot);
                }
            });
            start = end;
        }
    });
    out
}

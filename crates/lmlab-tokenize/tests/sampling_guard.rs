//! Byte-level BPE tokens through the sampler's `TextGuard`: tokens holding a control character are
//! never allowed, tokens holding part of a character only where that character can go on.

use lmlab_core::sampling::{printable_utf8_tail, TextGuard};
use lmlab_core::{TokenId, Tokenizer};
use lmlab_tokenize::BpeTrainer;

#[test]
fn byte_level_bpe_tokens_are_judged_by_their_bytes() {
    let text = "caf\u{e9} \u{17}beep\u{17} na\u{ef}ve \u{6f22}\u{5b57}\n".repeat(30);
    let bpe = BpeTrainer {
        vocab_size: 300,
        ..BpeTrainer::default()
    }
    .train(&[&text])
    .unwrap();
    let mut guard = TextGuard::new(&bpe);
    let ids: Vec<TokenId> = (0..bpe.vocab().len() as TokenId).collect();
    // At a character boundary a token is allowed exactly when its own bytes read as printable text.
    for &id in &ids {
        let bytes = bpe.decode_bytes(&[id]);
        assert_eq!(
            guard.allows(id),
            printable_utf8_tail(&bytes).is_some(),
            "{bytes:?}"
        );
        if bytes.contains(&0x17) {
            assert!(!guard.allows(id), "{bytes:?}");
        }
    }
    let single = |byte: u8| {
        *ids.iter()
            .find(|&&id| bpe.decode_bytes(&[id]) == [byte])
            .unwrap()
    };
    let (lead, tail) = (single(0xC3), single(0xA9));
    assert!(guard.allows(lead) && !guard.allows(tail));
    assert!(!guard.allows(single(0x17)));
    guard.push(lead);
    assert!(guard.allows(tail) && !guard.allows(single(b'a')));
    guard.push(tail);
    assert!(guard.at_boundary() && guard.allows(single(b'a')));
}

//! Save/load for every kind, decode(encode(x)) == x, and bad inputs with clear messages.

use lmlab_tokenize::bpe::{BpeTokenizer, BpeTrainer, PreTokenizerPattern, MAX_VOCAB_SIZE};
use lmlab_tokenize::registry::KINDS;
use lmlab_tokenize::{
    load_tokenizer_file, tokenizer_from_json, BytesTokenizer, CharsTokenizer, CharsTrainer,
    Tokenizer, WordsTrainer,
};
use std::path::PathBuf;

/// Training text: the start of the TinyStories slice when shared/ is there, else a built-in text.
fn training_text() -> String {
    let path = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/tinystories/train-slice.txt"
    ));
    match std::fs::read_to_string(path) {
        Ok(text) => text[..text.len().min(120_000)].to_string(),
        Err(_) => "Once upon a time there was a little girl named Lily. She liked to play.\n\
                   One day, Lily's mom said: \"Don't go far!\" 123 4567\n"
            .repeat(200),
    }
}

/// Text that must survive encode/decode: every test file that exists, and tricky Unicode.
fn hard_texts() -> Vec<String> {
    let mut texts: Vec<String> = [
        "emoji 🦀👍🏽👩‍👩‍👧 and flags 🇫🇷\n",
        "combining e\u{301} a\u{308} \u{1e9b}\u{323} Z\u{335}\u{30f}\n",
        "CJK 漢字かなカナ 한국어 ｆｕｌｌｗｉｄｔｈ\n",
        "RTL שָׁלוֹם عَرَبِيّ \u{200f}mark\u{202e}override\u{202c}\n",
        "zero-width \u{200b}\u{feff}\u{2060} nbsp\u{a0}x\u{3000}y\r\n\t \n\n",
        "specials <s> </s> <unk> <|endoftext|> in text\n",
        "",
        " ",
        "\n",
        "'s'S'll'LL ſ 12345678901234567890 ...!!!???",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let data = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data"));
    for file in [
        "tinystories/valid-slice.txt",
        "ptb/ptb.test.txt",
        "ptb/ptb.valid.txt",
        "shakespeare/input.txt",
    ] {
        if let Ok(text) = std::fs::read_to_string(data.join(file)) {
            texts.push(text);
        }
    }
    texts
}

fn bpe(pattern: PreTokenizerPattern, scaffold: bool) -> BpeTokenizer {
    BpeTrainer {
        vocab_size: 600,
        pattern,
        scaffold,
        specials: vec!["<|endoftext|>".into()],
        ..BpeTrainer::default()
    }
    .train(&[&training_text()])
    .unwrap()
}

fn chars() -> CharsTokenizer {
    CharsTrainer {
        nfc: true,
        ..CharsTrainer::default()
    }
    .train(&[&training_text()])
    .unwrap()
}

#[test]
fn every_kind_saves_and_loads_with_the_same_fingerprint_and_ids() {
    let text = training_text();
    let kinds: Vec<Box<dyn Tokenizer>> = vec![
        Box::new(WordsTrainer::default().train(&text).unwrap()),
        Box::new(BytesTokenizer::new()),
        Box::new(chars()),
        Box::new(bpe(PreTokenizerPattern::Gpt2, false)),
        Box::new(bpe(PreTokenizerPattern::Cl100k, false)),
        Box::new(bpe(PreTokenizerPattern::Gpt2, true)),
    ];
    let mut seen: Vec<String> = Vec::new();
    let dir = tempfile::tempdir().unwrap();
    for tok in kinds {
        seen.push(tok.kind().to_string());
        let path = dir.path().join(format!("{}.json", tok.kind()));
        std::fs::write(&path, tok.to_json().to_string()).unwrap();
        let back = load_tokenizer_file(&path).unwrap();
        assert_eq!(back.kind(), tok.kind());
        assert_eq!(back.fingerprint(), tok.fingerprint(), "{}", tok.kind());
        assert_eq!(back.vocab(), tok.vocab(), "{}", tok.kind());
        assert_eq!(back.specials(), tok.specials());
        for t in hard_texts().iter().take(10) {
            assert_eq!(back.encode(t), tok.encode(t), "{}", tok.kind());
        }
    }
    for kind in KINDS {
        assert!(seen.iter().any(|k| k == kind), "kind {kind} not tested");
    }
}

#[test]
fn decode_inverts_encode_for_bytes_and_both_bpes() {
    let tokenizers: Vec<Box<dyn Tokenizer>> = vec![
        Box::new(BytesTokenizer::new()),
        Box::new(bpe(PreTokenizerPattern::Gpt2, false)),
        Box::new(bpe(PreTokenizerPattern::Cl100k, false)),
        Box::new(bpe(PreTokenizerPattern::Gpt2, true)),
        Box::new(bpe(PreTokenizerPattern::Cl100k, true)),
    ];
    for tok in &tokenizers {
        for text in hard_texts() {
            let ids = tok.encode(&text);
            assert_eq!(tok.decode(&ids), text, "{}", tok.kind());
            let eos = tok.specials().eos;
            let bos = tok.specials().bos;
            if tok.kind() != "bytes" {
                assert!(ids.iter().all(|&id| id != eos && id != bos));
            }
        }
    }
}

#[test]
fn batch_encoding_equals_one_by_one() {
    let tok = bpe(PreTokenizerPattern::Gpt2, true);
    let texts = hard_texts();
    let lines: Vec<&str> = texts
        .iter()
        .flat_map(|t| t.split('\n'))
        .take(5000)
        .collect();
    let one_by_one: Vec<Vec<u32>> = lines.iter().map(|l| tok.encode(l)).collect();
    for threads in [0, 1, 3] {
        assert_eq!(
            lmlab_tokenize::bpe::encode_batch(&tok, &lines, threads),
            one_by_one
        );
    }
    assert!(lmlab_tokenize::bpe::encode_batch(&tok, &[], 2).is_empty());
}

#[test]
fn chars_round_trip_known_text_and_count_unknown_characters() {
    let tok = chars();
    let text = "Once upon a time.\nLily's mom!";
    assert_eq!(tok.decode(&tok.encode(text)), text);
    let mut ids = Vec::new();
    let oov = tok.encode_into("a漢b", &mut ids);
    assert_eq!(oov, 1);
    assert_eq!(ids[1], tok.specials().unk.unwrap());
    // NFC: a decomposed é is encoded as the composed one.
    assert_eq!(tok.encode("e\u{301}"), tok.encode("\u{e9}"));
    let raw = CharsTrainer::default().train(&["e\u{301}"]).unwrap();
    assert_eq!(raw.encode("e\u{301}").len(), 2);
}

#[test]
fn special_strings_in_text_are_ordinary_text_unless_allowed() {
    let mut tok = bpe(PreTokenizerPattern::Gpt2, false);
    let special = tok.vocab().id("<|endoftext|>").unwrap();
    assert_eq!(special, tok.eos_id() + 1);
    let text = "a story<|endoftext|>Another </s>";
    let ids = tok.encode(text);
    assert!(ids.iter().all(|&id| (id as usize) < tok.learned_size()));
    assert_eq!(tok.decode(&ids), text);
    let loaded =
        lmlab_tokenize::registry::tokenizer_from_json_allow_special(&tok.to_json(), true).unwrap();
    tok.set_allow_special(true);
    let ids = tok.encode(text);
    assert_eq!(loaded.encode(text), ids);
    assert!(ids.contains(&special) && ids.contains(&tok.eos_id()));
    // Decoding leaves special tokens out (`</s>` is a newline).
    assert_eq!(tok.decode(&ids), "a storyAnother \n");

    let mut chars = CharsTrainer {
        specials: vec!["<|endoftext|>".into()],
        ..CharsTrainer::default()
    }
    .train(&["a story<|endoftext|>"])
    .unwrap();
    let special = chars.vocab().id("<|endoftext|>").unwrap();
    assert!(!chars.encode("x<|endoftext|>").contains(&special));
    chars.set_allow_special(true);
    assert!(chars.encode("x<|endoftext|>").contains(&special));
}

#[test]
fn vocab_of_the_byte_alphabet_alone_has_no_merges() {
    let tok = BpeTrainer {
        vocab_size: 256,
        ..BpeTrainer::default()
    }
    .train(&["hello hello\n"])
    .unwrap();
    assert!(tok.merges().is_empty());
    assert_eq!(tok.vocab().len(), 258);
    assert_eq!(tok.encode("hé"), vec![71, 127, 102]);
    assert_eq!(tok.decode(&tok.encode("hé\n")), "hé\n");
}

#[test]
fn training_progress_is_reported() {
    let calls = std::cell::RefCell::new(Vec::new());
    BpeTrainer {
        vocab_size: 300,
        ..BpeTrainer::default()
    }
    .train_with_progress(&[&training_text()], &|done, total| {
        calls.borrow_mut().push((done, total))
    })
    .unwrap();
    let calls = calls.into_inner();
    assert_eq!(calls.last(), Some(&(44, 44)));
    assert!(calls.windows(2).all(|w| w[0].0 <= w[1].0));
}

fn err<T>(r: lmlab_core::Result<T>) -> String {
    match r {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn bad_training_options_and_texts_are_refused_clearly() {
    let text = training_text();
    let msg = err(BpeTrainer {
        vocab_size: 100,
        ..BpeTrainer::default()
    }
    .train(&[&text]));
    assert!(msg.contains("smaller than the byte alphabet"), "{msg}");
    let msg = err(BpeTrainer {
        vocab_size: MAX_VOCAB_SIZE + 1,
        ..BpeTrainer::default()
    }
    .train(&[&text]));
    assert!(msg.contains("absurdly large"), "{msg}");
    for empty in [&[""][..], &[" \n\t\n", ""][..], &[][..]] {
        let msg = err(BpeTrainer::default().train(empty));
        assert!(msg.contains("empty or only white space"), "{msg}");
        let msg = err(CharsTrainer::default().train(empty));
        assert!(msg.contains("empty or only white space"), "{msg}");
    }
    // A special token equal to a learned token, or given twice.
    for (special, what) in [("a", "collides"), ("</s>", "twice"), ("", "non-empty")] {
        let msg = err(BpeTrainer {
            vocab_size: 300,
            specials: vec![special.into()],
            ..BpeTrainer::default()
        }
        .train(&[&text]));
        assert!(msg.contains(what), "{msg}");
    }
    let msg = err(CharsTrainer {
        specials: vec!["a".into()],
        ..CharsTrainer::default()
    }
    .train(&[&text]));
    assert!(msg.contains("collides"), "{msg}");
}

#[test]
fn bad_tokenizer_files_are_refused_clearly() {
    let tok = bpe(PreTokenizerPattern::Gpt2, true);
    let json = tok.to_json();
    let full = json.to_string();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tok.json");
    std::fs::write(&path, &full[..full.len() / 2]).unwrap();
    let msg = err(load_tokenizer_file(&path));
    assert!(
        msg.contains("tok.json") && msg.contains("not valid tokenizer JSON"),
        "{msg}"
    );
    // Valid JSON, but merges cut short.
    let mut cut = json.clone();
    cut["merges"].as_array_mut().unwrap().truncate(100);
    let msg = err(tokenizer_from_json(&cut));
    assert!(
        msg.contains("vocab_size") || msg.contains("scaffold token"),
        "{msg}"
    );
    // A future version.
    let mut future = json.clone();
    future["version"] = serde_json::json!(99);
    let msg = err(tokenizer_from_json(&future));
    assert!(msg.contains("version 99"), "{msg}");
    // Another kind.
    let words = WordsTrainer::default().train("a b\n").unwrap().to_json();
    let msg = err(BpeTokenizer::deserialize(&words));
    assert!(msg.contains("not a BPE tokenizer"), "{msg}");
    let msg = err(CharsTokenizer::deserialize(&json));
    assert!(msg.contains("not a chars tokenizer"), "{msg}");
    // A merge of unknown tokens.
    let mut bad = json.clone();
    bad["merges"][0] = serde_json::json!(["nope", "x"]);
    let msg = err(tokenizer_from_json(&bad));
    assert!(msg.contains("merge 0") && msg.contains("nope"), "{msg}");
    // Missing fields.
    let mut missing = json;
    missing.as_object_mut().unwrap().remove("pattern");
    let msg = err(tokenizer_from_json(&missing));
    assert!(msg.contains("\"pattern\""), "{msg}");
}

//! Tokenizers through the `lmlab` binary: train every kind, encode/decode, stats, Hugging Face
//! export, models over learned tokenizers, and bad inputs.

mod common;
use common::{fails, ok, s, texts};

#[test]
fn every_kind_trains_encodes_and_decodes() {
    let dir = tempfile::tempdir().unwrap();
    let (train, test) = texts(dir.path());
    for kind in ["words", "bytes", "chars", "bpe", "scaffold-bpe"] {
        let tok = dir.path().join(format!("{kind}.json"));
        ok(&[
            "tokenizer",
            "train",
            "--kind",
            kind,
            "--vocab-size",
            "300",
            "--input",
            s(&train),
            "-o",
            s(&tok),
        ]);
        let ids = ok(&["tokenizer", "encode", s(&tok), "--text", "the cat sat"]);
        let decoded = ok(&["tokenizer", "decode", s(&tok), "--ids", ids.trim()]);
        assert_eq!(decoded.trim_end(), "the cat sat", "{kind}");
        let stats: serde_json::Value = serde_json::from_str(&ok(&[
            "tokenizer",
            "stats",
            s(&tok),
            "--input",
            s(&test),
            "--json",
        ]))
        .unwrap();
        assert_eq!(stats["kind"], kind);
        assert_eq!(stats["bytes"], 33);
        assert!(
            stats["bytes_per_token"].as_f64().unwrap() >= 1.0,
            "{kind}: {stats}"
        );
        // Any model trains over any tokenizer file.
        let model = dir.path().join(format!("{kind}.lmlab"));
        ok(&[
            "train",
            "ngram",
            "--order",
            "3",
            "--discount-fallback",
            "--tokenizer-file",
            s(&tok),
            "--input",
            s(&train),
            "-o",
            s(&model),
        ]);
        let eval: serde_json::Value =
            serde_json::from_str(&ok(&["eval", s(&model), "--input", s(&test), "--json"])).unwrap();
        assert!(eval["bits_per_byte"].as_f64().unwrap() > 0.0);
    }
}

#[test]
fn special_strings_are_text_unless_allowed_and_exports_say_what_they_can() {
    let dir = tempfile::tempdir().unwrap();
    let (train, _) = texts(dir.path());
    let bpe = dir.path().join("bpe.json");
    ok(&[
        "tokenizer",
        "train",
        "--kind",
        "bpe",
        "--vocab-size",
        "300",
        "--input",
        s(&train),
        "-o",
        s(&bpe),
        "--special",
        "<|endoftext|>",
    ]);
    let plain = ok(&["tokenizer", "encode", s(&bpe), "--text", "a<|endoftext|>"]);
    let allowed = ok(&[
        "tokenizer",
        "encode",
        s(&bpe),
        "--text",
        "a<|endoftext|>",
        "--allow-special",
    ]);
    assert!(plain.split_whitespace().count() > 2, "{plain}");
    assert_eq!(allowed.split_whitespace().count(), 2, "{allowed}");
    let hf = dir.path().join("tokenizer.json");
    ok(&["tokenizer", "export-hf", s(&bpe), "-o", s(&hf)]);
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&hf).unwrap()).unwrap();
    assert_eq!(json["model"]["type"], "BPE");
    let scaffold = dir.path().join("scaffold.json");
    ok(&[
        "tokenizer",
        "train",
        "--kind",
        "scaffold-bpe",
        "--vocab-size",
        "300",
        "--input",
        s(&train),
        "-o",
        s(&scaffold),
    ]);
    let msg = fails(&["tokenizer", "export-hf", s(&scaffold), "-o", s(&hf)]);
    assert!(
        msg.contains("Scaffold-BPE") && msg.contains("expanded"),
        "{msg}"
    );
    ok(&[
        "tokenizer",
        "export-hf",
        s(&scaffold),
        "-o",
        s(&hf),
        "--expanded-scaffold",
    ]);
    let words = dir.path().join("words.json");
    ok(&[
        "tokenizer",
        "train",
        "--kind",
        "words",
        "--input",
        s(&train),
        "-o",
        s(&words),
    ]);
    let msg = fails(&["tokenizer", "export-hf", s(&words), "-o", s(&hf)]);
    assert!(
        msg.contains("'words' tokenizer has no Hugging Face export"),
        "{msg}"
    );
}

#[test]
fn bad_tokenizer_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let (train, _) = texts(dir.path());
    let tok = dir.path().join("t.json");
    let msg = fails(&[
        "tokenizer",
        "train",
        "--kind",
        "bpe",
        "--vocab-size",
        "100",
        "--input",
        s(&train),
        "-o",
        s(&tok),
    ]);
    assert!(msg.contains("256"), "{msg}");
    let blank = dir.path().join("blank.txt");
    std::fs::write(&blank, "  \n\t\n").unwrap();
    let msg = fails(&[
        "tokenizer",
        "train",
        "--kind",
        "bpe",
        "--input",
        s(&blank),
        "-o",
        s(&tok),
    ]);
    assert!(msg.contains("empty or only white space"), "{msg}");
    let bad = dir.path().join("bad.txt");
    std::fs::write(&bad, b"ok\n\xff\n").unwrap();
    let msg = fails(&[
        "tokenizer",
        "train",
        "--kind",
        "chars",
        "--input",
        s(&bad),
        "-o",
        s(&tok),
    ]);
    assert!(
        msg.contains("bad.txt") && msg.contains("line 2") && msg.contains("byte offset 3"),
        "{msg}"
    );
    ok(&[
        "tokenizer",
        "train",
        "--kind",
        "bpe",
        "--vocab-size",
        "300",
        "--input",
        s(&train),
        "-o",
        s(&tok),
    ]);
    let text = std::fs::read_to_string(&tok).unwrap();
    std::fs::write(&tok, &text[..text.len() / 3]).unwrap();
    let msg = fails(&["tokenizer", "encode", s(&tok), "--text", "x"]);
    assert!(
        msg.contains("t.json") && msg.contains("not valid tokenizer JSON"),
        "{msg}"
    );
    std::fs::write(&tok, text.replacen("\"version\": 1", "\"version\": 3", 1)).unwrap();
    let msg = fails(&["tokenizer", "encode", s(&tok), "--text", "x"]);
    assert!(msg.contains("version 3"), "{msg}");
    std::fs::write(&tok, text).unwrap();
    let msg = fails(&["tokenizer", "decode", s(&tok), "--ids", "1 99999"]);
    assert!(msg.contains("'99999' is not a token id"), "{msg}");
}

//! The exported `tokenizer.json` gives lmlab's ids in Hugging Face `tokenizers`. The Python
//! interpreter is `$LMLAB_PYTHON` when that is set (CI points it at a venv with `tokenizers` from
//! PyPI; the test fails if that interpreter cannot import it), else `python3` (the test is skipped
//! with a message when `python3` lacks the package).

mod common;

use common::report_skip;
use lmlab_tokenize::bpe::hf_export::export_hugging_face;
use lmlab_tokenize::bpe::{BpeTrainer, PreTokenizerPattern};
use lmlab_tokenize::{BytesTokenizer, Tokenizer};
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::Command;

const SCRIPT: &str = r#"
import json, sys
from tokenizers import Tokenizer
jobs = json.load(open(sys.argv[1]))
out = []
for tok_path, text_path in jobs:
    tok = Tokenizer.from_file(tok_path)
    text = open(text_path, encoding="utf-8", newline="").read()
    out.append(tok.encode(text, add_special_tokens=False).ids)
json.dump(out, open(sys.argv[2], "w"))
"#;

/// The Python interpreter to run Hugging Face `tokenizers` with: `$LMLAB_PYTHON` if set (it must
/// import `tokenizers`, or this panics), else `python3` if it can import it, else `None` (skip).
fn hf_python() -> Option<OsString> {
    let (python, required) = match std::env::var_os("LMLAB_PYTHON") {
        Some(python) => (python, true),
        None => (OsString::from("python3"), false),
    };
    let check = Command::new(&python)
        .args(["-c", "import tokenizers; print(tokenizers.__version__)"])
        .output();
    match check {
        Ok(out) if out.status.success() => {
            eprintln!(
                "Hugging Face tokenizers {} via {}",
                String::from_utf8_lossy(&out.stdout).trim(),
                python.to_string_lossy()
            );
            Some(python)
        }
        Ok(out) if required => panic!(
            "LMLAB_PYTHON={} cannot import `tokenizers`: {}",
            python.to_string_lossy(),
            String::from_utf8_lossy(&out.stderr).trim()
        ),
        Err(err) if required => panic!(
            "LMLAB_PYTHON={} cannot be run: {err}",
            python.to_string_lossy()
        ),
        _ => None,
    }
}

fn texts() -> Vec<String> {
    let mut texts: Vec<String> = [
        "emoji 🦀👍🏽👩‍👩‍👧 and flags 🇫🇷\n",
        "combining e\u{301} a\u{308} \u{1e9b}\u{323}\n  indented\n\n   x",
        "CJK 漢字かなカナ 한국어 RTL שָׁלוֹם عَرَبِيّ\r\n\t \n",
        "'s'S'll'LL ſ 12345678901234567890 ...!!!???   ",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let data = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data"));
    for file in ["tinystories/valid-slice.txt", "shakespeare/input.txt"] {
        if let Ok(text) = std::fs::read_to_string(data.join(file)) {
            texts.push(text[..200_000.min(text.len())].to_string());
        }
    }
    texts
}

#[test]
fn exported_tokenizers_give_the_same_ids_in_hugging_face() {
    let Some(python) = hf_python() else {
        report_skip(
            "LMLAB_PYTHON is unset and python3 cannot import Hugging Face `tokenizers`: install it \
             with `pip install tokenizers`, or set LMLAB_PYTHON to a python that has it",
        );
        return;
    };
    let train = texts().join("");
    let mut tokenizers: Vec<Box<dyn Tokenizer>> = vec![Box::new(BytesTokenizer::new())];
    for pattern in [PreTokenizerPattern::Gpt2, PreTokenizerPattern::Cl100k] {
        tokenizers.push(Box::new(
            BpeTrainer {
                vocab_size: 1500,
                pattern,
                specials: vec!["<|endoftext|>".into()],
                ..BpeTrainer::default()
            }
            .train(&[&train])
            .unwrap(),
        ));
    }
    let scaffold = BpeTrainer {
        vocab_size: 1500,
        scaffold: true,
        ..BpeTrainer::default()
    }
    .train(&[&train])
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let texts = texts();
    let mut jobs = Vec::new();
    let mut expected = Vec::new();
    for k in 0..=tokenizers.len() {
        // The last one: Scaffold-BPE's expanded vocabulary, whose ids are the ids before demolition.
        let (kind, hf) = match tokenizers.get(k) {
            Some(tok) => (
                tok.kind().to_string(),
                export_hugging_face(&tok.to_json(), false).unwrap(),
            ),
            None => (
                "scaffold-bpe (expanded)".to_string(),
                export_hugging_face(&scaffold.to_json(), true).unwrap(),
            ),
        };
        let tok_path = dir.path().join(format!("tok{k}.json"));
        std::fs::write(&tok_path, hf.to_string()).unwrap();
        for (j, text) in texts.iter().enumerate() {
            let text_path = dir.path().join(format!("text{j}.txt"));
            std::fs::write(&text_path, text).unwrap();
            jobs.push((tok_path.clone(), text_path));
            let ids = match tokenizers.get(k) {
                Some(tok) => tok.encode(text),
                None => scaffold.encode_expanded(text),
            };
            expected.push((kind.clone(), j, ids));
        }
    }
    let jobs_path = dir.path().join("jobs.json");
    let out_path = dir.path().join("out.json");
    std::fs::write(&jobs_path, serde_json::to_string(&jobs).unwrap()).unwrap();
    let status = Command::new(&python)
        .args(["-c", SCRIPT])
        .arg(&jobs_path)
        .arg(&out_path)
        .status()
        .unwrap();
    assert!(status.success());
    let got: Vec<Vec<u32>> =
        serde_json::from_str(&std::fs::read_to_string(&out_path).unwrap()).unwrap();
    for ((kind, j, ids), hf_ids) in expected.iter().zip(&got) {
        let first = ids.iter().zip(hf_ids).position(|(a, b)| a != b);
        assert_eq!(
            (first, ids.len()),
            (None, hf_ids.len()),
            "{kind}, text {j}: first differing id"
        );
    }
}

#[test]
fn scaffold_bpe_export_is_refused_unless_expanded() {
    let tok = BpeTrainer {
        vocab_size: 300,
        scaffold: true,
        ..BpeTrainer::default()
    }
    .train(&["a cat sat on a mat with a hat\n"])
    .unwrap();
    let err = export_hugging_face(&tok.to_json(), false).unwrap_err();
    assert!(err.to_string().contains("cannot be expressed"), "{err}");
    let expanded = export_hugging_face(&tok.to_json(), true).unwrap();
    assert_eq!(
        expanded["model"]["merges"].as_array().unwrap().len(),
        tok.merges().len()
    );
}

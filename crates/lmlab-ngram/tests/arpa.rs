//! ARPA export and import: plain, .gz and .xz round trips, and clear errors for bad files.

mod common;

use common::{compare, synthetic_corpus, train_text};
use lmlab_core::LanguageModel;
use lmlab_ngram::arpa::{read_arpa, write_arpa};
use lmlab_ngram::{NgramOptions, DEFAULT_FALLBACK};

#[test]
fn round_trips_plain_gzip_and_xz() {
    let text = synthetic_corpus(300, 50, 3);
    let options = NgramOptions {
        order: 4,
        discount_fallback: Some(DEFAULT_FALLBACK),
        ..NgramOptions::default()
    };
    let model = train_text(&text, &options).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for name in ["m.arpa", "m.arpa.gz", "m.arpa.xz"] {
        let path = dir.path().join(name);
        write_arpa(&model, &path).unwrap();
        let back = read_arpa(&path).unwrap();
        let diff = compare(&model, &back);
        assert_eq!(diff.prob, 0.0, "{name}");
        assert_eq!(diff.bow, 0.0, "{name}");
        // Same scores for text (the imported tokenizer numbers words differently).
        for line in ["w1 w2 w3", "w0 w7 zzz", ""] {
            let mut a = model.tokenizer().encode(line);
            a.push(model.tokenizer().specials().eos);
            let mut b = back.tokenizer().encode(line);
            b.push(back.tokenizer().specials().eos);
            assert_eq!(model.log_probs(&a), back.log_probs(&b), "{name}: {line}");
        }
    }
    let gz = std::fs::read(dir.path().join("m.arpa.gz")).unwrap();
    assert_eq!(&gz[..2], &[0x1f, 0x8b]);
    let xz = std::fs::read(dir.path().join("m.arpa.xz")).unwrap();
    assert_eq!(&xz[..6], &[0xfd, b'7', b'z', b'X', b'Z', 0]);
}

const GOOD: &str = "\\data\\
ngram 1=4
ngram 2=2

\\1-grams:
-1.0\t<unk>\t0
-99\t<s>\t-0.5
-0.5\t</s>\t0
-0.7\ta\t-0.2

\\2-grams:
-0.3\t<s> a
-0.2\ta </s>

\\end\\
";

fn read_text(text: &str) -> Result<(), String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.arpa");
    std::fs::write(&path, text).unwrap();
    read_arpa(&path).map(|_| ()).map_err(|e| e.to_string())
}

#[test]
fn a_small_hand_written_file_reads_and_queries() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("good.arpa");
    std::fs::write(&path, GOOD).unwrap();
    let model = read_arpa(&path).unwrap();
    assert_eq!(model.ngram_counts(), vec![4, 2]);
    let a = model.tokenizer().vocab().id("a").unwrap();
    let eos = model.tokenizer().specials().eos;
    // p(a | <s>) stored; p(</s> | a) stored; p(a | a) backs off: -0.2 + -0.7.
    assert!((model.log10_prob(&[], a) - -0.3).abs() < 1e-6);
    assert!((model.log10_prob(&[a], eos) - -0.2).abs() < 1e-6);
    assert!((model.log10_prob(&[a], a) - -0.9).abs() < 1e-6);
}

#[test]
fn bad_files_name_file_line_and_problem() {
    let cases: Vec<(String, &str)> = vec![
        (
            GOOD.replace("ngram 2=2", "ngram 2=3"),
            "says there are 3 2-grams",
        ),
        (
            GOOD.replace("ngram 1=4", "ngram 1=3"),
            "says there are 3 1-grams",
        ),
        (
            GOOD.replace("\\2-grams:", "\\3-grams:"),
            "missing section \\2-grams:",
        ),
        (GOOD.replace("\\data\\", "data"), "missing \\data\\"),
        (
            GOOD.replace("-0.7\ta", "minus\ta"),
            "'minus' is not a number",
        ),
        (
            GOOD.replace("-0.2\ta </s>", "-0.2\t<s> a"),
            "duplicate 2-gram",
        ),
        (
            GOOD.replace("-0.7\ta\t-0.2", "-0.7\t</s>\t0"),
            "duplicate 1-gram",
        ),
        (GOOD.replace("a </s>", "b </s>"), "word 'b'"),
        (GOOD.replace("\\end\\\n", ""), "before \\end\\"),
        (GOOD[..GOOD.len() / 2].to_string(), "bad.arpa"),
        (String::new(), "empty"),
    ];
    for (text, expected) in cases {
        let err = read_text(&text).expect_err(expected);
        assert!(err.contains(expected), "expected '{expected}' in: {err}");
        assert!(err.contains("bad.arpa"), "{err}");
    }
}

#[test]
fn words_with_backslashes_are_written_verbatim() {
    // PTB has words such as `cities\/abc`; KenLM reads ARPA words byte for byte.
    let text = "cities\\/abc rose\nthe cities\\/abc index\n".repeat(3);
    let options = NgramOptions {
        order: 2,
        discount_fallback: Some(DEFAULT_FALLBACK),
        ..NgramOptions::default()
    };
    let model = train_text(&text, &options).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.arpa");
    write_arpa(&model, &path).unwrap();
    let written = std::fs::read_to_string(&path).unwrap();
    assert!(written.contains("\tcities\\/abc\t"), "{written}");
    let back = read_arpa(&path).unwrap();
    assert!(back.tokenizer().vocab().id("cities\\/abc").is_some());
    assert_eq!(compare(&model, &back).prob, 0.0);
}

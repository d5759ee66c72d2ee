//! The generalized language model (`lmlab_ngram::glm`): hand-computed values on a 20-word corpus,
//! `--skips none` against lmlab's modified Kneser-Ney and KenLM on Penn Treebank, normalisation
//! over the vocabulary on PTB test histories at orders 2–5, bad inputs.

mod common;

use common::{read_xz, shared, train_text};
use lmlab_core::model::{encode_corpus, TokenSequence};
use lmlab_core::{LanguageModel, SequenceMode, Tokenizer};
use lmlab_ngram::glm::{self, GlmModel, GlmOptions, Skips};
use lmlab_ngram::NgramOptions;
use lmlab_tokenize::WordsTrainer;

fn train_glm(text: &str, options: &GlmOptions) -> lmlab_core::Result<GlmModel> {
    let tokenizer = WordsTrainer::default().train(text)?;
    let sequences: Vec<TokenSequence> = encode_corpus(&tokenizer, text, SequenceMode::Line);
    glm::train(&sequences, Box::new(tokenizer), options)
}

/// Five lines of three words: with `</s>`, 20 tokens.
const TINY: &str = "a b c\na b a\nb c a\na c b\nc b c\n";

fn close(ours: f64, expected: f64) {
    assert!(
        (ours - expected).abs() < 1e-6,
        "got {ours}, expected {expected}"
    );
}

#[test]
fn hand_computed_order_3_on_a_20_word_corpus() {
    let options = GlmOptions {
        discount_fallback: Some([0.5, 1.0, 1.5]),
        ..GlmOptions::with_order(3)
    };
    let model = train_glm(TINY, &options).unwrap();
    let tok = model.tokenizer();
    // <unk>, <s>, </s>, a, b, c: the uniform floor is over the 5 tokens that are not <s>.
    assert_eq!(tok.vocab().len(), 6);
    let id = |w: &str| tok.encode(w)[0];
    let (a, b, c) = (id("a"), id("b"), id("c"));
    let bos = tok.specials().bos;

    // Discounts per pattern, from each pattern's counts-of-counts t1..t4 (continuation counts,
    // raw counts at the top and for occurrences starting with <s>):
    // lmplz counts the lower-order n-grams of its last window (last in its suffix order by ids of
    // first appearance, a b c: here "c b c") with raw counts in the counts-of-counts: unigram c
    // (raw 5), bigram b c (raw 3 = its continuation count).
    // w   (unigrams): a, b, c, </s> each have 3 distinct left words → t = 0 0 4 0, with c's raw 5:
    //     t = 0 0 3 0 → t1 = 0: fallback 0.5 1 1.5.
    // xw  (bigrams): t = 8 2 2 0 → Y = 8/(8+2·2) = 2/3, D1 = 1 − 2·Y·2/8 = 2/3,
    //     D2 = 2 − 3·Y·2/2 = 0, D3+ = 3 − 4·Y·0/2 = 3.
    // x_w (one word skipped): t = 5 3 1 0 → Y = 5/11, D1 = 1 − 2·Y·3/5 = 5/11,
    //     D2 = 2 − 3·Y·1/3 = 17/11, D3+ = 3.
    // xxw (trigrams, raw counts): t = 11 2 0 0 → t3 = 0: fallback 0.5 1 1.5.
    let patterns = model.patterns();
    let names: Vec<&str> = patterns.iter().map(|p| p.0.as_str()).collect();
    assert_eq!(names, ["w", "xw", "x_w", "xxw"]);
    let expected_d = [
        [0.5, 1.0, 1.5],
        [2.0 / 3.0, 0.0, 3.0],
        [5.0 / 11.0, 17.0 / 11.0, 3.0],
        [0.5, 1.0, 1.5],
    ];
    for ((name, d, _), e) in patterns.iter().zip(expected_d) {
        for k in 0..3 {
            assert!((d[k] - e[k]).abs() < 1e-6, "{name}: {d:?} vs {e:?}");
        }
    }
    assert_eq!(model.warnings().len(), 2, "{:?}", model.warnings());

    // Unigram: every word's continuation count is 3, Σ = 12, all in D3+ = 1.5:
    // P(x) = (3 − 1.5)/12 + γ·1/5 with γ = 4·1.5/12 = 0.5 → 0.125 + 0.1 = 0.225.
    let unigram = (3.0 - 1.5) / 12.0 + (4.0 * 1.5 / 12.0) * (1.0 / 5.0);
    close(unigram, 0.225);

    // P(c | a b). Top, trigrams after "a b": a b a (1), a b c (1): Σ = 2,
    // (1 − 0.5)/2 = 0.25, γ = (0.5·2)/2 = 0.5.
    // ∂1 → "b": continuation counts b </s> 1, b a 1, b c 3 (left words <s>, a, c): Σ = 5;
    //   c: max(3 − D3+, 0)/5 = 0, γ = (2/3·2 + 3·1)/5 = 13/15 → P̂(c | b) = 13/15 · 0.225.
    // ∂2 → "a _": a _ a 1, a _ b 1, a _ c 1: Σ = 3; c: (1 − 5/11)/3 = 2/11,
    //   γ = 3·(5/11)/3 = 5/11 → P̂(c | a _) = 2/11 + 5/11 · 0.225.
    let p_b = 13.0 / 15.0 * unigram;
    let p_a_ = 2.0 / 11.0 + 5.0 / 11.0 * unigram;
    let expected = 0.25 + 0.5 * (p_b + p_a_) / 2.0;
    close(expected, 0.369_772_727_27);
    close(model.prob(&[bos, a, b], c), expected);
    close(model.log_probs(&[a, b, c])[2], expected.ln());

    // P(a | c c): "c c" never occurred as a history → the mean of its two skips.
    // "c": c </s> 1, c a 1, c b 2: Σ = 4; a: (1 − 2/3)/4 = 1/12, γ = (2/3·2 + 0·1)/4 = 1/3.
    // "c _": c _ </s> 2, c _ c 1: Σ = 3; a unseen, γ = (17/11 + 5/11)/3 = 2/3.
    let expected = ((1.0 / 12.0 + unigram / 3.0) + 2.0 / 3.0 * unigram) / 2.0;
    close(model.prob(&[bos, c, c], a), expected);

    // P(a | <s>): "<s> a" starts with <s> and keeps its raw count 3 (a continuation count would
    // be 0): <s> a 3, <s> b 1, <s> c 1: Σ = 5; a: max(3 − 3, 0)/5 = 0, γ = (2/3·2 + 3)/5 = 13/15.
    close(model.prob(&[bos], a), 13.0 / 15.0 * unigram);

    // Every history of the corpus sums to 1.
    for context in [vec![bos], vec![bos, a], vec![bos, a, b], vec![bos, c, c]] {
        let dist = model.distribution(&context);
        close(dist.iter().sum(), 1.0);
        assert_eq!(dist[bos as usize], 0.0);
    }
}

/// PTB train and test with `<unk>` rewritten to `<oov>` (as the KenLM fixtures were made).
fn ptb(shared: &std::path::Path) -> (String, String) {
    let read = |name: &str| {
        std::fs::read_to_string(shared.join("data/ptb").join(name))
            .unwrap()
            .replace("<unk>", "<oov>")
    };
    (read("ptb.train.txt"), read("ptb.test.txt"))
}

#[test]
fn skips_none_equals_mkn_and_kenlm_on_ptb_test() {
    let Some(shared) = shared() else { return };
    let (train, test) = ptb(&shared);
    let mkn = train_text(&train, &NgramOptions::with_order(5)).unwrap();
    let options = GlmOptions {
        skips: Skips::None,
        ..GlmOptions::with_order(5)
    };
    let glm = train_glm(&train, &options).unwrap();
    let reference = read_xz(&shared.join("fixtures/kenlm/ptb.o5.test.tokens.tsv.xz"));
    let mut rows = reference.lines().skip(1);
    let tokenizer = glm.tokenizer();
    let eos = tokenizer.specials().eos;
    let (mut worst_mkn, mut worst_kenlm, mut tokens) = (0f64, 0f64, 0usize);
    for line in test.lines() {
        let mut ids = tokenizer.encode(line);
        ids.push(eos);
        let ours = glm.log_probs(&ids);
        let theirs = mkn.log_probs(&ids);
        for (o, t) in ours.iter().zip(&theirs) {
            let ours_log10 = o / std::f64::consts::LN_10;
            worst_mkn = worst_mkn.max((ours_log10 - t / std::f64::consts::LN_10).abs());
            let row = rows.next().expect("fewer reference rows than tokens");
            let kenlm: f64 = row.split('\t').nth(4).unwrap().parse().unwrap();
            worst_kenlm = worst_kenlm.max((ours_log10 - kenlm).abs());
            tokens += 1;
        }
    }
    eprintln!(
        "PTB test, {tokens} tokens: max |Δ log10 p| GLM --skips none vs lmlab MKN {worst_mkn:.2e}, \
         vs KenLM query {worst_kenlm:.2e}"
    );
    assert_eq!(tokens, 82_430);
    assert!(worst_mkn <= 1e-6, "vs lmlab MKN: {worst_mkn}");
    // KenLM's query reads values stored in single precision, as the MKN test's bound says.
    assert!(worst_kenlm <= 1e-5, "vs KenLM: {worst_kenlm}");
}

#[test]
fn distributions_sum_to_one_on_1000_ptb_test_histories_orders_2_to_5() {
    let Some(shared) = shared() else { return };
    let (train, test) = ptb(&shared);
    let tokenizer = WordsTrainer::default().train(&train).unwrap();
    let eos = tokenizer.specials().eos;
    let bos = tokenizer.specials().bos;
    // 1,000 histories: every 82nd token position of PTB test (its <s> and the words before it).
    let mut stream = Vec::new();
    let mut starts = Vec::new();
    for line in test.lines() {
        starts.push(stream.len());
        stream.push(bos);
        stream.extend(tokenizer.encode(line));
        stream.push(eos);
    }
    let histories: Vec<(Vec<u32>, u32)> = (0..stream.len())
        .filter(|&i| stream[i] != bos)
        .step_by(82)
        .take(1000)
        .map(|i| {
            let start = starts[starts.partition_point(|&s| s <= i) - 1];
            (stream[start..i].to_vec(), stream[i])
        })
        .collect();
    assert_eq!(histories.len(), 1000);
    let sequences = encode_corpus(&tokenizer, &train, SequenceMode::Line);
    for order in 2..=5 {
        let model = glm::train(
            &sequences,
            Box::new(tokenizer.clone()),
            &GlmOptions::with_order(order),
        )
        .unwrap();
        let mut worst = 0f64;
        for (context, next) in &histories {
            let dist = model.distribution(context);
            worst = worst.max((dist.iter().sum::<f64>() - 1.0).abs());
            let p = model.prob(context, *next);
            assert!(
                (dist[*next as usize] - p).abs() <= 1e-12 * p.max(1e-300).max(1.0),
                "order {order}: distribution and prob disagree"
            );
            assert!(dist.iter().all(|&x| x >= 0.0));
        }
        eprintln!("order {order}: max |Σ p − 1| over 1000 PTB test histories = {worst:.2e}");
        assert!(worst <= 1e-6, "order {order}: {worst}");
    }
}

#[test]
fn bad_inputs_are_clear_errors() {
    let train = |options: &GlmOptions, text: &str| {
        train_glm(text, options)
            .map(|_| ())
            .unwrap_err()
            .to_string()
    };
    for order in [0, 1] {
        let m = train(&GlmOptions::with_order(order), TINY);
        assert!(m.contains(&format!("GLM order {order} is invalid")), "{m}");
        assert!(m.contains("at least 2"), "{m}");
    }
    let m = train(&GlmOptions::with_order(glm::MAX_ORDER + 1), TINY);
    assert!(m.contains("larger than the maximum of 7"), "{m}");
    // Too small for the closed-form discounts: the message names the pattern and the fallback.
    let m = train(&GlmOptions::with_order(3), TINY);
    assert!(
        m.starts_with("invalid argument: GLM skip pattern w: 1-gram discount"),
        "{m}"
    );
    assert!(m.contains("--discount-fallback"), "{m}");
    let m = train(&GlmOptions::with_order(3), "");
    assert!(m.contains("empty"), "{m}");
    let m = "1011".parse::<Skips>().unwrap_err().to_string();
    assert!(m.contains("unknown --skips pattern '1011'"), "{m}");
    assert!(m.contains("'all'") && m.contains("'none'"), "{m}");
    let bad_fallback = GlmOptions {
        discount_fallback: Some([0.5, 1.0, 9.0]),
        ..GlmOptions::with_order(3)
    };
    let m = train(&bad_fallback, TINY);
    assert!(m.contains("D3+ = 9 is outside [0, 3]"), "{m}");
}

#[test]
fn model_file_round_trips_with_equal_values() {
    let options = GlmOptions {
        discount_fallback: Some([0.5, 1.0, 1.5]),
        ..GlmOptions::with_order(4)
    };
    let model = train_glm(TINY, &options).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tiny.glm.lmlab");
    let provenance = lmlab_core::model_file::Provenance {
        corpus_sha256: String::new(),
        corpus_name: "tiny".into(),
        sequences: SequenceMode::Line,
        options: serde_json::to_value(&options).unwrap(),
        seed: None,
        lmlab_version: "test".into(),
    };
    model.save(&path, provenance.clone()).unwrap();
    let loaded = GlmModel::load(&path).unwrap();
    let ids = model.tokenizer().encode("a b c a c b");
    assert_eq!(model.log_probs(&ids), loaded.log_probs(&ids));
    assert_eq!(model.describe(), loaded.describe());
    // Same inputs → same bytes.
    let again = dir.path().join("again.lmlab");
    model.save(&again, provenance.clone()).unwrap();
    assert_eq!(
        std::fs::read(&path).unwrap(),
        std::fs::read(&again).unwrap()
    );
    // Training straight into the file writes the same bytes.
    let tokenizer = WordsTrainer::default().train(TINY).unwrap();
    let sequences = encode_corpus(&tokenizer, TINY, SequenceMode::Line);
    let specials = tokenizer.specials();
    let stream =
        lmlab_ngram::TokenStream::from_sequences(&sequences, specials, tokenizer.vocab().len())
            .unwrap();
    let direct = dir.path().join("direct.lmlab");
    let (parameters, _) =
        glm::train_stream_to_file(stream, Box::new(tokenizer), &options, &direct, provenance)
            .unwrap();
    assert_eq!(parameters, model.parameter_count());
    assert_eq!(
        std::fs::read(&path).unwrap(),
        std::fs::read(&direct).unwrap()
    );
    // The stepper gives the same distributions as whole contexts.
    let mut stepper = loaded.stepper();
    for (i, &t) in ids.iter().enumerate() {
        assert_eq!(stepper.distribution(), loaded.next_distribution(&ids[..i]));
        stepper.push(t);
    }
    lmlab_core::test_support::check_stepper(&loaded, &ids, 1e-12);
}

/// A corpus of 300 lines of 2–11 words over 30 words, from a fixed linear congruential sequence
/// skewed towards small word numbers (so patterns repeat).
fn synthetic_corpus() -> String {
    let mut state: u64 = 12345;
    let mut next = move |n: u64| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) % n
    };
    let mut text = String::new();
    for _ in 0..300 {
        let len = 2 + next(10);
        let words: Vec<String> = (0..len)
            .map(|_| format!("w{}", next(30).min(next(30))))
            .collect();
        text.push_str(&words.join(" "));
        text.push('\n');
    }
    text
}

#[test]
fn orders_4_and_5_equal_an_independent_brute_force_reference() {
    let python = match std::process::Command::new("python3")
        .arg("--version")
        .output()
    {
        Ok(out) if out.status.success() => "python3",
        _ => {
            lmlab_core::test_support::report_skip("python3 is not installed");
            return;
        }
    };
    let dir = tempfile::tempdir().unwrap();
    let text = synthetic_corpus();
    let corpus = dir.path().join("corpus.txt");
    std::fs::write(&corpus, &text).unwrap();
    for order in [4, 5] {
        let options = GlmOptions {
            discount_fallback: Some([0.5, 1.0, 1.5]),
            ..GlmOptions::with_order(order)
        };
        let model = train_glm(&text, &options).unwrap();
        let discounts: String = model
            .patterns()
            .iter()
            .map(|(name, d, _)| format!("{name} {:e} {:e} {:e}\n", d[0], d[1], d[2]))
            .collect();
        let tok = model.tokenizer();
        let bos = tok.specials().bos;
        // Every token of the last 20 lines, and of one unseen line, with its history.
        let mut queries = String::new();
        let mut ours = Vec::new();
        let lines: Vec<&str> = text
            .lines()
            .skip(280)
            .chain(["w29 w28 w27 w0 w1"])
            .collect();
        for line in lines {
            let words: Vec<&str> = line.split_whitespace().chain(["</s>"]).collect();
            let mut context = vec![bos];
            let mut names = vec!["<s>"];
            for w in words {
                let id = if w == "</s>" {
                    tok.specials().eos
                } else {
                    tok.encode(w)[0]
                };
                let start = names.len().saturating_sub(order - 1);
                queries.push_str(&format!("{} {w}\n", names[start..].join(" ")));
                ours.push(model.prob(&context, id));
                context.push(id);
                names.push(w);
            }
        }
        let (d_path, q_path) = (dir.path().join("d.txt"), dir.path().join("q.txt"));
        std::fs::write(&d_path, discounts).unwrap();
        std::fs::write(&q_path, queries).unwrap();
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/glm_reference.py");
        let out = std::process::Command::new(python)
            .arg(script)
            .arg(&corpus)
            .arg(order.to_string())
            .arg(&d_path)
            .arg(&q_path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let theirs: Vec<f64> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| l.parse().unwrap())
            .collect();
        assert_eq!(theirs.len(), ours.len());
        for (i, (o, t)) in ours.iter().zip(&theirs).enumerate() {
            assert!(
                (o - t).abs() <= 1e-12 * t,
                "order {order}, query {i}: {o} vs {t}"
            );
        }
    }
}

#[test]
fn grouped_scoring_gives_the_bits_of_token_by_token_queries() {
    // `log_probs` and `log_probs_batch` query a group of positions (across sequences) at a time;
    // `prob` is the one-query path. Orders 2–5 and 7, with skips and without, sequences of every
    // length from 0 up (positions whose history is shorter than N − 1), one holding `<s>`, and
    // words never seen in training.
    let text = synthetic_corpus();
    for order in [2, 3, 4, 5, 7] {
        for skips in [Skips::All, Skips::None] {
            let options = GlmOptions {
                order,
                skips,
                discount_fallback: Some([0.5, 1.0, 1.5]),
                ..GlmOptions::default()
            };
            let model = train_glm(&text, &options).unwrap();
            let tokenizer = model.tokenizer();
            let bos = tokenizer.specials().bos;
            let mut sequences: Vec<Vec<u32>> = text
                .lines()
                .take(200)
                .map(|line| tokenizer.encode(line))
                .collect();
            sequences.push(Vec::new());
            sequences.push(tokenizer.encode("w1 unseenword w2 w3 w1 w2"));
            sequences.push(vec![sequences[0][0], bos, sequences[1][0]]);
            let slices: Vec<&[u32]> = sequences.iter().map(Vec::as_slice).collect();
            let batch = model.log_probs_batch(&slices).unwrap();
            for (ids, scores) in slices.iter().zip(&batch) {
                let mut context = vec![bos];
                let expected: Vec<u64> = ids
                    .iter()
                    .map(|&t| {
                        let p = model.prob(&context, t).ln();
                        context.push(t);
                        p.to_bits()
                    })
                    .collect();
                let got: Vec<u64> = scores.iter().map(|p| p.to_bits()).collect();
                assert_eq!(got, expected, "order {order}, skips {skips}, {ids:?}");
                let alone: Vec<u64> = model.log_probs(ids).iter().map(|p| p.to_bits()).collect();
                assert_eq!(alone, expected, "order {order}, skips {skips}, alone");
            }
        }
    }
}

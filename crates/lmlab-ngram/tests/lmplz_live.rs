//! Live cross-check against a local KenLM `lmplz` (path in `LMPLZ`; skipped when unset): many
//! orders and corpora, same n-gram sets and every value within 1e-5. lmplz is never built or
//! shipped by lmlab; build it yourself from KenLM's source to run this.

mod common;

use common::{compare, report_skip, shared, synthetic_corpus, train_text};
use lmlab_ngram::arpa::read_arpa;
use lmlab_ngram::{NgramOptions, DEFAULT_FALLBACK};
use std::path::Path;
use std::process::{Command, Stdio};

fn lmplz() -> Option<String> {
    match std::env::var("LMPLZ") {
        Ok(path) if !path.is_empty() => Some(path),
        _ => {
            report_skip(
                "set LMPLZ to a KenLM lmplz binary (build https://github.com/kpu/kenlm) to run the \
                 live cross-check",
            );
            None
        }
    }
}

fn check(lmplz: &str, name: &str, text: &str, order: usize, fallback: bool, dir: &Path) {
    check_pruned(lmplz, name, text, order, fallback, &[], dir)
}

fn check_pruned(
    lmplz: &str,
    name: &str,
    text: &str,
    order: usize,
    fallback: bool,
    prune: &[u64],
    dir: &Path,
) {
    let input = dir.join(format!("{name}.txt"));
    let arpa = dir.join(format!("{name}.o{order}.arpa"));
    std::fs::write(&input, text).unwrap();
    let mut cmd = Command::new(lmplz);
    cmd.args(["-o", &order.to_string(), "-S", "200M", "-T"])
        .arg(dir)
        .arg("--text")
        .arg(&input)
        .arg("--arpa")
        .arg(&arpa)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if fallback {
        cmd.arg("--discount_fallback");
    }
    if !prune.is_empty() {
        cmd.arg("--prune").args(prune.iter().map(u64::to_string));
    }
    let status = cmd.status().unwrap();
    let options = NgramOptions {
        order,
        discount_fallback: fallback.then_some(DEFAULT_FALLBACK),
        prune: prune.to_vec(),
        ..NgramOptions::default()
    };
    let ours = train_text(text, &options);
    if !status.success() {
        assert!(
            ours.is_err(),
            "{name} o{order}: lmplz failed but lmlab trained"
        );
        eprintln!(
            "{name} o{order} {prune:?}: both refuse: {}",
            ours.err().unwrap()
        );
        return;
    }
    let ours = ours.unwrap_or_else(|e| panic!("{name} o{order}: lmplz trained, lmlab: {e}"));
    let theirs = read_arpa(&arpa).unwrap();
    let diff = compare(&ours, &theirs);
    eprintln!(
        "{name} o{order} {prune:?}: {} n-grams, max |Δ log10 p| {:.2e}, max |Δ log10 b| {:.2e}",
        diff.ngrams, diff.prob, diff.bow
    );
    assert!(
        diff.prob <= 1e-5 && diff.bow <= 1e-5,
        "{name} o{order}: {diff:?}"
    );
}

#[test]
fn lmplz_agrees_on_many_orders_and_corpora() {
    let Some(lmplz) = lmplz() else { return };
    let dir = tempfile::tempdir().unwrap();
    let mut corpora: Vec<(String, String, bool)> = vec![
        ("synthetic".into(), synthetic_corpus(3000, 3000, 1), false),
        ("synthetic_small".into(), synthetic_corpus(200, 30, 2), true),
        ("repeated".into(), "a b c d\n".repeat(10) + "a b\nc\n", true),
    ];
    if let Some(shared) = shared() {
        let small = shared.join("fixtures/kenlm/small");
        for (name, fallback) in [
            ("ptb1k", false),
            ("shakes_chars", true),
            ("fortunes_de_ru", true),
        ] {
            let text = std::fs::read_to_string(small.join(format!("{name}.txt"))).unwrap();
            corpora.push((name.into(), text, fallback));
        }
    }
    for (name, text, fallback) in &corpora {
        for order in [1, 2, 3, 4, 5, 7, 10] {
            check(&lmplz, name, text, order, *fallback, dir.path());
        }
        for (order, prune) in [
            (3, vec![0, 0, 1]),
            (4, vec![0, 1]),
            (5, vec![0, 1, 1, 2]),
            (5, vec![0, 0, 3]),
        ] {
            check_pruned(&lmplz, name, text, order, *fallback, &prune, dir.path());
        }
    }
}

/// KenLM's `query` (path in `KENLM_QUERY`) on an ARPA written by lmlab gives lmlab's scores.
#[test]
fn kenlm_query_reads_lmlab_arpa() {
    let Ok(query) = std::env::var("KENLM_QUERY") else {
        report_skip("set KENLM_QUERY to a KenLM query binary (build https://github.com/kpu/kenlm)");
        return;
    };
    let text = synthetic_corpus(2000, 2000, 4) + "a\\/b c\\d e\n";
    let ours = train_text(&text, &NgramOptions::with_order(4)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let arpa = dir.path().join("ours.arpa");
    lmlab_ngram::arpa::write_arpa(&ours, &arpa).unwrap();
    let test = synthetic_corpus(200, 2500, 5) + "a\\/b c\\d e zzz\n";
    let output = Command::new(query)
        .args(["-v", "word"])
        .arg(&arpa)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(test.as_bytes())?;
            child.wait_with_output()
        })
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let theirs: Vec<f64> = stdout
        .lines()
        .take(test.lines().count())
        .flat_map(|line| line.split('\t'))
        .filter(|field| !field.is_empty() && !field.starts_with("Total"))
        .map(|field| field.rsplit(' ').next().unwrap().parse().unwrap())
        .collect();
    let tok = lmlab_core::LanguageModel::tokenizer(&ours);
    let mut scorer = ours.ngram_scorer();
    let mut ours_values = Vec::new();
    for line in test.lines() {
        let mut ids = tok.encode(line);
        ids.push(tok.specials().eos);
        scorer.reset();
        ours_values.extend(ids.iter().map(|&id| scorer.score_next_log10(id) as f64));
    }
    assert_eq!(theirs.len(), ours_values.len());
    let worst = theirs
        .iter()
        .zip(&ours_values)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    eprintln!(
        "KenLM query on lmlab's ARPA: {} tokens, max |Δ log10 p| {worst:.2e}",
        theirs.len()
    );
    assert!(worst <= 1e-5);
}

//! lmlab's merges against mergekit's on the same three checkpoints (`fixtures/merge/`, made by
//! `make_fixture.sh`, which runs mergekit 0.1.5): every tensor equal to 1e-6, for linear, task
//! arithmetic, TIES, DARE (linear and TIES, with the fixture's deterministic keep-mask) and SLERP.
//! Then the whole command path (a merged run directory that loads and scores), DARE's rescaling in
//! expectation, and the refusals of bad members.

use lmlab_neural::checkpoint::Checkpoint;
use lmlab_neural::merge::config::{MergeConfig, MergePlan};
use lmlab_neural::merge::{self, load_run, merge_params, seeded_masks, write_derived_run};
use lmlab_neural::model::params::param_specs;
use safetensors::SafeTensors;
use std::path::{Path, PathBuf};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/merge")
}

/// The plan of `configs/<name>.yaml` with its member paths made absolute.
fn plan(name: &str) -> MergePlan {
    let dir = fixture();
    let mut config = MergeConfig::load(&dir.join(format!("configs/{name}.yaml"))).unwrap();
    config.base_model = config.base_model.map(|p| dir.join(p));
    for m in &mut config.models {
        m.model = dir.join(&m.model);
    }
    config.plan().unwrap()
}

/// The fixture's DARE keep-mask (make_fixture.py's `fixed_bernoulli`).
fn fixed_mask(_: usize, _: &str, delta: &[f32], density: f64) -> Vec<bool> {
    delta
        .iter()
        .map(|d| {
            let hashed = (u64::from(d.to_bits()) * 2_654_435_761) & 0xFFFF_FFFF;
            (hashed as f64) / 4_294_967_296.0 < density
        })
        .collect()
}

fn params(path: &Path) -> Vec<f32> {
    load_run(path).unwrap().0.checkpoint.params
}

#[test]
fn every_method_equals_mergekit_to_1e_6() {
    for name in [
        "linear",
        "task_arithmetic",
        "ties",
        "dare_linear",
        "dare_ties",
        "slerp",
    ] {
        let plan = plan(name);
        let base = plan.base.as_deref().map(params);
        let members: Vec<Vec<f32>> = plan.members.iter().map(|m| params(&m.run_dir)).collect();
        let member_refs: Vec<&[f32]> = members.iter().map(Vec::as_slice).collect();
        let config = Checkpoint::load(&fixture().join("members/a/checkpoint.safetensors"))
            .unwrap()
            .config;
        let specs = param_specs(&config.model);
        let merged = merge_params(
            &plan,
            &specs,
            base.as_deref(),
            &member_refs,
            &mut fixed_mask,
        );
        let bytes = std::fs::read(fixture().join(format!("expected/{name}.safetensors"))).unwrap();
        let expected = SafeTensors::deserialize(&bytes).unwrap();
        assert_eq!(expected.len(), specs.len(), "{name}: tensor count");
        let mut worst = 0f32;
        for spec in &specs {
            let t = expected.tensor(&format!("model.{}", spec.name)).unwrap();
            assert_eq!(t.shape(), spec.shape.as_slice(), "{name} {}", spec.name);
            let want: Vec<f32> = t
                .data()
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect();
            for (i, (g, w)) in spec.span.of(&merged).iter().zip(&want).enumerate() {
                let err = (g - w).abs();
                assert!(
                    err <= 1e-6,
                    "{name} {}[{i}]: lmlab {g}, mergekit {w}",
                    spec.name
                );
                worst = worst.max(err);
            }
        }
        eprintln!("{name}: largest difference from mergekit {worst:e}");
    }
}

#[test]
fn a_merged_run_directory_loads_and_scores() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("soup");
    let report = merge::merge(&plan("linear"), &dir, 0).unwrap();
    assert_eq!(report.members, 3);
    let model = lmlab_neural::load_model(&dir).unwrap();
    let ids = model.tokenizer().encode("to be");
    let lp = model.log_probs(&ids);
    assert!(lp.iter().all(|x| x.is_finite() && *x < 0.0), "{lp:?}");
    let again = merge::merge(&plan("linear"), &dir, 0)
        .unwrap_err()
        .to_string();
    assert!(again.contains("not an empty directory"), "{again}");
}

#[test]
fn dare_masks_are_seeded_and_rescaling_keeps_the_task_vector_in_expectation() {
    let delta: Vec<f32> = (0..4000)
        .map(|i| ((i * 37 % 101) as f32 - 50.0) / 100.0)
        .collect();
    let mut mask = seeded_masks(5);
    assert_eq!(mask(0, "x", &delta, 0.3), mask(0, "x", &delta, 0.3));
    assert_ne!(mask(0, "x", &delta, 0.3), mask(1, "x", &delta, 0.3));
    let density = 0.3;
    let rounds = 200;
    let mut mean = vec![0f64; delta.len()];
    for seed in 0..rounds {
        let keep = seeded_masks(seed)(0, "x", &delta, density);
        let kept = keep.iter().filter(|&&k| k).count() as f64 / delta.len() as f64;
        assert!((kept - density).abs() < 0.05, "kept {kept}");
        let thinned = lmlab_neural::merge::tensor::masked(&delta, &keep, true);
        for (m, t) in mean.iter_mut().zip(&thinned) {
            *m += *t as f64 / rounds as f64;
        }
    }
    // Each entry's mean over the masks approaches the entry (standard error ≈ 0.5·√(0.7/0.3/200)).
    let worst = mean
        .iter()
        .zip(&delta)
        .map(|(m, d)| (m - *d as f64).abs())
        .fold(0.0, f64::max);
    assert!(worst < 0.5, "largest deviation {worst}");
    let mean_abs_err: f64 = mean
        .iter()
        .zip(&delta)
        .map(|(m, d)| (m - *d as f64).abs())
        .sum::<f64>()
        / delta.len() as f64;
    assert!(mean_abs_err < 0.06, "mean deviation {mean_abs_err}");
}

/// A copy of member `a` in `dir` with its checkpoint changed by `change`, and its tokenizer's JSON
/// text by `retokenize`.
fn altered_member(
    dir: &Path,
    change: impl FnOnce(&mut Checkpoint),
    retokenize: impl FnOnce(String) -> String,
) -> PathBuf {
    let (run, tokenizer) = load_run(&fixture().join("members/a")).unwrap();
    let json = retokenize(tokenizer.to_json().to_string());
    let tokenizer =
        lmlab_tokenize::tokenizer_from_json(&serde_json::from_str(&json).unwrap()).unwrap();
    let mut ck = run.checkpoint;
    change(&mut ck);
    let out = dir.join("altered");
    write_derived_run(&out, ck.config, ck.params, tokenizer.as_ref()).unwrap();
    out
}

fn linear_of(members: &[&Path]) -> MergePlan {
    let yaml: String = members
        .iter()
        .map(|m| {
            format!(
                "  - model: {}\n    parameters: {{weight: 1}}\n",
                m.display()
            )
        })
        .collect();
    serde_yaml_ng::from_str::<MergeConfig>(&format!("merge_method: linear\nmodels:\n{yaml}"))
        .unwrap()
        .plan()
        .unwrap()
}

#[test]
fn members_of_another_shape_or_tokenizer_are_refused_with_the_field() {
    let tmp = tempfile::tempdir().unwrap();
    let a = fixture().join("members/a");
    let other = altered_member(tmp.path(), |ck| ck.config.model.n_head = 4, |t| t);
    let e = merge::merge(&linear_of(&[&a, &other]), &tmp.path().join("o1"), 0)
        .unwrap_err()
        .to_string();
    assert!(e.contains("merge members differ in `model.n_head`"), "{e}");

    let tmp = tempfile::tempdir().unwrap();
    // The same number of characters, one of them another: same shapes, another tokenizer.
    let other = altered_member(tmp.path(), |_| {}, |t| t.replacen('z', "Z", 1));
    let e = merge::merge(&linear_of(&[&a, &other]), &tmp.path().join("o2"), 0)
        .unwrap_err()
        .to_string();
    assert!(e.contains("merge members differ in `tokenizer`"), "{e}");
}

#[test]
fn a_member_that_is_not_a_checkpoint_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let text = tmp.path().join("notes.txt");
    std::fs::write(&text, "hello").unwrap();
    let a = fixture().join("members/a");
    let e = merge::merge(&linear_of(&[&a, &text]), &tmp.path().join("o"), 0)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("notes.txt") && e.contains("not a neural run directory"),
        "{e}"
    );
    let fake = tmp.path().join("fake");
    std::fs::create_dir(&fake).unwrap();
    std::fs::write(fake.join("checkpoint.safetensors"), "not safetensors").unwrap();
    let e = merge::merge(&linear_of(&[&a, &fake]), &tmp.path().join("o"), 0)
        .unwrap_err()
        .to_string();
    assert!(e.contains("not a readable safetensors checkpoint"), "{e}");
}

#[test]
fn greedy_soup_starts_from_the_best_member_and_never_gets_worse() {
    let tmp = tempfile::tempdir().unwrap();
    let valid = tmp.path().join("valid.txt");
    let text = include_str!("../../../data/tiny-shakespeare.txt");
    std::fs::write(&valid, &text[30_000..32_000]).unwrap();
    let dir = fixture();
    let yaml = format!(
        "merge_method: greedy_soup\nmodels:\n  - model: {}\n  - model: {}\n  - model: {}\n\
         parameters: {{validation: {}}}\n",
        dir.join("members/base").display(),
        dir.join("members/a").display(),
        dir.join("members/b").display(),
        valid.display()
    );
    let plan = serde_yaml_ng::from_str::<MergeConfig>(&yaml)
        .unwrap()
        .plan()
        .unwrap();
    let report = merge::merge(&plan, &tmp.path().join("soup"), 0).unwrap();
    let c = &report.greedy;
    assert_eq!(c.len(), 3);
    assert!(c[0].joined);
    assert!(c
        .windows(2)
        .all(|w| w[0].bits_per_byte <= w[1].bits_per_byte));
    let mut best = c[0].bits_per_byte;
    for x in &c[1..] {
        assert_eq!(x.joined, x.soup_bits_per_byte <= best);
        if x.joined {
            best = x.soup_bits_per_byte;
        }
    }
    // The written soup scores what the log says.
    let model = lmlab_neural::load_model(&tmp.path().join("soup")).unwrap();
    let corpus = lmlab_core::corpus::Corpus::open(&valid).unwrap();
    let eval = lmlab_core::evaluate::evaluate(
        model.as_ref(),
        &corpus,
        model.run_config().sequence_mode(),
        false,
        &|_, _| {},
    );
    assert!((eval.totals.bits_per_byte() - best).abs() < 1e-9);
}

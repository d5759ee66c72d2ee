//! Distillation from teachers of other families through recipes (`[train] distill`): a KN n-gram,
//! a mixture of an n-gram and a transformer with EM weights, and the refusals (a path that is not a
//! model, a teacher with another tokenizer).

use lmlab_core::{LanguageModel, SequenceMode};
use lmlab_lab::recipe::Recipe;
use lmlab_lab::run::{self, Data, RunOptions};
use lmlab_lab::teacher::{load_teacher, MixtureModel};
use lmlab_neural::distill::DistillConfig;
use std::path::{Path, PathBuf};

const STUDENT: &str = r#"
tokenizer = { kind = "chars" }
[model]
family = "transformer"
n_layer = 1
n_head = 2
n_embd = 16
block_size = 16
[train]
batch_size = 4
max_steps = 4
learning_rate = 1e-2
min_lr = 1e-3
eval_iters = 1
"#;

fn data(dir: &Path) -> Data {
    let full = include_str!("../../../data/tiny-shakespeare.txt");
    let (train, valid) = (dir.join("train.txt"), dir.join("valid.txt"));
    std::fs::write(&train, &full[..20_000]).unwrap();
    std::fs::write(&valid, &full[20_000..23_000]).unwrap();
    Data {
        train,
        valid: Some(valid),
        test: None,
    }
}

fn fit(recipe: &str, data: &Data, out: &Path) -> lmlab_core::Result<run::RunRecord> {
    run::train(
        &Recipe::parse(recipe).unwrap(),
        data,
        out,
        &RunOptions::default(),
        &mut |_| {},
    )
}

fn ngram(tokenizer: &str) -> String {
    format!(
        "model = {{ family = \"ngram\", order = 3, discount_fallback = [0.5, 1.0, 1.5] }}\n\
         tokenizer = {{ kind = \"{tokenizer}\" }}\n"
    )
}

fn student_of(teachers: &[&Path]) -> String {
    let list: Vec<String> = teachers
        .iter()
        .map(|p| format!("{:?}", p.display().to_string()))
        .collect();
    format!(
        "{STUDENT}distill = {{ teacher = [{}], weight = 0.7 }}\n",
        list.join(", ")
    )
}

#[test]
fn an_ngram_and_a_mixture_with_a_transformer_teach_a_transformer() {
    let tmp = tempfile::tempdir().unwrap();
    let data = data(tmp.path());
    let kn = tmp.path().join("kn3.lm");
    fit(&ngram("chars"), &data, &kn).unwrap();
    let student = fit(&student_of(&[&kn]), &data, &tmp.path().join("s1")).unwrap();
    assert!(student.compute.cpu_seconds > 0.0);

    let tf = tmp.path().join("tf");
    fit(STUDENT, &data, &tf).unwrap();
    let config = DistillConfig::new(vec![kn.clone(), tf.clone()]);
    let valid = std::fs::read_to_string(data.valid.as_ref().unwrap()).unwrap();
    let teacher = load_teacher(&config, &valid, SequenceMode::Line).unwrap();
    assert!(
        teacher.0.describe().starts_with("mixture of "),
        "{}",
        teacher.0.describe()
    );
    // The mixture's stepper rows (one score_proposed call) equal its next_distribution.
    let ids = teacher.0.tokenizer().encode("To be or");
    let v = teacher.0.tokenizer().vocab().len();
    let mut rows = vec![0.0; (ids.len() + 1) * v];
    teacher.0.stepper().score_proposed(&ids, &mut rows);
    for i in 0..=ids.len() {
        let want = teacher.0.next_distribution(&ids[..i]);
        let sum: f64 = want.iter().sum();
        assert!((sum - 1.0).abs() < 1e-6, "row {i} sums to {sum}");
        for (a, b) in rows[i * v..(i + 1) * v].iter().zip(&want) {
            assert!((a - b).abs() < 1e-6, "row {i}: {a} vs {b}");
        }
    }
    fit(&student_of(&[&kn, &tf]), &data, &tmp.path().join("s2")).unwrap();
}

#[test]
fn mixture_weights_are_normalised() {
    let tmp = tempfile::tempdir().unwrap();
    let data = data(tmp.path());
    let kn = tmp.path().join("kn3.lm");
    fit(&ngram("chars"), &data, &kn).unwrap();
    let load = |p: &PathBuf| lmlab_lab::registry::load_model(p).unwrap();
    let m = MixtureModel::new(vec![load(&kn), load(&kn)], vec![1.0, 3.0]);
    assert_eq!(m.weights(), &[0.25, 0.75]);
    let one = load(&kn);
    let (a, b) = (m.next_distribution(&[]), one.next_distribution(&[]));
    for (x, y) in a.iter().zip(&b) {
        assert!((x - y).abs() < 1e-12);
    }
}

#[test]
fn a_path_that_is_not_a_model_and_another_tokenizer_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let data = data(tmp.path());
    let err = fit(&student_of(&[&data.train]), &data, &tmp.path().join("s"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("distill.teacher") && err.contains("not a model lmlab can load"),
        "{err}"
    );

    let kn_bytes = tmp.path().join("kn-bytes.lm");
    fit(&ngram("bytes"), &data, &kn_bytes).unwrap();
    let err = fit(&student_of(&[&kn_bytes]), &data, &tmp.path().join("s"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("another tokenizer than the student"), "{err}");
}

#[test]
fn a_budget_spent_before_training_names_the_teacher() {
    let tmp = tempfile::tempdir().unwrap();
    let data = data(tmp.path());
    let kn = tmp.path().join("kn3.lm");
    fit(&ngram("chars"), &data, &kn).unwrap();
    let recipe = format!("budget_cpu_seconds = 1e-9\n{}", student_of(&[&kn]));
    let err = fit(&recipe, &data, &tmp.path().join("s")).unwrap_err();
    assert!(
        err.to_string()
            .contains("learning the tokenizer and loading the teacher took"),
        "{err}"
    );
}

#[test]
fn an_lstm_student_learns_from_an_ngram_teacher_and_weight_zero_is_plain_training() {
    let tmp = tempfile::tempdir().unwrap();
    let data = data(tmp.path());
    let kn = tmp.path().join("kn3.lm");
    fit(&ngram("chars"), &data, &kn).unwrap();
    let lstm = STUDENT
        .replace("family = \"transformer\"", "family = \"lstm\"")
        .replace("n_head = 2\n", "")
        .replace("max_steps = 4", "max_steps = 100");
    let with = |weight: f64| {
        format!(
            "{lstm}distill = {{ teacher = {:?}, weight = {weight}, temperature = 1.0 }}\n",
            kn.display().to_string()
        )
    };
    let params = |run: &Path| {
        lmlab_neural::checkpoint::Checkpoint::load(&run.join(lmlab_neural::checkpoint::FILE_NAME))
            .unwrap()
            .params
    };
    let plain = tmp.path().join("plain");
    fit(&lstm, &data, &plain).unwrap();
    let zero = tmp.path().join("zero");
    fit(&with(0.0), &data, &zero).unwrap();
    let (a, b) = (params(&plain), params(&zero));
    let differ = a.iter().zip(&b).filter(|(x, y)| x != y).count();
    assert_eq!(
        differ,
        0,
        "α = 0 trains as without a teacher ({differ} of {} differ)",
        a.len()
    );
    let taught = tmp.path().join("taught");
    let record = fit(&with(1.0), &data, &taught).unwrap();
    assert!(params(&plain) != params(&taught));
    assert!(record.curve.iter().all(|p| p.val_loss.is_finite()));
    // Trained on the teacher's distributions alone, the student is nearer the teacher than the
    // plain student is: its mean KL(teacher ‖ student) on the validation text is smaller.
    let teacher = lmlab_lab::registry::load_model(&kn).unwrap();
    let valid = std::fs::read_to_string(data.valid.as_ref().unwrap()).unwrap();
    let kl = |run: &Path| {
        let student = lmlab_lab::registry::load_model(run).unwrap();
        let ids = teacher.tokenizer().encode(&valid[..400]);
        let mut sum = 0.0;
        for i in 0..ids.len() {
            let p = teacher.next_distribution(&ids[..i]);
            let q = student.next_distribution(&ids[..i]);
            sum += p
                .iter()
                .zip(&q)
                .filter(|(p, _)| **p > 0.0)
                .map(|(p, q)| p * (p / q).ln())
                .sum::<f64>();
        }
        sum / ids.len() as f64
    };
    let (k_plain, k_taught) = (kl(&plain), kl(&taught));
    assert!(
        k_taught < k_plain,
        "KL to the teacher: taught {k_taught}, plain {k_plain}"
    );
}

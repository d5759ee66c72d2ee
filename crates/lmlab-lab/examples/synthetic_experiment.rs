//! Writes a synthetic experiment folder of N finished runs, for timing the commands that read an
//! experiment (`lmlab results`, `lmlab report`) on a large store: `experiment.json` (one
//! transformer arm swept over 50 widths, 10 budgets, as many seeds as N needs), `runs/<id>/run.json`
//! for the first N runs of the plan with made-up, deterministic numbers (no models, no probability
//! files), and `results.sqlite` rebuilt from them by `reindex`.
//!
//! Usage: cargo run --release -p lmlab-lab --example synthetic_experiment -- DIR N

use lmlab_core::compute::ComputeRecord;
use lmlab_lab::experiment::spec::{ArmSpec, ExperimentSpec};
use lmlab_lab::experiment::store::reindex;
use lmlab_lab::experiment::{run_dir, ExperimentState, RunEntry, RUN_FILE};
use lmlab_lab::run::{CurvePoint, Data, EvalSummary, RunRecord, RUN_RECORD_FORMAT};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const WIDTHS: usize = 50;
const BUDGETS: [f64; 10] = [
    15.0, 30.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 3840.0, 7680.0,
];

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (dir, n) = match args.as_slice() {
        [_, dir, n] => match n.parse::<usize>() {
            Ok(n) if n > 0 => (PathBuf::from(dir), n),
            _ => usage(),
        },
        _ => usage(),
    };
    if let Err(e) = write(&dir, n) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn usage() -> ! {
    eprintln!("usage: synthetic_experiment DIR N   (N > 0 runs)");
    std::process::exit(2);
}

fn write(dir: &Path, n: usize) -> lmlab_core::Result<()> {
    let data_dir = dir.join("data");
    std::fs::create_dir_all(&data_dir).map_err(io(&data_dir))?;
    let mut data = Data::default();
    for split in ["train", "valid", "test"] {
        let path = data_dir.join(format!("{split}.txt"));
        std::fs::write(&path, format!("synthetic {split} text\n")).map_err(io(&path))?;
        match split {
            "train" => data.train = path,
            "valid" => data.valid = Some(path),
            _ => data.test = Some(path),
        }
    }
    let seeds = n.div_ceil(WIDTHS * BUDGETS.len()) as u64;
    let recipe: toml::Value = toml::from_str(
        r#"tokenizer = { kind = "bytes" }
model = { family = "transformer", n_layer = 2, n_head = 1, n_embd = 8, block_size = 64 }
train = { batch_size = 8, max_steps = 1000000, learning_rate = 3e-3, min_lr = 3e-4 }
"#,
    )
    .expect("a valid recipe");
    let widths: Vec<toml::Value> = (1..=WIDTHS as i64)
        .map(|w| toml::Value::Integer(8 * w))
        .collect();
    let spec = ExperimentSpec {
        name: "synthetic".into(),
        hypothesis: "wider transformers predict better at every budget (synthetic numbers)".into(),
        claim: None,
        data: data.clone(),
        arms: vec![ArmSpec {
            name: "t".into(),
            recipe,
            sweep: [("model.n_embd".to_string(), widths)].into(),
            start: None,
        }],
        budgets: BUDGETS.to_vec(),
        seeds: (1..=seeds).collect(),
        eval_points: vec![0.25, 0.5, 0.75, 1.0],
    };
    let state = ExperimentState {
        data: data.digests()?,
        spec,
    };
    state.save(dir)?;
    let plan = state.spec.plan(&state.data_sha256())?;
    for (i, run) in plan.iter().take(n).enumerate() {
        let budget = run.budget().unwrap_or(60.0);
        let width = (i / (BUDGETS.len() * seeds as usize)) as f64;
        // Loss falls with budget and width; seeds scatter it a little.
        let jitter = (noise(&run.id) - 0.5) * 0.05;
        let bpb = 1.2 + 4.0 / budget.sqrt() + 0.5 / (1.0 + width) + jitter;
        let summary = |bpb: f64, bytes: u64| EvalSummary {
            sequences: 1000,
            tokens: bytes,
            oov: 0,
            bytes,
            words: bytes / 5,
            log_prob_sum: -bpb * bytes as f64 * std::f64::consts::LN_2,
            perplexity: bpb.exp2(),
            perplexity_excluding_oov: bpb.exp2(),
            bits_per_byte: bpb,
            word_perplexity: (bpb * 5.0).exp2(),
            comparable_across_tokenizers: true,
        };
        let curve = state
            .spec
            .eval_points
            .iter()
            .enumerate()
            .map(|(k, f)| CurvePoint {
                step: 100 * (k as u64 + 1),
                cpu_seconds: f * budget,
                tokens_seen: (f * budget * 20_000.0) as u64,
                val_loss: (bpb + 0.5 / (k as f64 + 1.0)) * std::f64::consts::LN_2,
                val_bits_per_byte: bpb + 0.5 / (k as f64 + 1.0),
            })
            .collect();
        let folder = run_dir(dir, &run.id);
        let entry = RunEntry {
            id: run.id.clone(),
            experiment: state.spec.name.clone(),
            arm: run.arm.clone(),
            finished: "2026-12-01T10:00:00Z".into(),
            record: RunRecord {
                format: RUN_RECORD_FORMAT,
                recipe: run.recipe.clone(),
                data: state.data.clone(),
                compute: ComputeRecord {
                    cpu_seconds: budget * (1.0 + jitter),
                    wall_seconds: budget * 1.05,
                    tokens_seen: (budget * 20_000.0) as u64,
                    parameters: 1000 * (width as u64 + 1),
                    peak_rss_bytes: 50 << 20,
                },
                model_path: "model".into(),
                model_bytes: 12_000 * (width as u64 + 1),
                artifacts: [
                    ("valid.probs".to_string(), "valid.probs.tsv".into()),
                    ("test.probs".to_string(), "test.probs.tsv".into()),
                ]
                .into(),
                eval: BTreeMap::from([
                    ("valid".to_string(), summary(bpb + 0.02, 50_000)),
                    ("test".to_string(), summary(bpb, 48_000)),
                ]),
                curve,
                stop: Some("Budget".into()),
                warnings: vec![],
                lmlab_version: lmlab_core::LMLAB_VERSION.into(),
                derived: None,
            },
        };
        std::fs::create_dir_all(&folder).map_err(io(&folder))?;
        let json = serde_json::to_vec_pretty(&entry).expect("serializes");
        lmlab_core::atomic::write_bytes_atomically(&folder.join(RUN_FILE), &json)?;
    }
    let (finished, _) = reindex(dir)?;
    println!("{}: {finished} synthetic runs", dir.display());
    Ok(())
}

/// The error-mapper of an I/O call on `path`.
fn io(path: &Path) -> impl Fn(std::io::Error) -> lmlab_core::Error + '_ {
    move |e| lmlab_core::Error::io(path, e)
}

/// A number in [0, 1) from the run's id (its first 8 hex digits).
fn noise(id: &str) -> f64 {
    u32::from_str_radix(&id[..8], 16).unwrap_or(0) as f64 / 4_294_967_296.0
}

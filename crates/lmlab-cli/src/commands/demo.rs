use super::print_json;
use crate::args::DemoArgs;
use crate::progress::{bar, stage_bar};
use indicatif::{MultiProgress, ProgressBar};
use lmlab_lab::demo::{run_demo, DemoOptions, DemoProgress};
use std::cell::RefCell;

/// Two bars on stderr: the demo's stages, and below it the training steps of a neural model while
/// one trains.
struct DemoBars {
    multi: MultiProgress,
    stages: ProgressBar,
    steps: RefCell<Option<ProgressBar>>,
}

impl DemoBars {
    fn new() -> DemoBars {
        let multi = MultiProgress::new();
        let stages = multi.add(stage_bar(1, "demo"));
        DemoBars {
            multi,
            stages,
            steps: RefCell::new(None),
        }
    }

    fn show(&self, event: DemoProgress) {
        match event {
            DemoProgress::Stage { step, total, what } => {
                if let Some(steps) = self.steps.borrow_mut().take() {
                    steps.finish_and_clear();
                }
                self.stages.set_length(total as u64);
                self.stages.set_position(step as u64 - 1);
                self.stages.set_message(what.to_string());
            }
            DemoProgress::TrainingStep { done, total } => {
                let mut steps = self.steps.borrow_mut();
                let steps = steps.get_or_insert_with(|| {
                    self.multi.add(bar(total as u64, "  transformer steps"))
                });
                steps.set_position(done as u64);
            }
        }
    }

    fn finish(&self) {
        if let Some(steps) = self.steps.borrow_mut().take() {
            steps.finish_and_clear();
        }
        self.stages.finish_and_clear();
    }
}

pub fn run(args: DemoArgs) -> anyhow::Result<()> {
    let bars = DemoBars::new();
    let options = DemoOptions {
        out_dir: args.out.clone(),
        seed: args.seed,
    };
    let report = run_demo(&options, &|event| bars.show(event));
    bars.finish();
    let report = report?;
    if args.json {
        return print_json(&report);
    }
    let [train, valid, test] = report.split_lines;
    println!("tiny-shakespeare (embedded): {train} train / {valid} valid / {test} test lines\n");
    println!(
        "{:<32} {:>8}  {:>12} {:>11} {:>9} {:>12} {:>12}",
        "model", "bits/B", "ppl/token", "ppl/word", "train-s", "file bytes", "parameters"
    );
    for r in &report.leaderboard {
        // A row scored with OOVs is marked: its per-byte and per-word figures flatter it.
        let mark = if r.test_oov > 0 { "*" } else { " " };
        println!(
            "{:<32} {:>8.4}{mark} {:>12.3} {:>11} {:>9.3} {:>12} {:>12}",
            r.name,
            r.bits_per_byte,
            r.perplexity,
            fixed_width(r.word_perplexity),
            r.train_cpu_seconds,
            r.model_bytes,
            r.parameters
        );
    }
    if let Some(r) = report.leaderboard.iter().find(|r| r.test_oov > 0) {
        println!(
            "* scored with OOVs ({} in the test text for {}): each is one cheap <unk>, so bits/byte \
             and ppl/word are not comparable with the other tokenizers' rows",
            r.test_oov, r.tokenizer
        );
    }
    println!("\nensemble weights (EM on valid):");
    for (name, weights) in &report.ensemble_weights {
        let list: Vec<String> = weights.iter().map(|(m, w)| format!("{m} {w:.3}")).collect();
        println!("  {name}: {}", list.join(", "));
    }
    for sample in &report.samples {
        println!(
            "\nsample from {}:\n{}",
            sample.model,
            sample.text.trim_end()
        );
    }
    let stories = &report.stories;
    println!(
        "\nTinyStories (embedded, {} train / {} valid bytes): {}, {} parameters, {:.1} CPU-s: \
         valid {:.4} bits/byte, perplexity {:.2} per token",
        stories.text_bytes[0],
        stories.text_bytes[1],
        stories.model,
        stories.parameters,
        stories.train_cpu_seconds,
        stories.bits_per_byte,
        stories.perplexity
    );
    for (i, story) in stories.samples.iter().enumerate() {
        println!("\nstory {}:\n{}", i + 1, story.trim_end());
    }
    if let Some(dir) = &report.out_dir {
        println!(
            "\nmodels (kn3-words.lmlab, ...), valid and test probability files, leaderboard.json \
             (which file is which model) and leaderboard.svg (a bar chart) are in {}",
            dir.display()
        );
    }
    Ok(())
}

/// Two decimals, or scientific notation when that would not fit the 11-character column (the
/// uniform byte model's word perplexity is about 8e10).
fn fixed_width(value: f64) -> String {
    if value.abs() < 1e7 {
        format!("{value:.2}")
    } else {
        format!("{value:.3e}")
    }
}

//! The training loop: AdamW steps over random windows, periodic validation and checkpoints, budgets in
//! CPU seconds, exact resumption, and a clear stop on a non-finite loss.

use crate::budget::BudgetPlan;
use crate::checkpoint::{self, Checkpoint};
use crate::config::Arch;
use crate::config::{RunConfig, TokenizerSpec};
use crate::data::{check_length, token_stream, Batcher};
use crate::distill::{Distiller, Teacher};
use crate::dynamics::capture::{self as dynamics, AnalysisBatch, Sites};
use crate::layers::dropout;
use crate::ledger::ComputeLedger;
use crate::model::{LstmNet, Net, Transformer};
use crate::optim::{clip_grad_norm, learning_rate, AdamW};
use crate::prune::PruneMask;
use crate::run_files::{self, DataRecord, FittedSchedule, MetricsLine, MetricsLog};
use lmlab_core::atomic::write_bytes_atomically;
use lmlab_core::compute::{peak_rss_bytes, Budget, ComputeMeter, ComputeRecord};
use lmlab_core::interrupt;
use lmlab_core::{Error, Result, Tokenizer};
use lmlab_tokenize::{load_tokenizer_file, save_tokenizer_file, BytesTokenizer, CharsTrainer};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// File names inside a run directory.
pub mod files {
    /// The run config (vocabulary size filled in), JSON.
    pub const CONFIG: &str = "config.json";
    /// The tokenizer, lmlab's versioned JSON.
    pub const TOKENIZER: &str = "tokenizer.json";
    /// The final report, JSON.
    pub const REPORT: &str = "report.json";
}

/// How to run (as opposed to what to train, which is the [`RunConfig`]).
#[derive(Clone, Debug)]
pub struct TrainOptions {
    /// Where the config, tokenizer, checkpoint and report go.
    pub run_dir: PathBuf,
    /// Continue from the run directory's checkpoint (the config and the data must be unchanged).
    pub resume: bool,
    /// Start afresh in a run directory that holds a checkpoint, discarding it (without this, and
    /// without `resume`, such a directory is refused).
    pub force: bool,
    /// On an interrupt (Ctrl-C, SIGTERM, with `lmlab_core::interrupt`'s handler installed), finish
    /// the step, write a checkpoint and return with [`StopReason::Interrupted`]; without it the
    /// process exits at once.
    pub checkpoint_on_interrupt: bool,
    /// Pause after this many completed steps (the schedule still follows `train.max_steps`); a
    /// checkpoint is written, and `--resume` continues.
    pub stop_after: Option<usize>,
    /// Stop when the run (all its sessions) has spent this many CPU seconds; must be positive.
    pub budget_cpu_seconds: Option<f64>,
    /// Report a step event, and log it to `metrics.jsonl`, every this many steps (0 = every step);
    /// at least twenty times a run however short (the interval shrinks to `max_steps / 20`).
    pub log_interval: usize,
    /// With a budget: also validate (a full `eval_iters` estimate, logged to `metrics.jsonl`) as
    /// soon as each of these fractions of the budget is spent, so runs of different budgets have
    /// learning curves at comparable compute. Each must be in (0, 1]; 1 (and any point the run
    /// does not reach before it stops) is the final validation, done once. The budget plan
    /// reserves the validations still ahead. Without a budget this is ignored.
    pub eval_at_fractions: Vec<f64>,
    /// With a budget: once [`FIT_AFTER_STEPS`] steps of the session are measured, fit the
    /// learning-rate schedule's horizon to the steps the budget allows (see
    /// [`crate::budget::BudgetPlan::horizon`]), so the cosine decays by the end of the budget;
    /// `train.max_steps` still bounds the run. The horizon is kept in the run directory
    /// ([`run_files::FittedSchedule`]) and `--resume` continues it. Without a budget this is
    /// ignored.
    pub fit_schedule_to_budget: bool,
    /// The teacher `[train] distill` names, loaded by the caller (see [`crate::distill`]).
    pub teacher: Option<Teacher>,
}

/// Steps measured in a session before a budgeted run fits its schedule: the first step (cold
/// caches) is left out of the step cost, the other nine average out its noise; at a few
/// milliseconds a step this is a small part of even a few-second budget.
pub const FIT_AFTER_STEPS: usize = 10;

impl TrainOptions {
    /// Options writing to `run_dir`, no resume, no pause, no budget, an event per step.
    pub fn new(run_dir: impl Into<PathBuf>) -> TrainOptions {
        TrainOptions {
            run_dir: run_dir.into(),
            resume: false,
            force: false,
            checkpoint_on_interrupt: true,
            stop_after: None,
            budget_cpu_seconds: None,
            log_interval: 1,
            eval_at_fractions: Vec::new(),
            fit_schedule_to_budget: false,
            teacher: None,
        }
    }

    /// Options for a job that remakes `run_dir` each time it runs (the demo): a previous run there
    /// is discarded, and an interrupt stops the whole job at once (its checkpoint is worth nothing).
    pub fn replacing(run_dir: impl Into<PathBuf>) -> TrainOptions {
        TrainOptions {
            force: true,
            checkpoint_on_interrupt: false,
            ..TrainOptions::new(run_dir)
        }
    }
}

/// What the training loop reports as it goes.
#[derive(Clone, Debug, PartialEq)]
pub enum TrainEvent {
    /// An optimizer step finished.
    Step {
        /// Steps completed.
        step: usize,
        /// Steps the schedule runs to.
        max_steps: usize,
        /// Mean training loss of the step's micro-batches (nats per token).
        loss: f64,
        /// Learning rate used.
        lr: f64,
        /// Gradient norm before clipping.
        grad_norm: f64,
        /// Training tokens per wall second over this session's steps.
        tokens_per_second: f64,
        /// Estimated wall seconds to `max_steps`.
        eta_seconds: f64,
    },
    /// A validation estimate.
    Eval {
        /// Steps completed.
        step: usize,
        /// Mean validation loss (nats per token).
        val_loss: f64,
    },
    /// A checkpoint was written.
    Checkpoint {
        /// Steps completed.
        step: usize,
        /// Its path.
        path: PathBuf,
    },
}

/// Why training stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// `train.max_steps` reached.
    Finished,
    /// Paused at `stop_after`.
    Paused,
    /// The CPU-second budget is spent.
    Budget,
    /// Interrupted (Ctrl-C, SIGTERM): the step finished, a checkpoint was written, `--resume`
    /// continues.
    Interrupted,
}

/// The outcome of a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainReport {
    /// Steps completed.
    pub steps: usize,
    /// Why it stopped.
    pub stop: StopReason,
    /// Mean training loss of the last step.
    pub train_loss: f64,
    /// Last validation loss (nats per token).
    pub val_loss: f64,
    /// Validation batches behind `val_loss`: `train.eval_iters`, or fewer when a budget left room
    /// for fewer (see [`crate::budget`]).
    #[serde(default)]
    pub val_batches: usize,
    /// Validation history `(step, loss)`.
    pub val_history: Vec<(usize, f64)>,
    /// Training loss `(step, loss)` at every logged step, all sessions (from `metrics.jsonl`).
    #[serde(default)]
    pub train_history: Vec<(usize, f64)>,
    /// Training tokens per wall second over this session's steps (validation excluded).
    pub tokens_per_second: f64,
    /// Parameters.
    pub parameters: u64,
    /// The learning-rate schedule fitted to the budget, when one was.
    #[serde(default)]
    pub fitted_schedule: Option<FittedSchedule>,
    /// Compute of the whole run (CPU seconds accumulate across resumed sessions).
    pub compute: ComputeRecord,
    /// The run directory.
    pub run_dir: PathBuf,
}

/// Builds the tokenizer a config asks for (`chars` is trained on `train_text`).
pub fn build_tokenizer(spec: &TokenizerSpec, train_text: &str) -> Result<Box<dyn Tokenizer>> {
    Ok(match spec {
        TokenizerSpec::Chars => Box::new(CharsTrainer::default().train(&[train_text])?),
        TokenizerSpec::Bytes => Box::new(BytesTokenizer::new()),
        TokenizerSpec::File(path) => load_tokenizer_file(path)?,
    })
}

/// Reads the tokenizer saved in a run directory.
pub fn load_run_tokenizer(run_dir: &Path) -> Result<Box<dyn Tokenizer>> {
    load_tokenizer_file(&run_dir.join(files::TOKENIZER))
}

/// Trains a transformer on `train_text`, validating on `valid_text`, into `options.run_dir`.
///
/// The vocabulary size comes from the tokenizer (a non-zero `model.vocab_size` in the config must
/// agree). Each `progress` call gets one [`TrainEvent`]. Same config, texts and machine give the same
/// checkpoint bytes (the CPU seconds go to the run's compute ledger); `resume` continues to the same weights as
/// an uninterrupted run.
pub fn train(
    config: &RunConfig,
    train_text: &str,
    valid_text: &str,
    options: &TrainOptions,
    progress: &mut dyn FnMut(&TrainEvent),
) -> Result<TrainReport> {
    match config.model.arch {
        Arch::Transformer => {
            train_net::<Transformer<f32>>(config, train_text, valid_text, options, progress)
        }
        Arch::Lstm => train_net::<LstmNet<f32>>(config, train_text, valid_text, options, progress),
    }
}

fn train_net<N: Net + Sites>(
    config: &RunConfig,
    train_text: &str,
    valid_text: &str,
    options: &TrainOptions,
    progress: &mut dyn FnMut(&TrainEvent),
) -> Result<TrainReport> {
    let budget = options
        .budget_cpu_seconds
        .map(|b| Budget::cpu_seconds(b).map(|_| b))
        .transpose()?;
    if budget.is_some() {
        if let Some(bad) = options
            .eval_at_fractions
            .iter()
            .find(|f| !(f.is_finite() && **f > 0.0 && **f <= 1.0))
        {
            return Err(Error::invalid(format!(
                "eval_at_fractions: fractions of the budget in (0, 1], got {bad}"
            )));
        }
    }
    crate::gemm::use_precision(config.train.precision)?;
    let meter = ComputeMeter::start();
    let run_dir = &options.run_dir;
    std::fs::create_dir_all(run_dir).map_err(|e| Error::io(run_dir, e))?;
    let ckpt_path = run_dir.join(checkpoint::FILE_NAME);
    if !options.resume {
        clear_previous_run(run_dir, &ckpt_path, options.force)?;
    }
    let data = DataRecord::of(train_text, valid_text);
    if options.resume {
        data.check_resume(run_dir)?;
    }

    let tokenizer = if options.resume {
        load_run_tokenizer(run_dir)?
    } else {
        build_tokenizer(&config.tokenizer, train_text)?
    };
    let mut config = config.clone();
    let vocab = tokenizer.vocab().len();
    if config.model.vocab_size != 0 && config.model.vocab_size != vocab {
        return Err(Error::Mismatch(format!(
            "config model.vocab_size is {} but the tokenizer has {vocab} tokens",
            config.model.vocab_size
        )));
    }
    config.model.vocab_size = vocab;
    config.model.validate()?;
    config.train.validate()?;
    let mode = config.sequence_mode();
    let tc = config.train.clone();
    let (b, t) = (tc.batch_size, config.model.block_size);
    let bos = tokenizer.specials().bos;

    let train_ids = token_stream(tokenizer.as_ref(), train_text, mode);
    let valid_ids = token_stream(tokenizer.as_ref(), valid_text, mode);
    check_length(&train_ids, t, "training")?;
    check_length(&valid_ids, t, "validation")?;

    // Learning dynamics: the fixed batch they are measured on.
    let analysis_batch = tc.analysis.as_ref().map(|a| {
        let stream = match a.batch {
            AnalysisBatch::Valid => &valid_ids,
            AnalysisBatch::Train => &train_ids,
        };
        dynamics::fixed_batch(stream, b, t)
    });

    let mut distiller = Distiller::new(tc.distill.as_ref(), options.teacher.as_ref(), &*tokenizer)?;
    let mut model = N::init(&config.model, tc.seed)?;
    let mut opt = AdamW::new(model.specs());
    let mut batcher = Batcher::new(tc.seed.wrapping_add(1));
    let mut step = 0usize;
    let mut tokens_seen = 0u64;
    let mut cpu_before = 0.0;
    let mut val_history: Vec<(usize, f64)> = Vec::new();
    let mut schedule: Option<FittedSchedule> = None;

    if options.resume {
        let ck = Checkpoint::load(&ckpt_path)?;
        // A derived run (`lmlab prune`, `grow`, `merge`: step 0, nothing trained yet) may start
        // with a teacher its recorded config does not name.
        let mut recorded = ck.config.clone();
        if ck.step == 0 {
            recorded.train.distill = config.train.distill.clone();
        }
        if let Some(field) = recorded.first_difference(&config) {
            return Err(Error::Mismatch(format!(
                "--resume refused: the config differs from the run's recorded config in `{field}`"
            )));
        }
        if ck.tokenizer_fingerprint != tokenizer.fingerprint() {
            return Err(Error::Mismatch(
                "--resume refused: the run's tokenizer does not match its checkpoint".into(),
            ));
        }
        if ck.adam_m.is_empty() {
            return Err(Error::bad_file(
                &ckpt_path,
                "the checkpoint holds no optimizer state; it cannot be resumed",
            ));
        }
        *model.params_mut() = ck.params;
        opt.m = ck.adam_m;
        opt.v = ck.adam_v;
        opt.t = ck.adam_t;
        step = ck.step;
        tokens_seen = ck.tokens_seen;
        cpu_before = ComputeLedger::load(run_dir)?.cpu_seconds;
        val_history = ck.val_history;
        batcher = Batcher::from_state(ck.rng);
        // A horizon fitted after the checkpoint's step belongs to steps that are redone.
        schedule = FittedSchedule::load(run_dir)?.filter(|s| s.fitted_at_step <= step);
    } else {
        let config_json = serde_json::to_string_pretty(&config).expect("config serializes");
        write_bytes_atomically(&run_dir.join(files::CONFIG), config_json.as_bytes())?;
        save_tokenizer_file(tokenizer.as_ref(), &run_dir.join(files::TOKENIZER))?;
        data.save(run_dir)?;
    }
    // A pruned run (`lmlab prune`) keeps its pruned weights at zero.
    let prune_mask = if options.resume {
        PruneMask::load(run_dir, &config, model.params())?
    } else {
        None
    };
    let mut metrics = MetricsLog::open(run_dir, options.resume.then_some(step))?;
    let log_interval = options.log_interval.min((tc.max_steps / 20).max(1)).max(1);
    // From here on the first Ctrl-C ends the step and writes a checkpoint instead of killing us.
    let _cooperative = options
        .checkpoint_on_interrupt
        .then(interrupt::Cooperative::enter);

    let mut ws = model.workspace(b, t);
    let mut plan = budget.map(|bud| {
        BudgetPlan::new(bud, tc.eval_iters, model.params().len())
            .with_eval_points(&options.eval_at_fractions, cpu_before)
    });
    if let Some(plan) = plan.as_mut() {
        // A validation batch, timed after one that warms up, tells what an estimate costs.
        evaluate_batches(&model, &mut ws, &valid_ids, b, t, 1, bos, &mut || true);
        let cpu0 = meter.cpu_seconds();
        evaluate_batches(&model, &mut ws, &valid_ids, b, t, 1, bos, &mut || true);
        plan.record_eval(meter.cpu_seconds() - cpu0, 1);
    }
    let save_analysis = |model: &N, ws: &mut N::Ws, step: usize| -> Result<()> {
        match &analysis_batch {
            Some((ax, ay)) => {
                dynamics::save(run_dir, step, &config, model, ws, (ax, ay), bos).map(|_| ())
            }
            None => Ok(()),
        }
    };
    if !options.resume {
        save_analysis(&model, &mut ws, 0)?;
    }
    let mut analysed_step = (!options.resume).then_some(step);
    let mut grads = vec![0f32; model.params().len()];
    let (mut x, mut y) = (vec![0u32; b * t], vec![0u32; b * t]);
    let fingerprint = tokenizer.fingerprint();
    let mut last_good_step: Option<usize> = options.resume.then_some(step);

    let save = |model: &N,
                opt: &AdamW,
                step: usize,
                batcher: &Batcher,
                tokens_seen: u64,
                val_history: &[(usize, f64)]|
     -> Result<()> {
        ComputeLedger {
            cpu_seconds: cpu_before + meter.cpu_seconds(),
            step,
        }
        .save(run_dir)?;
        Checkpoint {
            config: config.clone(),
            params: model.params().to_vec(),
            adam_m: opt.m.clone(),
            adam_v: opt.v.clone(),
            adam_t: opt.t,
            step,
            rng: batcher.state(),
            tokens_seen,
            tokenizer_fingerprint: fingerprint.clone(),
            val_history: val_history.to_vec(),
        }
        .save(&ckpt_path)
    };

    let mut train_seconds = 0.0;
    let mut session_tokens = 0u64;
    let mut train_loss = f64::NAN;
    let mut stop = StopReason::Finished;
    let tokens_per_step = (b * t * tc.grad_accum) as u64;

    while step < tc.max_steps {
        if options.stop_after.is_some_and(|s| step >= s) {
            stop = StopReason::Paused;
            break;
        }
        if interrupt::requested() {
            stop = StopReason::Interrupted;
            break;
        }
        let then_eval = periodic(tc.eval_interval, step + 1, tc.max_steps);
        let analysis_due = |s: usize| tc.analysis.as_ref().is_some_and(|a| a.due(s));
        let then_save =
            periodic(tc.checkpoint_interval, step + 1, tc.max_steps) || analysis_due(step + 1);
        let spent = cpu_before + meter.cpu_seconds();
        if plan
            .as_ref()
            .is_some_and(|p| !p.next_step_fits(spent, then_eval, then_save))
        {
            stop = StopReason::Budget;
            break;
        }
        let t0 = Instant::now();
        let cpu0 = meter.cpu_seconds();
        grads.fill(0.0);
        let mut loss_sum = 0.0;
        for micro in 0..tc.grad_accum {
            batcher.fill(&train_ids, b, t, &mut x, &mut y);
            // Dropout masks follow from the seed, the step and the micro-batch: a resumed run draws
            // the same ones, with no state to save.
            let key = dropout::mix64(
                dropout::mix64(tc.seed ^ 0xD80F_0D80) ^ ((step * tc.grad_accum + micro) as u64),
            );
            let (sum, count) = model.forward_train(&mut ws, &x, &y, Some(bos), key);
            let count = count.max(1);
            let scale = 1.0 / (count * tc.grad_accum) as f32;
            let sum = match distiller.as_mut() {
                Some(d) => d.backward(&model, &mut ws, &mut grads, &x, &y, t, bos, scale),
                None => {
                    model.backward(&mut ws, &mut grads, &x, &y, Some(bos), scale);
                    sum
                }
            };
            loss_sum += sum / count as f64;
        }
        let loss = loss_sum / tc.grad_accum as f64;
        let grad_norm = clip_grad_norm(&mut grads, tc.grad_clip);
        if !loss.is_finite() || !grad_norm.is_finite() {
            let kept = match last_good_step {
                Some(s) => format!(
                    "the last good checkpoint (step {s}) is kept at {}",
                    ckpt_path.display()
                ),
                None => "no checkpoint had been written yet".to_string(),
            };
            return Err(Error::Mismatch(format!(
                "training diverged at step {}: loss {loss}, gradient norm {grad_norm}; stopped; {kept}",
                step + 1
            )));
        }
        let lr = match &schedule {
            Some(fitted) => learning_rate(step, &fitted.config_for(step, &tc)),
            None => learning_rate(step, &tc),
        };
        opt.step(model.params_mut(), &grads, lr, &tc);
        if let Some(mask) = &prune_mask {
            mask.apply(model.params_mut());
        }
        step += 1;
        tokens_seen += tokens_per_step;
        session_tokens += tokens_per_step;
        train_seconds += t0.elapsed().as_secs_f64();
        let cpu1 = meter.cpu_seconds();
        train_loss = loss;
        let tps = session_tokens as f64 / train_seconds.max(1e-9);
        if step.is_multiple_of(log_interval) || step == tc.max_steps || step == 1 {
            let mut steps_to_go = (tc.max_steps - step) as f64;
            if let Some(left) = plan.as_ref().and_then(|p| p.steps_left(cpu_before + cpu1)) {
                steps_to_go = steps_to_go.min(left.floor());
            }
            let remaining =
                steps_to_go * train_seconds / session_steps(session_tokens, tokens_per_step);
            metrics.append(&MetricsLine::Step {
                step,
                loss,
                lr,
                grad_norm,
                tokens_per_second: tps,
                cpu_seconds: cpu_before + cpu1,
            })?;
            progress(&TrainEvent::Step {
                step,
                max_steps: schedule.map_or(tc.max_steps, |s| s.horizon),
                loss,
                lr,
                grad_norm,
                tokens_per_second: tps,
                eta_seconds: remaining,
            });
        }
        if let Some(plan) = plan.as_mut() {
            // The step's cost includes its logging: what each step of the loop really spends.
            let cpu_done = meter.cpu_seconds();
            plan.record_step(cpu_done - cpu0);
            if options.fit_schedule_to_budget
                && schedule.is_none()
                && plan.steps_measured() >= FIT_AFTER_STEPS
            {
                if let Some(horizon) = plan.horizon(
                    step,
                    cpu_before + cpu_done,
                    tc.eval_interval,
                    tc.checkpoint_interval,
                    tc.max_steps,
                ) {
                    let fitted = FittedSchedule {
                        horizon,
                        fitted_at_step: step,
                    };
                    fitted.save(run_dir)?;
                    schedule = Some(fitted);
                }
            }
        }
        let at_fraction = plan
            .as_ref()
            .is_some_and(|p| p.fraction_eval_due(cpu_before + meter.cpu_seconds()));
        if periodic(tc.eval_interval, step, tc.max_steps) || at_fraction {
            let cpu0 = meter.cpu_seconds();
            let v = evaluate(&model, &mut ws, &valid_ids, b, t, &tc, bos);
            if let Some(plan) = plan.as_mut() {
                plan.record_eval(meter.cpu_seconds() - cpu0, tc.eval_iters);
                plan.points_passed(cpu_before + cpu0);
            }
            val_history.push((step, v));
            metrics.append(&MetricsLine::Eval {
                step,
                val_loss: v,
                cpu_seconds: cpu_before + meter.cpu_seconds(),
                tokens_seen,
            })?;
            progress(&TrainEvent::Eval { step, val_loss: v });
        }
        let save_now = periodic(tc.checkpoint_interval, step, tc.max_steps);
        if save_now || analysis_due(step) {
            // A checkpoint and a learning-dynamics checkpoint at one step cost the plan together.
            let cpu0 = meter.cpu_seconds();
            if analysis_due(step) {
                save_analysis(&model, &mut ws, step)?;
                analysed_step = Some(step);
            }
            if save_now {
                save(&model, &opt, step, &batcher, tokens_seen, &val_history)?;
            }
            if let Some(plan) = plan.as_mut() {
                plan.record_save(meter.cpu_seconds() - cpu0);
            }
        }
        if save_now {
            last_good_step = Some(step);
            progress(&TrainEvent::Checkpoint {
                step,
                path: ckpt_path.clone(),
            });
        }
    }
    // A pause or an interrupt is not part of the run's schedule: its estimate stays out of the
    // history, so a resumed run records exactly what an uninterrupted one does.
    let mut val_batches = tc.eval_iters;
    let off_schedule = matches!(stop, StopReason::Paused | StopReason::Interrupted);
    if stop == StopReason::Interrupted {
        // The checkpoint first: a second interrupt during the validation loses nothing.
        save(&model, &opt, step, &batcher, tokens_seen, &val_history)?;
    }
    let val_loss = match val_history.last() {
        Some(&(s, v)) if s == step => v,
        _ => {
            // Under a budget, batch by batch while one more fits (each batch's cost measured).
            let mut last = meter.cpu_seconds();
            let mut go_on = || {
                let Some(plan) = plan.as_mut() else {
                    return true;
                };
                let now = meter.cpu_seconds();
                plan.record_eval(now - last, 1);
                last = now;
                plan.another_final_batch_fits(cpu_before + now)
            };
            let (v, batches) = evaluate_batches(
                &model,
                &mut ws,
                &valid_ids,
                b,
                t,
                tc.eval_iters,
                bos,
                &mut go_on,
            );
            val_batches = batches;
            if !off_schedule {
                val_history.push((step, v));
                metrics.append(&MetricsLine::Eval {
                    step,
                    val_loss: v,
                    cpu_seconds: cpu_before + meter.cpu_seconds(),
                    tokens_seen,
                })?;
            }
            progress(&TrainEvent::Eval { step, val_loss: v });
            v
        }
    };
    if !off_schedule && analysed_step != Some(step) {
        save_analysis(&model, &mut ws, step)?;
    }
    save(&model, &opt, step, &batcher, tokens_seen, &val_history)?;
    progress(&TrainEvent::Checkpoint {
        step,
        path: ckpt_path.clone(),
    });
    let report = TrainReport {
        steps: step,
        stop,
        train_loss,
        val_loss,
        val_batches,
        val_history,
        train_history: run_files::train_history(run_dir)?,
        tokens_per_second: session_tokens as f64 / train_seconds.max(1e-9),
        parameters: model.params().len() as u64,
        fitted_schedule: schedule,
        compute: ComputeRecord {
            cpu_seconds: cpu_before + meter.cpu_seconds(),
            wall_seconds: meter.finish(0, 0).wall_seconds,
            tokens_seen,
            parameters: model.params().len() as u64,
            peak_rss_bytes: peak_rss_bytes(),
        },
        run_dir: run_dir.clone(),
    };
    let json = serde_json::to_string_pretty(&report).expect("report serializes");
    write_bytes_atomically(&run_dir.join(files::REPORT), json.as_bytes())?;
    Ok(report)
}

/// Before a fresh run: a directory holding a checkpoint is refused unless `force`, which removes
/// what the previous run left (checkpoint, compute ledger, report, learning curve, data record,
/// learning-dynamics checkpoints).
fn clear_previous_run(run_dir: &Path, ckpt_path: &Path, force: bool) -> Result<()> {
    if !ckpt_path.exists() {
        return Ok(());
    }
    if !force {
        let step =
            ComputeLedger::load(run_dir).map_or(String::new(), |l| format!(" (step {})", l.step));
        return Err(Error::Mismatch(format!(
            "{} already holds a run's checkpoint{step}: continue it with --resume, or discard \
             it and start afresh with --force",
            run_dir.display()
        )));
    }
    let previous = [
        checkpoint::FILE_NAME,
        crate::ledger::FILE_NAME,
        files::REPORT,
        run_files::METRICS,
        run_files::DATA,
        run_files::SCHEDULE,
    ];
    for name in previous {
        let path = run_dir.join(name);
        if let Err(e) = std::fs::remove_file(&path) {
            if e.kind() != std::io::ErrorKind::NotFound {
                return Err(Error::io(&path, e));
            }
        }
    }
    let analysis = run_dir.join(dynamics::DIR);
    if analysis.is_dir() {
        std::fs::remove_dir_all(&analysis).map_err(|e| Error::io(&analysis, e))?;
    }
    Ok(())
}

/// Whether periodic work every `interval` steps (0 = never) falls after `step`; the end of the
/// run has its own.
fn periodic(interval: usize, step: usize, max_steps: usize) -> bool {
    interval > 0 && step.is_multiple_of(interval) && step < max_steps
}

fn session_steps(tokens: u64, per_step: u64) -> f64 {
    (tokens / per_step.max(1)).max(1) as f64
}

/// Mean validation loss over `eval_iters` batches of windows drawn with a fixed seed (the same
/// windows at every evaluation, so estimates are comparable along a run).
pub fn evaluate<N: Net>(
    model: &N,
    ws: &mut N::Ws,
    valid: &[u32],
    b: usize,
    t: usize,
    tc: &crate::config::TrainConfig,
    bos: u32,
) -> f64 {
    evaluate_batches(model, ws, valid, b, t, tc.eval_iters, bos, &mut || true).0
}

/// The mean validation loss over the first of [`evaluate`]'s fixed batches: up to `batches`, and
/// after the first only while `go_on()` says so; returns the loss and the batches used.
#[allow(clippy::too_many_arguments)]
pub fn evaluate_batches<N: Net>(
    model: &N,
    ws: &mut N::Ws,
    valid: &[u32],
    b: usize,
    t: usize,
    batches: usize,
    bos: u32,
    go_on: &mut dyn FnMut() -> bool,
) -> (f64, usize) {
    let mut batcher = Batcher::new(0x05EE_D0F7_A11D);
    let (mut x, mut y) = (vec![0u32; b * t], vec![0u32; b * t]);
    let mut total = 0.0;
    let mut used = 0;
    while used < batches && (used == 0 || go_on()) {
        batcher.fill(valid, b, t, &mut x, &mut y);
        let (sum, count) = model.forward_loss(ws, &x, &y, Some(bos));
        total += sum / count.max(1) as f64;
        used += 1;
    }
    (total / used.max(1) as f64, used)
}

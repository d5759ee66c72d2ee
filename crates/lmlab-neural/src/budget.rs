//! Keeping a run inside its CPU-second budget, everything included.
//!
//! Checking "is the budget spent?" before each step lets a run overshoot by a step, the periodic
//! validation and checkpoint that follow it, and the final validation and checkpoint — on nanoGPT's
//! shakespeare-char recipe (200 validation batches) that was 70% over an 8-second budget. The plan
//! instead takes the next step only if the step, the periodic work it triggers and the work that
//! ends the run all fit in what is left, each estimated from its own measured CPU cost:
//! - a step: the costliest of the last four;
//! - a validation batch: measured once before training (the second of two batches, the first
//!   warms up), then at every validation;
//! - a checkpoint: estimated from the parameter count, then measured.
//!
//! The final validation is reserved at most [`FINAL_EVAL_SHARE`] of the budget: when its
//! `eval_iters` batches cost more, it goes on batch by batch while one more fits (at least one
//! batch), and the report says how many it used.

/// The largest share of the budget the final validation estimate is given.
pub const FINAL_EVAL_SHARE: f64 = 0.25;

/// The share of the budget the plan aims at: the rest absorbs the noise of CPU-time measurement
/// (a busy machine makes the same work cost a few percent more) and the process's own start.
pub const AIM: f64 = 0.98;

/// The CPU cost of the work a run does, measured as it goes, and the decisions it implies.
#[derive(Clone, Debug)]
pub struct BudgetPlan {
    /// The CPU seconds the plan aims to spend: [`AIM`] of the budget.
    budget: f64,
    /// The costliest of the last few steps (a step's cost varies a little; the maximum is safe).
    step: Option<f64>,
    recent_steps: [f64; 4],
    steps_seen: usize,
    /// The cost of a validation batch at the last validation.
    eval_batch: Option<f64>,
    /// Batches of a full validation estimate.
    eval_batches: usize,
    /// Measured (or estimated) cost of writing one checkpoint.
    save: f64,
}

impl BudgetPlan {
    /// A plan for `budget` CPU seconds with `eval_batches` per validation estimate; `parameters`
    /// gives the first checkpoint's estimate.
    pub fn new(budget: f64, eval_batches: usize, parameters: usize) -> Self {
        BudgetPlan {
            budget: budget * AIM,
            step: None,
            recent_steps: [0.0; 4],
            steps_seen: 0,
            eval_batch: None,
            eval_batches,
            // Weights and two optimizer moments, 4 bytes each, written at about 0.5 GB/s.
            save: parameters as f64 * 12.0 / 0.5e9,
        }
    }

    /// Records the CPU seconds one step took.
    pub fn record_step(&mut self, cpu: f64) {
        self.recent_steps[self.steps_seen % self.recent_steps.len()] = cpu;
        self.steps_seen += 1;
        self.step = Some(self.recent_steps.iter().copied().fold(0.0, f64::max));
    }

    /// Records the CPU seconds a validation estimate of `batches` batches took.
    pub fn record_eval(&mut self, cpu: f64, batches: usize) {
        self.eval_batch = Some(cpu / batches.max(1) as f64);
    }

    /// Records the CPU seconds one checkpoint took.
    pub fn record_save(&mut self, cpu: f64) {
        self.save = cpu;
    }

    fn eval_cost(&self) -> f64 {
        self.eval_batch.unwrap_or(0.0) * self.eval_batches as f64
    }

    /// What the end of the run (final validation, capped, and checkpoint) is given.
    fn final_reserve(&self) -> f64 {
        self.eval_cost().min(FINAL_EVAL_SHARE * self.budget) + self.save
    }

    /// Whether one more step fits: `spent` CPU seconds so far, and whether that step triggers a
    /// periodic validation and a periodic checkpoint. The end of the run is always reserved.
    /// Before any step is measured, a step is taken if the end of the run leaves room.
    pub fn next_step_fits(&self, spent: f64, then_eval: bool, then_save: bool) -> bool {
        let step = self.step.unwrap_or(0.0);
        let periodic = if then_eval { self.eval_cost() } else { 0.0 }
            + if then_save { self.save } else { 0.0 };
        let need = spent + step + periodic + self.final_reserve();
        if self.step.is_none() {
            need < self.budget
        } else {
            need <= self.budget
        }
    }

    /// Steps left in the budget at `spent`, with the end of the run reserved.
    pub fn steps_left(&self, spent: f64) -> Option<f64> {
        let step = self.step.filter(|&s| s > 0.0)?;
        Some(((self.budget - spent - self.final_reserve()) / step).max(0.0))
    }

    /// Whether the final validation estimate may take one more batch at `spent`, leaving room
    /// for the final checkpoint (the first batch is always taken).
    pub fn another_final_batch_fits(&self, spent: f64) -> bool {
        spent + self.eval_batch.unwrap_or(0.0) + self.save <= self.budget
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_end_of_the_run_and_periodic_work_are_reserved() {
        // 10 s aimed at; steps of 0.1 s; validation of 20 batches of 0.05 s = 1 s; checkpoints free.
        let mut plan = BudgetPlan::new(10.0 / AIM, 20, 0);
        plan.record_eval(0.05, 1);
        assert!(plan.next_step_fits(0.0, false, false));
        plan.record_step(0.1);
        // 8.8 + 0.1 + 1 (final validation) = 9.9 fits; 9.0 + 0.1 + 1 does not.
        assert!(plan.next_step_fits(8.8, false, false));
        assert!(!plan.next_step_fits(9.0, false, false));
        // A step that triggers a periodic validation needs room for two.
        assert!(!plan.next_step_fits(7.95, true, false));
        assert!(plan.next_step_fits(7.85, true, false));
        plan.record_save(0.5);
        assert!(!plan.next_step_fits(8.45, false, false));
        assert!(plan.next_step_fits(8.35, false, false));
        assert_eq!(plan.steps_left(8.3).map(|s| s.round()), Some(2.0));
        assert!(plan.another_final_batch_fits(9.45));
        assert!(!plan.another_final_batch_fits(9.46));
    }

    #[test]
    fn an_expensive_final_validation_gets_a_quarter_of_the_budget() {
        // 4 s aimed at; one validation batch 0.04 s, 200 of them 8 s: more than the whole budget.
        let mut plan = BudgetPlan::new(4.0 / AIM, 200, 0);
        plan.record_eval(0.04, 1);
        plan.record_step(0.1);
        // A quarter (1 s) is reserved: steps go on to 4 - 1 - 0.1.
        assert!(plan.next_step_fits(2.85, false, false));
        assert!(!plan.next_step_fits(2.95, false, false));
        // The final validation goes on batch by batch while one more fits.
        assert!(plan.another_final_batch_fits(3.96));
        assert!(!plan.another_final_batch_fits(3.97));
    }

    #[test]
    fn a_slow_step_among_fast_ones_sets_the_estimate() {
        let mut plan = BudgetPlan::new(1.0 / AIM, 0, 0);
        for cpu in [0.01, 0.2, 0.01, 0.01] {
            plan.record_step(cpu);
        }
        assert!(!plan.next_step_fits(0.85, false, false));
        // It ages out after four more steps.
        for _ in 0..4 {
            plan.record_step(0.01);
        }
        assert!(plan.next_step_fits(0.85, false, false));
    }
}

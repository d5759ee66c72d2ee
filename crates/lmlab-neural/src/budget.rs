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
//!
//! Validations at fractions of the budget (learning curves at equal compute) are reserved too:
//! each one the run will still reach — its point, or the end of the validation before it if that
//! is later, plus its own cost and the end of the run, inside the budget — is counted in what a
//! step needs. One the run cannot reach is not done; the final validation stands in for it.
//!
//! The plan also tells how many steps the budget allows ([`BudgetPlan::horizon`]), so the
//! learning-rate schedule can decay over the steps the run will really take.

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
    /// The whole budget, which fractions are of.
    full: f64,
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
    /// Sum and count of this session's measured steps after its first (which warms caches up).
    typical_sum: f64,
    typical_count: usize,
    /// CPU seconds at which validations at budget fractions are still to be done, ascending.
    pending_points: Vec<f64>,
}

impl BudgetPlan {
    /// A plan for `budget` CPU seconds with `eval_batches` per validation estimate; `parameters`
    /// gives the first checkpoint's estimate.
    pub fn new(budget: f64, eval_batches: usize, parameters: usize) -> Self {
        BudgetPlan {
            budget: budget * AIM,
            full: budget,
            step: None,
            recent_steps: [0.0; 4],
            steps_seen: 0,
            eval_batch: None,
            eval_batches,
            // Weights and two optimizer moments, 4 bytes each, written at about 0.5 GB/s.
            save: parameters as f64 * 12.0 / 0.5e9,
            typical_sum: 0.0,
            typical_count: 0,
            pending_points: Vec::new(),
        }
    }

    /// Also validates as soon as each of `fractions` of the (whole, not aimed-at) budget is spent;
    /// fractions of 1 or more are the final validation and add nothing; points at or before
    /// `spent` (a resumed run's past) are taken as done.
    pub fn with_eval_points(mut self, fractions: &[f64], spent: f64) -> Self {
        let full = self.full;
        let mut points: Vec<f64> = fractions
            .iter()
            .filter(|&&f| f < 1.0)
            .map(|&f| f * full)
            .filter(|&p| p > spent)
            .collect();
        points.sort_by(f64::total_cmp);
        points.dedup();
        self.pending_points = points;
        self
    }

    /// Records the CPU seconds one step took.
    pub fn record_step(&mut self, cpu: f64) {
        self.recent_steps[self.steps_seen % self.recent_steps.len()] = cpu;
        self.steps_seen += 1;
        self.step = Some(self.recent_steps.iter().copied().fold(0.0, f64::max));
        if self.steps_seen > 1 {
            self.typical_sum += cpu;
            self.typical_count += 1;
        }
    }

    /// Steps measured in this session.
    pub fn steps_measured(&self) -> usize {
        self.steps_seen
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

    /// Whether a validation at a budget fraction is due at `spent` and fits: its point is
    /// reached and the validation and the end of the run fit in what is left. A due one that does
    /// not fit is left to the final validation.
    pub fn fraction_eval_due(&self, spent: f64) -> bool {
        self.pending_points.first().is_some_and(|&p| p <= spent)
            && spent + self.eval_cost() + self.final_reserve() <= self.budget
    }

    /// Marks every fraction point reached by `spent` as done (one validation serves them all,
    /// whether it was due to a fraction or periodic).
    pub fn points_passed(&mut self, spent: f64) {
        self.pending_points.retain(|&p| p > spent);
    }

    /// The cost of the fraction validations the run will still do, counted from `from` CPU
    /// seconds: each starts at its point or when the one before ends, whichever is later, and
    /// is done only if it and the end of the run fit.
    fn evals_ahead(&self, from: f64) -> f64 {
        let eval = self.eval_cost();
        let end = self.final_reserve();
        let mut at = from;
        let mut cost = 0.0;
        for &point in &self.pending_points {
            let done = at.max(point) + eval;
            if done + end > self.budget {
                break;
            }
            at = done;
            cost += eval;
        }
        cost
    }

    /// The steps the budget allows the whole run when `step` steps are done at `spent`: what is
    /// left after the end of the run and the fraction validations ahead, divided by a step's
    /// typical cost (the mean of this session's steps after its first) plus its share of periodic
    /// validations (every `eval_interval` steps) and checkpoints (every `checkpoint_interval`);
    /// at most `max_steps`. `None` until two steps are measured.
    pub fn horizon(
        &self,
        step: usize,
        spent: f64,
        eval_interval: usize,
        checkpoint_interval: usize,
        max_steps: usize,
    ) -> Option<usize> {
        if self.typical_count == 0 {
            return None;
        }
        let share = |cost: f64, every: usize| if every > 0 { cost / every as f64 } else { 0.0 };
        let per_step = self.typical_sum / self.typical_count as f64
            + share(self.eval_cost(), eval_interval)
            + share(self.save, checkpoint_interval);
        if per_step <= 0.0 {
            return None;
        }
        let left = self.budget - spent - self.final_reserve() - self.evals_ahead(spent);
        let more = (left.max(0.0) / per_step).floor() as usize;
        Some((step + more).clamp(step.max(1), max_steps))
    }

    /// Whether one more step fits: `spent` CPU seconds so far, and whether that step triggers a
    /// periodic validation and a periodic checkpoint. The end of the run and the fraction
    /// validations it will still reach are always reserved. Before any step is measured, a step is
    /// taken if the end of the run leaves room.
    pub fn next_step_fits(&self, spent: f64, then_eval: bool, then_save: bool) -> bool {
        let step = self.step.unwrap_or(0.0);
        let periodic = if then_eval { self.eval_cost() } else { 0.0 }
            + if then_save { self.save } else { 0.0 };
        let after = spent + step + periodic;
        let need = after + self.evals_ahead(after) + self.final_reserve();
        if self.step.is_none() {
            need < self.budget
        } else {
            need <= self.budget
        }
    }

    /// Steps left in the budget at `spent`, with the end of the run and the fraction validations
    /// ahead reserved.
    pub fn steps_left(&self, spent: f64) -> Option<f64> {
        let step = self.step.filter(|&s| s > 0.0)?;
        let left = self.budget - spent - self.final_reserve() - self.evals_ahead(spent);
        Some((left / step).max(0.0))
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

    #[test]
    fn validations_at_fractions_the_run_will_reach_are_reserved() {
        // 10 s aimed at; validation 1 s; checkpoints free; points at 2.55, 5.1 and 9.69 s.
        let full = 10.0 / AIM;
        let mut plan = BudgetPlan::new(full, 10, 0).with_eval_points(&[0.25, 0.5, 0.95, 1.0], 0.0);
        plan.record_eval(0.1, 1);
        plan.record_step(0.1);
        // At 1 s: the 2.55 and 5.1 validations are ahead (the 9.69 one cannot fit before the end),
        // so steps go on while spent + 0.1 + 2 + 1 (final) <= 10.
        assert!(plan.next_step_fits(1.0, false, false));
        assert_eq!(plan.steps_left(1.0).map(|s| s.round()), Some(60.0));
        assert!(!plan.fraction_eval_due(2.5));
        assert!(plan.fraction_eval_due(2.6));
        plan.points_passed(2.6);
        assert!(!plan.fraction_eval_due(2.6));
        // One validation ahead now.
        assert_eq!(plan.steps_left(3.6).map(|s| s.round()), Some(44.0));
        // Past the last reachable point only the end is reserved.
        plan.points_passed(5.2);
        assert_eq!(plan.steps_left(6.2).map(|s| s.round()), Some(28.0));
        // The 9.69 point is reached but does not fit: the final validation stands in for it.
        assert!(!plan.fraction_eval_due(9.7));
    }

    #[test]
    fn a_resumed_plan_skips_the_points_behind_it() {
        let mut plan = BudgetPlan::new(10.0, 1, 0).with_eval_points(&[0.25, 0.5], 4.0);
        plan.record_eval(0.1, 1);
        assert!(!plan.fraction_eval_due(4.5));
        assert!(plan.fraction_eval_due(5.0));
    }

    #[test]
    fn the_horizon_counts_the_steps_the_budget_allows() {
        // 10 s aimed at; validation 1 s; checkpoints 0.5 s every 10 steps; steps 0.1 s (the
        // first, slower one left out of the mean).
        let mut plan = BudgetPlan::new(10.0 / AIM, 10, 0);
        plan.record_eval(0.1, 1);
        plan.record_save(0.5);
        assert_eq!(plan.horizon(0, 0.0, 0, 10, 1000), None);
        plan.record_step(0.5);
        plan.record_step(0.1);
        plan.record_step(0.1);
        // 10 - 0.6 spent - 1.5 (end) = 7.9 s at 0.1 + 0.05 a step: 52 more steps.
        assert_eq!(plan.horizon(3, 0.6, 0, 10, 1000), Some(55));
        // With a validation every 10 steps a step costs 0.25: 31 more.
        assert_eq!(plan.horizon(3, 0.6, 10, 10, 1000), Some(34));
        // max_steps bounds it.
        assert_eq!(plan.horizon(3, 0.6, 0, 10, 40), Some(40));
    }
}

//! Tasks with answers a program can check, for reinforcement learning with verifiable rewards:
//! multi-digit addition, sorting a list of numbers, and Countdown. Each record carries its prompt,
//! its reference answer and worked solution (the completion a model is trained to write), the
//! checker that scores a completion, its difficulty, three hint tiers (knowledge: the rule;
//! planning: the decomposition; solution: a prefix of the worked solution) and its split, drawn
//! from a seeded hash of the prompt so one problem is in the same split in every file.

mod addition;
mod checker;
mod countdown;
mod file;
mod sorting;

pub use checker::Checker;
pub use file::{read_tasks, sft_text, write_tasks, SftOptions};

use lmlab_core::hashing::sha256_hex;
use lmlab_core::{Error, Result};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::fmt;
use std::str::FromStr;

/// A kind of task.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskKind {
    /// `a+b=` with both operands of `difficulty` digits.
    Addition,
    /// A list of `difficulty` numbers below 100, to be written in ascending order.
    Sorting,
    /// Reach a target from `difficulty` numbers with + − × ÷ (each number at most once).
    Countdown,
}

impl TaskKind {
    /// Every kind, in the order the CLI lists them.
    pub const ALL: [TaskKind; 3] = [TaskKind::Addition, TaskKind::Sorting, TaskKind::Countdown];

    /// Its name in task files and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            TaskKind::Addition => "addition",
            TaskKind::Sorting => "sorting",
            TaskKind::Countdown => "countdown",
        }
    }

    /// The difficulties it has: operand digits, list length, or numbers given.
    pub fn difficulty_range(self) -> std::ops::RangeInclusive<u32> {
        match self {
            TaskKind::Addition => 1..=30,
            TaskKind::Sorting => 2..=20,
            TaskKind::Countdown => 2..=6,
        }
    }

    /// The default hardest difficulty of `lmlab tasks make`.
    pub fn default_max_difficulty(self) -> u32 {
        match self {
            TaskKind::Addition => 5,
            TaskKind::Sorting => 8,
            TaskKind::Countdown => 4,
        }
    }

    fn problem(self, rng: &mut ChaCha8Rng, difficulty: u32) -> Problem {
        match self {
            TaskKind::Addition => addition::problem(rng, difficulty),
            TaskKind::Sorting => sorting::problem(rng, difficulty),
            TaskKind::Countdown => countdown::problem(rng, difficulty),
        }
    }
}

impl fmt::Display for TaskKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for TaskKind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        TaskKind::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| {
                Error::invalid(format!(
                    "unknown task kind `{s}` (addition, sorting, countdown)"
                ))
            })
    }
}

/// The three hint tiers of a problem, from the most abstract to the most concrete.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hints {
    /// The rule that solves every problem of the kind.
    pub knowledge: String,
    /// This problem's decomposition into steps.
    pub planning: String,
    /// A prefix of the worked solution.
    pub solution: String,
}

/// A hint tier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HintTier {
    /// The rule.
    Knowledge,
    /// The decomposition.
    Planning,
    /// A prefix of the worked solution.
    Solution,
}

impl HintTier {
    /// The tiers in the order a scaffold tries them.
    pub const ALL: [HintTier; 3] = [HintTier::Knowledge, HintTier::Planning, HintTier::Solution];
}

impl Hints {
    /// The hint of one tier.
    pub fn tier(&self, tier: HintTier) -> &str {
        match tier {
            HintTier::Knowledge => &self.knowledge,
            HintTier::Planning => &self.planning,
            HintTier::Solution => &self.solution,
        }
    }
}

/// Which part of the data a problem belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Split {
    /// 80% of problems.
    Train,
    /// 10%.
    Valid,
    /// 10%.
    Test,
}

impl FromStr for Split {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "train" => Ok(Split::Train),
            "valid" => Ok(Split::Valid),
            "test" => Ok(Split::Test),
            _ => Err(Error::invalid(format!(
                "unknown split `{s}` (train, valid, test)"
            ))),
        }
    }
}

/// The split of a prompt: SHA-256 of `split_seed:prompt`, its first 8 bytes modulo 100; below 80
/// train, below 90 valid, else test. It depends only on the prompt and the split seed, so a problem
/// drawn again (in another file, with another generation seed) lands in the same split.
pub fn split_of(prompt: &str, split_seed: u64) -> Split {
    let hex = sha256_hex(format!("{split_seed}:{prompt}").as_bytes());
    let bucket = u64::from_str_radix(&hex[..16], 16).expect("hex digits") % 100;
    match bucket {
        0..=79 => Split::Train,
        80..=89 => Split::Valid,
        _ => Split::Test,
    }
}

/// One problem of a task file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskRecord {
    /// `kind-index`.
    pub id: String,
    /// The task kind.
    pub kind: TaskKind,
    /// What the model is given.
    pub prompt: String,
    /// The reference answer.
    pub answer: String,
    /// The worked solution: the completion a model is trained to write after the prompt.
    pub solution: String,
    /// What scores a completion.
    pub checker: Checker,
    /// Operand digits, list length or numbers given.
    pub difficulty: u32,
    /// The hint tiers.
    pub hints: Hints,
    /// The split.
    pub split: Split,
}

impl TaskRecord {
    /// True when `completion` (the text after the prompt, without the end token) solves the problem.
    pub fn is_correct(&self, completion: &str) -> bool {
        self.checker.accepts(&self.prompt, &self.answer, completion)
    }

    /// True when `completion` has the shape of an answer of this kind, right or wrong.
    pub fn is_well_formed(&self, completion: &str) -> bool {
        self.checker.well_formed(completion)
    }

    /// The prompt with a hint in front, as scaffolds give it: `[hint]prompt`.
    pub fn guided_prompt(&self, tier: HintTier) -> String {
        guided_prompt(&self.prompt, self.hints.tier(tier))
    }
}

/// `[hint]prompt`: where a hint goes.
pub fn guided_prompt(prompt: &str, hint: &str) -> String {
    format!("[{hint}]{prompt}")
}

/// A generated problem before its id and split.
pub(crate) struct Problem {
    pub prompt: String,
    pub answer: String,
    pub solution: String,
    pub checker: Checker,
    pub hints: Hints,
}

/// The first half of a worked solution (at least one character): the solution-tier hint.
pub(crate) fn half_prefix(solution: &str) -> String {
    let n = solution.chars().count();
    solution.chars().take((n / 2).max(1)).collect()
}

/// What `lmlab tasks make` draws.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MakeOptions {
    /// The kind.
    pub kind: TaskKind,
    /// Distinct problems to draw.
    pub n: usize,
    /// Seed of the draws.
    pub seed: u64,
    /// Difficulties drawn uniformly from the kind's lowest to this.
    pub max_difficulty: u32,
    /// Seed of the split hash.
    pub split_seed: u64,
}

/// Draws `n` distinct problems (difficulty uniform over the kind's lowest to `max_difficulty`,
/// repeats of a prompt drawn again); refuses a difficulty outside the kind's range, and stops with
/// an error when the space holds fewer distinct problems than asked.
pub fn make(o: &MakeOptions) -> Result<Vec<TaskRecord>> {
    let range = o.kind.difficulty_range();
    if !range.contains(&o.max_difficulty) {
        return Err(Error::invalid(format!(
            "--max-difficulty {} for {}: it must be in {}..={}",
            o.max_difficulty,
            o.kind,
            range.start(),
            range.end()
        )));
    }
    if o.n == 0 {
        return Err(Error::invalid("--n must be at least 1"));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(o.seed);
    let lo = *range.start();
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(o.n);
    let mut tries = 0usize;
    while out.len() < o.n {
        tries += 1;
        if tries > 100 * o.n + 10_000 {
            return Err(Error::invalid(format!(
                "only {} distinct {} problems found up to difficulty {} after {tries} draws; ask for fewer",
                out.len(),
                o.kind,
                o.max_difficulty
            )));
        }
        let difficulty = rand::Rng::gen_range(&mut rng, lo..=o.max_difficulty);
        let p = o.kind.problem(&mut rng, difficulty);
        if !seen.insert(p.prompt.clone()) {
            continue;
        }
        out.push(TaskRecord {
            id: format!("{}-{}", o.kind, out.len()),
            kind: o.kind,
            split: split_of(&p.prompt, o.split_seed),
            prompt: p.prompt,
            answer: p.answer,
            solution: p.solution,
            checker: p.checker,
            difficulty,
            hints: p.hints,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corruptions(s: &str) -> Vec<String> {
        let mut out = vec![String::new(), format!("{s}0"), s[..s.len() - 1].to_string()];
        // Each character changed to another of the answer alphabet.
        for (i, c) in s.char_indices() {
            for r in ['0', '1', '7', ',', '+', '>'] {
                if r != c {
                    let mut t = s.to_string();
                    t.replace_range(i..i + c.len_utf8(), &r.to_string());
                    out.push(t);
                }
            }
        }
        out
    }

    #[test]
    fn checkers_accept_references_and_reject_corruptions() {
        for kind in TaskKind::ALL {
            let records = make(&MakeOptions {
                kind,
                n: 300,
                seed: 1,
                max_difficulty: kind.default_max_difficulty(),
                split_seed: 0,
            })
            .unwrap();
            assert_eq!(records.len(), 300);
            let (mut tried, mut accepted) = (0usize, 0usize);
            for r in &records {
                assert!(r.is_correct(&r.solution), "{kind}: {r:?}");
                assert!(r.is_well_formed(&r.solution));
                assert!(r.solution.ends_with(&r.answer));
                for bad in corruptions(&r.solution) {
                    tried += 1;
                    accepted += r.is_correct(&bad) as usize;
                }
            }
            // Addition and sorting have one right completion; a one-character change of a
            // Countdown chain is now and then another right chain (2*2=4 → 2+2=4).
            match kind {
                TaskKind::Countdown => assert!(accepted * 100 < tried, "{accepted} of {tried}"),
                _ => assert_eq!(accepted, 0, "{kind}"),
            }
        }
    }

    #[test]
    fn countdown_rejects_reused_and_missing_numbers() {
        let c = Checker::Countdown;
        assert!(c.accepts("3,5,7>22=", "22", "3*5=15,15+7=22"));
        assert!(c.accepts("3,5,7>22=", "22", "5*3=15,7+15=22"));
        assert!(!c.accepts("3,5,7>22=", "22", "3*5=15,15+7=23"));
        assert!(!c.accepts("3,5,7>22=", "22", "5*5=25,25-3=22"));
        assert!(!c.accepts("3,5,7>22=", "22", "3*5=15,15+8=23"));
        assert!(!c.accepts("3,5,7>22=", "22", "3*5=15"));
        assert!(!c.accepts("3,5,7>22=", "22", "7/2=3"));
        assert!(!c.accepts("3,5,7>22=", "22", ""));
    }

    #[test]
    fn draws_are_seeded_and_splits_follow_the_prompt() {
        let o = MakeOptions {
            kind: TaskKind::Addition,
            n: 400,
            seed: 5,
            max_difficulty: 4,
            split_seed: 0,
        };
        let a = make(&o).unwrap();
        assert_eq!(a, make(&o).unwrap());
        let b = make(&MakeOptions { seed: 6, ..o }).unwrap();
        assert_ne!(a, b);
        for r in a.iter().chain(&b) {
            assert_eq!(r.split, split_of(&r.prompt, 0));
            assert!((1..=4).contains(&r.difficulty));
        }
        let tests = a.iter().filter(|r| r.split == Split::Test).count();
        assert!((15..80).contains(&tests), "{tests} test problems of 400");
        assert!(make(&MakeOptions {
            max_difficulty: 0,
            ..o
        })
        .unwrap_err()
        .to_string()
        .contains("--max-difficulty 0"));
        let tiny = MakeOptions {
            n: 200,
            max_difficulty: 1,
            ..o
        };
        assert!(make(&tiny).unwrap_err().to_string().contains("distinct"));
    }
}

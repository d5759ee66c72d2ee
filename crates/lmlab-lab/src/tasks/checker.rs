//! What scores a completion: the exact answer, or a Countdown chain checked step by step.

use serde::{Deserialize, Serialize};

/// A checker, named in task files.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Checker {
    /// The completion is the reference answer, character for character.
    Exact,
    /// The completion is the answer's digits from the right, `>`, then the answer (`491>194` for
    /// 194): addition's worked solution, each digit written after the column and carry it depends on.
    ReversedThenAnswer,
    /// The completion is a chain of steps `a op b=c` (comma-separated) over the prompt's numbers
    /// `n1,n2,…>target=`: each operand an unused given number or an earlier result, each result
    /// right (division exact, subtraction not below 0), the last result the target.
    Countdown,
}

impl Checker {
    /// True when `completion` solves the problem.
    pub fn accepts(self, prompt: &str, answer: &str, completion: &str) -> bool {
        match self {
            Checker::Exact => completion == answer,
            Checker::ReversedThenAnswer => completion == reversed_then_answer(answer),
            Checker::Countdown => countdown_accepts(prompt, completion).unwrap_or(false),
        }
    }

    /// True when `completion` has the shape of an answer: digits and commas for [`Checker::Exact`],
    /// digits `>` digits for [`Checker::ReversedThenAnswer`], a chain of well-formed steps for
    /// [`Checker::Countdown`].
    pub fn well_formed(self, completion: &str) -> bool {
        match self {
            Checker::Exact => !completion.is_empty() && completion.split(',').all(is_digits),
            Checker::ReversedThenAnswer => completion
                .split_once('>')
                .is_some_and(|(r, a)| is_digits(r) && is_digits(a)),
            Checker::Countdown => {
                !completion.is_empty() && completion.split(',').all(|s| parse_step(s).is_some())
            }
        }
    }
}

/// One digit or more, nothing else.
fn is_digits(x: &str) -> bool {
    !x.is_empty() && x.chars().all(|c| c.is_ascii_digit())
}

/// `answer`'s characters from the last to the first, `>`, then `answer`.
pub(crate) fn reversed_then_answer(answer: &str) -> String {
    let reversed: String = answer.chars().rev().collect();
    format!("{reversed}>{answer}")
}

/// `a op b=c`.
fn parse_step(step: &str) -> Option<(u64, char, u64, u64)> {
    let (lhs, c) = step.split_once('=')?;
    let at = lhs
        .char_indices()
        .skip(1)
        .find(|(_, ch)| "+-*/".contains(*ch))?
        .0;
    let op = lhs[at..].chars().next()?;
    let num = |s: &str| -> Option<u64> {
        (!s.is_empty() && s.len() <= 12 && s.chars().all(|ch| ch.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    Some((num(&lhs[..at])?, op, num(&lhs[at + 1..])?, num(c)?))
}

fn countdown_accepts(prompt: &str, completion: &str) -> Option<bool> {
    let body = prompt.strip_suffix('=')?;
    let (numbers, target) = body.split_once('>')?;
    let target: u64 = target.parse().ok()?;
    let mut pool: Vec<u64> = numbers
        .split(',')
        .map(|x| x.parse().ok())
        .collect::<Option<_>>()?;
    let mut last = None;
    for step in completion.split(',') {
        let (a, op, b, c) = parse_step(step)?;
        for x in [a, b] {
            let at = pool.iter().position(|&p| p == x)?;
            pool.swap_remove(at);
        }
        let value = match op {
            '+' => a.checked_add(b)?,
            '-' => a.checked_sub(b)?,
            '*' => a.checked_mul(b)?,
            _ => (b != 0 && a.is_multiple_of(b)).then(|| a / b)?,
        };
        if value != c {
            return Some(false);
        }
        pool.push(c);
        last = Some(c);
    }
    Some(last == Some(target))
}

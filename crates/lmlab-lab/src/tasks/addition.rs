//! `a+b=`: both operands of `d` digits (no leading zero, except the single digit 0).

use super::{half_prefix, Checker, Hints, Problem};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

fn operand(rng: &mut ChaCha8Rng, digits: u32) -> u128 {
    if digits == 1 {
        return rng.gen_range(0..10);
    }
    let lo = 10u128.pow(digits - 1);
    rng.gen_range(lo..lo * 10)
}

pub(super) fn problem(rng: &mut ChaCha8Rng, digits: u32) -> Problem {
    let (a, b) = (operand(rng, digits), operand(rng, digits));
    let answer = (a + b).to_string();
    let (sa, sb) = (a.to_string(), b.to_string());
    // Columns from the right: "7+8,5+6" for 57+68.
    let planning = sa
        .chars()
        .rev()
        .zip(sb.chars().rev())
        .map(|(x, y)| format!("{x}+{y}"))
        .collect::<Vec<_>>()
        .join(",");
    Problem {
        prompt: format!("{a}+{b}="),
        solution: answer.clone(),
        hints: Hints {
            knowledge: "right to left, carry".into(),
            planning,
            solution: half_prefix(&answer),
        },
        answer,
        checker: Checker::Exact,
    }
}

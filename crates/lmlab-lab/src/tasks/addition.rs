//! `a+b=`: both operands of `d` digits (no leading zero, except the single digit 0). The worked
//! solution writes the sum's digits from the right first, then the sum (`99+95=491>194`): each
//! digit then follows the column and carry it depends on, which a small transformer learns from
//! a few thousand examples, where the sum written from the left makes it guess carries ahead
//! (EXPERIMENTS.md, experiment 6).

use super::checker::reversed_then_answer;
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
    let solution = reversed_then_answer(&answer);
    Problem {
        prompt: format!("{a}+{b}="),
        hints: Hints {
            knowledge: "right to left, carry".into(),
            planning,
            solution: half_prefix(&solution),
        },
        solution,
        answer,
        checker: Checker::ReversedThenAnswer,
    }
}

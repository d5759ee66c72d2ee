//! Countdown: `3,5,7>22=`: reach the target from the numbers with + − × ÷, each number used at
//! most once, every intermediate result a whole number; the worked solution is a chain of steps
//! `5*3=15,15+7=22`.

use super::{half_prefix, Checker, Hints, Problem};
use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

pub(super) fn problem(rng: &mut ChaCha8Rng, count: u32) -> Problem {
    let numbers: Vec<u64> = (0..count).map(|_| rng.gen_range(1..=9)).collect();
    let mut acc = numbers[0];
    let mut steps = Vec::new();
    let mut ops = Vec::new();
    for &n in &numbers[1..] {
        let mut choices = vec!['+'];
        if acc > n {
            choices.push('-');
        }
        if acc * n <= 999 {
            choices.push('*');
        }
        if n > 1 && acc.is_multiple_of(n) {
            choices.push('/');
        }
        let op = *choices.choose(rng).expect("+ is always there");
        let result = match op {
            '+' => acc + n,
            '-' => acc - n,
            '*' => acc * n,
            _ => acc / n,
        };
        steps.push(format!("{acc}{op}{n}={result}"));
        ops.push(op.to_string());
        acc = result;
    }
    let solution = steps.join(",");
    let first_step = if steps.len() > 1 {
        format!("{},", steps[0])
    } else {
        half_prefix(&solution)
    };
    let list = numbers
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(",");
    Problem {
        prompt: format!("{list}>{acc}="),
        answer: acc.to_string(),
        solution,
        hints: Hints {
            knowledge: "each number once".into(),
            planning: format!("ops {}", ops.join(" then ")),
            solution: first_step,
        },
        checker: Checker::Countdown,
    }
}

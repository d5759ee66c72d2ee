//! A list of numbers below 100, `5,31,9=`, to be written in ascending order: `5,9,31`.

use super::{half_prefix, Checker, Hints, Problem};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

fn join(xs: &[u32]) -> String {
    xs.iter().map(u32::to_string).collect::<Vec<_>>().join(",")
}

pub(super) fn problem(rng: &mut ChaCha8Rng, length: u32) -> Problem {
    let xs: Vec<u32> = (0..length).map(|_| rng.gen_range(0..100)).collect();
    let mut sorted = xs.clone();
    sorted.sort_unstable();
    let answer = join(&sorted);
    Problem {
        prompt: format!("{}=", join(&xs)),
        solution: answer.clone(),
        hints: Hints {
            knowledge: "ascending".into(),
            planning: format!(
                "{} numbers from {} to {}",
                length,
                sorted[0],
                sorted[sorted.len() - 1]
            ),
            solution: half_prefix(&answer),
        },
        answer,
        checker: Checker::Exact,
    }
}

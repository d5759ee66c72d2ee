//! Task files (JSON lines, one [`TaskRecord`] a line) and the supervised text made from them.

use super::{guided_prompt, HintTier, Split, TaskRecord};
use lmlab_core::atomic::write_bytes_atomically;
use lmlab_core::{Error, Result};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;
use std::path::Path;

/// Writes `records` to `path` atomically, one JSON object a line.
pub fn write_tasks(path: &Path, records: &[TaskRecord]) -> Result<()> {
    let mut text = String::new();
    for r in records {
        text.push_str(&serde_json::to_string(r).expect("a record serializes"));
        text.push('\n');
    }
    write_bytes_atomically(path, text.as_bytes())
}

/// Reads a task file. A record that is not a task (a missing field such as `answer` or
/// `checker`, an unknown checker or kind), or whose own worked solution its checker refuses, is
/// refused with the file, the line and the reason; so is a file without records.
pub fn read_tasks(path: &Path) -> Result<Vec<TaskRecord>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let at = |m: String| Error::bad_file(path, format!("line {}: {m}", i + 1));
        let r: TaskRecord =
            serde_json::from_str(line).map_err(|e| at(format!("not a task record: {e}")))?;
        if !r.is_correct(&r.solution) {
            return Err(at(format!(
                "the worked solution {:?} fails its own checker `{}` for prompt {:?}",
                r.solution,
                serde_json::to_string(&r.checker)
                    .expect("checker serializes")
                    .trim_matches('"'),
                r.prompt
            )));
        }
        out.push(r);
    }
    if out.is_empty() {
        return Err(Error::bad_file(path, "no task records"));
    }
    Ok(out)
}

/// What `lmlab tasks sft` writes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SftOptions {
    /// The split whose records are written.
    pub split: Split,
    /// Fraction of records written a second time with a hint in front.
    pub hinted: f64,
    /// Seed of the hint draws.
    pub seed: u64,
    /// Only records of at most this difficulty (`None`: all): a start that has never seen the
    /// hard problems, for reinforcement learning to reach.
    pub max_difficulty: Option<u32>,
    /// Repeat the records of each difficulty `⌊most / count⌋` times (`most`: the count of the
    /// most common difficulty written), so a difficulty with few distinct problems (1-digit
    /// addition has 100) is not drowned out.
    pub balance: bool,
}

impl SftOptions {
    /// The records of `split`, every difficulty once, no hinted copies, seed 1.
    pub fn new(split: Split) -> SftOptions {
        SftOptions {
            split,
            hinted: 0.0,
            seed: 1,
            max_difficulty: None,
            balance: false,
        }
    }
}

/// The supervised text of the chosen records: one line per record, `prompt` then `solution`
/// (repeated when balancing); and for a fraction `hinted` of the lines (seeded) a second line with
/// a hint of a tier drawn uniformly in front (`[hint]prompt solution`), so the model knows the
/// form hints take.
pub fn sft_text(records: &[TaskRecord], o: &SftOptions) -> Result<String> {
    if !(0.0..=1.0).contains(&o.hinted) {
        return Err(Error::invalid(format!(
            "--hinted {}: a fraction in [0, 1]",
            o.hinted
        )));
    }
    let chosen: Vec<&TaskRecord> = records
        .iter()
        .filter(|r| r.split == o.split && o.max_difficulty.is_none_or(|d| r.difficulty <= d))
        .collect();
    let mut counts: BTreeMap<u32, usize> = BTreeMap::new();
    for r in &chosen {
        *counts.entry(r.difficulty).or_default() += 1;
    }
    let most = counts.values().copied().max().unwrap_or(0);
    let mut rng = ChaCha8Rng::seed_from_u64(o.seed);
    let mut text = String::new();
    for r in chosen {
        let copies = if o.balance {
            (most / counts[&r.difficulty]).max(1)
        } else {
            1
        };
        for _ in 0..copies {
            text.push_str(&r.prompt);
            text.push_str(&r.solution);
            text.push('\n');
            if rng.gen::<f64>() < o.hinted {
                let tier = HintTier::ALL[rng.gen_range(0..3)];
                text.push_str(&guided_prompt(&r.prompt, r.hints.tier(tier)));
                text.push_str(&r.solution);
                text.push('\n');
            }
        }
    }
    if text.is_empty() {
        let under = o
            .max_difficulty
            .map(|d| format!(" of difficulty at most {d}"))
            .unwrap_or_default();
        return Err(Error::invalid(format!(
            "no {:?} records{under} to write",
            o.split
        )));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tasks::{make, MakeOptions, TaskKind};

    #[test]
    fn bad_task_files_are_refused_by_line_and_field() {
        let dir = tempfile::tempdir().unwrap();
        let records = make(&MakeOptions {
            kind: TaskKind::Countdown,
            n: 3,
            seed: 1,
            max_difficulty: 3,
            split_seed: 0,
        })
        .unwrap();
        let path = dir.path().join("t.jsonl");
        write_tasks(&path, &records).unwrap();
        assert_eq!(read_tasks(&path).unwrap(), records);
        let good = serde_json::to_value(&records[0]).unwrap();
        for (field, expect) in [
            (
                "answer",
                "line 2: not a task record: missing field `answer`",
            ),
            (
                "checker",
                "line 2: not a task record: missing field `checker`",
            ),
        ] {
            let mut v = good.clone();
            v.as_object_mut().unwrap().remove(field);
            std::fs::write(&path, format!("{good}\n{v}\n")).unwrap();
            let e = read_tasks(&path).unwrap_err().to_string();
            assert!(e.contains(expect) && e.contains("t.jsonl"), "{e}");
        }
        let mut v = good.clone();
        v["checker"] = "regex".into();
        std::fs::write(&path, format!("{v}\n")).unwrap();
        let e = read_tasks(&path).unwrap_err().to_string();
        assert!(
            e.contains("line 1") && e.contains("unknown variant `regex`"),
            "{e}"
        );
        let mut v = good.clone();
        v["solution"] = "1+1=3".into();
        std::fs::write(&path, format!("{v}\n")).unwrap();
        let e = read_tasks(&path).unwrap_err().to_string();
        assert!(e.contains("fails its own checker `countdown`"), "{e}");
        std::fs::write(&path, "\n").unwrap();
        assert!(read_tasks(&path)
            .unwrap_err()
            .to_string()
            .contains("no task records"));
    }

    #[test]
    fn sft_text_holds_the_split_and_hinted_copies() {
        let records = make(&MakeOptions {
            kind: TaskKind::Addition,
            n: 200,
            seed: 2,
            max_difficulty: 3,
            split_seed: 0,
        })
        .unwrap();
        let train = SftOptions::new(Split::Train);
        let plain = sft_text(&records, &train).unwrap();
        let n_train = records.iter().filter(|r| r.split == Split::Train).count();
        assert_eq!(plain.lines().count(), n_train);
        assert!(plain.lines().all(|l| !l.starts_with('[')));
        let all_hinted = SftOptions {
            hinted: 1.0,
            ..train
        };
        let hinted = sft_text(&records, &all_hinted).unwrap();
        assert_eq!(hinted.lines().count(), 2 * n_train);
        assert_eq!(hinted, sft_text(&records, &all_hinted).unwrap());
        let e = sft_text(
            &records,
            &SftOptions {
                hinted: 1.5,
                ..train
            },
        )
        .unwrap_err();
        assert!(e.to_string().contains("--hinted 1.5"), "{e}");
    }

    #[test]
    fn sft_text_filters_by_difficulty_and_balances() {
        let records = make(&MakeOptions {
            kind: TaskKind::Addition,
            n: 600,
            seed: 2,
            max_difficulty: 3,
            split_seed: 0,
        })
        .unwrap();
        let count = |d: u32| {
            records
                .iter()
                .filter(|r| r.split == Split::Train && r.difficulty == d)
                .count()
        };
        let lines_of = |text: &str, d: usize| {
            // `a+b=` with both operands of `d` digits: the prompt is 2d + 2 characters.
            text.lines()
                .filter(|l| l.find('=') == Some(2 * d + 1))
                .count()
        };
        let easy = SftOptions {
            max_difficulty: Some(2),
            ..SftOptions::new(Split::Train)
        };
        let text = sft_text(&records, &easy).unwrap();
        assert_eq!(text.lines().count(), count(1) + count(2));
        assert_eq!(lines_of(&text, 3), 0);
        let balanced = sft_text(
            &records,
            &SftOptions {
                balance: true,
                ..easy
            },
        )
        .unwrap();
        let copies = count(2) / count(1);
        assert!(copies > 1, "{} and {}", count(1), count(2));
        assert_eq!(lines_of(&balanced, 1), copies * count(1));
        assert_eq!(lines_of(&balanced, 2), count(2));
        let e = sft_text(
            &records,
            &SftOptions {
                max_difficulty: Some(0),
                ..easy
            },
        )
        .unwrap_err();
        assert!(e.to_string().contains("of difficulty at most 0"), "{e}");
    }
}

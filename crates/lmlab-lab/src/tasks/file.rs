//! Task files (JSON lines, one [`TaskRecord`] a line) and the supervised text made from them.

use super::{guided_prompt, HintTier, Split, TaskRecord};
use lmlab_core::atomic::write_bytes_atomically;
use lmlab_core::{Error, Result};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
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

/// The supervised text of the records of `split`: one line per record, `prompt` then `solution`;
/// and for a fraction `hinted` of them (seeded) a second line with a hint of a tier drawn
/// uniformly in front (`[hint]prompt solution`), so the model knows the form hints take.
pub fn sft_text(records: &[TaskRecord], split: Split, hinted: f64, seed: u64) -> Result<String> {
    if !(0.0..=1.0).contains(&hinted) {
        return Err(Error::invalid(format!(
            "--hinted {hinted}: a fraction in [0, 1]"
        )));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut text = String::new();
    for r in records.iter().filter(|r| r.split == split) {
        text.push_str(&r.prompt);
        text.push_str(&r.solution);
        text.push('\n');
        if rng.gen::<f64>() < hinted {
            let tier = HintTier::ALL[rng.gen_range(0..3)];
            text.push_str(&guided_prompt(&r.prompt, r.hints.tier(tier)));
            text.push_str(&r.solution);
            text.push('\n');
        }
    }
    if text.is_empty() {
        return Err(Error::invalid(format!("no {split:?} records to write")));
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
        let plain = sft_text(&records, Split::Train, 0.0, 1).unwrap();
        let train = records.iter().filter(|r| r.split == Split::Train).count();
        assert_eq!(plain.lines().count(), train);
        assert!(plain.lines().all(|l| !l.starts_with('[')));
        let hinted = sft_text(&records, Split::Train, 1.0, 1).unwrap();
        assert_eq!(hinted.lines().count(), 2 * train);
        assert_eq!(hinted, sft_text(&records, Split::Train, 1.0, 1).unwrap());
        assert!(sft_text(&records, Split::Train, 1.5, 1).is_err());
    }
}

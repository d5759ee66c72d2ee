//! Greedy soup (Wortsman et al. 2022): the members ranked by validation bits per byte, the best
//! one first; each next member joins when the uniform average of the soup with it scores no worse
//! on the validation text than the soup without it.

use super::config::MergePlan;
use super::LoadedRun;
use crate::lm::model_from_parts;
use lmlab_core::corpus::Corpus;
use lmlab_core::evaluate::evaluate;
use lmlab_core::{Result, Tokenizer};

/// One member's place in the greedy soup.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Candidate {
    /// The member's run directory.
    pub run: String,
    /// Its own validation bits per byte.
    pub bits_per_byte: f64,
    /// The soup's bits per byte with it added (the member's own for the first).
    pub soup_bits_per_byte: f64,
    /// Whether it joined the soup.
    pub joined: bool,
}

/// The chosen soup's parameters and the log of candidates in ranked order.
pub struct GreedySoup {
    /// The uniform average of the members that joined.
    pub params: Vec<f32>,
    /// Every member, best first.
    pub candidates: Vec<Candidate>,
}

/// Builds the greedy soup of `members` on `plan.validation`.
pub fn greedy_soup(
    plan: &MergePlan,
    members: &[LoadedRun],
    tokenizer: &dyn Tokenizer,
) -> Result<GreedySoup> {
    let path = plan.validation.as_deref().expect("checked by the plan");
    let corpus = Corpus::open(path)?;
    let config = &members[0].checkpoint.config;
    let score = |params: Vec<f32>| -> Result<f64> {
        let tok = lmlab_tokenize::tokenizer_from_json(&tokenizer.to_json())?;
        let model = model_from_parts(config.clone(), params, tok, 0)?;
        let eval = evaluate(
            model.as_ref(),
            &corpus,
            config.sequence_mode(),
            false,
            &|_, _| {},
        );
        Ok(eval.totals.bits_per_byte())
    };
    let mut ranked: Vec<(usize, f64)> = members
        .iter()
        .enumerate()
        .map(|(i, m)| Ok((i, score(m.checkpoint.params.clone())?)))
        .collect::<Result<_>>()?;
    ranked.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
    let mut soup: Vec<usize> = Vec::new();
    let mut best = f64::INFINITY;
    let mut params = Vec::new();
    let mut candidates = Vec::new();
    for &(i, own) in &ranked {
        let mut trial = soup.clone();
        trial.push(i);
        let mean = uniform_mean(members, &trial);
        let with = if trial.len() == 1 {
            own
        } else {
            score(mean.clone())?
        };
        let joined = with <= best;
        if joined {
            soup = trial;
            best = with;
            params = mean;
        }
        candidates.push(Candidate {
            run: members[i].run_dir.display().to_string(),
            bits_per_byte: own,
            soup_bits_per_byte: with,
            joined,
        });
    }
    Ok(GreedySoup { params, candidates })
}

/// The element-wise mean of the chosen members' parameters.
fn uniform_mean(members: &[LoadedRun], chosen: &[usize]) -> Vec<f32> {
    let members: Vec<super::tensor::Member<'_>> = chosen
        .iter()
        .map(|&i| super::tensor::Member {
            values: &members[i].checkpoint.params,
            weight: 1.0,
            density: 1.0,
        })
        .collect();
    super::tensor::linear(&members, true)
}

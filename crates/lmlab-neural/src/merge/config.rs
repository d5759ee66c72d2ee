//! The merge configuration: the subset of mergekit's YAML the methods here use, so a mergekit
//! user's file works as it is. Unknown keys, unknown methods and values of the wrong type are
//! refused with their name; the defaults of each method are mergekit's.

use lmlab_core::{Error, Result};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The merge methods.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MergeMethod {
    /// Weighted average (a model soup).
    Linear,
    /// Members added in order of their validation score while the soup's score does not get
    /// worse, then averaged uniformly (lmlab's addition; mergekit has no such method).
    GreedySoup,
    /// `base + λ Σ wᵢ (xᵢ − base)`.
    TaskArithmetic,
    /// Task vectors trimmed to a density by magnitude, sign elected, agreeing deltas averaged.
    Ties,
    /// Task vectors thinned at random to a density, then added as task arithmetic.
    DareLinear,
    /// Task vectors thinned at random to a density, then merged as TIES.
    DareTies,
    /// Spherical interpolation between two models.
    Slerp,
}

/// A merge configuration file as written.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MergeConfig {
    /// The method.
    pub merge_method: MergeMethod,
    /// The model task vectors are taken against (SLERP's t = 0 end).
    #[serde(default)]
    pub base_model: Option<PathBuf>,
    /// The members.
    pub models: Vec<MemberConfig>,
    /// Method-wide parameters.
    #[serde(default)]
    pub parameters: MethodParameters,
    /// The number type of the output; lmlab computes and writes `float32` only.
    #[serde(default)]
    pub dtype: Option<String>,
}

/// One `models:` entry.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberConfig {
    /// A run directory (or its `checkpoint.safetensors`).
    pub model: PathBuf,
    /// Its parameters.
    #[serde(default)]
    pub parameters: MemberParameters,
}

/// Per-model parameters (scalars; mergekit's per-layer gradients are not supported).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberParameters {
    /// Weight in the merge.
    pub weight: Option<f64>,
    /// Fraction of the task vector kept (TIES, DARE), in (0, 1].
    pub density: Option<f64>,
}

/// Method-wide parameters.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MethodParameters {
    /// Divide by the sum of the weights.
    pub normalize: Option<bool>,
    /// Scale of the mixed task vector.
    pub lambda: Option<f64>,
    /// Rescale thinned task vectors to their L1 norm before thinning.
    pub rescale: Option<bool>,
    /// SLERP's interpolation factor.
    pub t: Option<f64>,
    /// mergekit's memory saving for TIES masks; it does not change the result.
    pub int8_mask: Option<bool>,
    /// Greedy soup: the validation text the members and soups are scored on.
    pub validation: Option<PathBuf>,
}

/// One member with its parameters resolved.
#[derive(Clone, Debug, PartialEq)]
pub struct Member {
    /// The run directory.
    pub run_dir: PathBuf,
    /// Weight.
    pub weight: f64,
    /// Density in (0, 1].
    pub density: f64,
}

/// A checked configuration: the method, the base (when the method has one), the members other
/// than the base, and the method's parameters with mergekit's defaults filled in.
#[derive(Clone, Debug, PartialEq)]
pub struct MergePlan {
    /// The method.
    pub method: MergeMethod,
    /// The base run directory (task-vector methods and SLERP).
    pub base: Option<PathBuf>,
    /// The members, in the file's order, without the base.
    pub members: Vec<Member>,
    /// Divide by the sum of the weights.
    pub normalize: bool,
    /// Scale of the mixed delta.
    pub lambda: f64,
    /// L1 rescaling of thinned task vectors.
    pub rescale: bool,
    /// SLERP's factor.
    pub t: f64,
    /// Greedy soup's validation text.
    pub validation: Option<PathBuf>,
}

impl MergeConfig {
    /// Reads and parses a YAML configuration file.
    pub fn load(path: &Path) -> Result<MergeConfig> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        serde_yaml_ng::from_str(&text).map_err(|e| Error::bad_file(path, e.to_string()))
    }

    /// Checks the configuration and fills in each method's defaults.
    pub fn plan(&self) -> Result<MergePlan> {
        use MergeMethod::*;
        let m = self.merge_method;
        let bad = |msg: String| Error::invalid(format!("merge config: {msg}"));
        if let Some(dtype) = self.dtype.as_deref().filter(|d| *d != "float32") {
            return Err(bad(format!(
                "dtype `{dtype}`: lmlab merges and writes float32 only"
            )));
        }
        let needs_base = matches!(m, TaskArithmetic | Ties | DareLinear | DareTies | Slerp);
        if needs_base && self.base_model.is_none() {
            return Err(bad(format!("{} needs a base_model", name(m))));
        }
        if !needs_base && self.base_model.is_some() {
            return Err(bad(format!("{} takes no base_model", name(m))));
        }
        let p = &self.parameters;
        let allowed: &[(&str, bool)] = &[
            ("normalize", p.normalize.is_some()),
            ("lambda", p.lambda.is_some()),
            ("rescale", p.rescale.is_some()),
            ("t", p.t.is_some()),
            ("validation", p.validation.is_some()),
        ];
        let takes = |key: &str| match key {
            "normalize" => m != Slerp && m != GreedySoup,
            "lambda" | "rescale" => needs_base && m != Slerp,
            "t" => m == Slerp,
            "validation" => m == GreedySoup,
            _ => false,
        };
        if let Some((key, _)) = allowed.iter().find(|(k, set)| *set && !takes(k)) {
            return Err(bad(format!(
                "parameters.{key} is not a parameter of {}",
                name(m)
            )));
        }
        let base = self.base_model.clone();
        let mut members = Vec::new();
        for (i, entry) in self.models.iter().enumerate() {
            if base.as_deref().is_some_and(|b| same_path(b, &entry.model)) {
                continue;
            }
            let weight = match entry.parameters.weight {
                Some(w) if w.is_finite() => w,
                Some(w) => return Err(bad(format!("models[{i}].parameters.weight is {w}"))),
                None if matches!(m, Slerp | GreedySoup) => 1.0,
                None => {
                    return Err(bad(format!(
                        "models[{i}] ({}) needs parameters.weight for {}",
                        entry.model.display(),
                        name(m)
                    )))
                }
            };
            let density = entry.parameters.density.unwrap_or(1.0);
            if entry.parameters.density.is_some() && !matches!(m, Ties | DareLinear | DareTies) {
                return Err(bad(format!(
                    "models[{i}].parameters.density is not a parameter of {}",
                    name(m)
                )));
            }
            if !(density > 0.0 && density <= 1.0) {
                return Err(bad(format!(
                    "models[{i}].parameters.density is {density}; it must be in (0, 1] \
                     (the fraction of the task vector kept)"
                )));
            }
            members.push(Member {
                run_dir: entry.model.clone(),
                weight,
                density,
            });
        }
        let wanted = match m {
            Slerp => Some(1),
            _ => None,
        };
        if members.is_empty() || wanted.is_some_and(|w| members.len() != w) {
            return Err(bad(format!(
                "{} merges {} besides the base; the file names {}",
                name(m),
                wanted.map_or("at least one model".to_string(), |w| format!("{w} model")),
                members.len()
            )));
        }
        let normalize = p.normalize.unwrap_or(matches!(m, Linear | Ties));
        if normalize {
            let total: f64 = members.iter().map(|x| x.weight).sum();
            if total.is_nan() || total <= 0.0 {
                return Err(bad(format!(
                    "the weights sum to {total}; normalizing needs a positive sum \
                     (or set parameters.normalize: false)"
                )));
            }
        }
        let t = p.t.unwrap_or(f64::NAN);
        if m == Slerp && !(0.0..=1.0).contains(&t) {
            return Err(bad(match p.t {
                None => "slerp needs parameters.t".to_string(),
                Some(t) => format!("parameters.t is {t}; it must be in [0, 1]"),
            }));
        }
        if m == GreedySoup && p.validation.is_none() {
            return Err(bad(
                "greedy_soup needs parameters.validation (a text file)".into()
            ));
        }
        let lambda = p.lambda.unwrap_or(1.0);
        if !lambda.is_finite() {
            return Err(bad(format!("parameters.lambda is {lambda}")));
        }
        Ok(MergePlan {
            method: m,
            base,
            members,
            normalize,
            lambda,
            rescale: p.rescale.unwrap_or(matches!(m, DareLinear | DareTies)),
            t,
            validation: p.validation.clone(),
        })
    }
}

/// The method's name as the configuration spells it.
pub fn name(m: MergeMethod) -> String {
    serde_json::to_value(m)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn same_path(a: &Path, b: &Path) -> bool {
    a == b || matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(yaml: &str) -> Result<MergePlan> {
        serde_yaml_ng::from_str::<MergeConfig>(yaml)
            .map_err(|e| Error::invalid(e.to_string()))?
            .plan()
    }

    #[test]
    fn ties_defaults_are_mergekits() {
        let p = plan(
            "merge_method: ties\nbase_model: base\nmodels:\n  - model: base\n  - model: a\n    \
             parameters: {weight: 0.5, density: 0.7}\n",
        )
        .unwrap();
        assert_eq!(p.members.len(), 1);
        assert_eq!(p.members[0].density, 0.7);
        assert!(p.normalize && !p.rescale);
        assert_eq!(p.lambda, 1.0);
    }

    #[test]
    fn unknown_keys_are_named() {
        let e =
            plan("merge_method: linear\nmodels: [{model: a, parameters: {weight: 1, gamma: 2}}]\n")
                .unwrap_err()
                .to_string();
        assert!(e.contains("unknown field `gamma`"), "{e}");
        let e = plan("merge_method: linear\nslices: []\nmodels: []\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown field `slices`"), "{e}");
        let e = plan("merge_method: nuslerp\nmodels: []\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown variant `nuslerp`"), "{e}");
        let e = plan("merge_method: linear\nmodels: [{model: a, parameters: {weight: 1}}]\nparameters: {t: 0.5}\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("parameters.t is not a parameter of linear"),
            "{e}"
        );
    }

    #[test]
    fn bad_values_are_refused_with_the_field() {
        let e = plan("merge_method: linear\nmodels: [{model: a, parameters: {weight: 1}}, {model: b, parameters: {weight: -1}}]\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("the weights sum to 0"), "{e}");
        for density in ["0", "1.5", "-0.1"] {
            let e = plan(&format!(
                "merge_method: ties\nbase_model: b\nmodels: [{{model: a, parameters: {{weight: 1, density: {density}}}}}]\n"
            ))
            .unwrap_err()
            .to_string();
            assert!(e.contains("models[0].parameters.density is"), "{e}");
        }
        let e =
            plan("merge_method: task_arithmetic\nmodels: [{model: a, parameters: {weight: 1}}]\n")
                .unwrap_err()
                .to_string();
        assert!(e.contains("task_arithmetic needs a base_model"), "{e}");
        let e = plan("merge_method: slerp\nbase_model: a\nmodels: [{model: a}, {model: b}, {model: c}]\nparameters: {t: 0.5}\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("slerp merges 1 model besides the base"), "{e}");
    }
}

//! The report's learning-dynamics section (issue 17): for each neural run whose folder holds
//! plots made by `lmlab analyze` (`MODEL/analysis/plots/*.svg`: the equi-learning law, the
//! agreement with a count-based model, the metrics against the step), those plots, the law and
//! agreement ones shown and the metrics' folded under a `<details>` element (one per metric, data
//! kind and component: many).

use super::html::{escape, figure};
use crate::agreement::AGREEMENT_FILE;
use crate::dynamics::{LAW_FILE, METRICS_FILE, PLOTS_DIR};
use crate::experiment::{run_dir, RunEntry};
use lmlab_core::{Error, Result};
use lmlab_neural::dynamics::capture;
use std::fmt::Write;
use std::path::Path;

/// The plots of one run's analysis.
#[derive(Clone, Debug, PartialEq)]
pub struct RunDynamics {
    /// The run's id.
    pub id: String,
    /// Its arm.
    pub arm: String,
    /// The law and agreement plots, `(file name, SVG)`, by name.
    pub headline: Vec<(String, String)>,
    /// The metrics' plots, `(file name, SVG)`, by name.
    pub metrics: Vec<(String, String)>,
    /// Which analyses the folder holds (`metrics.json`, `law.json`, `agreement.json`).
    pub files: Vec<&'static str>,
}

/// Whether a plot is one of the law's or the agreement's (the rest are metrics against the step).
fn is_headline(name: &str) -> bool {
    name == "law.svg" || name.starts_with("agreement-") || name == "kl-context.svg"
}

/// The analysis plots of the runs of `entries` in the experiment folder `dir` (runs without any
/// left out), in the entries' order.
pub fn run_dynamics(dir: &Path, entries: &[RunEntry]) -> Result<Vec<RunDynamics>> {
    let mut out = Vec::new();
    for e in entries {
        let analysis = run_dir(dir, &e.id)
            .join(&e.record.model_path)
            .join(capture::DIR);
        let plot_dir = analysis.join(PLOTS_DIR);
        // Count-based runs' models are files; neural runs without analysis have no such folder.
        if !plot_dir.is_dir() {
            continue;
        }
        let listing = std::fs::read_dir(&plot_dir).map_err(|e| Error::io(&plot_dir, e))?;
        let mut plots = Vec::new();
        for entry in listing {
            let path = entry.map_err(|e| Error::io(&plot_dir, e))?.path();
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            if name.ends_with(".svg") {
                let svg = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
                plots.push((name.to_string(), svg));
            }
        }
        if plots.is_empty() {
            continue;
        }
        plots.sort();
        let (headline, metrics) = plots.into_iter().partition(|(n, _)| is_headline(n));
        let files = [METRICS_FILE, LAW_FILE, AGREEMENT_FILE]
            .into_iter()
            .filter(|f| analysis.join(f).exists())
            .collect();
        out.push(RunDynamics {
            id: e.id.clone(),
            arm: e.arm.clone(),
            headline,
            metrics,
            files,
        });
    }
    Ok(out)
}

/// The section: nothing when no run has analysis plots.
pub fn section(h: &mut String, runs: &[RunDynamics]) {
    if runs.is_empty() {
        return;
    }
    h.push_str(
        "<h2>Learning dynamics</h2>\n<p class=\"note\">Plots made by <code>lmlab analyze</code> \
         in the runs' <code>analysis/</code> folders: He &amp; Su's prediction residual by layer \
         (<code>--law</code>), agreement with a count-based model by context length and step \
         (<code>--agree-with</code>), pico-analyze's metrics against the step \
         (<code>--metrics</code>).</p>\n",
    );
    for run in runs {
        let _ = writeln!(
            h,
            "<h3>Run {} (arm {})</h3>\n<p class=\"note\">{}</p>",
            escape(&run.id),
            escape(&run.arm),
            escape(&run.files.join(", "))
        );
        for (_, svg) in &run.headline {
            figure(h, &Some(svg.clone()), "");
        }
        if !run.metrics.is_empty() {
            let _ = writeln!(
                h,
                "<details><summary>{} metric plots</summary>",
                run.metrics.len()
            );
            for (_, svg) in &run.metrics {
                figure(h, &Some(svg.clone()), "");
            }
            h.push_str("</details>\n");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::store::tests::entry;

    #[test]
    fn runs_with_analysis_plots_get_a_section_with_them() {
        let dir = tempfile::tempdir().unwrap();
        let mut neural = entry("r-neural", "tf", Some(10.0), 1, 1.2);
        neural.record.model_path = "model".into();
        let plain = entry("r-plain", "kn", None, 1, 1.3);
        // A count-based run's model is a file.
        std::fs::create_dir_all(run_dir(dir.path(), "r-plain")).unwrap();
        std::fs::write(run_dir(dir.path(), "r-plain").join("model.lmlab"), "x").unwrap();
        let plots = run_dir(dir.path(), "r-neural").join("model/analysis/plots");
        std::fs::create_dir_all(&plots).unwrap();
        for (name, mark) in [
            ("law.svg", "LAW"),
            ("agreement-context.svg", "AGREE"),
            ("gini-weights-mlp.c_proj.svg", "GINI"),
        ] {
            let svg =
                format!("<svg xmlns=\"http://www.w3.org/2000/svg\"><text>{mark}</text></svg>");
            std::fs::write(plots.join(name), svg).unwrap();
        }
        std::fs::write(plots.join("notes.txt"), "not a plot").unwrap();
        std::fs::write(plots.parent().unwrap().join(LAW_FILE), "[]").unwrap();
        let runs = run_dynamics(dir.path(), &[plain, neural]).unwrap();
        assert_eq!(runs.len(), 1, "the run without analysis/ is left out");
        let run = &runs[0];
        let names = |v: &[(String, String)]| v.iter().map(|p| p.0.clone()).collect::<Vec<_>>();
        assert_eq!(names(&run.headline), ["agreement-context.svg", "law.svg"]);
        assert_eq!(names(&run.metrics), ["gini-weights-mlp.c_proj.svg"]);
        assert_eq!(run.files, [LAW_FILE]);

        let mut html = String::new();
        section(&mut html, &runs);
        assert!(html.contains("<h2>Learning dynamics</h2>"));
        assert!(html.contains("<h3>Run r-neural (arm tf)</h3>"));
        let details = html.find("<details>").unwrap();
        assert!(html.find("LAW").unwrap() < details && html.find("AGREE").unwrap() < details);
        assert!(html.find("GINI").unwrap() > details, "metrics folded");
        assert!(!html.contains("http://"), "no URL on the page");
        let mut empty = String::new();
        section(&mut empty, &[]);
        assert!(empty.is_empty());
    }
}

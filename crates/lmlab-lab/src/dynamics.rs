//! `lmlab analyze RUN` (issue 17): the analysis of a run's learning-dynamics checkpoints
//! ([`lmlab_neural::dynamics::analyze`]) written as `RUN/analysis/metrics.json` and plotted, one
//! SVG per metric, data kind and component with the metric against the step, a line per layer,
//! in `RUN/analysis/plots/`; with `--law`, He & Su's prediction residual per layer and its fitted
//! ratio per step as `RUN/analysis/law.json` and `plots/law.svg`.

use crate::experiment::report::plots::{arm_colour, canvas, draw_legend, svg_of, DrawResult, Mark};
use lmlab_core::atomic::write_bytes_atomically;
use lmlab_core::{Error, Result};
use lmlab_neural::dynamics::analyze::{analyze, Analysis, AnalyzeOptions};
use lmlab_neural::dynamics::capture::{self, AnalysisCheckpoint};
use lmlab_neural::dynamics::law::{self, LawFit};
use plotters::prelude::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The JSON file of the analysis, in the run's analysis folder.
pub const METRICS_FILE: &str = "metrics.json";
/// The folder of the plots, in the run's analysis folder.
pub const PLOTS_DIR: &str = "plots";
/// The JSON file of the equi-learning law, in the run's analysis folder.
pub const LAW_FILE: &str = "law.json";

/// What `law_run` wrote.
#[derive(Debug)]
pub struct LawOutput {
    /// The law per saved step.
    pub fits: Vec<LawFit>,
    /// `RUN/analysis/law.json`.
    pub json: PathBuf,
    /// `RUN/analysis/plots/law.svg`: PR against layer, a line per step.
    pub plot: PathBuf,
}

/// He & Su's equi-learning law at every saved step of `run_dir`, as JSON and a plot.
pub fn law_run(run_dir: &Path) -> Result<LawOutput> {
    let saved = capture::list(run_dir)?;
    if saved.is_empty() {
        // The same message as the metrics' analysis.
        analyze(run_dir, &AnalyzeOptions::default())?;
    }
    let fits = saved
        .iter()
        .map(|(_, path)| law::fit(&AnalysisCheckpoint::load(path)?))
        .collect::<Result<Vec<_>>>()?;
    let dir = run_dir.join(capture::DIR);
    let json = dir.join(LAW_FILE);
    let text = serde_json::to_string_pretty(&fits).expect("law serializes");
    write_bytes_atomically(&json, text.as_bytes())?;
    let lines: Vec<Line> = fits
        .iter()
        .map(|f| {
            let points = f
                .residuals
                .iter()
                .enumerate()
                .map(|(l, r)| (l as f64, *r))
                .filter(|p| p.1.is_finite());
            (format!("step {}", f.step), points.collect())
        })
        .collect();
    let plot_dir = dir.join(PLOTS_DIR);
    std::fs::create_dir_all(&plot_dir).map_err(|e| Error::io(&plot_dir, e))?;
    let title = "prediction residual (He & Su) by layer";
    let axes = Axes {
        x: "layer",
        y: "PR",
    };
    let plot = plot_dir.join("law.svg");
    write_line_plot(&plot, title, &axes, &lines)?;
    Ok(LawOutput { fits, json, plot })
}

/// The axis titles of a plot.
pub(crate) struct Axes<'a> {
    /// The x axis.
    pub x: &'a str,
    /// The y axis.
    pub y: &'a str,
}

/// One line of a plot: its legend entry and its points.
pub(crate) type Line = (String, Vec<(f64, f64)>);

/// What `analyze_run` wrote.
#[derive(Debug)]
pub struct AnalyzeOutput {
    /// The analysis itself.
    pub analysis: Analysis,
    /// `RUN/analysis/metrics.json`.
    pub json: PathBuf,
    /// The SVG plots.
    pub plots: Vec<PathBuf>,
}

/// Analyses `run_dir`, writes the JSON and the plots; `plot_heads` adds a plot per attention
/// head's OV circuit (otherwise the heads together only).
pub fn analyze_run(
    run_dir: &Path,
    options: &AnalyzeOptions,
    plot_heads: bool,
) -> Result<AnalyzeOutput> {
    let analysis = analyze(run_dir, options)?;
    let dir = run_dir.join(capture::DIR);
    let json = dir.join(METRICS_FILE);
    let text = serde_json::to_string_pretty(&analysis).expect("analysis serializes");
    write_bytes_atomically(&json, text.as_bytes())?;
    let plot_dir = dir.join(PLOTS_DIR);
    std::fs::create_dir_all(&plot_dir).map_err(|e| Error::io(&plot_dir, e))?;
    let mut plots = Vec::new();
    for ((metric, data, component), series) in series(&analysis) {
        if !plot_heads && component.contains(".head") {
            continue;
        }
        let title = format!("{metric} of {data} · {component}");
        let axes = Axes {
            x: "training step",
            y: metric,
        };
        let lines: Vec<Line> = series
            .into_iter()
            .map(|(layer, points)| (format!("layer {layer}"), points))
            .collect();
        let path = plot_dir.join(format!("{metric}-{data}-{component}.svg"));
        write_line_plot(&path, &title, &axes, &lines)?;
        plots.push(path);
    }
    Ok(AnalyzeOutput {
        analysis,
        json,
        plots,
    })
}

/// Key of one plot: metric, data kind, component.
type PlotKey<'a> = (&'static str, &'static str, &'a str);

/// Per plot, per layer, the finite `(step, value)` points in step order.
fn series(a: &Analysis) -> BTreeMap<PlotKey<'_>, BTreeMap<usize, Vec<(f64, f64)>>> {
    let mut out: BTreeMap<PlotKey<'_>, BTreeMap<usize, Vec<(f64, f64)>>> = BTreeMap::new();
    for step in &a.steps {
        for row in &step.values {
            let points = out
                .entry((row.metric, row.data, row.component.as_str()))
                .or_default()
                .entry(row.layer)
                .or_default();
            if row.value.0.is_finite() {
                points.push((step.step as f64, row.value.0));
            }
        }
    }
    out
}

/// A range covering `values`, widened a little (and made non-empty).
fn range(values: impl Iterator<Item = f64>) -> std::ops::Range<f64> {
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    if !lo.is_finite() {
        return 0.0..1.0;
    }
    let pad = ((hi - lo) * 0.05).max(hi.abs().max(1e-12) * 1e-3);
    (lo - pad)..(hi + pad)
}

/// Draws `lines` ([`draw_series`]) and writes the SVG to `path` atomically.
pub(crate) fn write_line_plot(
    path: &Path,
    title: &str,
    axes: &Axes<'_>,
    lines: &[Line],
) -> Result<()> {
    let svg = svg_of(|svg| draw_series(svg, title, axes, lines), title)?;
    write_bytes_atomically(path, svg.as_bytes())
}

/// A line per entry of `lines` (layers, steps, context lengths) through its points.
pub(crate) fn draw_series(
    svg: &mut String,
    title: &str,
    axes: &Axes<'_>,
    lines: &[Line],
) -> DrawResult {
    let all = || lines.iter().flat_map(|(_, p)| p.iter().copied());
    let (plot_area, legend_area) = canvas(svg)?;
    let mut chart = ChartBuilder::on(&plot_area)
        .caption(title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(range(all().map(|p| p.0)), range(all().map(|p| p.1)))?;
    chart
        .configure_mesh()
        .x_desc(axes.x)
        .y_desc(axes.y)
        .draw()?;
    let mut legend = Vec::new();
    for (i, (label, points)) in lines.iter().enumerate() {
        let colour = arm_colour(i);
        chart.draw_series(LineSeries::new(
            points.iter().copied(),
            colour.stroke_width(2),
        ))?;
        chart.draw_series(points.iter().map(|&p| Circle::new(p, 3, colour.filled())))?;
        legend.push((label.clone(), colour, Mark::Line(2)));
    }
    draw_legend(&legend_area, &legend)?;
    plot_area.present()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::recipe::Recipe;
    use lmlab_neural::dynamics::capture::{AnalysisBatch, AnalysisConfig};

    const RECIPE: &str = "[tokenizer]\nkind = \"bytes\"\n[model]\nfamily = \"transformer\"\n\
        n_layer = 2\nn_head = 2\nn_embd = 32\nblock_size = 32\n\
        [train]\nbatch_size = 8\nmax_steps = 100\nlearning_rate = 1e-3\nmin_lr = 1e-4\n";

    #[test]
    fn a_neural_recipe_takes_analysis_in_its_train_table() {
        let r = Recipe::parse(&format!(
            "{RECIPE}analysis = {{ every = 25, batch = \"valid\" }}\n"
        ))
        .unwrap();
        let expected = AnalysisConfig {
            every: 25,
            batch: AnalysisBatch::Valid,
        };
        assert_eq!(r.train.as_ref().unwrap().analysis, Some(expected));
        assert_eq!(Recipe::parse(&r.to_toml()).unwrap(), r);
        // Without it, a recipe writes what it wrote before (experiment run ids do not change).
        let plain = Recipe::parse(RECIPE).unwrap();
        assert!(!plain.to_toml().contains("analysis"));
        let err = Recipe::parse(&format!("{RECIPE}analysis = {{ every = 0 }}\n"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("train.analysis.every must be a positive number"),
            "{err}"
        );
    }
}

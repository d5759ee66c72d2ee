//! The report's plots as SVG strings (plotters' SVG backend; text is left to the browser):
//! bits per byte against training CPU-seconds with the compute frontier, learning curves, and the
//! fitted compute laws with their extrapolation.

use super::fit::PowerLaw;
use lmlab_core::{Error, Result};
use plotters::element::DashedPathElement;
use plotters::prelude::*;

/// Plot size in pixels, and the width of the legend column at its right.
const SIZE: (u32, u32) = (1000, 520);
const LEGEND_WIDTH: u32 = 290;

pub(crate) type DrawResult = std::result::Result<(), Box<dyn std::error::Error>>;
pub(crate) type Area<'a> = DrawingArea<SVGBackend<'a>, plotters::coord::Shift>;

/// How a legend entry is marked.
pub(crate) enum Mark {
    /// A line of this width.
    Line(u32),
    /// A dashed line.
    Dashed,
}

/// The legend, one entry per line down the column `area`: its mark, then its label.
pub(crate) fn draw_legend(area: &Area<'_>, entries: &[(String, RGBColor, Mark)]) -> DrawResult {
    for (i, (label, colour, mark)) in entries.iter().enumerate() {
        let y = 50 + 18 * i as i32;
        match mark {
            Mark::Line(width) => area.draw(&PathElement::new(
                [(0, y), (22, y)],
                colour.stroke_width(*width),
            ))?,
            Mark::Dashed => area.draw(&DashedPathElement::new(
                [(0, y), (22, y)],
                5,
                3,
                colour.stroke_width(2),
            ))?,
        }
        area.draw(&Text::new(label.as_str(), (28, y - 6), ("sans-serif", 12)))?;
    }
    Ok(())
}

/// Log axes are drawn as linear axes over log10 values, labelled with the values themselves
/// (plotters' own log axis leaves narrow ranges without labels).
fn lg((x, y): (f64, f64)) -> (f64, f64) {
    (x.log10(), y.log10())
}

/// The label of log10 value `v`: 10^v to three significant digits.
fn tick(v: &f64) -> String {
    let x = 10f64.powf(*v);
    match x {
        x if x >= 100.0 => format!("{x:.0}"),
        x if x >= 10.0 => format!("{x:.1}"),
        x if x >= 1.0 => format!("{x:.2}"),
        x => format!("{x:.3}"),
    }
}

/// The plot and legend areas of a fresh white canvas.
pub(crate) fn canvas(
    svg: &mut String,
) -> std::result::Result<(Area<'_>, Area<'_>), Box<dyn std::error::Error>> {
    let root = SVGBackend::with_string(svg, SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    Ok(root.split_horizontally(SIZE.0 - LEGEND_WIDTH))
}

/// Arm `i`'s colour: a ten-colour qualitative palette, then the same hues darker, then lighter,
/// so 30 arms have 30 colours (beyond that they repeat).
pub fn arm_colour(i: usize) -> RGBColor {
    const PALETTE: [RGBColor; 10] = [
        RGBColor(31, 119, 180),
        RGBColor(255, 127, 14),
        RGBColor(44, 160, 44),
        RGBColor(214, 39, 40),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
        RGBColor(227, 119, 194),
        RGBColor(127, 127, 127),
        RGBColor(188, 189, 34),
        RGBColor(23, 190, 207),
    ];
    let RGBColor(r, g, b) = PALETTE[i % PALETTE.len()];
    let shade = |c: u8| match (i / PALETTE.len()) % 3 {
        0 => c,
        1 => (c as f64 * 0.55) as u8,
        _ => (c as f64 + (255.0 - c as f64) * 0.5) as u8,
    };
    RGBColor(shade(r), shade(g), shade(b))
}

/// One arm's points on the compute plot.
pub struct ArmSeries {
    /// The arm's name.
    pub arm: String,
    /// Its runs: (training CPU-s, bits per byte).
    pub runs: Vec<(f64, f64)>,
    /// Per-budget means, in increasing CPU-s.
    pub means: Vec<(f64, f64)>,
}

/// One run's learning curve.
pub struct Curve {
    /// Index of its arm (its colour).
    pub arm: usize,
    /// (CPU-s, validation bits per byte).
    pub points: Vec<(f64, f64)>,
}

/// One arm's fitted law.
pub struct ArmFit {
    /// Index of its arm (its colour).
    pub arm: usize,
    /// The arm's name.
    pub name: String,
    /// The per-budget means it was fitted to.
    pub points: Vec<(f64, f64)>,
    /// The law.
    pub law: PowerLaw,
}

pub(crate) fn svg_of(draw: impl FnOnce(&mut String) -> DrawResult, what: &str) -> Result<String> {
    let mut svg = String::new();
    draw(&mut svg).map_err(|e| Error::invalid(format!("drawing {what}: {e}")))?;
    Ok(svg)
}

/// A log axis range (in log10) covering `values` (positive ones), widened a little.
fn log_range(values: impl Iterator<Item = f64>) -> std::ops::Range<f64> {
    let (lo, hi) = values
        .filter(|v| v.is_finite() && *v > 0.0)
        .fold((f64::INFINITY, 0.0f64), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if !lo.is_finite() {
        return -1.0..1.0;
    }
    let (lo, hi) = if hi / lo < 1.05 {
        (lo / 1.5, hi * 1.5)
    } else {
        (lo, hi)
    };
    (lo / 1.1).log10()..(hi * 1.1).log10()
}

/// The lower envelope of `points`: the runs that no cheaper run beats, in increasing CPU-s.
pub fn frontier(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut sorted: Vec<(f64, f64)> = points
        .iter()
        .copied()
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .collect();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    let mut best = f64::INFINITY;
    sorted
        .into_iter()
        .filter(|&(_, y)| {
            let better = y < best;
            best = best.min(y);
            better
        })
        .collect()
}

/// Bits per byte against training CPU-s, log-log: a line per arm through its per-budget means, a
/// marker per run, and the compute frontier.
pub fn compute_plot(arms: &[ArmSeries], metric: &str) -> Result<String> {
    svg_of(|svg| draw_compute(svg, arms, metric), "the compute plot")
}

fn draw_compute(svg: &mut String, arms: &[ArmSeries], metric: &str) -> DrawResult {
    let all: Vec<(f64, f64)> = arms.iter().flat_map(|a| a.runs.iter().copied()).collect();
    let (plot_area, legend_area) = canvas(svg)?;
    let mut chart = ChartBuilder::on(&plot_area)
        .caption(
            format!("{metric} against training compute"),
            ("sans-serif", 18),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(
            log_range(all.iter().map(|p| p.0)),
            log_range(all.iter().map(|p| p.1)),
        )?;
    chart
        .configure_mesh()
        .x_label_formatter(&tick)
        .y_label_formatter(&tick)
        .x_desc("training CPU-seconds (log scale)")
        .y_desc(format!("{metric} (log scale)"))
        .draw()?;
    let mut legend = Vec::new();
    let grey = RGBColor(140, 140, 140);
    chart.draw_series(LineSeries::new(
        frontier(&all).into_iter().map(lg),
        grey.stroke_width(6),
    ))?;
    legend.push((
        "compute frontier (best run so far)".to_string(),
        grey,
        Mark::Line(6),
    ));
    for (i, arm) in arms.iter().enumerate() {
        let colour = arm_colour(i);
        chart.draw_series(LineSeries::new(
            arm.means.iter().copied().map(lg),
            colour.stroke_width(2),
        ))?;
        chart.draw_series(
            arm.runs
                .iter()
                .map(|&p| Circle::new(lg(p), 3, colour.mix(0.8).filled())),
        )?;
        legend.push((arm.arm.clone(), colour, Mark::Line(2)));
    }
    draw_legend(&legend_area, &legend)?;
    plot_area.present()?;
    Ok(())
}

/// Validation bits per byte against CPU-s during training: a line per run, coloured by arm.
pub fn curves_plot(curves: &[Curve], arm_names: &[String]) -> Result<String> {
    svg_of(
        |svg| draw_curves(svg, curves, arm_names),
        "the learning curves",
    )
}

fn draw_curves(svg: &mut String, curves: &[Curve], arm_names: &[String]) -> DrawResult {
    let all = || curves.iter().flat_map(|c| c.points.iter().copied());
    let (plot_area, legend_area) = canvas(svg)?;
    let mut chart = ChartBuilder::on(&plot_area)
        .caption("learning curves", ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(log_range(all().map(|p| p.0)), log_range(all().map(|p| p.1)))?;
    chart
        .configure_mesh()
        .x_label_formatter(&tick)
        .y_label_formatter(&tick)
        .x_desc("training CPU-seconds (log scale)")
        .y_desc("validation bits per byte (log scale)")
        .draw()?;
    let mut legend = Vec::new();
    let mut labelled = vec![false; arm_names.len()];
    for curve in curves {
        let colour = arm_colour(curve.arm);
        chart.draw_series(LineSeries::new(
            curve.points.iter().copied().map(lg),
            colour.stroke_width(2),
        ))?;
        chart.draw_series(
            curve
                .points
                .iter()
                .map(|&p| Circle::new(lg(p), 3, colour.filled())),
        )?;
        if !std::mem::replace(&mut labelled[curve.arm], true) {
            legend.push((arm_names[curve.arm].clone(), colour, Mark::Line(2)));
        }
    }
    draw_legend(&legend_area, &legend)?;
    plot_area.present()?;
    Ok(())
}

/// Each fitted law: its budget means as markers, the law over the measured range as a solid line
/// and on to 10× the largest budget dashed, labelled as an extrapolation.
pub fn fit_plot(fits: &[ArmFit], metric: &str) -> Result<String> {
    svg_of(|svg| draw_fits(svg, fits, metric), "the compute-law plot")
}

/// `n` points from `from` to `to`, evenly spaced in log C.
fn log_points(law: &PowerLaw, from: f64, to: f64, n: usize) -> Vec<(f64, f64)> {
    (0..=n)
        .map(|i| {
            let c = from * (to / from).powf(i as f64 / n as f64);
            (c, law.at(c))
        })
        .collect()
}

fn draw_fits(svg: &mut String, fits: &[ArmFit], metric: &str) -> DrawResult {
    let spans: Vec<(f64, f64, f64)> = fits
        .iter()
        .map(|f| {
            let lo = f.points.iter().map(|p| p.0).fold(f64::INFINITY, f64::min);
            let hi = f.points.iter().map(|p| p.0).fold(0.0, f64::max);
            (lo, hi, hi * 10.0)
        })
        .collect();
    let mut ys: Vec<f64> = fits
        .iter()
        .flat_map(|f| f.points.iter().map(|p| p.1))
        .collect();
    for (f, &(lo, _, far)) in fits.iter().zip(&spans) {
        ys.extend(log_points(&f.law, lo, far, 40).into_iter().map(|p| p.1));
    }
    let xs = spans.iter().flat_map(|&(lo, _, far)| [lo, far]);
    let (plot_area, legend_area) = canvas(svg)?;
    let mut chart = ChartBuilder::on(&plot_area)
        .caption(
            "fitted L(C) = E + A·C^(−α), dashed: extrapolation",
            ("sans-serif", 16),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(log_range(xs), log_range(ys.into_iter()))?;
    chart
        .configure_mesh()
        .x_label_formatter(&tick)
        .y_label_formatter(&tick)
        .x_desc("training CPU-seconds (log scale)")
        .y_desc(format!("{metric} (log scale)"))
        .draw()?;
    let mut legend = Vec::new();
    for (f, &(lo, hi, far)) in fits.iter().zip(&spans) {
        let colour = arm_colour(f.arm);
        let law = f.law;
        chart.draw_series(LineSeries::new(
            log_points(&law, lo, hi, 40).into_iter().map(lg),
            colour.stroke_width(2),
        ))?;
        chart.draw_series(std::iter::once(DashedPathElement::new(
            log_points(&law, hi, far, 40).into_iter().map(lg),
            6,
            4,
            colour.stroke_width(2),
        )))?;
        chart.draw_series(
            f.points
                .iter()
                .map(|&p| Circle::new(lg(p), 4, colour.filled())),
        )?;
        let (x, y) = lg((far, law.at(far)));
        chart.draw_series(std::iter::once(Text::new(
            "extrapolation",
            (x - 0.25, y),
            ("sans-serif", 12).into_font().color(&colour),
        )))?;
        legend.push((
            format!(
                "{}: E={:.3} A={:.3} α={:.3}",
                f.name, law.e, law.a, law.alpha
            ),
            colour,
            Mark::Line(2),
        ));
        legend.push((
            format!("extrapolation to {:.1} CPU-s: {:.4}", far, law.at(far)),
            colour,
            Mark::Dashed,
        ));
    }
    draw_legend(&legend_area, &legend)?;
    plot_area.present()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thirty_arms_have_thirty_colours() {
        let colours: std::collections::BTreeSet<(u8, u8, u8)> = (0..30)
            .map(|i| {
                let RGBColor(r, g, b) = arm_colour(i);
                (r, g, b)
            })
            .collect();
        assert_eq!(colours.len(), 30);
    }

    #[test]
    fn the_frontier_keeps_the_runs_no_cheaper_run_beats() {
        let points = [(4.0, 1.0), (1.0, 3.0), (2.0, 3.5), (3.0, 2.0), (5.0, 1.2)];
        assert_eq!(frontier(&points), vec![(1.0, 3.0), (3.0, 2.0), (4.0, 1.0)]);
    }

    #[test]
    fn plots_draw_marks_and_labels() {
        let arms = [ArmSeries {
            arm: "tiny <b>".into(),
            runs: vec![(1.0, 3.0), (2.0, 2.5), (4.0, 2.2)],
            means: vec![(1.0, 3.0), (2.0, 2.5), (4.0, 2.2)],
        }];
        let svg = compute_plot(&arms, "test bits per byte").unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("<circle") && svg.contains("<polyline"));
        assert!(svg.contains("compute frontier"));
        assert!(
            svg.contains(">\n1.00\n<"),
            "log axes are labelled with values"
        );
        assert!(!svg.contains("<b>"), "text is escaped by the backend");
        let law = PowerLaw {
            e: 1.0,
            a: 2.0,
            alpha: 0.5,
            rmse: 0.0,
        };
        let fits = [ArmFit {
            arm: 0,
            name: "tiny".into(),
            points: vec![(1.0, 3.0), (2.0, law.at(2.0)), (4.0, 2.0)],
            law,
        }];
        let svg = fit_plot(&fits, "test bits per byte").unwrap();
        assert!(
            svg.contains("extrapolation") && svg.contains("stroke-dasharray")
                || svg.matches("<polyline").count() > 2
        );
    }
}

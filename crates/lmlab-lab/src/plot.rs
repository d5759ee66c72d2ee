//! Plots of results: the demo's leaderboard as a bar chart of bits per byte (SVG).

use crate::demo::LeaderboardRow;
use lmlab_core::{Error, Result};
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;

/// Pixels per leaderboard row.
const ROW_HEIGHT: u32 = 26;

/// Width of the chart, and of the legend column to its right, in pixels.
const CHART_WIDTH: u32 = 960;
const LEGEND_WIDTH: u32 = 320;

/// How a legend entry is marked: a filled swatch (a tokenizer's bars) or a line (a reference).
enum Mark {
    Swatch(RGBColor),
    Line(RGBColor),
}

/// One colour per tokenizer kind, so models over the same token stream read together.
fn tokenizer_colour(kind: &str) -> RGBColor {
    match kind {
        "words" => RGBColor(31, 119, 180),
        "bytes" => RGBColor(255, 127, 14),
        "bpe" => RGBColor(44, 160, 44),
        "scaffold-bpe" => RGBColor(148, 103, 189),
        _ => RGBColor(127, 127, 127),
    }
}

/// The tokenizer kinds of `rows`, in order of first appearance.
fn tokenizer_kinds<'a>(rows: &[&'a LeaderboardRow]) -> Vec<&'a str> {
    let mut kinds: Vec<&str> = Vec::new();
    for row in rows {
        if !kinds.contains(&row.tokenizer.as_str()) {
            kinds.push(&row.tokenizer);
        }
    }
    kinds
}

/// The leaderboard as a horizontal bar chart of test bits per byte (lower is better), best at the
/// top, each bar coloured by its tokenizer and labelled with its value; the legend stands in a
/// column to the right, clear of the bars. Reference rows (the uniform floors) are not bars: each is
/// a dashed vertical line when it falls inside the axis and a legend entry with its value either
/// way, so that the axis spans the real models only.
pub fn leaderboard_svg(rows: &[LeaderboardRow], title: &str) -> Result<String> {
    let mut svg = String::new();
    draw_leaderboard(&mut svg, rows, title)
        .map_err(|e| Error::invalid(format!("drawing the leaderboard: {e}")))?;
    Ok(svg)
}

fn draw_leaderboard(
    svg: &mut String,
    rows: &[LeaderboardRow],
    title: &str,
) -> std::result::Result<(), Box<dyn std::error::Error>> {
    let finite = |x: f64| if x.is_finite() { x } else { 0.0 };
    let (references, bars): (Vec<&LeaderboardRow>, Vec<&LeaderboardRow>) =
        rows.iter().partition(|r| r.reference);
    let max = bars
        .iter()
        .map(|r| finite(r.bits_per_byte))
        .fold(1.0, f64::max);
    let x_max = max * 1.15;
    let n = bars.len();
    let height = 110 + ROW_HEIGHT * n as u32;
    let root =
        SVGBackend::with_string(svg, (CHART_WIDTH + LEGEND_WIDTH, height)).into_drawing_area();
    root.fill(&WHITE)?;
    let (plot_area, legend_area) = root.split_horizontally(CHART_WIDTH);
    let mut legend = Vec::new();
    let mut chart = ChartBuilder::on(&plot_area)
        .caption(title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(300)
        .build_cartesian_2d(0.0..x_max, (0..n).into_segmented())?;
    // Row 0 (the best) at the top: segment i holds bar n - 1 - i.
    let bar_at = |segment: usize| bars.get(n.checked_sub(segment + 1)?).copied();
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(n)
        .y_label_formatter(&|v| match v {
            SegmentValue::CenterOf(i) => bar_at(*i).map(|r| r.name.clone()).unwrap_or_default(),
            _ => String::new(),
        })
        .x_desc("test bits per byte (lower is better)")
        .draw()?;
    for kind in tokenizer_kinds(&bars) {
        let colour = tokenizer_colour(kind);
        chart.draw_series((0..n).filter_map(|i| {
            let row = bar_at(i).filter(|r| r.tokenizer == kind)?;
            Some(Rectangle::new(
                [
                    (0.0, SegmentValue::Exact(i)),
                    (finite(row.bits_per_byte), SegmentValue::Exact(i + 1)),
                ],
                colour.mix(0.75).filled(),
            ))
        }))?;
        legend.push((kind.to_string(), Mark::Swatch(colour)));
    }
    chart.draw_series((0..n).filter_map(|i| {
        let row = bar_at(i)?;
        Some(Text::new(
            format!("{:.3}", row.bits_per_byte),
            (
                finite(row.bits_per_byte) + max * 0.01,
                SegmentValue::CenterOf(i),
            ),
            ("sans-serif", 12),
        ))
    }))?;
    for reference in references {
        let value = finite(reference.bits_per_byte);
        let colour = tokenizer_colour(&reference.tokenizer);
        let style = colour.stroke_width(2);
        let inside = value <= x_max;
        let line = inside.then(|| {
            DashedPathElement::new(
                [
                    (value, SegmentValue::Exact(0)),
                    (value, SegmentValue::Exact(n)),
                ],
                6,
                4,
                style,
            )
        });
        let label = if inside {
            format!("{}: {value:.3} (reference)", reference.name)
        } else {
            format!("{}: {value:.3} (reference, off the axis)", reference.name)
        };
        chart.draw_series(line)?;
        legend.push((label, Mark::Line(colour)));
    }
    draw_legend(&legend_area, &legend)?;
    root.present()?;
    Ok(())
}

/// The legend, one entry per line from the top of `area`: its mark, then its label.
fn draw_legend(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    entries: &[(String, Mark)],
) -> std::result::Result<(), Box<dyn std::error::Error>> {
    for (i, (label, mark)) in entries.iter().enumerate() {
        let y = 50 + 20 * i as i32;
        match mark {
            Mark::Swatch(colour) => {
                area.draw(&Rectangle::new([(0, y - 5), (12, y + 5)], colour.filled()))?
            }
            Mark::Line(colour) => {
                area.draw(&PathElement::new([(0, y), (12, y)], colour.stroke_width(2)))?
            }
        }
        area.draw(&Text::new(label.as_str(), (18, y - 6), ("sans-serif", 12)))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, tokenizer: &str, bits_per_byte: f64) -> LeaderboardRow {
        LeaderboardRow {
            name: name.into(),
            tokenizer: tokenizer.into(),
            bits_per_byte,
            perplexity: 1.0,
            word_perplexity: 1.0,
            test_oov: 0,
            train_cpu_seconds: 0.0,
            model_bytes: 0,
            parameters: 0,
            reference: name.starts_with("uniform"),
            model_file: None,
            valid_probs: None,
            test_probs: None,
        }
    }

    #[test]
    fn every_row_gets_a_labelled_bar() {
        let rows = [
            row("KN 7-gram / bytes", "bytes", 2.25),
            row("EM ensemble / words", "words", 2.5),
            row("ensemble without bytes", "bpe", f64::NAN),
        ];
        let svg = leaderboard_svg(&rows, "demo").unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..40]);
        for needle in [
            "KN 7-gram / bytes",
            "EM ensemble / words",
            "2.250",
            "2.500",
            "demo",
        ] {
            assert!(svg.contains(needle), "missing {needle}");
        }
        // Bars in their tokenizer's colour; a NaN value draws no bar but does not fail.
        assert!(svg.contains("#FF7F0E") && svg.contains("#1F77B4"));
        assert!(leaderboard_svg(&[], "empty").unwrap().contains("empty"));
    }

    /// The x coordinate of the right end of the bar labelled `value` (its text's x position).
    fn label_x(svg: &str, value: &str) -> f64 {
        let end = svg.find(&format!(">\n{value}\n<")).expect("label drawn");
        let text = &svg[svg[..end].rfind("<text").unwrap()..end];
        let x = &text[text.find("x=\"").unwrap() + 3..];
        x[..x.find('"').unwrap()].parse().unwrap()
    }

    #[test]
    fn legend_names_tokenizers_and_the_uniform_floor_does_not_squash_the_axis() {
        let rows = [
            row("KN 7-gram / bytes", "bytes", 2.0),
            row("IGTree K=3 / words", "words", 2.5),
            row("uniform / bytes", "bytes", 8.0),
        ];
        let svg = leaderboard_svg(&rows, "demo").unwrap();
        // The legend: one entry per tokenizer and the floor, with its value.
        for needle in [
            ">\nbytes\n<",
            ">\nwords\n<",
            "uniform / bytes: 8.000 (reference, off the axis)",
        ] {
            assert!(svg.contains(needle), "missing {needle}");
        }
        assert!(!svg.contains(">\n8.000\n<"), "the floor is no bar");
        // 2.0 and 2.5 are far apart: the axis ends near the worst real model, not at 8.
        let (a, b) = (label_x(&svg, "2.000"), label_x(&svg, "2.500"));
        assert!(b - a > 100.0, "2.0 at {a}, 2.5 at {b}");
        // A floor inside the axis is a dashed line (a path), named in the legend.
        let inside = [
            row("KN / words", "words", 2.0),
            row("uniform / words", "words", 2.2),
        ];
        let svg = leaderboard_svg(&inside, "demo").unwrap();
        assert!(svg.contains("uniform / words: 2.200 (reference)"));
    }
}

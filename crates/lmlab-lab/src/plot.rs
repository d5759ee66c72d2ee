//! Plots of results: the demo's leaderboard as a bar chart of bits per byte (SVG).

use crate::demo::LeaderboardRow;
use lmlab_core::{Error, Result};
use plotters::prelude::*;

/// Pixels per leaderboard row.
const ROW_HEIGHT: u32 = 26;

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

/// The leaderboard as a horizontal bar chart of test bits per byte (lower is better), best at the
/// top, each bar coloured by its tokenizer and labelled with its value.
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
    let max = rows
        .iter()
        .map(|r| finite(r.bits_per_byte))
        .fold(1.0, f64::max);
    let height = 90 + ROW_HEIGHT * rows.len() as u32;
    let root = SVGBackend::with_string(svg, (960, height)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(300)
        .build_cartesian_2d(0.0..max * 1.12, (0..rows.len()).into_segmented())?;
    // Row 0 (the best) at the top: segment i holds row len - 1 - i.
    let row_at = |segment: usize| rows.get(rows.len().checked_sub(segment + 1)?);
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(rows.len())
        .y_label_formatter(&|v| match v {
            SegmentValue::CenterOf(i) => row_at(*i).map(|r| r.name.clone()).unwrap_or_default(),
            _ => String::new(),
        })
        .x_desc("test bits per byte (lower is better)")
        .draw()?;
    chart.draw_series((0..rows.len()).filter_map(|i| {
        let row = row_at(i)?;
        let colour = tokenizer_colour(&row.tokenizer);
        Some(Rectangle::new(
            [
                (0.0, SegmentValue::Exact(i)),
                (finite(row.bits_per_byte), SegmentValue::Exact(i + 1)),
            ],
            colour.mix(0.75).filled(),
        ))
    }))?;
    chart.draw_series((0..rows.len()).filter_map(|i| {
        let row = row_at(i)?;
        Some(Text::new(
            format!("{:.3}", row.bits_per_byte),
            (
                finite(row.bits_per_byte) + max * 0.01,
                SegmentValue::CenterOf(i),
            ),
            ("sans-serif", 12),
        ))
    }))?;
    root.present()?;
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
            train_cpu_seconds: 0.0,
            model_bytes: 0,
            parameters: 0,
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
}

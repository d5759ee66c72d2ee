//! Draws bench/cdlm.sh's measurements: `cdlm_plot POINTS.json DIR` reads a JSON array of
//! `lmlab_lab::cdlm::TradeoffPoint`s and writes `DIR/cdlm-speed.svg` and `DIR/cdlm-ppl.svg`.

use lmlab_lab::cdlm::{write_tradeoff_plots, TradeoffPoint};
use std::path::Path;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, points, dir] = args.as_slice() else {
        return Err("usage: cdlm_plot POINTS.json DIR".into());
    };
    let text = std::fs::read_to_string(points)?;
    let points: Vec<TradeoffPoint> = serde_json::from_str(&text)?;
    for path in write_tradeoff_plots(&points, Path::new(dir))? {
        println!("wrote {}", path.display());
    }
    Ok(())
}

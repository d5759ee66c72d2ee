//! `lmlab results DIR --format table|csv|json`.

use crate::args::{ResultsArgs, ResultsFormat};
use lmlab_lab::experiment::results::{load, render_csv, render_json, render_table};
use std::io::Write;

pub fn run(args: ResultsArgs) -> anyhow::Result<()> {
    let results = load(&args.dir)?;
    let text = match args.format {
        ResultsFormat::Table => render_table(&results),
        ResultsFormat::Csv => render_csv(&results),
        ResultsFormat::Json => serde_json::to_string_pretty(&render_json(&results))? + "\n",
    };
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

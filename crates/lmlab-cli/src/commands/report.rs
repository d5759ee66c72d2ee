//! `lmlab report DIR -o report.html`.

use crate::args::ReportArgs;
use lmlab_lab::experiment::report::write_report;

pub fn run(args: ReportArgs) -> anyhow::Result<()> {
    let summary = write_report(&args.dir, &args.output)?;
    eprintln!("{summary}");
    println!("{}", args.output.display());
    Ok(())
}

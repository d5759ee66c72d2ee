//! The `lmlab` command: argument parsing and printing only; the work lives in the library crates.

mod args;
mod commands;
mod progress;

use clap::Parser;

fn main() {
    let cli = args::Cli::parse();
    if let Err(error) = commands::run(cli) {
        eprintln!("error: {error:#}");
        std::process::exit(1);
    }
}

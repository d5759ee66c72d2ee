//! The `lmlab` command: argument parsing and printing only; the work lives in the library crates.

mod args;
mod commands;
mod progress;

use clap::Parser;

fn main() {
    // Output piped into a reader that stops early (`lmlab results DIR | head`) ends the process
    // quietly, as other Unix tools do, instead of a panic on the next print.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = args::Cli::parse();
    // Ctrl-C / SIGTERM: training stops at a checkpoint; other commands remove their temporary files.
    if let Err(error) = lmlab_core::interrupt::install_handler() {
        eprintln!("warning: {error}");
    }
    if let Err(error) = commands::run(cli) {
        eprintln!("error: {error:#}");
        std::process::exit(1);
    }
}

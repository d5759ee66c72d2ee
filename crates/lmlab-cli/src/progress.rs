//! Progress bars on stderr (hidden automatically when stderr is not a terminal).

use indicatif::{ProgressBar, ProgressStyle};

/// A bar over `total` items with a message and the time left.
pub fn bar(total: u64, message: &str) -> ProgressBar {
    styled(total, message, "{msg} [{bar:30}] {pos}/{len} ({eta})")
}

/// A bar over `total` stages of unequal length: the time spent, since no time left can be told.
pub fn stage_bar(total: u64, message: &str) -> ProgressBar {
    styled(total, message, "{msg} [{bar:30}] {pos}/{len} ({elapsed})")
}

fn styled(total: u64, message: &str, template: &str) -> ProgressBar {
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template(template)
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_message(message.to_string());
    bar
}

/// A spinner for work of unknown length.
pub fn spinner(message: &str) -> ProgressBar {
    let spinner = ProgressBar::new_spinner();
    spinner.set_message(message.to_string());
    spinner.enable_steady_tick(std::time::Duration::from_millis(120));
    spinner
}

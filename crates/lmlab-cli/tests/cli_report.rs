//! `lmlab report`: a small real experiment (a tiny transformer at three budgets, two count-based
//! arms, a claim) reported as one self-contained page, then rendered by a headless Chromium when
//! one is installed.

mod common;

use common::{fails, ok, s};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A text of `lines` lines from a small grammar, the same on every call with the same `seed`.
fn synthetic_text(lines: usize, seed: u64) -> String {
    const SUBJECTS: [&str; 6] = [
        "the cat",
        "a dog",
        "the old man",
        "my sister",
        "a bird",
        "the king",
    ];
    const VERBS: [&str; 6] = ["sat on", "looked at", "ran to", "sang for", "found", "lost"];
    const OBJECTS: [&str; 6] = [
        "the mat",
        "a tree",
        "the river",
        "her friend",
        "the castle",
        "a song",
    ];
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut next = |n: usize| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 33) as usize) % n
    };
    let mut text = String::new();
    for _ in 0..lines {
        let clauses = 1 + next(2);
        for c in 0..clauses {
            if c > 0 {
                text.push_str(" and ");
            }
            text.push_str(SUBJECTS[next(6)]);
            text.push(' ');
            text.push_str(VERBS[next(6)]);
            text.push(' ');
            text.push_str(OBJECTS[next(6)]);
        }
        text.push_str(".\n");
    }
    text
}

const EXPERIMENT: &str = r#"
name = "report <test> & co"
hypothesis = "a 3-gram over bytes beats a <bigram> & \"more\""
claim = "arm:kn < arm:bigram on test.bits_per_byte at every budget"
budgets = [1, 2, 3]
seeds = [1]
eval_points = [0.5, 1.0]

[data]
train = "train.txt"
valid = "valid.txt"
test = "test.txt"

[[arm]]
name = "kn"
recipe = { model = { family = "ngram", order = 3, discount_fallback = [0.5, 1.0, 1.5] }, tokenizer = { kind = "bytes" } }

[[arm]]
name = "bigram"
recipe = { model = { family = "baseline" }, tokenizer = { kind = "bytes" } }

[[arm]]
name = "tiny"
[arm.recipe]
tokenizer = { kind = "bytes" }
model = { family = "transformer", n_layer = 1, n_head = 2, n_embd = 16, block_size = 16 }
train = { batch_size = 4, max_steps = 100000, learning_rate = 3e-3, min_lr = 3e-4, eval_iters = 1 }
"#;

/// Runs the experiment into `dir/out`; returns the experiment folder.
fn run_experiment(dir: &Path) -> PathBuf {
    std::fs::write(dir.join("train.txt"), synthetic_text(3000, 1)).unwrap();
    std::fs::write(dir.join("valid.txt"), synthetic_text(150, 2)).unwrap();
    std::fs::write(dir.join("test.txt"), synthetic_text(150, 3)).unwrap();
    let file = dir.join("exp.toml");
    std::fs::write(&file, EXPERIMENT).unwrap();
    let out = dir.join("out");
    ok(&["experiment", "run", s(&file), "--out", s(&out)]);
    out
}

/// The `<svg>...</svg>` elements of `html`.
fn svgs(html: &str) -> Vec<&str> {
    html.split("<svg")
        .skip(1)
        .map(|rest| &rest[..rest.find("</svg>").expect("every svg is closed")])
        .collect()
}

#[test]
fn report_of_a_real_experiment_has_the_verdict_plots_and_no_outside_resources() {
    let tmp = tempfile::tempdir().unwrap();
    let out = run_experiment(tmp.path());
    let page = tmp.path().join("report.html");
    let printed = ok(&["report", s(&out), "-o", s(&page)]);
    assert!(printed.contains("report.html"));
    let html = std::fs::read_to_string(&page).unwrap();

    // The hypothesis, escaped, and the verdict with an interval per budget.
    assert!(html.contains("a 3-gram over bytes beats a &lt;bigram&gt; &amp; &quot;more&quot;"));
    assert!(!html.contains("<bigram>") && !html.contains("<test>"));
    assert!(
        html.contains("Verdict: <strong>supported at every budget</strong>"),
        "{}",
        &html[html.find("Verdict").unwrap_or(0)..][..400.min(html.len())]
    );
    for budget in ["1 CPU-s", "2 CPU-s", "3 CPU-s"] {
        let row = html
            .lines()
            .find(|l| l.starts_with(&format!("<tr><td>{budget}</td>")) && l.contains('['))
            .unwrap_or_else(|| panic!("no verdict row at {budget}"));
        assert!(row.contains("supported"), "{row}");
    }

    // Three plots (compute, learning curves, fitted law), each with drawn marks.
    let plots = svgs(&html);
    assert_eq!(plots.len(), 3, "compute, curves, fit");
    for svg in &plots {
        assert!(
            svg.contains("<circle") && svg.contains("<polyline"),
            "a plot without marks"
        );
    }
    assert!(plots[0].contains("compute frontier"));
    assert!(plots[2].contains("extrapolation"));
    // The law is extrapolated to 10× the largest budget's CPU-s (a 3 CPU-s budget uses about 3).
    let far: f64 = html
        .split("<em>extrapolation</em> to ")
        .nth(1)
        .and_then(|rest| rest.split(" CPU-s").next())
        .and_then(|n| n.parse().ok())
        .expect("the extrapolation is named with its compute");
    assert!((29.0..40.0).contains(&far), "extrapolated to {far} CPU-s");

    // The table has every arm; the tiny arm at each budget.
    for row in [
        "<tr><td>bigram</td><td>no budget</td>",
        "<tr><td>kn</td>",
        "<tr><td>tiny</td><td>3 CPU-s</td>",
    ] {
        assert!(html.contains(row), "missing {row}");
    }

    // Provenance: version, the test text's digest.
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("experiment.json")).unwrap())
            .unwrap();
    let sha = state["data"]["test"]["sha256"].as_str().unwrap();
    assert!(html.contains(sha));
    assert!(html.contains(&format!("<th>lmlab</th><td>{}", env!("CARGO_PKG_VERSION"))));

    // Self-contained, readable without scripts.
    assert!(!html.to_lowercase().contains("<script"));
    assert!(!html.contains("http://") && !html.contains("https://"));

    // The same numbers on every run (the date aside).
    let again = tmp.path().join("again.html");
    ok(&["report", s(&out), "-o", s(&again)]);
    let numbers = |h: &str| h[..h.find("<h2>Provenance").unwrap()].to_string();
    assert_eq!(
        numbers(&html),
        numbers(&std::fs::read_to_string(&again).unwrap())
    );

    render_in_a_browser(&page, &html, tmp.path());
}

#[test]
fn a_folder_that_is_not_an_experiment_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let page = tmp.path().join("r.html");
    let err = fails(&["report", s(tmp.path()), "-o", s(&page)]);
    assert!(err.contains("is not an experiment folder"), "{err}");
    assert!(err.contains("experiment.json"), "{err}");
    let err = fails(&["report", s(&tmp.path().join("nope")), "-o", s(&page)]);
    assert!(err.contains("is not a folder"), "{err}");
    assert!(!page.exists());
}

/// The browser: `LMLAB_BROWSER` (`.ci/run` sets it), else the first of chromium,
/// chromium-browser, google-chrome on PATH. A browser that is found but fails fails the test.
fn browser() -> Option<String> {
    if let Some(set) = std::env::var("LMLAB_BROWSER")
        .ok()
        .filter(|b| !b.is_empty())
    {
        return Some(set);
    }
    let path = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find(|name| std::env::split_paths(&path).any(|dir| dir.join(name).is_file()))
        .map(|name| name.to_string())
}

/// Runs the browser headless with `args`, at most two minutes; its stdout and stderr (through
/// files: a DOM larger than a pipe's buffer would block a browser writing to an unread pipe).
fn headless(browser: &str, profile: &Path, args: &[&str]) -> (String, String) {
    let (out_path, err_path) = (
        profile.with_extension("stdout"),
        profile.with_extension("stderr"),
    );
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--disable-gpu",
            "--no-sandbox",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {browser}: {e}"));
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > Duration::from_secs(120) {
            child.kill().unwrap();
            let _ = child.wait();
            panic!("{browser} did not finish in 120 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let read = |p: &Path| String::from_utf8_lossy(&std::fs::read(p).unwrap()).into_owned();
    let (stdout, stderr) = (read(&out_path), read(&err_path));
    assert!(status.success(), "{browser} failed: {stderr}");
    (stdout, stderr)
}

/// Renders the page headless: the DOM keeps every plot with its marks, nothing failed to load,
/// and the screenshot shows the page with the arms' colours drawn.
fn render_in_a_browser(page: &Path, html: &str, tmp: &Path) {
    let Some(browser) = browser() else {
        lmlab_core::test_support::report_skip(
            "no chromium, chromium-browser or google-chrome on PATH: the report is not rendered \
             in a browser (apt-get install chromium, or set LMLAB_BROWSER)",
        );
        return;
    };
    let url = format!("file://{}", page.canonicalize().unwrap().display());
    let profile = tmp.join("browser-profile");

    let (dom, stderr) = headless(&browser, &profile, &["--dump-dom", &url]);
    assert!(
        !stderr.contains("net::ERR_"),
        "a resource failed to load: {stderr}"
    );
    assert!(
        dom.contains("Verdict:"),
        "the page did not load: {}",
        &dom[..dom.len().min(300)]
    );
    let (served, rendered) = (svgs(html), svgs(&dom));
    assert_eq!(rendered.len(), served.len(), "every plot survives parsing");
    for svg in rendered {
        assert!(
            svg.contains("<circle") && svg.contains("<polyline"),
            "a plot lost its marks"
        );
    }

    let png = tmp.join("report.png");
    let (_, stderr) = headless(
        &browser,
        &profile,
        &[
            &format!("--screenshot={}", png.display()),
            "--window-size=1200,3000",
            &url,
        ],
    );
    assert!(
        !stderr.contains("net::ERR_"),
        "a resource failed to load: {stderr}"
    );
    let bytes = std::fs::read(&png).unwrap_or_else(|e| panic!("no screenshot: {e}: {stderr}"));
    assert!(
        bytes.len() > 20_000,
        "a {} byte screenshot is nearly empty",
        bytes.len()
    );
    let mut reader = png::Decoder::new(std::io::Cursor::new(bytes))
        .read_info()
        .unwrap();
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let frame = reader.next_frame(&mut pixels).unwrap();
    assert_eq!((frame.width, frame.height), (1200, 3000));
    let channels = frame.color_type.samples();
    let rgb: Vec<[u8; 3]> = pixels[..frame.buffer_size()]
        .chunks(channels)
        .map(|p| [p[0], p[1], p[2]])
        .collect();
    let distinct: std::collections::HashSet<[u8; 3]> = rgb.iter().copied().collect();
    assert!(
        distinct.len() > 50,
        "only {} colours: a blank page",
        distinct.len()
    );
    // Each arm's colour (bigram, kn, tiny: the first three of the palette) is on screen.
    for colour in [[31u8, 119, 180], [255, 127, 14], [44, 160, 44]] {
        let near = |p: &[u8; 3]| (0..3).all(|i| p[i].abs_diff(colour[i]) <= 12);
        let count = rgb.iter().filter(|p| near(p)).count();
        assert!(count > 30, "colour {colour:?} drawn on {count} pixels only");
    }
}

//! pico-analyze's metrics in lmlab against pico-analyze's own code: `fixtures/dynamics/pico_metrics.json`
//! was written by `fixtures/dynamics/make_fixture.py` running pico's metric classes on fixed matrices.

use lmlab_neural::dynamics::{metrics, similarity, DataKind, Metric};
use nalgebra::DMatrix;
use serde_json::Value;

fn fixture() -> Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/dynamics/pico_metrics.json"
    ))
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

fn matrix(case: &Value, field: &str) -> DMatrix<f64> {
    let rows = case["rows"].as_u64().unwrap() as usize;
    let cols = case["cols"].as_u64().unwrap() as usize;
    let data: Vec<f64> = case[field]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    DMatrix::from_row_slice(rows, cols, &data)
}

/// The fixture's number, with pico's non-finite results written as "inf"/"nan".
fn expected(case: &Value, field: &str) -> f64 {
    match &case[field] {
        Value::String(s) if s == "inf" => f64::INFINITY,
        Value::String(s) if s == "nan" => f64::NAN,
        v => v.as_f64().unwrap(),
    }
}

fn assert_close(ours: f64, theirs: f64, tolerance: f64, what: &str) {
    let relative = (ours - theirs).abs() / theirs.abs().max(f64::MIN_POSITIVE);
    assert!(
        relative <= tolerance,
        "{what}: lmlab {ours} vs pico-analyze {theirs} (relative {relative:e})"
    );
}

#[test]
fn single_matrix_metrics_equal_pico_analyze() {
    let fixture = fixture();
    let cases = fixture["single"].as_array().unwrap();
    let mut compared = 0;
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let m = matrix(case, "data");
        let checks: [(&str, f64); 7] = [
            ("per", metrics::proportional_effective_rank(&m)),
            ("condition_number", metrics::condition_number(&m)),
            ("gini", metrics::gini(&m)),
            ("hoyer", metrics::hoyer(&m)),
            ("frobenius", metrics::frobenius_norm(&m)),
            ("nuclear", metrics::nuclear_norm(&m)),
            ("inf", metrics::infinity_norm(&m)),
        ];
        for (field, ours) in checks {
            let theirs = expected(case, field);
            if !theirs.is_finite() {
                continue; // the singular matrix, checked on its own below
            }
            assert_close(ours, theirs, 1e-6, &format!("{name} {field}"));
            compared += 1;
        }
    }
    assert_eq!(compared, 7 * cases.len() - 2);
}

#[test]
fn singular_matrix_has_infinite_condition_number_and_finite_rank() {
    let fixture = fixture();
    let case = fixture["single"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "singular4")
        .unwrap();
    let m = matrix(case, "data");
    // pico-analyze divides by an exact zero singular value here (inf) and takes 0·ln 0 (NaN).
    assert_eq!(expected(case, "condition_number"), f64::INFINITY);
    assert!(expected(case, "per").is_nan());
    assert_eq!(metrics::condition_number(&m), f64::INFINITY);
    let per = metrics::proportional_effective_rank(&m);
    assert!(per > 0.0 && per <= 0.5, "rank 2 of 4: PER {per}");
    // Numerically singular (a rounding-size smallest singular value) counts as singular too.
    let nearly = DMatrix::from_row_slice(2, 2, &[1.0, 2.0, 0.5, 1.0 + 1e-17]);
    assert_eq!(metrics::condition_number(&nearly), f64::INFINITY);
    assert_eq!(
        metrics::condition_number(&DMatrix::zeros(3, 3)),
        f64::INFINITY
    );
}

#[test]
fn cka_and_pwcca_equal_pico_analyze() {
    let fixture = fixture();
    for case in fixture["pairs"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let (x, y) = (matrix(case, "source"), matrix(case, "target"));
        let cka = similarity::cka(&x, &y).unwrap();
        let pwcca = similarity::pwcca(&x, &y).unwrap();
        assert_close(
            cka,
            expected(case, "cka_f64"),
            1e-9,
            &format!("{name} CKA (f64)"),
        );
        // pico's metric class casts to float32 before CKA: still within 1e-6.
        assert_close(
            cka,
            expected(case, "cka_metric_f32"),
            1e-6,
            &format!("{name} CKA"),
        );
        assert_close(
            pwcca,
            expected(case, "pwcca_f64"),
            1e-9,
            &format!("{name} PWCCA (f64)"),
        );
        assert_close(
            pwcca,
            expected(case, "pwcca_metric_f32"),
            1e-6,
            &format!("{name} PWCCA"),
        );
        if name == "related_centred" {
            // Centred activations: PWCCA does not depend on the SVD's signs.
            assert_close(
                pwcca,
                expected(case, "pwcca_lapack_signs"),
                1e-6,
                "centred PWCCA",
            );
        }
        // A checkpoint against itself.
        assert_close(similarity::cka(&x, &x).unwrap(), 1.0, 1e-12, "CKA(x, x)");
        assert_close(similarity::pwcca(&x, &x).unwrap(), 1.0, 1e-6, "PWCCA(x, x)");
    }
}

#[test]
fn comparative_metrics_refuse_mismatched_shapes() {
    let a = DMatrix::from_fn(10, 3, |i, j| (i * 3 + j) as f64 * 0.37 % 1.3);
    let b = DMatrix::from_fn(8, 3, |i, j| (i + j) as f64);
    let err = similarity::cka(&a, &b).unwrap_err().to_string();
    assert!(err.contains("10 samples and target 8"), "{err}");
    let wide = DMatrix::from_fn(3, 5, |i, j| (i * j) as f64);
    let err = similarity::pwcca(&wide, &wide).unwrap_err().to_string();
    assert!(err.contains("more samples than neurons"), "{err}");
}

#[test]
fn metric_names_parse_and_restrict_data_kinds() {
    for m in Metric::ALL {
        assert_eq!(Metric::parse(m.name()).unwrap(), m);
    }
    let err = Metric::parse("entropy").unwrap_err().to_string();
    assert!(
        err.contains("unknown metric 'entropy'") && err.contains("pwcca"),
        "{err}"
    );
    assert!(Metric::Cka.applies_to(DataKind::Activations));
    assert!(!Metric::Cka.applies_to(DataKind::Weights));
    assert!(!Metric::Per.applies_to(DataKind::Activations));
    assert!(Metric::Gini.applies_to(DataKind::Gradients));
    let m = DMatrix::identity(3, 3);
    let err = Metric::Cka.compute(&m, None).unwrap_err().to_string();
    assert!(err.contains("needs a target checkpoint"), "{err}");
}

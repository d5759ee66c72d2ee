//! `lmlab train transformer --precision bf16` (issue 20 §3): matrix products on bf16 operands where
//! the CPU has AVX512_BF16, a clear refusal where it has not; the precision recorded in the
//! checkpoint; the same seed and precision giving the same bytes.

mod common;
use common::{fails, neural_config, ok, s, texts, transformer_args};
use std::path::Path;

fn has_bf16() -> bool {
    #[cfg(target_arch = "x86_64")]
    return std::arch::is_x86_feature_detected!("avx512f")
        && std::arch::is_x86_feature_detected!("avx512bf16");
    #[cfg(not(target_arch = "x86_64"))]
    false
}

fn args(config: &Path, dir: &Path, out: &Path, precision: &str) -> Vec<String> {
    let mut args = transformer_args(dir, config, out);
    args.extend(["--precision".to_string(), precision.to_string()]);
    args
}

fn run(config: &Path, dir: &Path, name: &str, precision: &str) -> Vec<u8> {
    let out = dir.join(name);
    let a = args(config, dir, &out, precision);
    ok(&a.iter().map(String::as_str).collect::<Vec<_>>());
    std::fs::read(out.join("checkpoint.safetensors")).unwrap()
}

#[test]
fn bf16_trains_where_the_cpu_has_it_and_is_refused_elsewhere() {
    let dir = tempfile::tempdir().unwrap();
    let config = neural_config(dir.path(), "transformer", 2);
    if !has_bf16() {
        let out = dir.path().join("bf16");
        let a = args(&config, dir.path(), &out, "bf16");
        let err = fails(&a.iter().map(String::as_str).collect::<Vec<_>>());
        assert!(err.contains("AVX512_BF16"), "{err}");
        assert!(err.contains("precision f32"), "{err}");
        eprintln!("this CPU has no AVX512_BF16: only the refusal is tested here");
        return;
    }
    let first = run(&config, dir.path(), "a", "bf16");
    let again = run(&config, dir.path(), "b", "bf16");
    let f32_run = run(&config, dir.path(), "f", "f32");
    assert_eq!(
        first, again,
        "same seed and precision, same checkpoint bytes"
    );
    // The tensors' bytes, after safetensors' header (its length, then the JSON with the config).
    let tensors = |bytes: &[u8]| {
        let header = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
        bytes[8 + header..].to_vec()
    };
    assert_ne!(
        tensors(&first),
        tensors(&f32_run),
        "bf16 products train to other weights than f32 ones"
    );
    let recorded = |bytes: &[u8]| String::from_utf8_lossy(bytes).contains("precision");
    assert!(recorded(&first), "a bf16 checkpoint names its precision");
    assert!(
        !recorded(&f32_run),
        "an f32 checkpoint is as before the setting existed"
    );
}

#[test]
fn an_unknown_precision_is_refused_with_the_choices() {
    let dir = tempfile::tempdir().unwrap();
    let config = neural_config(dir.path(), "transformer", 2);
    let out = dir.path().join("x");
    let a = args(&config, dir.path(), &out, "fp8");
    let err = fails(&a.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(err.contains("precision must be f32 or bf16"), "{err}");
    let toml = std::fs::read_to_string(&config).unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        toml.replace("[train]\n", "[train]\nprecision = \"fp16\"\n"),
    )
    .unwrap();
    let (train, valid) = texts(dir.path());
    let err = fails(&[
        "train",
        "transformer",
        "--config",
        s(&bad),
        "--train",
        s(&train),
        "--valid",
        s(&valid),
        "-o",
        s(&out),
    ]);
    assert!(err.contains("fp16") && err.contains("bf16"), "{err}");
}

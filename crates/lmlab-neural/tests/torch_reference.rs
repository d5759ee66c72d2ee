//! The whole transformer against PyTorch: `tools/torch_reference_grads.py` wrote, for tiny fixed configs
//! and weights, the float64 loss and every parameter's gradient (tests/fixtures/*.safetensors); the
//! engine, in f64 on the same weights and tokens, must match them to 1e-4 relative.

use lmlab_neural::config::ModelConfig;
use lmlab_neural::model::{Transformer, Workspace};
use safetensors::SafeTensors;

fn f64s(t: &safetensors::tensor::TensorView<'_>) -> Vec<f64> {
    t.data()
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

fn check_fixture(name: &str) {
    let path = format!(
        "{}/tests/fixtures/{name}.safetensors",
        env!("CARGO_MANIFEST_DIR")
    );
    let bytes = std::fs::read(&path).unwrap();
    let st = SafeTensors::deserialize(&bytes).unwrap();
    let (_, header) = SafeTensors::read_metadata(&bytes).unwrap();
    let meta = header.metadata().clone().unwrap();
    let config: ModelConfig = serde_json::from_str(&meta["config"]).unwrap();
    let want_loss: f64 = meta["loss"].parse().unwrap();
    let b: usize = meta["batch"].parse().unwrap();
    let mut model = Transformer::<f64>::zeros(&config).unwrap();
    for spec in &model.layout.specs.clone() {
        let t = st.tensor(&format!("param.{}", spec.name)).unwrap();
        assert_eq!(t.shape(), spec.shape.as_slice(), "{}", spec.name);
        spec.span
            .of_mut(&mut model.params)
            .copy_from_slice(&f64s(&t));
    }
    let ids = |n: &str| -> Vec<u32> {
        st.tensor(n)
            .unwrap()
            .data()
            .chunks_exact(8)
            .map(|c| i64::from_le_bytes(c.try_into().unwrap()) as u32)
            .collect()
    };
    let (tokens, targets) = (ids("tokens"), ids("targets"));
    let t = tokens.len() / b;
    let mut ws = Workspace::new(&config, b, t);
    let (sum, count) = model.forward(&mut ws, &tokens, Some(&targets), None);
    let loss = sum / count as f64;
    assert!(
        (loss - want_loss).abs() <= 1e-4 * want_loss.abs(),
        "{name}: loss {loss} vs PyTorch {want_loss}"
    );
    let mut grads = vec![0.0; model.params.len()];
    model.backward(
        &mut ws,
        &mut grads,
        &tokens,
        &targets,
        None,
        1.0 / count as f64,
    );
    let mut worst: f64 = 0.0;
    for spec in &model.layout.specs {
        let want = f64s(&st.tensor(&format!("grad.{}", spec.name)).unwrap());
        let got = spec.span.of(&grads);
        let scale = want.iter().fold(0.0f64, |m, x| m.max(x.abs())).max(1e-12);
        for (g, w) in got.iter().zip(&want) {
            let rel = (g - w).abs() / scale;
            worst = worst.max(rel);
            assert!(
                rel <= 1e-4,
                "{name}: gradient of {} differs: {g} vs {w}",
                spec.name
            );
        }
    }
    eprintln!(
        "{name}: loss {loss:.12} (PyTorch {want_loss:.12}), worst gradient error {worst:.2e} of each tensor's largest"
    );
}

#[test]
fn layernorm_gelu_learned_tied_matches_pytorch() {
    check_fixture("gpt_ln_gelu_learned_tied");
}

#[test]
fn rmsnorm_swiglu_rope_untied_matches_pytorch() {
    check_fixture("gpt_rms_swiglu_rope_untied");
}

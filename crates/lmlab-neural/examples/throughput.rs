//! Training throughput of the engine on the configuration of `../shared/tools/torch_reference_gpt.py`:
//! byte-level pre-LN GPT, GELU (tanh), tied embeddings, biases, AdamW (lr 1e-3, betas 0.9/0.95,
//! weight decay 0.1), random windows of the first 90% of FILE. The first 10 steps are not timed.
//!
//! Usage: `cargo run --release -p lmlab-neural --example throughput -- FILE [n_layer d n_head seq batch steps]`
//! (defaults 2 128 4 128 16 300, as the PyTorch script). Threads: RAYON_NUM_THREADS (default: all cores).

use lmlab_core::compute::peak_rss_bytes;
use lmlab_neural::config::{Arch, Mlp, ModelConfig, Norm, Positions, RunConfig};
use lmlab_neural::data::Batcher;
use lmlab_neural::model::{Transformer, Workspace};
use lmlab_neural::optim::AdamW;
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let a: Vec<String> = std::env::args().collect();
    let file = a
        .get(1)
        .ok_or("usage: throughput FILE [n_layer d n_head seq batch steps]")?;
    let p = |i: usize, d: usize| a.get(i).map_or(Ok(d), |s| s.parse::<usize>());
    let (n_layer, d, n_head, seq, bsz, steps) = (
        p(2, 2)?,
        p(3, 128)?,
        p(4, 4)?,
        p(5, 128)?,
        p(6, 16)?,
        p(7, 300)?,
    );
    let bytes = std::fs::read(file)?;
    let train: Vec<u32> = bytes[..bytes.len() * 9 / 10]
        .iter()
        .map(|&b| b as u32)
        .collect();
    let model_config = ModelConfig {
        arch: Arch::Transformer,
        vocab_size: 256,
        n_layer,
        n_head,
        n_embd: d,
        d_ff: 0,
        block_size: seq,
        norm: Norm::LayerNorm,
        mlp: Mlp::Gelu,
        positions: Positions::Learned,
        tied_head: true,
        bias: true,
        dropout: 0.0,
    };
    let tc = RunConfig::parse(&format!(
        "[model]\nn_layer={n_layer}\nn_head={n_head}\nn_embd={d}\nblock_size={seq}\n[train]\nbatch_size={bsz}\n\
         max_steps={steps}\nlearning_rate=1e-3\nmin_lr=1e-3\nbeta1=0.9\nbeta2=0.95\nweight_decay=0.1\n"
    ))?
    .train;
    let mut model = Transformer::<f32>::new(&model_config, 0)?;
    let mut opt = AdamW::new(&model.layout.specs);
    let mut ws = Workspace::<f32>::new(&model_config, bsz, seq);
    let mut grads = vec![0f32; model.params.len()];
    let mut batcher = Batcher::new(0);
    let (mut x, mut y) = (vec![0u32; bsz * seq], vec![0u32; bsz * seq]);
    println!(
        "lmlab-neural params={} L={n_layer} d={d} H={n_head} T={seq} B={bsz} threads={}",
        model.parameter_count(),
        rayon::current_num_threads()
    );
    let warm = 10.min(steps.saturating_sub(1));
    let mut t0 = Instant::now();
    for step in 0..steps {
        if step == warm {
            t0 = Instant::now();
        }
        batcher.fill(&train, bsz, seq, &mut x, &mut y);
        grads.fill(0.0);
        let (sum, count) = model.forward(&mut ws, &x, Some(&y), None);
        model.backward(&mut ws, &mut grads, &x, &y, None, 1.0 / count as f32);
        opt.step(&mut model.params, &grads, 1e-3, &tc);
        if step % 50 == 0 || step == steps - 1 {
            println!("step {step} loss {:.4}", sum / count as f64);
        }
    }
    let dt = t0.elapsed().as_secs_f64();
    let timed = (steps - warm) as f64;
    println!(
        "TRAIN tokens/s {:.0} ({:.1} ms/step over {} timed steps) peak RSS {} MiB",
        timed * (bsz * seq) as f64 / dt,
        dt * 1000.0 / timed,
        steps - warm,
        peak_rss_bytes() >> 20
    );
    Ok(())
}

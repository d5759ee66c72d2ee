//! Training throughput of the engine on the configuration of `../shared/tools/torch_reference_gpt.py`
//! (ARCH=transformer, the default: byte-level pre-LN GPT, GELU (tanh), tied embeddings, biases) or of
//! `bench/torch_reference_lstm.py` (ARCH=lstm: byte embedding, `n_layer` LSTM layers of width d, head
//! tied to the embedding); AdamW (lr 1e-3, betas 0.9/0.95, weight decay 0.1), random windows of the
//! first 90% of FILE. The first 10 steps are not timed.
//!
//! Besides tokens/s it prints the FLOPs one training token costs (the count `bench/neural_vs_torch.sh`
//! applies to both sides), the GFLOP/s that implies, and the CPU seconds per wall second over the timed
//! steps, so the number of cores that did the work is measured rather than assumed.
//!
//! Usage: `cargo run --release -p lmlab-neural --example throughput -- FILE [n_layer d n_head seq batch steps]`
//! (defaults 2 128 4 128 16 300, as the PyTorch script; n_head is ignored for the LSTM).
//! Threads: RAYON_NUM_THREADS (default: all cores). KERNEL=portable (default) | avx512 | bf16: the
//! products' kernel (`lmlab_neural::gemm::Kernel`; bf16 rounds the operands).

use lmlab_core::compute::{peak_rss_bytes, process_cpu_seconds};
use lmlab_neural::config::{Arch, Mlp, ModelConfig, Norm, Positions, RunConfig};
use lmlab_neural::data::Batcher;
use lmlab_neural::gemm::{choose_f32_kernel, f32_kernel, Kernel};
use lmlab_neural::model::{LstmNet, Net, Transformer};
use lmlab_neural::optim::AdamW;
use std::time::Instant;

/// Training FLOPs per token: 6 per matrix-multiply parameter (forward 2, backward 4; the tied output
/// head counted, the embedding lookup, biases and element-wise work not), plus for the transformer
/// attention's 12·n_layer·seq·d (scores and weighted values over the full square, PaLM's convention,
/// although a causal model needs only the lower triangle).
fn flops_per_token(c: &ModelConfig) -> f64 {
    let (l, d, v, t) = (
        c.n_layer as f64,
        c.n_embd as f64,
        c.vocab_size as f64,
        c.block_size as f64,
    );
    match c.arch {
        Arch::Transformer => 6.0 * (12.0 * l * d * d + v * d) + 12.0 * l * t * d,
        Arch::Lstm => 6.0 * (8.0 * l * d * d + v * d),
    }
}

fn run<N: Net>(
    config: &ModelConfig,
    train: &[u32],
    bsz: usize,
    steps: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    let seq = config.block_size;
    let tc = RunConfig::parse(&format!(
        "[model]\nn_layer={}\nn_head={}\nn_embd={}\nblock_size={seq}\n[train]\nbatch_size={bsz}\n\
         max_steps={steps}\nlearning_rate=1e-3\nmin_lr=1e-3\nbeta1=0.9\nbeta2=0.95\nweight_decay=0.1\n",
        config.n_layer,
        config.n_head.max(1),
        config.n_embd
    ))?
    .train;
    let mut model = N::init(config, 0)?;
    let mut opt = AdamW::new(model.specs());
    let mut ws = model.workspace(bsz, seq);
    let mut grads = vec![0f32; model.params().len()];
    let mut batcher = Batcher::new(0);
    let (mut x, mut y) = (vec![0u32; bsz * seq], vec![0u32; bsz * seq]);
    println!(
        "lmlab-neural {:?} params={} L={} d={} H={} T={seq} B={bsz} threads={} kernel={:?}",
        config.arch,
        model.params().len(),
        config.n_layer,
        config.n_embd,
        config.n_head,
        rayon::current_num_threads(),
        f32_kernel()
    );
    let warm = 10.min(steps.saturating_sub(1));
    let (mut t0, mut cpu0) = (Instant::now(), process_cpu_seconds());
    for step in 0..steps {
        if step == warm {
            (t0, cpu0) = (Instant::now(), process_cpu_seconds());
        }
        batcher.fill(train, bsz, seq, &mut x, &mut y);
        grads.fill(0.0);
        let (sum, count) = model.forward_loss(&mut ws, &x, &y, None);
        model.backward(&mut ws, &mut grads, &x, &y, None, 1.0 / count as f32);
        let params = model.params_mut();
        opt.step(params, &grads, 1e-3, &tc);
        if step % 50 == 0 || step == steps - 1 {
            println!("step {step} loss {:.4}", sum / count as f64);
        }
    }
    let dt = t0.elapsed().as_secs_f64();
    let cpu = process_cpu_seconds() - cpu0;
    let timed = (steps - warm) as f64;
    let tokens_per_s = timed * (bsz * seq) as f64 / dt;
    let flops = flops_per_token(config);
    println!(
        "TRAIN tokens/s {tokens_per_s:.0} ({:.1} ms/step over {} timed steps) peak RSS {} MiB",
        dt * 1000.0 / timed,
        steps - warm,
        peak_rss_bytes() >> 20
    );
    println!(
        "FLOP/token {flops:.0} GFLOP/s {:.1} CPU-s/wall-s {:.2}",
        tokens_per_s * flops / 1e9,
        cpu / dt
    );
    Ok(())
}

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
    // KERNEL=avx512 | bf16: this process's products on lmlab's AVX-512 f32 or bf16 tiles instead
    // of `matrixmultiply` (lmlab_neural::gemm::Kernel).
    let kernel = match std::env::var("KERNEL").as_deref() {
        Ok("portable") | Err(_) => Kernel::Portable,
        Ok("avx512") => Kernel::Avx512F32,
        Ok("bf16") => Kernel::Avx512Bf16,
        Ok(other) => {
            return Err(format!("KERNEL must be portable, avx512 or bf16, got {other:?}").into())
        }
    };
    choose_f32_kernel(kernel)?;
    let arch = match std::env::var("ARCH").as_deref() {
        Ok("lstm") => Arch::Lstm,
        Ok("transformer") | Err(_) => Arch::Transformer,
        Ok(other) => return Err(format!("ARCH must be transformer or lstm, got {other:?}").into()),
    };
    let bytes = std::fs::read(file)?;
    let train: Vec<u32> = bytes[..bytes.len() * 9 / 10]
        .iter()
        .map(|&b| b as u32)
        .collect();
    let config = ModelConfig {
        arch,
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
    match arch {
        Arch::Transformer => run::<Transformer<f32>>(&config, &train, bsz, steps),
        Arch::Lstm => run::<LstmNet<f32>>(&config, &train, bsz, steps),
    }
}

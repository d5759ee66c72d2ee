# A PyTorch twin of lmlab-neural's configs/shakespeare_char.toml (nanoGPT's shakespeare-char CPU recipe):
# chars, 90/10 split, pre-LN GPT without biases, GELU (tanh), tied head, GPT-2 init, AdamW (decay on
# matrices and embeddings), warmup + cosine, grad clip 1.0; validation = mean loss of 200 batches of
# random windows of the valid split. Used to tell the recipe's own value from the engine's.
# usage: python torch_shakespeare_char.py INPUT.txt [SEED] [STEPS]   (env THREADS, default 2)
import math, os, sys, time
import torch, torch.nn as nn, torch.nn.functional as F

torch.set_num_threads(int(os.environ.get("THREADS", "2")))
seed = int(sys.argv[2]) if len(sys.argv) > 2 else 1337
steps = int(sys.argv[3]) if len(sys.argv) > 3 else 2000
torch.manual_seed(seed)
L, H, D, T, B = 4, 4, 128, 64, 12
lr_max, lr_min, warm, wd, b2, clip = 1e-3, 1e-4, 100, 0.1, 0.99, 1.0
text = open(sys.argv[1], encoding="utf-8").read()
chars = sorted(set(text))
idx = {c: i for i, c in enumerate(chars)}
data = torch.tensor([idx[c] for c in text], dtype=torch.long)
n = int(len(data) * 0.9)
train, val = data[:n], data[n:]
V = len(chars)


class Block(nn.Module):
    def __init__(s):
        super().__init__()
        s.ln1, s.ln2 = nn.LayerNorm(D, bias=False), nn.LayerNorm(D, bias=False)
        s.qkv, s.proj = nn.Linear(D, 3 * D, bias=False), nn.Linear(D, D, bias=False)
        s.fc, s.fc2 = nn.Linear(D, 4 * D, bias=False), nn.Linear(4 * D, D, bias=False)

    def forward(s, x):
        b, t, c = x.shape
        q, k, v = s.qkv(s.ln1(x)).split(c, 2)
        q, k, v = [z.view(b, t, H, c // H).transpose(1, 2) for z in (q, k, v)]
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + s.proj(y.transpose(1, 2).reshape(b, t, c))
        return x + s.fc2(F.gelu(s.fc(s.ln2(x)), approximate="tanh"))


class GPT(nn.Module):
    def __init__(s):
        super().__init__()
        s.wte = nn.Parameter(torch.randn(V, D) * 0.02)
        s.wpe = nn.Parameter(torch.randn(T, D) * 0.02)
        s.blocks = nn.ModuleList(Block() for _ in range(L))
        s.lnf = nn.LayerNorm(D, bias=False)
        for name, p in s.named_parameters():
            if name.endswith("qkv.weight") or name.endswith("fc.weight"):
                nn.init.normal_(p, 0.0, 0.02)
            elif name.endswith("proj.weight") or name.endswith("fc2.weight"):
                nn.init.normal_(p, 0.0, 0.02 / math.sqrt(2 * L))

    def forward(s, i):
        x = s.wte[i] + s.wpe[: i.shape[1]]
        for blk in s.blocks:
            x = blk(x)
        return s.lnf(x) @ s.wte.t()


def batch(src, g):
    ix = torch.randint(len(src) - T, (B,), generator=g)
    return torch.stack([src[i : i + T] for i in ix]), torch.stack([src[i + 1 : i + T + 1] for i in ix])


def lr_at(it):
    if it < warm:
        return lr_max * (it + 1) / (warm + 1)
    if it >= steps:
        return lr_min
    r = (it - warm) / (steps - warm)
    return lr_min + 0.5 * (1 + math.cos(math.pi * r)) * (lr_max - lr_min)


m = GPT()
decay = [p for p in m.parameters() if p.dim() >= 2]
no_decay = [p for p in m.parameters() if p.dim() < 2]
opt = torch.optim.AdamW([{"params": decay, "weight_decay": wd}, {"params": no_decay, "weight_decay": 0.0}],
                        lr=lr_max, betas=(0.9, b2), eps=1e-8)
g = torch.Generator().manual_seed(seed + 1)
print(f"torch {torch.__version__} params={sum(p.numel() for p in m.parameters())} V={V} threads={torch.get_num_threads()} seed={seed}")
t0 = time.perf_counter()
for it in range(steps):
    for pg in opt.param_groups:
        pg["lr"] = lr_at(it)
    x, y = batch(train, g)
    loss = F.cross_entropy(m(x).view(-1, V), y.view(-1))
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(m.parameters(), clip)
    opt.step()
    if it % 250 == 0 or it == steps - 1:
        print(f"step {it + 1} loss {loss.item():.4f}", flush=True)
dt = time.perf_counter() - t0
gv = torch.Generator().manual_seed(12345)
with torch.no_grad():
    vl = sum(F.cross_entropy(m(x).view(-1, V), y.view(-1)).item() for x, y in (batch(val, gv) for _ in range(200))) / 200
    # Every non-overlapping window of the valid split (the same windows lmlab's eval_run scores).
    starts = list(range(0, len(val) - T - 1, T))
    tot = 0.0
    for k in range(0, len(starts), 64):
        ix = starts[k : k + 64]
        x = torch.stack([val[i : i + T] for i in ix]); y = torch.stack([val[i + 1 : i + T + 1] for i in ix])
        tot += F.cross_entropy(m(x).view(-1, V), y.view(-1), reduction="sum").item()
    wl = tot / (len(starts) * T)
print(f"TRAIN tokens/s {steps * B * T / dt:.0f}; val loss {vl:.4f} (200 batches); consecutive windows {wl:.4f} ({len(starts)} windows)")

# Writes the whole-model reference fixtures of lmlab-neural: for tiny fixed configs and fixed weights,
# PyTorch (float64, autograd) computes the mean cross-entropy and the gradient of every parameter.
# tests/torch_reference.rs loads the same weights into the Rust engine and compares (1e-4 relative).
# usage: python torch_reference_grads.py OUT_DIR     (needs torch; writes safetensors without the package)
import json, math, struct, sys
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)

CONFIGS = {
    "gpt_ln_gelu_learned_tied": dict(norm="layernorm", mlp="gelu", positions="learned", tied_head=True, bias=True),
    "gpt_rms_swiglu_rope_untied": dict(norm="rmsnorm", mlp="swiglu", positions="rope", tied_head=False, bias=False),
}
V, L, H, D, T, B, EPS = 11, 2, 2, 8, 6, 2, 1e-5


def ff_width(mlp):
    return 4 * D if mlp == "gelu" else ((8 * D // 3 + 7) // 8) * 8


def param_shapes(c):
    ff = ff_width(c["mlp"])
    f_in = 2 * ff if c["mlp"] == "swiglu" else ff
    norm_bias = c["bias"] and c["norm"] == "layernorm"
    shapes = [("wte", [V, D])]
    if c["positions"] == "learned":
        shapes.append(("wpe", [T, D]))
    for l in range(L):
        p = f"h.{l}"
        def norm(n):
            shapes.append((f"{n}.weight", [D]))
            if norm_bias:
                shapes.append((f"{n}.bias", [D]))
        def lin(n, o, i):
            shapes.append((f"{n}.weight", [o, i]))
            if c["bias"]:
                shapes.append((f"{n}.bias", [o]))
        norm(f"{p}.ln_1"); lin(f"{p}.attn.c_attn", 3 * D, D); lin(f"{p}.attn.c_proj", D, D)
        norm(f"{p}.ln_2"); lin(f"{p}.mlp.c_fc", f_in, D); lin(f"{p}.mlp.c_proj", D, ff)
    shapes.append(("ln_f.weight", [D]))
    if norm_bias:
        shapes.append(("ln_f.bias", [D]))
    if not c["tied_head"]:
        shapes.append(("lm_head.weight", [V, D]))
    return shapes


def forward(c, P, idx, tgt):
    def norm(x, n):
        if c["norm"] == "layernorm":
            return F.layer_norm(x, (D,), P[f"{n}.weight"], P.get(f"{n}.bias"), EPS)
        return x * torch.rsqrt((x * x).mean(-1, keepdim=True) + EPS) * P[f"{n}.weight"]
    def lin(x, n):
        return F.linear(x, P[f"{n}.weight"], P.get(f"{n}.bias"))
    hd = D // H
    pos = torch.arange(T, dtype=torch.float64)[:, None]
    inv = 10000.0 ** (-2.0 * torch.arange(hd // 2, dtype=torch.float64) / hd)
    cos, sin = torch.cos(pos * inv), torch.sin(pos * inv)
    def rope(x):
        a, b = x[..., : hd // 2], x[..., hd // 2 :]
        return torch.cat([a * cos - b * sin, b * cos + a * sin], -1)
    x = P["wte"][idx]
    if c["positions"] == "learned":
        x = x + P["wpe"][:T]
    for l in range(L):
        p = f"h.{l}"
        q, k, v = lin(norm(x, f"{p}.ln_1"), f"{p}.attn.c_attn").split(D, 2)
        q, k, v = [z.view(B, T, H, hd).transpose(1, 2) for z in (q, k, v)]
        if c["positions"] == "rope":
            q, k = rope(q), rope(k)
        att = (q @ k.transpose(-2, -1)) / math.sqrt(hd)
        att = att.masked_fill(torch.triu(torch.ones(T, T, dtype=torch.bool), 1), float("-inf")).softmax(-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, D)
        x = x + lin(y, f"{p}.attn.c_proj")
        h = lin(norm(x, f"{p}.ln_2"), f"{p}.mlp.c_fc")
        if c["mlp"] == "gelu":
            h = F.gelu(h, approximate="tanh")
        else:
            g, u = h.chunk(2, -1)
            h = F.silu(g) * u
        x = x + lin(h, f"{p}.mlp.c_proj")
    x = norm(x, "ln_f")
    head = P["wte"] if c["tied_head"] else P["lm_head.weight"]
    return F.cross_entropy((x @ head.t()).view(-1, V), tgt.view(-1))


def write_safetensors(path, tensors, meta):
    header, blobs, off = {"__metadata__": meta}, [], 0
    for name, t in tensors.items():
        data = t.contiguous().numpy().tobytes() if t.dtype != torch.int64 else t.numpy().tobytes()
        dtype = {torch.float64: "F64", torch.int64: "I64"}[t.dtype]
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [off, off + len(data)]}
        blobs.append(data)
        off += len(data)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


out = sys.argv[1]
for i, (name, c) in enumerate(CONFIGS.items()):
    g = torch.Generator().manual_seed(100 + i)
    P = {}
    for n, shape in param_shapes(c):
        scale = 0.02 if n in ("wte", "wpe", "lm_head.weight") else 0.3
        P[n] = (torch.randn(shape, generator=g) * scale + (1.0 if n.endswith("ln_1.weight") or n.endswith("ln_2.weight") or n == "ln_f.weight" else 0.0)).requires_grad_(True)
    idx = torch.randint(V, (B, T), generator=g)
    tgt = torch.randint(V, (B, T), generator=g)
    loss = forward(c, P, idx, tgt)
    loss.backward()
    tensors = {f"param.{n}": p.detach() for n, p in P.items()}
    tensors.update({f"grad.{n}": p.grad for n, p in P.items()})
    tensors["tokens"], tensors["targets"] = idx, tgt
    config = dict(vocab_size=V, n_layer=L, n_head=H, n_embd=D, block_size=T, **c)
    meta = {"config": json.dumps(config), "loss": repr(loss.item()), "batch": str(B), "torch": torch.__version__}
    write_safetensors(f"{out}/{name}.safetensors", tensors, meta)
    print(name, "loss", loss.item())

# PyTorch side of bench/neural_vs_torch.sh for the LSTM: the model lmlab's `throughput` example builds with
# ARCH=lstm (byte embedding, n_layer nn.LSTM layers of width d, output head tied to the embedding,
# zero state per window) trained with the same AdamW on random windows of the first 90% of FILE.
# usage: python torch_reference_lstm.py FILE [n_layer d n_head seq batch steps]   (n_head ignored)
# env THREADS (default 2). Prints "TRAIN tokens/s N" over the steps after the first 10.
import os, sys, time
import torch, torch.nn as nn, torch.nn.functional as F

torch.set_num_threads(int(os.environ.get("THREADS", "2")))
torch.manual_seed(0)
a = sys.argv
p = lambda i, d: int(a[i]) if len(a) > i else d
n_layer, d, _, seq, bsz, steps = p(2, 2), p(3, 128), p(4, 4), p(5, 128), p(6, 16), p(7, 300)
data = torch.frombuffer(bytearray(open(a[1], "rb").read()), dtype=torch.uint8).long()
train = data[: len(data) * 9 // 10]


class LstmLm(nn.Module):
    def __init__(s):
        super().__init__()
        s.wte = nn.Embedding(256, d)
        nn.init.normal_(s.wte.weight, std=0.02)
        s.lstm = nn.LSTM(d, d, num_layers=n_layer, batch_first=True)

    def forward(s, idx):
        h, _ = s.lstm(s.wte(idx))
        return h.reshape(-1, d) @ s.wte.weight.t()


g = torch.Generator().manual_seed(0)
def batch():
    ix = torch.randint(len(train) - seq - 1, (bsz,), generator=g)
    x = torch.stack([train[i:i + seq] for i in ix])
    y = torch.stack([train[i + 1:i + seq + 1] for i in ix])
    return x, y.reshape(-1)


model = LstmLm()
print(f"torch {torch.__version__} LSTM params={sum(q.numel() for q in model.parameters())} L={n_layer} d={d} T={seq} B={bsz} threads={torch.get_num_threads()}")
opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1)
warm = 10
t0 = time.perf_counter()
for step in range(steps):
    if step == warm:
        t0 = time.perf_counter()
    x, y = batch()
    loss = F.cross_entropy(model(x), y)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    if step % 50 == 0 or step == steps - 1:
        print(f"step {step} loss {loss.item():.4f}")
dt = time.perf_counter() - t0
print(f"TRAIN tokens/s {(steps - warm) * bsz * seq / dt:.0f} ({dt * 1000 / (steps - warm):.1f} ms/step over {steps - warm} timed steps)")

#!/usr/bin/env python3
"""PyTorch reference for `npm run bench`: training throughput, online step latency, bigger models.

Extends the approach of ../shared/bench/torch_speed.py (same models, data, optimizer and output line)
and accepts its command line, so `--pytorch` may point at either script. Run it with any Python that
has torch: Debian's (`apt-get install -y python3-torch libopenblas0-openmp`, /usr/bin/python3) or a
venv with PyPI's (`python -m venv ~/torch-venv && ~/torch-venv/bin/pip install torch`).

Usage:
  torch_bench.py [--model mlp|cnn|mlp-big|cnn-big] [--steps 200] [--batch 128] [--threads 2] [--ewc]
      Throughput: one JSON line {"model", "batch", "threads", "ewc", "samples_per_s", "torch",
      "peak_rss_bytes"}; samples/s is the median of 5 timed repeats of `steps` training steps.
  torch_bench.py --online --model mlp --batch B --steps N [--warmup W] [--threads T]
      Online latency: N prequential steps on batches of B (predict in eval mode without grad, read the
      per-sample losses and predicted classes back, then one Adam step and read the loss back), one
      JSON line {"model", "batch", "threads", "online": true, "p50_ms", "p99_ms", "steps", "torch",
      "step_ms": [...]} (step_ms only with --samples).
  torch_bench.py --version
      Prints {"torch": "<version>", "threads": <default intra-op threads>}.

Models (softmax cross-entropy, Adam 1e-3, uniform random 28x28x1 images, random labels of 10 classes):
  mlp      784-400-400-10 ReLU
  cnn      conv3x3x32-maxpool-conv3x3x64-maxpool-dense128-dense10
  mlp-big  784-2048-2048-2048-10 ReLU (4 weight layers, 10,020,874 parameters)
  cnn-big  conv3x3x64-maxpool-conv3x3x128-maxpool-conv3x3x256-dense128-dense10
  resnet   the reduced ResNet-18 of GEM/A-GEM (nf 20, batch norm, 1x1-conv shortcuts where the shape
           changes, global average pooling, dense10) on uniform random 32x32x3 images
  gru      embedding 1000x64 - GRU 128 (batch first, last state) - dense10 on random token ids, length 32
--ewc adds 50 * sum F*(w-w0)^2 over all weights (random F), as torch_speed.py does.
"""
import argparse, json, resource, statistics, sys, time
import torch, torch.nn as nn, torch.nn.functional as F


def model_for(name):
    if name == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 400), nn.ReLU(), nn.Linear(400, 400), nn.ReLU(), nn.Linear(400, 10))
    if name == "mlp-big":
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 2048), nn.ReLU(), nn.Linear(2048, 2048), nn.ReLU(),
                             nn.Linear(2048, 2048), nn.ReLU(), nn.Linear(2048, 10))
    if name == "cnn":
        return nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Flatten(), nn.Linear(64 * 5 * 5, 128), nn.ReLU(), nn.Linear(128, 10))
    if name == "cnn-big":
        return nn.Sequential(nn.Conv2d(1, 64, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(64, 128, 3), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Conv2d(128, 256, 3), nn.ReLU(), nn.Flatten(), nn.Linear(256 * 3 * 3, 128), nn.ReLU(), nn.Linear(128, 10))
    if name == "resnet":
        return ReducedResNet18(20)
    if name == "gru":
        return TokenGru()
    raise SystemExit(f"unknown model {name!r}: expected mlp, cnn, mlp-big, cnn-big, resnet or gru")


class BasicBlock(nn.Module):
    """GEM's BasicBlock: conv3x3-BN-ReLU-conv3x3-BN plus the shortcut (1x1 conv + BN where the shape changes), ReLU."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False); self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False); self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


class ReducedResNet18(nn.Module):
    """The reduced ResNet-18 of GEM/A-GEM (as Avalanche's SlimResNet18 and Mammoth's resnet18(nf))."""

    def __init__(self, nf, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, nf, 3, 1, 1, bias=False); self.bn1 = nn.BatchNorm2d(nf)
        blocks, cin = [], nf
        for stage, stride in enumerate([1, 2, 2, 2]):
            cout = nf * 2 ** stage
            blocks += [BasicBlock(cin, cout, stride), BasicBlock(cout, cout, 1)]
            cin = cout
        self.blocks = nn.Sequential(*blocks)
        self.linear = nn.Linear(cin, classes)

    def forward(self, x):
        out = self.blocks(F.relu(self.bn1(self.conv1(x))))
        return self.linear(torch.flatten(F.adaptive_avg_pool2d(out, 1), 1))


class TokenGru(nn.Module):
    """embedding -> GRU (batch first) -> the last hidden state -> dense, as Engram's `gru` bench model."""

    def __init__(self, vocabulary=1000, embedding=64, units=128, classes=10):
        super().__init__()
        self.embed = nn.Embedding(vocabulary, embedding)
        self.gru = nn.GRU(embedding, units, batch_first=True)
        self.linear = nn.Linear(units, classes)

    def forward(self, x):
        _, h = self.gru(self.embed(x))
        return self.linear(h[-1])


def random_inputs(name, batch):
    """A batch of the model's inputs: images (NCHW) or token ids."""
    if name == "resnet":
        return torch.rand(batch, 3, 32, 32)
    if name == "gru":
        return torch.randint(0, 1000, (batch, 32))
    return torch.rand(batch, 1, 28, 28)


def peak_rss_bytes():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB


def percentile(xs, p):
    """Nearest-rank percentile (the same definition as the bench's TypeScript side)."""
    s = sorted(xs)
    if not s:
        return float("nan")
    k = max(1, -(-len(s) * p // 100))  # ceil(n * p / 100), at least 1
    return s[int(min(k, len(s))) - 1]


def throughput(a, m, opt):
    x = random_inputs(a.model, a.batch); y = torch.randint(0, 10, (a.batch,))
    fisher = [torch.rand_like(p) for p in m.parameters()]; anchor = [p.detach().clone() for p in m.parameters()]

    def step():
        loss = F.cross_entropy(m(x), y)
        if a.ewc:
            loss = loss + 50.0 * sum((f * (p - p0) ** 2).sum() for f, p, p0 in zip(fisher, m.parameters(), anchor))
        opt.zero_grad(); loss.backward(); opt.step()

    for _ in range(min(20, a.steps)): step()
    rates = []
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(a.steps): step()
        rates.append(a.steps * a.batch / (time.perf_counter() - t0))
    return dict(model=a.model, batch=a.batch, threads=a.threads, ewc=a.ewc, samples_per_s=round(statistics.median(rates), 1),
                torch=torch.__version__, peak_rss_bytes=peak_rss_bytes())


def online(a, m, opt):
    # Eight host batches in rotation, as the Engram side uses; each step converts one like a live record.
    prequential = []
    host = [(torch.rand(a.batch, 1, 28, 28).numpy(), torch.randint(0, 10, (a.batch,)).numpy()) for _ in range(8)]

    def step(i):
        hx, hy = host[i % len(host)]
        x = torch.from_numpy(hx); y = torch.from_numpy(hy).long()
        m.eval()
        with torch.no_grad():
            logits = m(x)
            losses = F.cross_entropy(logits, y, reduction="none").numpy()
            predicted = logits.argmax(1).numpy()
        prequential.append((int((predicted == hy).sum()), float(losses.sum())))  # what the accuracy and detector get
        m.train()
        loss = F.cross_entropy(m(x), y)
        opt.zero_grad(); loss.backward(); opt.step()
        return loss.item()

    for i in range(a.warmup): step(i)
    times = []
    for i in range(a.steps):
        t0 = time.perf_counter()
        step(i)
        times.append((time.perf_counter() - t0) * 1000)
    out = dict(model=a.model, batch=a.batch, threads=a.threads, online=True, steps=a.steps,
               p50_ms=round(percentile(times, 50), 4), p99_ms=round(percentile(times, 99), 4), torch=torch.__version__)
    if a.samples:
        out["step_ms"] = [round(t, 4) for t in times]
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="mlp"); ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--batch", type=int, default=128); ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--ewc", action="store_true"); ap.add_argument("--online", action="store_true")
    ap.add_argument("--warmup", type=int, default=50); ap.add_argument("--samples", action="store_true")
    ap.add_argument("--version", action="store_true")
    a = ap.parse_args()
    if a.version:
        print(json.dumps(dict(torch=torch.__version__, threads=torch.get_num_threads())))
        return
    if a.steps < 1 or a.batch < 1 or a.threads < 1:
        raise SystemExit("--steps, --batch and --threads must be at least 1")
    torch.manual_seed(0); torch.set_num_threads(a.threads)
    m = model_for(a.model); opt = torch.optim.Adam(m.parameters(), lr=1e-3)
    print(json.dumps(online(a, m, opt) if a.online else throughput(a, m, opt)))
    sys.stdout.flush()


if __name__ == "__main__":
    main()

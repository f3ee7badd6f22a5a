#!/usr/bin/python3
"""Day 0 in PyTorch: train a small CNN on the first five Fashion-MNIST classes (T-shirt/top, Trouser,
Pullover, Dress, Coat) and export it to ONNX for Engram to continue on the other five.

Needs PyTorch and NumPy (Debian: apt-get install python3-torch python3-numpy) and the Fashion-MNIST
IDX files (Debian: apt-get install dataset-fashion-mnist). Run with the system Python:

    /usr/bin/python3 examples/pytorch/train_base.py

It writes examples/pytorch/base.onnx (overwriting the committed copy). The inputs are scaled as
Engram's fashion-mnist source and the pipeline's normalize step scale them: pixel / 255, then
(x - 0.286) / 0.353, so the model sees the same numbers in both frameworks.
"""
import argparse
import gzip
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
MEAN, STD = 0.286, 0.353


def idx(path):
    """Reads an IDX file (gzip): unsigned bytes, big-endian dimension header."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load(dir, split, classes):
    prefix = "train" if split == "train" else "t10k"
    x = idx(os.path.join(dir, f"{prefix}-images-idx3-ubyte.gz")).astype(np.float32) / 255.0
    y = idx(os.path.join(dir, f"{prefix}-labels-idx1-ubyte.gz")).astype(np.int64)
    keep = np.isin(y, classes)
    x = (x[keep] - MEAN) / STD
    return torch.from_numpy(x[:, None, :, :].copy()), torch.from_numpy(y[keep].copy())


class Cnn(nn.Module):
    """Two conv blocks with batch norm and a two-layer classifier; 10 outputs (classes 5-9 come later)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(16)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(32)
        self.fc1 = nn.Linear(32 * 7 * 7, 128)
        self.drop = nn.Dropout(0.2)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.max_pool2d(F.relu(self.bn2(self.conv2(x))), 2)
        x = x.view(x.size(0), -1)
        return self.fc2(self.drop(F.relu(self.fc1(x))))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    p.add_argument("--out", default=os.path.join(HERE, "base.onnx"))
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(2)
    classes = [0, 1, 2, 3, 4]
    x, y = load(args.data, "train", classes)
    xt, yt = load(args.data, "test", classes)
    model = Cnn()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(args.seed)
    for epoch in range(args.epochs):
        model.train()
        order = torch.randperm(len(y), generator=g)
        for i in range(0, len(y), 64):
            b = order[i : i + 64]
            opt.zero_grad()
            F.cross_entropy(model(x[b]), y[b]).backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            acc = (model(xt).argmax(1) == yt).float().mean().item()
        print(f"epoch {epoch + 1}: test accuracy on classes 0-4 {100 * acc:.1f}% ({len(yt)} images)")
    model.eval()
    # PRESERVE keeps BatchNormalization as its own node (eval mode would fold it into the convs), so
    # Engram gets batch-norm layers it can keep training.
    torch.onnx.export(
        model,
        x[:1],
        args.out,
        opset_version=13,
        input_names=["input"],
        output_names=["logits"],
        dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
        training=torch.onnx.TrainingMode.PRESERVE,
    )
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

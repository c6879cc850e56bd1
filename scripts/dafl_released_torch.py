"""DAFL's released MNIST training loop (Chen et al. 2019, DAFL-train.py and teacher-train.py),
written here in PyTorch from its description, with one switch per difference between it and
this repository's TF DAFL (issue 20, item 2: why the released code at batch 64 trails ours).

- ``--input resize|pad``: 28×28 → 32×32 by bilinear resize, re-quantised to uint8 as
  torchvision's ``Resize`` on a PIL image (the released code), or by 2-pixel zero padding
  (ours); then normalised with mean 0.1307, std 0.3081. Teacher training, distillation and
  the test set all use the same mode.
- ``--teacher released``: a LeNet-5 trained here with teacher-train.py's recipe (Adam 1e-3,
  batch 256, 9 epochs, no dropout, the last epoch kept); ``--teacher_recipe ours`` trains
  it with ours instead (Adam 7e-4, dropout 0.2, 8 epochs, the best epoch kept).
  ``--teacher ours --teacher_npz PATH``: this repository's TF teacher, its weights loaded
  (``python -m reproduce train_teacher --task mnist --profile quick`` writes the npz).
- The loop is the released one: one generator batch z ~ N(0, I) per iteration, the
  generator's loss (one-hot CE + 5 · Σ p̄ log10 p̄ − 0.1 · mean|conv3 features|) and the
  student's KL on the detached batch backpropagated together, both Adam steps applied.
  Defaults are issue 20's batch 64 and generator lr 0.01 (released: 512 and 0.2).

Runs in the torch venv (Python 3.11, torch 2.13 CPU, as ../shared/bench/README.md sets it
up); imports nothing of this repository. One thread. Writes one JSON file (``--out``):
arguments, teacher accuracy and its epochs, the student's test accuracy every
``--eval_every`` iterations with wall time, torch version and CPU.

    <torch venv>/bin/python scripts/dafl_released_torch.py --input resize --teacher released \
        --seed 0 --out results/calibration/dafl_released_torch/resize_released_seed0.json
"""
import argparse
import gzip
import json
import os
import platform
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

MEAN, STD = 0.1307, 0.3081  # MNIST training-set pixel mean and std (both codes)
THREADS = 1


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--input", default="resize", choices=["resize", "pad"])
    p.add_argument("--teacher", default="released", choices=["released", "ours"])
    p.add_argument("--teacher_recipe", default="released", choices=["released", "ours"])
    p.add_argument("--teacher_npz", default="")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr_G", type=float, default=0.01)
    p.add_argument("--lr_S", type=float, default=2e-3)
    p.add_argument("--iters", type=int, default=800)
    p.add_argument("--eval_every", type=int, default=100)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data", default="../shared/data/mnist")
    p.add_argument("--out", required=True)
    a = p.parse_args(argv)
    if a.teacher == "ours" and not os.path.isfile(a.teacher_npz):
        p.error("--teacher ours needs --teacher_npz, the npz `python -m reproduce train_teacher "
                "--task mnist --profile quick` writes (got %r)" % a.teacher_npz)
    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                 "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        if not os.path.isfile(os.path.join(a.data, name)):
            p.error("--data %s has no %s (MNIST's idx files)" % (a.data, name))
    return a


def read_idx(folder, name):
    with gzip.open(os.path.join(folder, name)) as f:
        raw = f.read()
    if "images" in name:
        return np.frombuffer(raw, np.uint8, offset=16).reshape(-1, 28, 28)
    return np.frombuffer(raw, np.uint8, offset=8).astype(np.int64)


def to_input(u8, mode):
    """uint8 [N, 28, 28] → float [N, 1, 32, 32], padded or resized, then normalised."""
    x = torch.from_numpy(u8.astype(np.float32) / 255.0)[:, None]
    if mode == "pad":
        x = F.pad(x, (2, 2, 2, 2))
    else:  # PIL's bilinear upsampling of a uint8 image, re-quantised to uint8 as PIL returns
        x = F.interpolate(x, size=(32, 32), mode="bilinear", align_corners=False)
        x = torch.round(x * 255.0) / 255.0
    return (x - MEAN) / STD


class LeNet(nn.Module):
    """LeNet-5 (width 1: 6, 16, 120, 84) or LeNet-5-Half (0.5); forward → (logits, the 120-d
    (60-d) conv3 features, Eq. 3's h_t as DAFL's lenet.py returns them)."""

    def __init__(self, w=1.0, dropout=0.0):
        super().__init__()
        c1, c2, c3, f1 = [int(round(n * w)) for n in (6, 16, 120, 84)]
        self.c3 = c3
        self.conv1, self.conv2 = nn.Conv2d(1, c1, 5), nn.Conv2d(c1, c2, 5)
        self.conv3 = nn.Conv2d(c2, c3, 5)
        self.fc1, self.fc2 = nn.Linear(c3, f1), nn.Linear(f1, 10)
        self.dropout = dropout

    def forward(self, x):
        h = F.max_pool2d(F.relu(self.conv1(x)), 2)
        h = F.max_pool2d(F.relu(self.conv2(h)), 2)
        feat = F.relu(self.conv3(h)).view(-1, self.c3)
        h = F.relu(self.fc1(feat))
        if self.training and self.dropout:
            h = F.dropout(h, self.dropout)
        return self.fc2(h), feat


def accuracy(net, xte, yte):
    net.eval()
    with torch.no_grad():
        correct = sum((net(xte[i:i + 1000])[0].argmax(1) == yte[i:i + 1000]).sum().item()
                      for i in range(0, len(xte), 1000))
    return 100.0 * correct / len(xte)


def train_teacher(recipe, xtr, ytr, xte, yte):
    """(LeNet-5, test accuracy per epoch): teacher-train.py's recipe or ours."""
    ours = recipe == "ours"
    net = LeNet(1.0, 0.2 if ours else 0.0)
    opt = torch.optim.Adam(net.parameters(), lr=7e-4 if ours else 1e-3)
    best, best_state, history = -1, None, []
    for _ in range(8 if ours else 9):
        net.train()
        perm = torch.randperm(len(xtr))
        for i in range(0, len(xtr), 256):
            b = perm[i:i + 256]
            opt.zero_grad()
            F.cross_entropy(net(xtr[b])[0], ytr[b]).backward()
            opt.step()
        acc = accuracy(net, xte, yte)
        history.append(acc)
        if acc > best:
            best, best_state = acc, {k: v.clone() for k, v in net.state_dict().items()}
    if ours:
        net.load_state_dict(best_state)
    return net, history


def load_ours(path):
    """Our TF LeNet-5 from its npz (conv [k, k, in, out], dense [in, out]) → torch layout."""
    z = np.load(path)
    state = {}
    for layer in ("conv1", "conv2", "conv3", "fc1", "fc2"):
        w = torch.from_numpy(z[layer + "/w"])
        state[layer + ".weight"] = (w.permute(3, 2, 0, 1) if w.dim() == 4 else w.t()).contiguous()
        state[layer + ".bias"] = torch.from_numpy(z[layer + "/b"])
    net = LeNet(1.0)
    net.load_state_dict(state)
    return net, []


class Generator(nn.Module):
    """DAFL's generator for 32×32×1: fc → BN → ×2 → conv3×3(128) → BN(eps 0.8) → LReLU →
    ×2 → conv3×3(64) → BN(eps 0.8) → LReLU → conv3×3(1) → tanh → BN (no affine)."""

    def __init__(self):
        super().__init__()
        self.l1 = nn.Linear(100, 128 * 8 * 8)
        self.bn0 = nn.BatchNorm2d(128)
        self.conv1, self.bn1 = nn.Conv2d(128, 128, 3, padding=1), nn.BatchNorm2d(128, 0.8)
        self.conv2, self.bn2 = nn.Conv2d(128, 64, 3, padding=1), nn.BatchNorm2d(64, 0.8)
        self.conv3, self.bn3 = nn.Conv2d(64, 1, 3, padding=1), nn.BatchNorm2d(1, affine=False)

    def forward(self, z):
        h = self.bn0(self.l1(z).view(-1, 128, 8, 8))
        h = F.leaky_relu(self.bn1(self.conv1(F.interpolate(h, scale_factor=2))), 0.2)
        h = F.leaky_relu(self.bn2(self.conv2(F.interpolate(h, scale_factor=2))), 0.2)
        return self.bn3(torch.tanh(self.conv3(h)))


def distill(a, teacher, xte, yte):
    """The released loop; returns the student's curve."""
    student, gen = LeNet(0.5), Generator()
    opt_g = torch.optim.Adam(gen.parameters(), lr=a.lr_G)
    opt_s = torch.optim.Adam(student.parameters(), lr=a.lr_S)
    curve, start = [], time.time()
    for it in range(1, a.iters + 1):
        student.train()
        gen.train()
        opt_g.zero_grad()
        opt_s.zero_grad()
        x = gen(torch.randn(a.batch, 100))
        logits_t, feat_t = teacher(x)
        pred = logits_t.detach().argmax(1)
        p_mean = F.softmax(logits_t, 1).mean(0)
        loss_g = (F.cross_entropy(logits_t, pred) + 5 * (p_mean * torch.log10(p_mean)).sum()
                  - 0.1 * feat_t.abs().mean())
        logits_s = student(x.detach())[0]
        loss_kd = F.kl_div(F.log_softmax(logits_s, 1), F.softmax(logits_t.detach(), 1),
                           reduction="sum") / a.batch
        (loss_g + loss_kd).backward()
        opt_g.step()
        opt_s.step()
        if it % a.eval_every == 0:
            curve.append({"iteration": it, "test_accuracy": accuracy(student, xte, yte),
                          "wall_s": round(time.time() - start, 1),
                          "classes_in_batch": int(pred.unique().numel())})
            print(json.dumps(curve[-1]), flush=True)
    return curve


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            return next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor()


def main(argv=None):
    a = parse_args(argv)
    torch.set_num_threads(THREADS)
    torch.manual_seed(a.seed)
    xtr = to_input(read_idx(a.data, "train-images-idx3-ubyte.gz"), a.input)
    ytr = torch.from_numpy(read_idx(a.data, "train-labels-idx1-ubyte.gz"))
    xte = to_input(read_idx(a.data, "t10k-images-idx3-ubyte.gz"), a.input)
    yte = torch.from_numpy(read_idx(a.data, "t10k-labels-idx1-ubyte.gz"))
    start = time.time()
    if a.teacher == "ours":
        teacher, history = load_ours(a.teacher_npz)
    else:
        teacher, history = train_teacher(a.teacher_recipe, xtr, ytr, xte, yte)
    teacher.eval()
    for q in teacher.parameters():
        q.requires_grad_(False)
    teacher_accuracy = accuracy(teacher, xte, yte)
    print("teacher %.2f%% %s (%.0f s)" % (teacher_accuracy, history, time.time() - start),
          flush=True)
    curve = distill(a, teacher, xte, yte)
    record = {"command": " ".join(["python", "scripts/dafl_released_torch.py"] + sys.argv[1:]),
              "args": vars(a), "cpu": cpu_model(), "torch": torch.__version__,
              "threads": THREADS, "teacher_accuracy": teacher_accuracy,
              "teacher_history": history, "curve": curve}
    with open(a.out, "w") as f:
        json.dump(record, f, indent=1)


if __name__ == "__main__":
    main()

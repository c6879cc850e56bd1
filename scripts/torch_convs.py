"""The DAFL generator's three convolutions alone in PyTorch (CPU), for `python -m reproduce
bench --bench_convs` (reproduce/bench/conv_share.py runs it with --torch_python): median ms of
their forward pass, and of forward plus backward (input and weight gradients), NCHW as
../shared/bench/peer_step_torch.py, 2 threads. Prints lines starting with "TORCHCONV".

Runs in the torch venv (Python 3.11, torch 2.13 CPU); imports nothing of this repository.
"""
import argparse
import os
import statistics
import time

os.environ.setdefault("OMP_NUM_THREADS", "2")

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

# (in channels, out channels, spatial size): conv1, conv2, conv3 of DAFL's 32×32 generator.
CONVS = ((128, 128, 16), (128, 64, 32), (64, 1, 32))


def median_ms(fn, iters, warmup=3):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(iters):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch-sizes", default="64,512")
    parser.add_argument("--iters", type=int, default=8)
    args = parser.parse_args()
    torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
    torch.manual_seed(0)
    for batch in [int(b) for b in args.batch_sizes.split(",")]:
        xs = [torch.randn(batch, c_in, s, s, requires_grad=True) for c_in, _, s in CONVS]
        ws = [(0.05 * torch.randn(c_out, c_in, 3, 3)).requires_grad_() for c_in, c_out, _ in CONVS]
        bs = [torch.zeros(c_out, requires_grad=True) for _, c_out, _ in CONVS]

        def forward():
            with torch.no_grad():
                for x, w, b in zip(xs, ws, bs):
                    (0.5 * F.conv2d(x, w, b, padding=1).square().sum()).item()

        def forward_backward():
            for x, w, b in zip(xs, ws, bs):
                # ½Σy², as reproduce/bench/conv_share.py (its gradient needs the forward pass)
                (0.5 * F.conv2d(x, w, b, padding=1).square().sum()).backward()

        print("TORCHCONV B=%d forward_ms=%.1f forward_backward_ms=%.1f"
              % (batch, median_ms(forward, args.iters),
                 median_ms(forward_backward, args.iters)), flush=True)


if __name__ == "__main__":
    main()

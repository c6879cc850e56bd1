"""Would the generator's "×2 nearest upsample → conv3×3" be cheaper as four 2×2 convolutions?

Nearest upsampling copies each pixel into a 2×2 block, so on output pixel (2i+a, 2j+b) the
3×3 kernel sees only a 2×2 window of the low-resolution input, with taps summed: along one
axis, phase a = 0 reads rows (i−1, i) with weights (w0, w1 + w2) and phase a = 1 reads rows
(i, i+1) with (w0 + w1, w2). Four 2×2 convolutions on the H×W input (one per phase,
interleaved by depth_to_space) compute the same output with 16·H·W·Cin·Cout multiply-adds
instead of 36·H·W·Cin·Cout: 2.25× fewer, for conv1 and conv2 of DAFL's generator, which are
nearly all of its work. Equal up to float rounding (the taps are summed before multiplying).

This script times both forms (forward, and forward plus the input and weight gradients) at
one batch on one thread (the bench's median after its warm-up runs) and prints the largest
differences; it measured whether to adopt the rewrite (README, *Performance*). It changes
nothing in the models. From the repo root:

    python scripts/upsample_conv_probe.py --batch 128
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from building_blocks.common import layers  # noqa: E402
from building_blocks.common.tf_compat import make_session, tf  # noqa: E402
from reproduce.bench.distill_steps import median_ms  # noqa: E402

# (low-resolution size, in channels, out channels): conv1 and conv2 of the 32×32 generator.
CONVS = ((8, 128, 128), (16, 128, 64))


def upsample_then_conv(x, w, b):
    return tf.nn.bias_add(tf.nn.conv2d(layers.upsample2x(x), w, [1, 1, 1, 1], "SAME"), b)


def _phase_kernels(w, axis):
    """The 2-tap kernels of phases 0 and 1 along ``axis`` of a 3-tap kernel."""
    w0, w1, w2 = tf.unstack(w, axis=axis)
    return tf.stack([w0, w1 + w2], axis=axis), tf.stack([w0 + w1, w2], axis=axis)


def four_phase_convs(x, w, b):
    height, width = int(x.shape[1]), int(x.shape[2])
    padded = tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]])
    phases = []
    for a, row_kernel in enumerate(_phase_kernels(w, 0)):
        for c, kernel in enumerate(_phase_kernels(row_kernel, 1)):
            window = padded[:, a:a + height + 1, c:c + width + 1, :]
            phases.append(tf.nn.conv2d(window, kernel, [1, 1, 1, 1], "VALID"))
    # channel block 2a + c of depth_to_space lands on output pixel (2i + a, 2j + c)
    return tf.nn.bias_add(tf.nn.depth_to_space(tf.concat(phases, axis=3), 2), b)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--iters", type=int, default=7)
    args = parser.parse_args()
    rng = np.random.RandomState(0)
    for size, c_in, c_out in CONVS:
        graph = tf.Graph()
        with graph.as_default():
            x = tf.Variable(rng.randn(args.batch, size, size, c_in).astype(np.float32))
            w = tf.Variable(0.05 * rng.randn(3, 3, c_in, c_out).astype(np.float32))
            b = tf.Variable(rng.randn(c_out).astype(np.float32))
            upstream = tf.constant(rng.randn(args.batch, 2 * size, 2 * size, c_out)
                                   .astype(np.float32))
            forms = {}
            for name, form in (("upsample+conv3x3", upsample_then_conv),
                               ("four 2x2 phases", four_phase_convs)):
                y = form(x, w, b)
                grads = tf.gradients(tf.reduce_sum(y * upstream), [x, w])
                forms[name] = (y, grads, tf.reduce_sum(y), tf.add_n(
                    [tf.reduce_sum(g) for g in grads]))
            init = tf.global_variables_initializer()
        graph.finalize()
        with make_session(graph, args.threads) as sess:
            sess.run(init)
            (y0, g0), (y1, g1) = [sess.run(f[:2]) for f in forms.values()]
            print("conv %dx%d->%dx%d, %d->%d channels, batch %d: max |dy| %.2e, max |dx| / "
                  "max|x grad| %.2e, max |dw| / max|w grad| %.2e"
                  % (size, size, 2 * size, 2 * size, c_in, c_out, args.batch,
                     np.abs(y1 - y0).max(), np.abs(g1[0] - g0[0]).max() / np.abs(g0[0]).max(),
                     np.abs(g1[1] - g0[1]).max() / np.abs(g0[1]).max()))
            for name, (_, _, forward, backward) in forms.items():
                print("  %-17s forward %7.1f ms   forward+backward %7.1f ms"
                      % (name, median_ms(sess, forward, args.iters),
                         median_ms(sess, backward, args.iters)))


if __name__ == "__main__":
    main()

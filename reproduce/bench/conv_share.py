"""`python -m reproduce bench --bench_convs` (issue 14): what bounds the steps. The DAFL
generator's three convolutions alone, forward and forward plus backward, timed here (our
``layers.Conv2D``, NHWC, intel-tensorflow's oneDNN kernels) and in PyTorch
(scripts/torch_convs.py, run with ``--torch_python``) in one run. If ours are no slower, the
gap of a whole step to torch.compile lies in the rest of the step (the elementwise ops that
torch.compile fuses), not in the convolutions.
"""
import os
import re
import subprocess

from building_blocks.common import layers
from building_blocks.common.tf_compat import make_session, tf
from reproduce.bench.distill_steps import check_torch_python, median_ms
from reproduce.core.run_folders import REPO_ROOT

TORCH_CONVS = os.path.join(REPO_ROOT, "scripts", "torch_convs.py")
# (in channels, out channels, spatial size): conv1, conv2, conv3 of DAFL's 32×32 generator
# (building_blocks/distill/generators.py), as in scripts/torch_convs.py.
CONVS = ((128, 128, 16), (128, 64, 32), (64, 1, 32))


def tf_conv_times(batch, threads, iters):
    """(forward ms, forward + backward ms) of the three convolutions at ``batch``."""
    graph = tf.Graph()
    with graph.as_default():
        tf.set_random_seed(0)
        inputs, outputs, weights = [], [], []
        for i, (c_in, c_out, size) in enumerate(CONVS):
            x = tf.Variable(tf.random_normal([batch, size, size, c_in], seed=i))
            conv = layers.Conv2D(c_in, c_out, 3, "conv%d" % i, padding="SAME")
            inputs.append(x)
            weights += [conv.w, conv.b]
            outputs.append(0.5 * tf.reduce_sum(tf.square(conv(x))))
        # Scalars are fetched (a tf.group of them was pruned to nothing after its first run);
        # the loss is ½Σy², whose gradient y needs the forward pass (Σy's would not, and TF
        # would prune the forward convolutions from the backward fetch).
        forward = tf.add_n(outputs)
        backward = tf.add_n([tf.reduce_sum(g) for g in tf.gradients(forward, inputs + weights)])
        init = tf.global_variables_initializer()
    graph.finalize()
    with make_session(graph, threads) as sess:
        sess.run(init)
        return median_ms(sess, forward, iters), median_ms(sess, backward, iters)


def torch_conv_times(torch_python, batch_sizes, iters, log):
    """{batch: (forward ms, forward + backward ms)} from scripts/torch_convs.py."""
    command = [torch_python, TORCH_CONVS, "--batch-sizes", ",".join(map(str, batch_sizes)),
               "--iters", str(iters)]
    log("bench: running %s" % " ".join(command))
    output = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env=dict(os.environ, OMP_NUM_THREADS="2"), check=False).stdout.decode()
    found = {int(m.group(1)): (float(m.group(2)), float(m.group(3))) for m in re.finditer(
        r"TORCHCONV B=(\d+) forward_ms=([\d.]+) forward_backward_ms=([\d.]+)", output)}
    if not found:
        log("bench: %s printed no TORCHCONV lines:\n%s" % (TORCH_CONVS, output[-2000:]))
    return found


def main(batch_sizes, iters, threads, torch_python, log):
    check_torch_python(torch_python)
    theirs = torch_conv_times(torch_python, batch_sizes, iters, log) if torch_python else {}
    for batch in batch_sizes:
        forward, both = tf_conv_times(batch, threads, iters)
        log("CONVS fw=tf B=%d forward_ms=%.1f forward_backward_ms=%.1f" % (batch, forward, both))
        if batch in theirs:
            t_forward, t_both = theirs[batch]
            log("CONVS fw=torch B=%d forward_ms=%.1f forward_backward_ms=%.1f"
                % (batch, t_forward, t_both))
            log("RATIO convs B=%d tf/torch forward=%.2f forward_backward=%.2f"
                % (batch, forward / t_forward, both / t_both))

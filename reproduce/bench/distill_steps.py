"""`python -m reproduce bench`: median ms per student step and per generator step for DAFL and
GAS at given batch sizes, the machine's GEMM rate, and, when a torch Python is given, the
PyTorch reference step (../shared/bench/peer_step_torch.py) measured in the same run, as ratios.
"""
import os
import re
import statistics
import subprocess
import time

from building_blocks.common import network  # noqa: F401  (keeps import order: tf_compat first)
from building_blocks.common.config import ConfigError, DistillConfig
from building_blocks.image.runner import INPUT_SHAPE, make_classifier
from building_blocks.common.tf_compat import build_info, make_session, tf
from dafl_baseline.distiller import DAFLDistiller
from gas.distiller import GASDistiller
from reproduce.core import provenance

TORCH_SCRIPT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                             "..", "shared", "bench", "peer_step_torch.py"))
WARMUP = 5


def _time(sess, fetch, iters):
    for _ in range(WARMUP):
        sess.run(fetch)
    times = []
    for _ in range(iters):
        t0 = time.perf_counter()
        sess.run(fetch)
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def gemm_gflops(threads, n=2048, reps=10):
    graph = tf.Graph()
    with graph.as_default():
        a = tf.Variable(tf.random_uniform([n, n]))
        b = tf.Variable(tf.random_uniform([n, n]))
        product = tf.reduce_sum(tf.matmul(a, b))
        init = tf.global_variables_initializer()
    with make_session(graph, threads) as sess:
        sess.run(init)
        ms = _time(sess, product, reps)
    return 2.0 * n ** 3 / (ms / 1e3) / 1e9


def step_times(method, batch_size, threads, iters):
    """(student ms, generator ms) for one method at one batch size (paper's other settings)."""
    if method == "dafl":
        config = DistillConfig(method="dafl", task="mnist", seed=0, student_steps=1,
                               batch_size=batch_size, student_lr=2e-3, generator_lr=1e-3,
                               generator_steps_per_round=1)
        cls = DAFLDistiller
    else:
        config = DistillConfig(method="gas", task="mnist", seed=0, student_steps=1,
                               batch_size=batch_size, student_lr=1e-3, generator_lr=1e-3,
                               n_generators=8, generator_steps_per_round=20, gamma=0.4)
        cls = GASDistiller
    graph = tf.Graph()
    with graph.as_default():
        tf.set_random_seed(0)
        teacher = make_classifier("teacher", trainable=False)
        student = make_classifier("student")
        distiller = cls(config, teacher, student, INPUT_SHAPE)
        init = tf.global_variables_initializer()
    graph.finalize()
    with make_session(graph, threads) as sess:
        sess.run(init)
        student_ms = _time(sess, distiller.student_train_op, iters)
        generator_ms = _time(sess, distiller.generator_train_op, iters)
    return student_ms, generator_ms


def torch_reference(torch_python, batch_sizes, impl, log):
    """Runs the PyTorch reference; returns {(batch, 'gen'|'student'): median ms}."""
    command = [torch_python, TORCH_SCRIPT, "--impl", impl, "--no-gemm",
               "--batch-sizes", ",".join(str(b) for b in batch_sizes)]
    log("bench: running %s" % " ".join(command))
    output = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env=dict(os.environ, OMP_NUM_THREADS="2"), check=False).stdout.decode()
    found = {}
    for match in re.finditer(r"RESULT kind=step .*?B=(\d+) step=(\w+) median_ms=([\d.]+)", output):
        found[(int(match.group(1)), match.group(2))] = float(match.group(3))
    if not found:
        log("bench: the torch reference printed no RESULT lines:\n" + output[-2000:])
    return found


def main(batch_sizes, iters, threads, torch_python, log):
    try:
        batch_sizes = [int(b) for b in batch_sizes]
    except ValueError:
        batch_sizes = [0]
    if not batch_sizes or min(batch_sizes) < 1:
        raise ConfigError("--batch_sizes must be a comma-separated list of positive integers")
    if torch_python and not os.access(torch_python, os.X_OK):
        raise ConfigError("--torch_python %s is not an executable Python" % torch_python)
    info = build_info()
    log("bench: tensorflow %s (oneDNN: %s), %d intra-op threads, packages %s" % (
        info["tensorflow"], info["onednn"], threads, provenance.package_versions()))
    log("bench: fp32 GEMM 2048² %.1f GFLOP/s" % gemm_gflops(threads))
    ours = {}
    for batch in batch_sizes:
        for method in ("dafl", "gas"):
            student_ms, generator_ms = step_times(method, batch, threads, iters)
            ours[(method, batch)] = (student_ms, generator_ms)
            log("RESULT fw=tf method=%s B=%d student_ms=%.1f generator_ms=%.1f" % (
                method, batch, student_ms, generator_ms))
    if torch_python:
        for impl in ("eager", "compile"):
            reference = torch_reference(torch_python, batch_sizes, impl, log)
            for batch in batch_sizes:
                student_ms, generator_ms = ours[("dafl", batch)]
                for step, mine in (("student", student_ms), ("gen", generator_ms)):
                    theirs = reference.get((batch, step))
                    if theirs:
                        log("RATIO B=%d step=%s tf_dafl_ms=%.1f torch_%s_ms=%.1f ratio=%.2f" % (
                            batch, step, mine, impl, theirs, mine / theirs))
    return ours

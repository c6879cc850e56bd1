"""`python -m reproduce bench`: median ms per student step and per generator step for DAFL and
GAS at given batch sizes in each graph ``VARIANTS`` names (issue 14), the machine's
GEMM rate, optionally each step's per-op-family profile (``op_profile``) and the end-to-end
seconds per 100 student updates of quick cells (``cell_rate``), and, when a torch Python is
given, the PyTorch reference step (../shared/bench/peer_step_torch.py) measured in the same
run, as ratios.
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
from reproduce.bench import cell_rate, op_profile
from reproduce.core import provenance
from reproduce.core.run_folders import REPO_ROOT

TORCH_SCRIPT = os.path.normpath(os.path.join(REPO_ROOT, "..", "shared", "bench",
                                             "peer_step_torch.py"))
WARMUP = 5
# The graphs timed side by side (issue 14): fused batch norm in the generators, the moments
# batch norm of every committed result so far, and XLA-compiled generators (with fused BN).
VARIANTS = (("fused", {"fused_batch_norm": True}), ("moments", {"fused_batch_norm": False}),
            ("xla", {"xla_generators": True, "fused_batch_norm": True}))


def median_ms(sess, fetch, iters):
    """Median ms of ``iters`` runs of ``fetch`` after WARMUP runs."""
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
        ms = median_ms(sess, product, reps)
    return 2.0 * n ** 3 / (ms / 1e3) / 1e9


def build_steps(method, batch_size, **variant):
    """(graph, distiller, init op) of one method's steps at one batch size (the paper's other
    settings; ``variant``: DistillConfig fields of one of ``VARIANTS``)."""
    if method == "dafl":
        config = DistillConfig(method="dafl", task="mnist", seed=0, student_steps=1,
                               batch_size=batch_size, student_lr=2e-3, generator_lr=1e-3,
                               generator_steps_per_round=1, **variant)
        cls = DAFLDistiller
    else:
        config = DistillConfig(method="gas", task="mnist", seed=0, student_steps=1,
                               batch_size=batch_size, student_lr=1e-3, generator_lr=1e-3,
                               n_generators=8, generator_steps_per_round=20, gamma=0.4,
                               **variant)
        cls = GASDistiller
    graph = tf.Graph()
    with graph.as_default():
        tf.set_random_seed(0)
        teacher = make_classifier("teacher", trainable=False)
        student = make_classifier("student")
        distiller = cls(config, teacher, student, INPUT_SHAPE)
        init = tf.global_variables_initializer()
    graph.finalize()
    return graph, distiller, init


def step_times(method, batch_size, threads, iters, variants=VARIANTS, profile=False,
               log=None):
    """{variant name: (student ms, generator ms)}: the variants' steps timed in alternation
    (one step of each in turn), so that the machine's drift falls on all alike; medians.
    ``profile``: also logs each step's per-op-family table (``op_profile``)."""
    sessions = {}
    for name, fields in variants:
        graph, distiller, init = build_steps(method, batch_size, **fields)
        sess = make_session(graph, threads)
        sess.run(init)
        sessions[name] = (sess, distiller)
    found = {}
    try:
        for step in ("student", "generator"):
            ops = {name: getattr(d, step + "_train_op") for name, (_, d) in sessions.items()}
            for _ in range(WARMUP):
                for name, (sess, _) in sessions.items():
                    sess.run(ops[name])
            times = {name: [] for name in sessions}
            for _ in range(iters):
                for name, (sess, _) in sessions.items():
                    t0 = time.perf_counter()
                    sess.run(ops[name])
                    times[name].append((time.perf_counter() - t0) * 1e3)
            for name in sessions:
                found.setdefault(name, {})[step] = statistics.median(times[name])
                if profile:
                    families = op_profile.profile_step(sessions[name][0], ops[name])
                    for line in op_profile.format_profile(
                            "%s B=%d %s variant=%s" % (method, batch_size, step, name),
                            found[name][step], families):
                        log(line)
    finally:
        for sess, _ in sessions.values():
            sess.close()
    return {name: (v["student"], v["generator"]) for name, v in found.items()}


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


def check_batch_sizes(batch_sizes):
    """``--batch_sizes`` as positive integers, or a ConfigError naming the flag."""
    try:
        batch_sizes = [int(b) for b in batch_sizes]
    except ValueError:
        batch_sizes = [0]
    if not batch_sizes or min(batch_sizes) < 1:
        raise ConfigError("--batch_sizes must be a comma-separated list of positive integers")
    return batch_sizes


def check_torch_python(torch_python):
    """``--torch_python``, when given, must be an executable (a ConfigError naming the flag)."""
    if torch_python and not os.access(torch_python, os.X_OK):
        raise ConfigError("--torch_python %s is not an executable Python" % torch_python)


def main(batch_sizes, iters, threads, torch_python, log, profile=False, cell_updates=0):
    batch_sizes = check_batch_sizes(batch_sizes)
    check_torch_python(torch_python)
    if torch_python and not os.path.isfile(TORCH_SCRIPT):
        raise ConfigError("--torch_python: the PyTorch reference %s is missing; put the shared "
                          "folder (../shared/bench/) beside the checkout" % TORCH_SCRIPT)
    cell_rate.check_updates(cell_updates)
    info = build_info()
    log("bench: tensorflow %s (oneDNN: %s), %d intra-op threads, 1 inter-op thread, "
        "packages %s" % (info["tensorflow"], info["onednn"], threads,
                         provenance.package_versions()))
    log("bench: fp32 GEMM 2048² %.1f GFLOP/s" % gemm_gflops(threads))
    ours = {}
    names = [name for name, _ in VARIANTS]
    for batch in batch_sizes:
        for method in ("dafl", "gas"):
            times = step_times(method, batch, threads, iters, profile=profile, log=log)
            for name in names:
                student_ms, generator_ms = ours[(method, batch, name)] = times[name]
                log("RESULT fw=tf method=%s B=%d variant=%s student_ms=%.1f generator_ms=%.1f"
                    % (method, batch, name, student_ms, generator_ms))
    if torch_python:
        for impl in ("eager", "compile"):
            reference = torch_reference(torch_python, batch_sizes, impl, log)
            for batch in batch_sizes:
                for name in names:
                    student_ms, generator_ms = ours[("dafl", batch, name)]
                    for step, mine in (("student", student_ms), ("gen", generator_ms)):
                        theirs = reference.get((batch, step))
                        if theirs:
                            log("RATIO B=%d step=%s variant=%s tf_dafl_ms=%.1f "
                                "torch_%s_ms=%.1f ratio=%.2f" % (
                                    batch, step, name, mine, impl, theirs, mine / theirs))
    if cell_updates:
        cell_rate.main(cell_updates, threads, log)
    return ours

"""End-to-end cost of quick Table 1 cells (issue 14): a seed-0 MNIST DAFL and GAS cell of the
quick profile, run through the same code as ``distill`` (its loop, evaluation and logging)
into a scratch folder from the shipped quick teacher, in each graph of ``VARIANTS``: fused
batch norm and the moments batch norm (issue 14's after and before, run one after the other
on the same machine).

Seconds per 100 student updates are measured between the cell's evaluations at ``updates``/2
and ``updates`` (graph building, start-up and the first round's warm-up left out), less the
evaluation time in between; each 100 updates include the generator updates of their rounds.
The first half's time, start-up included, is printed too (XLA compiles each generator once).
"""
import os
import shutil
import tempfile

from building_blocks.common.config import ConfigError
from reproduce.core.run_folders import REFERENCE_DIR
from reproduce.table1 import image_cells

METHODS = ("dafl", "gas")
VARIANTS = (("fused", "fused_batch_norm=true"), ("moments", "fused_batch_norm=false"))


def seconds_per_100(record):
    """From a finished cell record with two evaluations: steady-state s per 100 updates."""
    first, last = record["history"][-2], record["history"][-1]
    updates = last["step"] - first["step"]
    eval_each = record["eval_s"] / len(record["history"])
    return (last["wall_s"] - first["wall_s"] - eval_each) * 100.0 / updates


def check_updates(updates):
    if updates and (updates < 4 or updates % 2):
        raise ConfigError("--bench_cell_updates must be an even number >= 4 (or 0: skip), got %d"
                          % updates)


def main(updates, threads, log, task="mnist"):
    check_updates(updates)
    teacher = image_cells.teacher_path(REFERENCE_DIR, "quick", task)
    scratch = tempfile.mkdtemp(prefix="gas-bench-cells-")
    try:
        for method in METHODS:
            for name, override in VARIANTS:
                overrides = ("student_steps=%d" % updates, "eval_every=%d" % (updates // 2),
                             override)
                record = image_cells.run_distill(
                    method, task, "quick", 0, os.path.join(scratch, name),
                    threads=threads, overrides=overrides, log=lambda *_: None,
                    teacher_checkpoint=teacher)
                log("CELL quick %s %s seed 0 variant=%s: %.1f s per 100 student updates "
                    "after start-up; the first %d updates with start-up (session) %.1f s; "
                    "%d updates, %d generator updates, %d threads" % (
                        task, method, name, seconds_per_100(record), updates // 2,
                        record["history"][0]["wall_s"] - record["eval_s"] / 2,
                        record["student_steps"], record["generator_steps"], threads))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

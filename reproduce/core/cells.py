"""One cell of the grid (a teacher, or a method × task × seed) of any family, and where its
artefacts live:

    <results>/<profile>/cells/<cell>.json          cell result
    <results>/<profile>/logs/<cell>.log            its log (run_all only)
    <results>/<profile>/tensorboard/<cell>/        its TensorBoard summaries
    <results>/<profile>/partial/<cell>/            mid-cell checkpoints of an unfinished cell

A cell's JSON is written atomically when it finishes, so it exists only for finished cells:
that is the resume rule. The image cells (Table 1, Figure 2) are in
reproduce/table1/image_cells.py, the policy cells (Tables 6-7) in reproduce/rl/.
"""
import collections
import os
import sys
import time

from building_blocks.common.config import to_dict
from reproduce.core import provenance

Cell = collections.namedtuple("Cell", ["kind", "task", "method", "seed"])


def cell_name(cell):
    if cell.kind == "teacher":
        return "%s/teacher" % cell.task
    return "%s/%s/seed%d" % (cell.task, cell.method, cell.seed)


def profile_dir(results_dir, profile):
    return os.path.join(results_dir, profile)


def result_path(results_dir, profile, cell):
    return os.path.join(profile_dir(results_dir, profile), "cells", cell_name(cell) + ".json")


def summary_dir(results_dir, profile, cell):
    """TensorBoard folder of one cell: tensorboard --logdir <results>/<profile>/tensorboard"""
    return os.path.join(profile_dir(results_dir, profile), "tensorboard", cell_name(cell))


def partial_dir(results_dir, profile, cell):
    """Mid-cell checkpoints of an unfinished cell (removed when the cell finishes)."""
    return os.path.join(profile_dir(results_dir, profile), "partial", cell_name(cell))


def log_path(results_dir, profile, cell):
    return os.path.join(profile_dir(results_dir, profile), "logs",
                        cell_name(cell).replace("/", "_") + ".log")


def cell_record(cell, profile, config, result, started):
    """The JSON record of a finished cell of any family: its name, command, config, result
    and provenance (git sha, package versions); every cell runner writes one."""
    record = {
        "cell": cell_name(cell), "kind": cell.kind, "task": cell.task, "method": cell.method,
        "seed": cell.seed, "profile": profile, "status": "ok",
        "command": provenance.portable_command(
            [os.path.basename(sys.executable), "-m", "reproduce"] + sys.argv[1:]),
        "config": to_dict(config), "started": started, "finished": time.time(),
    }
    record.update(result)
    for key in PATH_FIELDS:  # no path of the machine that ran it (like the command)
        if isinstance(record.get(key), str):
            record[key] = provenance.portable_path(record[key])
    record.update(provenance.environment())
    return record


PATH_FIELDS = ("checkpoint", "teacher_checkpoint")  # file paths a runner puts in its result


def diverged_record(cell, profile, config, overrides, teacher_meta, started):
    """The record of a distillation cell that diverged, before ``diverged.finish`` adds the
    step and term: provenance and the teacher's SHA-256 (so ``grid.is_stale`` still works),
    no results."""
    record = cell_record(cell, profile, config, {
        "teacher_checkpoint_sha256": teacher_meta.get("sha256"),
        "wall_s": time.time() - started}, started)
    record["overrides"] = list(overrides)
    return record


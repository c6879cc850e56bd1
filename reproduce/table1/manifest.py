"""The run manifest of the image cells (Table 1, Figure 2): <results>/manifest.json, every
finished cell's command, seed, provenance, wall time and result file, and the budget each
method got on each task (issue 20: equal student updates or equal wall time, shown)."""
import collections
import os

from building_blocks.common.io_utils import atomic_write_json
from reproduce.core import cells, provenance
from reproduce.core.tables import run_all_records


def write_manifest(results_dir, profile, records, run_info=None):
    manifest = {
        "profile": profile,
        "run_all": run_info,  # the invocation writing this manifest (None: `tables` command)
        "run_all_by_family": run_all_records(results_dir, profile),
        "std": "sample standard deviation across seeds (ddof=1)",
        "seeds": sorted({r["seed"] for r in records if r["kind"] == "distill"}),
        "tables_written_by": provenance.environment(),
        "cells": [{
            "cell": r["cell"], "command": r["command"], "seed": r["seed"],
            "git_sha": r["git_sha"], "packages": r["packages"], "tf_build": r["tf_build"],
            "wall_s": round(r["wall_s"], 1), "test_accuracy": r["test_accuracy"],
            **provenance.machine_fields(r),
            "result_file": os.path.relpath(cells.result_path(results_dir, profile, cells.Cell(
                r["kind"], r["task"], r["method"], r["seed"])), results_dir),
        } for r in records],
        "total_cell_wall_s": round(sum(r["wall_s"] for r in records), 1),
        "budget": budget(records),
    }
    atomic_write_json(os.path.join(results_dir, "manifest.json"), manifest)
    return manifest


def budget(records):
    """What each distillation method got on each task, from its cells: student and generator
    updates per cell and mean wall time, and ``equal_student_updates`` per task (true when every
    method's cells ran the same number of student updates, the quick profile's rule,
    DEVIATIONS.md; wall time is then whatever each method costs)."""
    by_task = collections.defaultdict(lambda: collections.defaultdict(list))
    for r in records:
        if r["kind"] == "distill":
            by_task[r["task"]][r["method"]].append(r)
    out = {}
    for task in sorted(by_task):
        methods = {}
        for method, cells_ in sorted(by_task[task].items()):
            methods[method] = {
                "cells": len(cells_),
                "student_steps": sorted({c["student_steps"] for c in cells_}),
                "generator_steps": sorted({c.get("generator_steps", 0) for c in cells_}),
                "mean_wall_s": round(sum(c["wall_s"] for c in cells_) / len(cells_), 1),
            }
        steps = {s for m in methods.values() for s in m["student_steps"]}
        out[task] = {"equal_student_updates": len(steps) == 1, "methods": methods}
    return out

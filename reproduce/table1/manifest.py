"""The run manifest of the image cells (Table 1, Figure 2): <results>/manifest.json, every
finished cell's command, seed, provenance, wall time and result file."""
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
    }
    atomic_write_json(os.path.join(results_dir, "manifest.json"), manifest)
    return manifest

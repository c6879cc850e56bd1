"""Tables in long form, our numbers beside the paper's, and the run manifest.

table1.csv columns: method,task,mean,std,n,paper_mean,paper_std,profile,note
- mean/std: test accuracy in percent; std is the sample standard deviation across seeds
  (ddof = 1), empty when n < 2.
- paper values come only from reproduce/paper_reference.csv.
- n counts the seeds with a result; seeds whose training diverged are named in the note
  (e.g. "seed 1 diverged at step 12 (student KL)") and left out of mean and std.
"""
import collections
import csv
import glob
import io
import json
import math
import os

from building_blocks.common.io_utils import atomic_write_json, atomic_write_text
from reproduce import cells, configs, diverged, provenance

PAPER_REFERENCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "paper_reference.csv")
TABLE1_METHODS = ("teacher",) + configs.METHODS
COLUMNS = ("method", "task", "mean", "std", "n", "paper_mean", "paper_std", "profile", "note")


def not_run_notes(data_dir=None):
    """Notes for Table 1 cells without results, keyed (method, task) or task."""
    from building_blocks.image import cifar10  # pylint: disable=g-import-not-at-top
    notes = {("noise_kd", "cifar10"): "not run: Table 1 has no CIFAR-10 value for this row "
                                      "(run it with `distill --method noise_kd --task cifar10`)"}
    if not cifar10.is_available(data_dir):
        notes["cifar10"] = ("not run: data missing (put %s in %s/)" % (
            cifar10.TARBALL, os.path.dirname(cifar10.expected_location(data_dir))))
    return notes


class ReferenceError(ValueError):
    """The paper reference file is missing a row or malformed."""


class ResultsError(ValueError):
    """A finished cell's result file cannot be read."""


def paper_reference_path():
    """reproduce/paper_reference.csv, or the file $GAS_PAPER_REFERENCE names (for tests)."""
    return os.environ.get("GAS_PAPER_REFERENCE") or PAPER_REFERENCE


def load_paper_reference(path=None):
    path = path or paper_reference_path()
    reference = {}
    try:
        with open(path) as f:
            for row in csv.DictReader(f):
                reference[(row["table"], row["method"], row["task"])] = (
                    row["paper_mean"], row["paper_std"])
    except OSError as e:
        raise ReferenceError("cannot read the paper reference file %s (%s); restore it from "
                             "git" % (path, e.strerror or e))
    except KeyError as e:
        raise ReferenceError("paper reference file %s is malformed: no column %s; restore it "
                             "from git" % (path, e))
    return reference


def mean_std(values):
    """Mean and sample standard deviation (ddof = 1; None when fewer than 2 values)."""
    n = len(values)
    mean = sum(values) / n
    if n < 2:
        return mean, None
    return mean, math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))


def load_cell_records(results_dir, profile, kinds=("teacher", "distill"), statuses=("ok",)):
    """Records of ``kinds`` (policy distillation cells have kind 'rl_distill') whose status is
    one of ``statuses``: by default the finished cells with a result ("ok"), not the diverged
    ones (``reproduce.diverged``)."""
    records = []
    pattern = os.path.join(cells.profile_dir(results_dir, profile), "cells", "**", "*.json")
    for path in sorted(glob.glob(pattern, recursive=True)):
        try:
            with open(path) as f:
                record = json.load(f)
        except ValueError as e:
            raise ResultsError("corrupt result file %s (%s); delete it and rerun run_all to "
                               "redo that cell" % (path, e))
        if record.get("status") in statuses and record.get("kind") in kinds:
            records.append(record)
    return records


def _fmt(value, digits=2):
    return "" if value is None else "%.*f" % (digits, value)


def split_diverged(records):
    """({(method, task): finished records}, {(method, task): diverged records}): a diverged
    cell has no result, so it never enters a mean; the row's note names it instead."""
    finished, stopped = collections.defaultdict(list), collections.defaultdict(list)
    for record in records:
        target = stopped if diverged.is_diverged(record) else finished
        target[(record["method"], record["task"])].append(record)
    return finished, stopped


def table1_rows(records, profile, reference, notes=None):
    """Rows of Table 1 from cell records (finished ones averaged, diverged ones noted)."""
    finished, stopped = split_diverged(records)
    rows = []
    for task in configs.TABLE1_TASKS:
        for method in TABLE1_METHODS:
            key = ("table1", method, task)
            if key not in reference:
                raise ReferenceError("%s has no row for %s / %s / %s; restore it from the paper "
                                     "(Table 1)." % (paper_reference_path(), *key))
            paper_mean, paper_std = reference[key]
            values = [r["test_accuracy"] for r in finished.get((method, task), [])]
            stopped_here = stopped.get((method, task), [])
            note = ""
            if values:
                mean, std = mean_std(values)
                if method == "teacher":
                    note = "one teacher (seed %d)" % configs.TEACHER_SEED
            else:
                mean = std = None
                notes = not_run_notes() if notes is None else notes
                if not stopped_here:
                    note = notes.get((method, task), notes.get(task, "not run"))
            note = diverged.with_note(note, stopped_here)
            rows.append(collections.OrderedDict([
                ("method", method), ("task", task), ("mean", _fmt(mean)), ("std", _fmt(std, 3)),
                ("n", str(len(values))), ("paper_mean", paper_mean), ("paper_std", paper_std),
                ("profile", profile), ("note", note)]))
    return rows


def rows_to_csv(rows, columns=COLUMNS):
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def rows_to_markdown(rows):
    lines = ["| method | task | ours (mean ± std, n) | paper |", "|---|---|---|---|"]
    for row in rows:
        ours = row["note"] if not row["mean"] else "%s%s (n=%s)" % (
            row["mean"], (" ± " + row["std"]) if row["std"] else "", row["n"])
        paper = row["paper_mean"] + ((" ± " + row["paper_std"]) if row["paper_std"] else "")
        lines.append("| %s | %s | %s | %s |" % (row["method"], row["task"], ours, paper or "–"))
    return "\n".join(lines) + "\n"


def write_table1(results_dir, profile, run_info=None, notes=None):
    """Writes <results>/table1.csv, table1.md and manifest.json from the finished cells."""
    records = load_cell_records(results_dir, profile)
    rows = table1_rows(records + load_cell_records(results_dir, profile,
                                                   statuses=(diverged.STATUS,)),
                       profile, load_paper_reference(), notes)
    atomic_write_text(os.path.join(results_dir, "table1.csv"), rows_to_csv(rows))
    atomic_write_text(os.path.join(results_dir, "table1.md"), rows_to_markdown(rows))
    from reproduce import figures  # pylint: disable=g-import-not-at-top
    figures.plot_table1(rows, os.path.join(results_dir, "figures", "table1.png"))
    write_manifest(results_dir, profile, records, run_info)
    return rows


def run_all_records(results_dir, profile):
    """The run_all invocations' records of a profile, keyed by the families they ran
    (<results>/<profile>/run_all_<families>.json), e.g. {"table1": {...}, "fig2": {...}}."""
    runs = {}
    pattern = os.path.join(cells.profile_dir(results_dir, profile), "run_all_*.json")
    for path in sorted(glob.glob(pattern)):
        with open(path) as f:
            runs[os.path.basename(path)[len("run_all_"):-len(".json")]] = json.load(f)
    return runs


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
            "result_file": os.path.relpath(cells.result_path(results_dir, profile, cells.Cell(
                r["kind"], r["task"], r["method"], r["seed"])), results_dir),
        } for r in records],
        "total_cell_wall_s": round(sum(r["wall_s"] for r in records), 1),
    }
    atomic_write_json(os.path.join(results_dir, "manifest.json"), manifest)
    return manifest

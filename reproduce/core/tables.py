"""Tables in long form (Table 1, Tables 6-7), our numbers beside the paper's: the helpers every
family's table uses.

Long format columns: method,task,mean,std,n,paper_mean,paper_std,profile,note
- mean/std: std is the sample standard deviation across seeds (ddof = 1), empty when n < 2.
- paper values come only from reproduce/paper_reference.csv (reproduce/core/paper_reference.py).
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

from reproduce.core import cells, diverged

COLUMNS = ("method", "task", "mean", "std", "n", "paper_mean", "paper_std", "profile", "note")


class ResultsError(ValueError):
    """A finished cell's result file cannot be read."""


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
    ones (``reproduce.core.diverged``)."""
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


def fmt(value, digits=2):
    return "" if value is None else "%.*f" % (digits, value)


def split_diverged(records):
    """({(method, task): finished records}, {(method, task): diverged records}): a diverged
    cell has no result, so it never enters a mean; the row's note names it instead."""
    finished, stopped = collections.defaultdict(list), collections.defaultdict(list)
    for record in records:
        target = stopped if diverged.is_diverged(record) else finished
        target[(record["method"], record["task"])].append(record)
    return finished, stopped


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


def run_all_records(results_dir, profile):
    """The run_all invocations' records of a profile, keyed by the families they ran
    (<results>/<profile>/run_all_<families>.json), e.g. {"table1": {...}, "fig2": {...}}."""
    runs = {}
    pattern = os.path.join(cells.profile_dir(results_dir, profile), "run_all_*.json")
    for path in sorted(glob.glob(pattern)):
        with open(path) as f:
            runs[os.path.basename(path)[len("run_all_"):-len(".json")]] = json.load(f)
    return runs

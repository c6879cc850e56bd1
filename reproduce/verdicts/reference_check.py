"""Reference check: every number of a run beside the shipped reference's (``results/``), with
a verdict — the archival user's question "does my machine reproduce the repository's number?".

Rows are matched by (table, method, task) across the result CSVs (Tables 1, 6, 7 and Figure
2). Verdicts, in order:
- ``not run``: no result of ours (not run, or every seed diverged);
- ``no reference``: the reference has no result for this row;
- ``other profile``: the reference ran another profile (it ships ``quick``), so its number is
  shown for orientation only;
- ``identical``: mean, std and n equal to the printed precision (the same cells, seeds and
  code on a machine whose arithmetic matches ours);
- ``within 1σ`` / ``within 2σ`` / ``outside``: |ours − reference| against σ = max(our σ, the
  reference's σ) across seeds (a row with no σ on either side, e.g. a teacher, is either
  identical or outside).
"""
import collections
import csv
import io
import os

from building_blocks.common.io_utils import atomic_write_text
from reproduce.core import run_folders
from reproduce.verdicts import check

TABLE_FILES = ("table1.csv", "table6.csv", "table7.csv", "fig2_input_modes.csv")
VERDICTS = ("identical", "within 1σ", "within 2σ", "outside", "other profile", "no reference",
            "not run")
COLUMNS = ("table", "method", "task", "mean", "std", "n", "profile", "reference_mean",
           "reference_std", "reference_n", "reference_profile", "difference", "verdict")
FILE_NAME = "reference_check.csv"


def _has_result(row):
    return row is not None and row.get("n") not in (None, "", "0") and row.get("mean") != ""


def verdict(ours, reference):
    """(verdict, difference) of one row of ours against the reference's row (or None)."""
    if not _has_result(ours):
        return "not run", None
    if not _has_result(reference):
        return "no reference", None
    number = check.number
    # the archival check's σ rule, with the reference in the paper's place
    result, _, difference = check.verdict(number(ours["mean"]), number(ours.get("std")),
                                          number(reference["mean"]),
                                          number(reference.get("std")))
    if ours.get("profile") != reference.get("profile"):
        return "other profile", difference
    if all(ours.get(k) == reference.get(k) for k in ("mean", "std", "n")):
        return "identical", difference
    return result, difference


def _read(folder, name):
    path = os.path.join(folder, name)
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return list(csv.DictReader(f))


def reference_rows(results_dir, reference_dir=run_folders.REFERENCE_DIR):
    """One row per result of ``results_dir``'s tables, beside the reference's; [] when
    ``results_dir`` is the reference itself."""
    if run_folders.is_reference(results_dir, reference_dir):
        return []
    rows = []
    for name in TABLE_FILES:
        ours = _read(results_dir, name)
        if ours is None:
            continue
        reference = {(r["method"], r["task"]): r for r in _read(reference_dir, name) or []}
        for row in ours:
            ref = reference.get((row["method"], row["task"]))
            result, difference = verdict(row, ref)
            ref = ref or {}
            rows.append(collections.OrderedDict([
                ("table", name[:-4]), ("method", row["method"]), ("task", row["task"]),
                ("mean", row["mean"]), ("std", row["std"]), ("n", row["n"]),
                ("profile", row["profile"]), ("reference_mean", ref.get("mean", "")),
                ("reference_std", ref.get("std", "")), ("reference_n", ref.get("n", "")),
                ("reference_profile", ref.get("profile", "")),
                ("difference", "" if difference is None else "%+.2f" % difference),
                ("verdict", result)]))
    return rows


def summary(rows, reference_dir=run_folders.REFERENCE_DIR):
    counts = collections.Counter(r["verdict"] for r in rows)
    profiles = sorted({r["reference_profile"] for r in rows if r["reference_profile"]})
    return "reference check (against %s, %s profile): %s" % (
        run_folders.display(reference_dir), "/".join(profiles) or "no",
        ", ".join("%d %s" % (counts[v], v) for v in VERDICTS if counts[v]) or "no rows")


def run_reference_check(results_dir, log=print, reference_dir=run_folders.REFERENCE_DIR):
    """Writes <results_dir>/reference_check.csv and logs the summary; returns the rows ([] and
    nothing written for the reference folder itself)."""
    rows = reference_rows(results_dir, reference_dir)
    if not rows:
        return rows
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_text(os.path.join(results_dir, FILE_NAME), buffer.getvalue())
    log(summary(rows, reference_dir))
    return rows

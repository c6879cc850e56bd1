"""Archival check: a verdict for every cell of the result tables against the paper.

σ = max(paper σ, our σ across seeds), a missing one counting as 0. Verdicts:
``within 1σ`` (|ours − paper| ≤ σ), ``within 2σ``, ``outside``, ``not run`` (no result of
ours), ``no paper value`` (the paper reports none), ``diverged`` (no result of ours: every
seed's training diverged, see the table's note). Seeds that diverged are never a result: the
tables leave them out of mean and n, so a verdict is on the finished seeds only.
"""
import collections
import csv
import io
import os

from building_blocks.common.io_utils import atomic_write_text
from reproduce import diverged

TABLE_FILES = ("table1.csv", "table6.csv", "table7.csv")
VERDICTS = ("within 1σ", "within 2σ", "outside", "not run", "no paper value", "diverged")
COLUMNS = ("table", "method", "task", "mean", "std", "n", "paper_mean", "paper_std", "sigma",
           "difference", "verdict", "profile", "note")


class CheckError(ValueError):
    """No result tables, or a --require threshold missed."""


def _number(text):
    return float(text) if text not in (None, "") else None


def verdict(mean, std, paper_mean, paper_std):
    """Returns (verdict, sigma, difference) for one cell; inputs may be None."""
    if mean is None:
        return "not run", None, None
    if paper_mean is None:
        return "no paper value", None, None
    sigma = max(paper_std or 0.0, std or 0.0)
    difference = mean - paper_mean
    if abs(difference) <= sigma:
        return "within 1σ", sigma, difference
    if abs(difference) <= 2 * sigma:
        return "within 2σ", sigma, difference
    return "outside", sigma, difference


def check_rows(results_dir):
    rows = []
    found = False
    for name in TABLE_FILES:
        path = os.path.join(results_dir, name)
        if not os.path.exists(path):
            continue
        found = True
        with open(path) as f:
            for row in csv.DictReader(f):
                mean = _number(row["mean"]) if row["n"] not in ("", "0") else None
                result, sigma, difference = verdict(mean, _number(row["std"]),
                                                    _number(row["paper_mean"]),
                                                    _number(row["paper_std"]))
                if mean is None and diverged.NOTE_MARK in row.get("note", ""):
                    result = "diverged"
                rows.append(collections.OrderedDict([
                    ("table", name[:-4]), ("method", row["method"]), ("task", row["task"]),
                    ("mean", row["mean"]), ("std", row["std"]), ("n", row["n"]),
                    ("paper_mean", row["paper_mean"]), ("paper_std", row["paper_std"]),
                    ("sigma", "" if sigma is None else "%.3f" % sigma),
                    ("difference", "" if difference is None else "%+.2f" % difference),
                    ("verdict", result), ("profile", row["profile"]),
                    ("note", row.get("note", ""))]))
    if not found:
        raise CheckError("no result tables (%s) in %s; run ./run_all.sh first"
                         % (", ".join(TABLE_FILES), results_dir))
    return rows


def summary(rows):
    counts = collections.Counter(r["verdict"] for r in rows)
    profiles = sorted({r["profile"] for r in rows})
    shown = [v for v in VERDICTS if v != "diverged" or counts[v]]  # rare: only when present
    return "archival check (%s profile): %s" % (
        "/".join(profiles), ", ".join("%d %s" % (counts[v], v) for v in shown))


def run_check(results_dir, require=None, log=print):
    """Writes archival_check.csv, prints the summary; ``require`` is the minimum fraction of
    cells with both our and the paper's value that must be within 2σ."""
    rows = check_rows(results_dir)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_text(os.path.join(results_dir, "archival_check.csv"), buffer.getvalue())
    log(summary(rows))
    if require is not None:
        comparable = [r for r in rows if r["verdict"] in VERDICTS[:3]]
        good = [r for r in comparable if r["verdict"] != "outside"]
        fraction = len(good) / float(len(comparable)) if comparable else 0.0
        if fraction < require:
            raise CheckError("--require %.2f missed: %d of %d comparable cells (%.2f) are within "
                             "2σ of the paper" % (require, len(good), len(comparable), fraction))
    return rows

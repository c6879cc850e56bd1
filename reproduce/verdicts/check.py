"""Archival check: a verdict for every cell of the result tables against the paper.

σ = max(paper σ, our σ across seeds), a missing one counting as 0. Verdicts:
``within 1σ`` (|ours − paper| ≤ σ), ``within 2σ``, ``outside``, ``not run`` (no result of
ours), ``no paper value`` (the paper reports none), ``diverged`` (no result of ours: every
seed's training diverged, see the table's note). Seeds that diverged are never a result: the
tables leave them out of mean and n, so a verdict is on the finished seeds only.

A student is only comparable with the paper's student when our teacher is comparable with the
paper's teacher. A teacher counts as reproduced when it is within 2σ of the paper's or within
``TEACHER_TOLERANCE`` (5%) of it (CHOICE: a teacher usually has no σ on either side, and the σ
rule would then ask for equality). When it is not, its students are judged
relative to it instead: student ÷ teacher (std scaled the same way) against the paper's
student ÷ teacher, with the same σ rule (``relative within 1σ``, ``relative within 2σ``,
``relative outside``); where a ratio means nothing (a teacher score ≤ 0, e.g. Pong) the verdict
is ``teacher not reproduced``. Both ratios are in the CSV.
"""
import collections
import csv
import io
import os

from building_blocks.common.io_utils import atomic_write_text
from reproduce.core import diverged

TABLE_FILES = ("table1.csv", "table6.csv", "table7.csv")
VERDICTS = ("within 1σ", "within 2σ", "outside", "relative within 1σ", "relative within 2σ",
            "relative outside", "teacher not reproduced", "not run", "no paper value",
            "diverged")
TEACHER_TOLERANCE = 0.05       # relative difference within which a teacher counts as reproduced
COMPARABLE = VERDICTS[:6]        # verdicts --require counts
GOOD = ("within 1σ", "within 2σ", "relative within 1σ", "relative within 2σ")
COLUMNS = ("table", "method", "task", "mean", "std", "n", "paper_mean", "paper_std", "sigma",
           "difference", "verdict", "teacher_ratio", "paper_teacher_ratio", "profile", "note")


class CheckError(ValueError):
    """No result tables, or a --require threshold missed."""


def number(text):
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


def _mean(row):
    return number(row["mean"]) if row["n"] not in ("", "0") else None


def relative_verdict(row, teacher):
    """(verdict, ratio, paper ratio) of a student ``row`` against its ``teacher`` row when that
    teacher is outside the paper's range; None when the absolute verdict stands."""
    teacher_mean, paper_teacher = _mean(teacher), number(teacher["paper_mean"])
    if teacher_mean is None or paper_teacher is None:
        return None
    if (verdict(teacher_mean, number(teacher["std"]), paper_teacher,
                number(teacher["paper_std"]))[0] != "outside"
            or abs(teacher_mean - paper_teacher) <= TEACHER_TOLERANCE * abs(paper_teacher)):
        return None
    mean, paper_mean = _mean(row), number(row["paper_mean"])
    if mean is None or paper_mean is None:
        return None
    if teacher_mean <= 0 or paper_teacher <= 0:
        return "teacher not reproduced", None, None
    scale = lambda value, by: None if value is None else value / by  # noqa: E731
    ratio, paper_ratio = mean / teacher_mean, paper_mean / paper_teacher
    result = verdict(ratio, scale(number(row["std"]), teacher_mean), paper_ratio,
                     scale(number(row["paper_std"]), paper_teacher))[0]
    return "relative " + result, ratio, paper_ratio


def _table_rows(name, table):
    teachers = {row["task"]: row for row in table if row["method"] == "teacher"}
    rows = []
    for row in table:
        mean = _mean(row)
        result, sigma, difference = verdict(mean, number(row["std"]),
                                            number(row["paper_mean"]), number(row["paper_std"]))
        ratio = paper_ratio = None
        relative = (relative_verdict(row, teachers[row["task"]])
                    if row["method"] != "teacher" and row["task"] in teachers else None)
        if relative is not None:
            result, ratio, paper_ratio = relative
        if mean is None and diverged.NOTE_MARK in row.get("note", ""):
            result = "diverged"
        rows.append(collections.OrderedDict([
            ("table", name[:-4]), ("method", row["method"]), ("task", row["task"]),
            ("mean", row["mean"]), ("std", row["std"]), ("n", row["n"]),
            ("paper_mean", row["paper_mean"]), ("paper_std", row["paper_std"]),
            ("sigma", "" if sigma is None else "%.3f" % sigma),
            ("difference", "" if difference is None else "%+.2f" % difference),
            ("verdict", result),
            ("teacher_ratio", "" if ratio is None else "%.3f" % ratio),
            ("paper_teacher_ratio", "" if paper_ratio is None else "%.3f" % paper_ratio),
            ("profile", row["profile"]), ("note", row.get("note", ""))]))
    return rows


def check_rows(results_dir):
    rows = []
    found = False
    for name in TABLE_FILES:
        path = os.path.join(results_dir, name)
        if not os.path.exists(path):
            continue
        found = True
        with open(path) as f:
            rows += _table_rows(name, list(csv.DictReader(f)))
    if not found:
        raise CheckError("no result tables (%s) in %s; run ./run_all.sh first"
                         % (", ".join(TABLE_FILES), results_dir))
    return rows


def summary(rows):
    counts = collections.Counter(r["verdict"] for r in rows)
    profiles = sorted({r["profile"] for r in rows})
    # the rare ones only when present
    shown = [v for v in VERDICTS if counts[v] or v in ("within 1σ", "within 2σ", "outside",
                                                       "not run", "no paper value")]
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
        comparable = [r for r in rows if r["verdict"] in COMPARABLE]
        good = [r for r in comparable if r["verdict"] in GOOD]
        fraction = len(good) / float(len(comparable)) if comparable else 0.0
        if fraction < require:
            raise CheckError("--require %.2f missed: %d of %d comparable cells (%.2f) are within "
                             "2σ of the paper" % (require, len(good), len(comparable), fraction))
    return rows

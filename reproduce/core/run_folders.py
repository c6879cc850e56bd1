"""Where results go: the shipped reference apart from a user's runs (issue 15).

- ``results/`` (``REFERENCE_DIR``) is the reference: the committed run whose tables, figures,
  cells and teachers the README and REPORT.md quote. No command writes there unless it is
  asked to with ``--results_dir results`` (how the maintainers make the reference; the
  commands recorded in its manifests say so).
- ``runs/<profile>/`` (``default_results_dir``) is where every command writes by default, so a
  user's ``./run_all.sh`` trains and distils afresh in its own folder and never overwrites the
  reference. Rerunning the same command resumes that folder's own unfinished cells (finished
  cells are skipped); ``--results_dir runs/NAME`` starts another.
- ``--reuse_reference_teachers`` (run_all) starts a run folder with copies of the reference's
  finished teachers of the same profile, for a user who wants to reproduce the distillation
  but not retrain hours of teachers. The copied teacher records keep their own provenance.
"""
import os
import shutil

from building_blocks.image.data import REPO_ROOT

REFERENCE_DIR = os.path.join(REPO_ROOT, "results")
RUNS_DIR = os.path.join(REPO_ROOT, "runs")


def default_results_dir(profile):
    """runs/<profile> in the repository (runs/ is git-ignored)."""
    return os.path.join(RUNS_DIR, profile)


def is_reference(results_dir, reference_dir=REFERENCE_DIR):
    """True when ``results_dir`` is the shipped reference folder itself."""
    return os.path.realpath(results_dir) == os.path.realpath(reference_dir)


def display(path):
    """``path`` relative to the repository root when inside it (for logs and reports)."""
    path = os.path.abspath(path)
    relative = os.path.relpath(path, REPO_ROOT)
    return path if relative.startswith("..") else relative


def _reference_copy(path, results_dir, reference_dir):
    """The reference's file at the same place relative to its folder, or None."""
    relative = os.path.relpath(os.path.abspath(path), os.path.abspath(results_dir))
    if relative.startswith(".."):
        return None
    source = os.path.join(reference_dir, relative)
    return source if os.path.exists(source) else None


def reuse_reference_teachers(teachers, students, results_dir, log=print,
                             reference_dir=REFERENCE_DIR):
    """Copies into ``results_dir`` each teacher of ``teachers`` (GridCells) that is not
    finished there but is in the reference: its cell record and the checkpoint (+ .json) its
    students distil. Returns the names of the teachers copied. Never overwrites a file."""
    if is_reference(results_dir, reference_dir):
        return []
    checkpoints = {}
    for cell in students:
        if cell.needs and getattr(cell, "teacher_checkpoint", None):
            checkpoints.setdefault(cell.needs, cell.teacher_checkpoint)
    copied = []
    for cell in teachers:
        if os.path.exists(cell.result_path):
            continue
        files = []
        if cell.name in checkpoints:
            files += [checkpoints[cell.name], checkpoints[cell.name] + ".json"]
        files.append(cell.result_path)  # last: a cell record means a finished teacher
        sources = [_reference_copy(f, results_dir, reference_dir) for f in files]
        if not all(sources):
            continue  # not finished in the reference: it trains here
        for source, target in zip(sources, files):
            if not os.path.exists(target):
                os.makedirs(os.path.dirname(target), exist_ok=True)
                shutil.copy2(source, target)
        copied.append(cell.name)
    if copied:
        log("run_all: reusing %d teacher(s) of the shipped reference (%s): %s"
            % (len(copied), display(reference_dir), ", ".join(copied)))
    return copied

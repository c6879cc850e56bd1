"""Time-to-accuracy curves of Table 1's data-free methods (issue 20): the seed-0 DAFL and GAS
cells' test accuracy against student updates and against wall time, per image task, from
which the quick budget is read.

Sources, all finished cell JSONs (their ``history``: one point per ``eval_every`` updates):
- Table 1's own seed-0 cells (``<results>/<profile>/cells/<task>/<method>/seed0.json``), so
  the curves and the table are one run;
- variants kept apart under ``<results>/calibration/<profile>/cells/...``, run by hand with
  ``--results_dir results/calibration`` and ``--set`` (e.g. DAFL's fresh-batch variant,
  ``--set shared_batch=false``); each cell JSON records its command and overrides;
- named variant sets, one folder each, under ``<results>/calibration/<variant>/<profile>/...``
  (``--results_dir results/calibration/<variant>``), so that several variants of one method
  and task sit side by side (e.g. the one-at-a-time Fashion-MNIST GAS variants).
Writes ``<results>/calibration.csv`` and ``<results>/figures/calibration.png``.
"""
import json
import os

from building_blocks.common.io_utils import atomic_write_text
from reproduce.core import cells, tables
from reproduce.core.figures import plt, save_figure
from reproduce.table1 import configs, image_cells

CALIBRATION_DIR = "calibration"
CSV_FILE = "calibration.csv"
FIGURE_FILE = os.path.join("figures", "calibration.png")
COLUMNS = ("profile", "task", "curve", "method", "overrides", "seed", "student_updates", "wall_s",
           "test_accuracy", "cell_wall_s", "git_sha")
METHODS = ("student_kd", "dafl", "gas")


# Overrides that set the run's length or evaluation grid, not its algorithm: left out of the
# curve's label (they are in the CSV's ``overrides`` column), except a run longer than the
# profile's, labelled with its length so that it does not merge with the profile's curve.
_LENGTH_OVERRIDES = ("student_steps=", "eval_every=")


def _label(record, profile):
    overrides = [o for o in record.get("overrides") or [] if not o.startswith(_LENGTH_OVERRIDES)]
    default = configs.distill_config(record["method"], record["task"], profile, record["seed"])
    steps = record["config"].get("student_steps", 0)
    if steps > default.student_steps:
        overrides.append("%d updates" % steps)
    # A generator cell made before fused batch norm became the default (issue 14) has no
    # ``fused_batch_norm`` in its config: it ran the moments path, and its label says so.
    fused = record["config"].get("fused_batch_norm", False)
    if default.generator_steps_per_round and fused != default.fused_batch_norm \
            and "fused_batch_norm=%s" % str(fused).lower() not in overrides:
        overrides.append("%s batch norm" % ("fused" if fused else "moments"))
    label = record["method"]
    if record["method"] == "dafl":
        shared = record["config"].get("shared_batch", False)
        label = "dafl (%s)" % ("shared batch, as released" if shared else "fresh batch")
    extra = [o for o in overrides if not o.startswith("shared_batch=")]
    return label + (" [%s]" % ", ".join(extra) if extra else "")


def _variant_roots(results_dir, profile):
    """``<results>/calibration`` and its named variant folders (those holding ``profile``)."""
    calibration_dir = os.path.join(results_dir, CALIBRATION_DIR)
    named = []
    if os.path.isdir(calibration_dir):
        named = [os.path.join(calibration_dir, name) for name in sorted(os.listdir(calibration_dir))
                 if name not in configs.PROFILES
                 and os.path.isdir(os.path.join(calibration_dir, name, profile))]
    return [calibration_dir] + named


def _records(results_dir, profile, task, seed=0):
    """Table 1's cells first, then the calibration variants, for ``task`` and ``seed``."""
    roots = [results_dir] + _variant_roots(results_dir, profile)
    found = []
    for root in roots:
        for method in METHODS:
            path = cells.result_path(root, profile, image_cells.distill_cell(task, method, seed))
            if os.path.exists(path):
                with open(path) as f:
                    found.append(json.load(f))
    return found


def calibration_rows(results_dir, profile, seed=0):
    rows = []
    for task in configs.IMAGE_TASKS:
        for record in _records(results_dir, profile, task, seed):
            for point in record.get("history", []):
                rows.append({
                    "profile": profile, "task": task, "curve": _label(record, profile), "method": record["method"],
                    "overrides": " ".join(record.get("overrides") or []), "seed": seed,
                    "student_updates": point["step"], "wall_s": "%.1f" % point["wall_s"],
                    "test_accuracy": "%.2f" % point["test_accuracy"],
                    "cell_wall_s": "%.0f" % record["wall_s"],
                    "git_sha": record.get("git_sha", "")[:12]})
    return rows


def plot_calibration(rows, path, profile):
    tasks = list(dict.fromkeys(r["task"] for r in rows))
    figure, axes = plt.subplots(len(tasks), 2, figsize=(10, 3.6 * len(tasks)), squeeze=False)
    for row_axes, task in zip(axes, tasks):
        task_rows = [r for r in rows if r["task"] == task]
        for curve in dict.fromkeys(r["curve"] for r in task_rows):
            points = [r for r in task_rows if r["curve"] == curve]
            accuracy = [float(r["test_accuracy"]) for r in points]
            style = dict(marker="o", markersize=3, label=curve)
            row_axes[0].plot([r["student_updates"] for r in points], accuracy, **style)
            row_axes[1].plot([float(r["wall_s"]) / 60.0 for r in points], accuracy, **style)
        for ax, xlabel in zip(row_axes, ("student updates", "wall time on one core (min)")):
            ax.set_xlabel(xlabel)
            ax.set_ylabel("test accuracy (%)")
            ax.set_title("%s, seed 0 (%s profile)" % (task, profile), fontsize=9)
            ax.grid(alpha=0.3)
            ax.set_ylim(max(0.0, min(float(r["test_accuracy"]) for r in task_rows) - 2), 100)
        row_axes[0].legend(fontsize=7, loc="best")
    figure.suptitle("Time to accuracy: Table 1's seed-0 cells and calibration variants "
                    "(wall time includes the test evaluations)", fontsize=9)
    figure.tight_layout()
    return save_figure(figure, path)


def write_calibration(results_dir, profile, log=print):
    """Writes the CSV and the figure; returns their paths (none if no cell has finished)."""
    rows = calibration_rows(results_dir, profile)
    if not rows:
        return []
    csv_path = os.path.join(results_dir, CSV_FILE)
    atomic_write_text(csv_path, tables.rows_to_csv(rows, COLUMNS))
    png_path = plot_calibration(rows, os.path.join(results_dir, FIGURE_FILE), profile)
    log("table1: %s, %s" % (csv_path, png_path))
    return [csv_path, png_path]

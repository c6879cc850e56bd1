"""Figure 3 (students' scores relative to their teachers on the classic-control tasks) and
Figure 4 (real frames beside GAS-generated ones, Pong and Enduro)."""
import os

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from reproduce.core import figures  # noqa: E402
from reproduce.rl import distill_cell  # noqa: E402

METHODS = ("student_kd", "dafl", "gas")


def _float(text):
    return float(text) if text not in (None, "") else None


def plot_relative_scores(rows, reference, path):
    """Figure 3: per task, student score / teacher score for each method, error bars σ/teacher
    (ours: σ across seeds; paper: its σ), ours beside the paper's ratio from Table 6.
    Tasks without our teacher show only the paper's bars."""
    tasks = list(dict.fromkeys(r["task"] for r in rows))
    by_key = {(r["method"], r["task"]): r for r in rows}
    figure, ax = plt.subplots(figsize=(2.2 * len(tasks) + 2, 4))
    width = 0.13
    for m, method in enumerate(METHODS):
        for source, offset, alpha in (("ours", 0.0, 1.0), ("paper", 0.75 * width, 0.45)):
            xs, ys, errs = [], [], []
            for t, task in enumerate(tasks):
                if source == "ours":
                    student, teacher = by_key[(method, task)], by_key[("teacher", task)]
                    mean, std, base = (_float(student["mean"]), _float(student["std"]),
                                       _float(teacher["mean"]))
                else:
                    mean, std = [_float(v) for v in reference[("table6", method, task)]]
                    base = _float(reference[("table6", "teacher", task)][0])
                if mean is None or not base:
                    continue
                xs.append(t + (m - 1) * 2.2 * width + offset)
                ys.append(mean / base)
                errs.append((std or 0.0) / abs(base))
            ax.bar(xs, ys, width / 2 if source == "paper" else width, yerr=errs, capsize=2,
                   alpha=alpha, color="C%d" % m,
                   label="%s (%s)" % (method, "paper" if source == "paper" else
                                      "ours, %s" % rows[0]["profile"]))
    ax.axhline(1.0, color="k", lw=0.8, ls="--")
    ax.set_xticks(range(len(tasks)))
    ax.set_xticklabels(tasks)
    ax.set_ylabel("student score / teacher score")
    ax.set_title("Figure 3: policy distillation on classic control (error bars: σ, N = seeds)",
                 fontsize=9)
    ax.legend(fontsize=7, ncol=3, loc="lower left")
    figure.tight_layout()
    return figures.save_figure(figure, path)


def samples_path(results_dir, profile, task, method="gas", seed=0):
    """Frames saved by an ALE generator cell: real ones (teacher rollout) and generated."""
    return distill_cell.rl_result_path(results_dir, profile, task, method, seed)[:-5] + \
        "_samples.npz"


def plot_samples(results_dir, profile, game, figures_dir, per_row=8):
    """Figure 4 panel for ``game``: newest frame of real stacked observations (top) beside
    GAS samples (bottom, one per generator). None if no GAS cell saved samples."""
    candidates = [samples_path(results_dir, profile, game, "gas", s) for s in range(10)]
    found = [p for p in candidates if os.path.exists(p)]
    if not found:
        return None
    data = np.load(found[0])
    real, fake = data["real"][:per_row], data["generated"][:per_row]
    figure, axes = plt.subplots(2, per_row, figsize=(1.4 * per_row, 3.2), squeeze=False)
    for row, (frames, label) in enumerate(((real, "real"), (fake, "GAS"))):
        for i in range(per_row):
            ax = axes[row][i]
            ax.axis("off")
            if i < len(frames):
                ax.imshow(frames[i][..., -1], cmap="gray", vmin=0.0, vmax=1.0)
        axes[row][0].set_title(label, fontsize=8, loc="left")
    figure.suptitle("Figure 4: %s, real inputs (top) and GAS samples (bottom), %s" % (
        game, os.path.basename(found[0])), fontsize=8)
    return figures.save_figure(figure, os.path.join(figures_dir, "fig4_samples_%s.png" % game))

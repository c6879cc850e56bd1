"""Figures: Table 1 as grouped bars, ours (mean ± std across seeds) beside the paper's."""
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from building_blocks.io_utils import atomic_write_bytes  # noqa: E402


def _float(text):
    return float(text) if text not in ("", None) else None


def plot_table1(rows, path):
    """One panel per task that has results; bars per method, ours and the paper's."""
    tasks = [t for t in dict.fromkeys(r["task"] for r in rows)
             if any(r["n"] != "0" for r in rows if r["task"] == t)]
    if not tasks:
        return None
    figure, axes = plt.subplots(1, len(tasks), figsize=(5.5 * len(tasks), 4), squeeze=False)
    for ax, task in zip(axes[0], tasks):
        task_rows = [r for r in rows if r["task"] == task]
        methods = [r["method"] for r in task_rows]
        x = range(len(methods))
        ours = [_float(r["mean"]) or 0.0 for r in task_rows]
        ours_err = [_float(r["std"]) or 0.0 for r in task_rows]
        paper = [_float(r["paper_mean"]) or 0.0 for r in task_rows]
        ax.bar([i - 0.2 for i in x], ours, 0.4, yerr=ours_err, capsize=3,
               label="this run (%s profile)" % task_rows[0]["profile"])
        ax.bar([i + 0.2 for i in x], paper, 0.4, label="paper", alpha=0.6)
        ax.set_xticks(list(x))
        ax.set_xticklabels(methods, rotation=20)
        ax.set_ylim(0, 100)
        ax.set_title(task)
        ax.set_ylabel("test accuracy (%)")
        ax.legend(loc="lower right", fontsize=8)
    figure.suptitle("Table 1: student accuracy, ours (mean ± std over seeds) vs paper "
                    "(missing paper bars: not reported)", fontsize=9)
    figure.tight_layout()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp.png"
    figure.savefig(tmp, dpi=110)
    plt.close(figure)
    with open(tmp, "rb") as f:
        atomic_write_bytes(path, f.read())
    os.unlink(tmp)
    return path

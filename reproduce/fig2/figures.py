"""Figure 2: student test accuracy vs exemplars per class, one line per method, error bars
= sample std across seeds; the teachers' accuracy dashed; k without results left blank."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from reproduce.core import figures  # noqa: E402


STYLES = {"teacher": dict(color="0.4", linestyle="--", marker="s"),
          "dafl": dict(color="tab:red", marker="o"),
          "dafl_reinit": dict(color="tab:orange", marker="^"),
          "gas": dict(color="tab:blue", marker="D")}
LABELS = {"teacher": "teacher (LeNet-5)", "dafl": "DAFL", "dafl_reinit": "DAFL + re-init",
          "gas": "GAS"}


def plot_fig2(rows, path):
    """rows: fig2_input_modes.csv rows (dicts). Writes ``path`` atomically; returns it."""
    figure, ax = plt.subplots(figsize=(6.5, 4.2))
    methods = list(dict.fromkeys(r["method"] for r in rows))
    plotted_ks, missing, lowest = set(), set(), 45.0
    for method in methods:
        points = [(int(r["k"]), float(r["mean"]), float(r["std"]) if r["std"] else 0.0, r["n"])
                  for r in rows if r["method"] == method and r["mean"]]
        missing |= {int(r["k"]) for r in rows if r["method"] == method and not r["mean"]}
        if not points:
            continue
        ks, means, stds, ns = zip(*points)
        plotted_ks |= set(ks)
        lowest = min([lowest] + [m - s - 3.0 for m, s in zip(means, stds)])
        n_text = "n=%s" % "/".join(sorted(set(ns)))
        ax.errorbar(ks, means, yerr=stds, capsize=3, label="%s (%s)" % (LABELS.get(
            method, method), n_text), **STYLES.get(method, {}))
    all_ks = sorted(plotted_ks | missing) or list(range(1, 11))
    ax.set_xticks(all_ks)
    ax.set_xlim(min(all_ks) - 0.5, max(all_ks) + 0.5)
    not_run = sorted(missing - plotted_ks)
    if not_run:
        ax.axvspan(min(not_run) - 0.5, max(not_run) + 0.5, color="0.92")
        ax.text((min(not_run) + max(not_run)) / 2.0, lowest + 5, "not run:\nKMNIST data missing"
                if min(not_run) > 5 else "not run", ha="center", fontsize=8, color="0.3")
    ax.axvline(5.5, color="0.7", linewidth=0.8)
    ax.set_ylim(lowest, 101)
    ax.set_xlabel("exemplars per class k (1-5: MNIST digits; 6-10: + KMNIST symbols)")
    ax.set_ylabel("student test accuracy (%)")
    profile = rows[0]["profile"] if rows else "?"
    ax.set_title("Figure 2: even vs odd, input modes per class (%s profile)" % profile,
                 fontsize=10)
    ax.legend(loc="best", fontsize=8)
    ax.grid(alpha=0.3)
    figure.tight_layout()
    return figures.save_figure(figure, path)

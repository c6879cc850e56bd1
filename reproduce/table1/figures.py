"""Table 1's figures: Table 1 as grouped bars, ours (mean ± std across seeds) beside the
paper's, and the generator samples per image task (like the paper's Figure 4)."""
import os

from reproduce.core.figures import plt, save_figure


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
        # Headroom above 100% for the legend, so that it covers no bar.
        ax.set_ylim(0, 118)
        ax.set_yticks(range(0, 101, 20))
        ax.set_title(task)
        ax.set_ylabel("test accuracy (%)")
        ax.legend(loc="upper center", ncol=2, fontsize=8, frameon=False)
    figure.suptitle("Table 1: student accuracy, ours (mean ± std over seeds) vs paper "
                    "(missing paper bars: not reported)", fontsize=9)
    figure.tight_layout()
    return save_figure(figure, path)


def sample_file(results_dir, profile, task, method, seed):
    from reproduce.table1 import image_cells  # pylint: disable=g-import-not-at-top
    return image_cells.samples_path(results_dir, profile,
                                   image_cells.distill_cell(task, method, seed))


def plot_samples(task, results_dir, profile, data_dir=None, seed=0, per_class=4, path=None,
                 methods=("dafl", "gas")):
    """Figure 4 for an image task: per teacher class (rows), real test images beside DAFL's
    and GAS's generated samples grouped by the teacher's argmax class (empty cells: the
    generators produced no sample of that class). Reads the ``*.samples.npz`` the DAFL/GAS
    cells write; writes <results>/figures/samples_<task>.png and returns its path."""
    import numpy as np  # pylint: disable=g-import-not-at-top
    from building_blocks.image import data as data_lib  # pylint: disable=g-import-not-at-top
    from building_blocks.image import image_tasks  # pylint: disable=g-import-not-at-top
    dataset = image_tasks.load_image_task(task, data_dir)
    real = data_lib.from_network_input(
        data_lib.to_network_input(dataset.test.images, dataset.mean, dataset.std),
        dataset.mean, dataset.std)
    columns = [("real (test set)", real, dataset.test.labels)]
    for method in methods:
        sample_path = sample_file(results_dir, profile, task, method, seed)
        if os.path.exists(sample_path):
            with np.load(sample_path) as samples:
                columns.append(("%s (seed %d)" % (method.upper(), seed), samples["images"],
                                samples["teacher_class"]))
        else:
            columns.append(("%s: not run" % method.upper(), None, None))
    classes = dataset.num_classes
    figure, axes = plt.subplots(classes, len(columns) * per_class,
                                figsize=(0.55 * len(columns) * per_class, 0.6 * classes + 0.6),
                                squeeze=False)
    for c in range(classes):
        for j, (title, images, labels) in enumerate(columns):
            chosen = [] if images is None else np.flatnonzero(labels == c)[:per_class]
            for i in range(per_class):
                ax = axes[c][j * per_class + i]
                ax.set_xticks([])
                ax.set_yticks([])
                for spine in ax.spines.values():
                    spine.set_visible(False)
                if i < len(chosen):
                    image = images[chosen[i]]
                    ax.imshow(image[..., 0] if image.shape[-1] == 1 else image,
                              cmap="gray" if image.shape[-1] == 1 else None,
                              vmin=0, vmax=255, interpolation="nearest")
                if c == 0 and i == 0:
                    ax.set_title(title, fontsize=7, loc="left")
                if j == 0 and i == 0:
                    ax.set_ylabel(str(c), fontsize=7, rotation=0, labelpad=8)
    figure.suptitle("%s (%s profile): real images and generator samples per teacher class"
                    % (task, profile), fontsize=8)
    path = path or os.path.join(results_dir, "figures", "samples_%s.png" % task)
    return save_figure(figure, path)

"""The input-modes study's tasks (Section 4, Figure 2): "even" vs "odd" with k exemplars
(input modes) per class.

k ≤ 5: the MNIST digits EVEN_DIGITS[:k] (class 0, "even") and ODD_DIGITS[:k] (class 1,
"odd"), e.g. k = 2 uses digits {0, 2} vs {1, 3}.
k = 6..10: all ten MNIST digits plus the Kuzushiji-MNIST symbols EVEN_DIGITS[:k-5] (class 0)
and ODD_DIGITS[:k-5] (class 1), i.e. KMNIST classes 0, 2, 4, 6, 8 join "even" and 1, 3, 5,
7, 9 join "odd" in that order (the paper only says KMNIST symbols bring the count to 10).

Training and test images are restricted to the task's exemplars; test accuracy is measured
on the test images of those exemplars only. Every task is normalised with MNIST's mean and
std, so all teachers and generators share one input space.
"""
import numpy as np

from building_blocks.image import data as data_lib

EVEN_DIGITS = (0, 2, 4, 6, 8)
ODD_DIGITS = (1, 3, 5, 7, 9)
MAX_MNIST_K = 5
MAX_K = 10
EVEN, ODD = 0, 1  # binary labels


def task_name(k):
    return "evenodd_k%d" % k


def exemplars(k):
    """((source, class), ...) per binary label: {0: [...even...], 1: [...odd...]}."""
    if not 1 <= k <= MAX_K:
        raise ValueError("exemplars per class k must be in 1..%d, got %d" % (MAX_K, k))
    per_label = {EVEN: [], ODD: []}
    for label, digits in ((EVEN, EVEN_DIGITS), (ODD, ODD_DIGITS)):
        per_label[label] += [("mnist", d) for d in digits[:min(k, MAX_MNIST_K)]]
        per_label[label] += [("kmnist", d) for d in digits[:max(0, k - MAX_MNIST_K)]]
    return per_label


def even_odd_split(images, labels, classes_by_label):
    """Keeps the examples whose class is in ``classes_by_label`` ({binary label: classes})
    and relabels them. Returns (uint8 images [M, 28, 28], int64 binary labels [M])."""
    keep_images, keep_labels = [], []
    for label, classes in sorted(classes_by_label.items()):
        mask = np.isin(labels, list(classes))
        keep_images.append(images[mask])
        keep_labels.append(np.full(int(mask.sum()), label, np.int64))
    if not keep_images:
        return images[:0], np.zeros(0, np.int64)
    return np.concatenate(keep_images), np.concatenate(keep_labels)


def even_odd_task(k, mnist, kmnist=None):
    """The binary Dataset of the study for k exemplars per class.

    ``mnist``, ``kmnist``: data.Dataset (kmnist needed only for k > 5). The training split is
    put in a fixed random order (seed 0), so that a prefix (smoke's ``train_examples``) holds
    both classes; the test split is ordered source by source, even before odd.
    """
    per_label = exemplars(k)
    sources = {"mnist": mnist, "kmnist": kmnist}
    splits = {}
    for split in ("train", "test"):
        images, labels = [], []
        for source, dataset in sources.items():
            classes = {lab: [c for s, c in per_label[lab] if s == source] for lab in per_label}
            if not any(classes.values()):
                continue
            if dataset is None:
                raise data_lib.DataError("k = %d needs Kuzushiji-MNIST (k > %d)"
                                         % (k, MAX_MNIST_K))
            x, y = even_odd_split(getattr(dataset, split).images, getattr(dataset, split).labels,
                                  classes)
            images.append(x)
            labels.append(y)
        images, labels = np.concatenate(images), np.concatenate(labels)
        if split == "train":
            order = np.random.RandomState(0).permutation(len(labels))
            images, labels = images[order], labels[order]
        splits[split] = data_lib.Split(images, labels)
    mean, std = data_lib.IMAGE_TASKS["mnist"].mean, data_lib.IMAGE_TASKS["mnist"].std
    return data_lib.Dataset(task_name(k), splits["train"], splits["test"], 2, mean, std)

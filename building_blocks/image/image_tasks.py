"""Table 1's image tasks by name: MNIST and Fashion-MNIST from IDX files (data.py), CIFAR-10
from its python-pickle release (cifar10.py)."""
from building_blocks.image import cifar10, data


def load_image_task(task, data_dir=None, verify=True):
    """The Dataset (uint8 images, int64 labels) of ``task``; DataError naming the file when it
    is missing or corrupt, or the known tasks when ``task`` is unknown."""
    if task == "cifar10":
        return cifar10.load_cifar10(data_dir, None if verify else False)
    if task not in data.IMAGE_TASKS:
        raise data.DataError("unknown image task %r; known: %s"
                             % (task, ", ".join(sorted(list(data.IMAGE_TASKS) + ["cifar10"]))))
    return data.load_idx_task(task, data_dir, verify)

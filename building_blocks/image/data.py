"""Image datasets: IDX loader with SHA-256 checks, data-directory resolution, and the
map from raw 28×28 digits to the networks' 32×32 input.

28×28 → 32×32: images are zero-padded by 2 pixels on each side (LeNet-5's own recipe for
MNIST, LeCun et al. 1998) and then normalised with the training set's mean and standard
deviation, so generators (whose last layer is a batch norm) and real data live in the
same normalised input space. DAFL's code resizes to 32 instead; padding keeps digits
pixel-exact.
"""
import collections
import gzip
import hashlib
import os
import struct

import numpy as np

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_DATA_DIR = os.path.normpath(os.path.join(REPO_ROOT, "..", "shared", "data"))

Split = collections.namedtuple("Split", ["images", "labels"])  # uint8 [N, H, W], int64 [N]
Dataset = collections.namedtuple("Dataset", ["name", "train", "test", "num_classes",
                                             "mean", "std"])


class DataError(Exception):
    """A dataset file is missing, corrupt or has the wrong checksum."""


ImageTask = collections.namedtuple("ImageTask", ["folder", "files", "mean", "std", "human"])

# SHA-256 of the *uncompressed* IDX files, as ../shared/data/README.md lists them (an earlier
# copy of that README had the MNIST and Fashion-MNIST labels swapped; these are keyed by the
# files' content: mnist/ holds MNIST, mean pixel 0.1307).
IMAGE_TASKS = {
    "mnist": ImageTask("mnist", {
        "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    }, 0.1307, 0.3081, "MNIST"),
    "fashion_mnist": ImageTask("fashion-mnist", {
        "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
    }, 0.2860, 0.3530, "Fashion-MNIST"),
}


def resolve_data_dir(flag_value=None):
    """--data_dir, else $GAS_DATA_DIR, else ../shared/data beside the repo."""
    for candidate in (flag_value, os.environ.get("GAS_DATA_DIR")):
        if candidate:
            return os.path.abspath(os.path.expanduser(candidate))
    return DEFAULT_DATA_DIR


def _open_idx(path_without_gz):
    """Returns (bytes, path actually read); accepts `name` or `name.gz`."""
    for path in (path_without_gz, path_without_gz + ".gz"):
        if os.path.exists(path):
            try:
                if path.endswith(".gz"):
                    with gzip.open(path, "rb") as f:
                        return f.read(), path
                with open(path, "rb") as f:
                    return f.read(), path
            except (OSError, EOFError, gzip.BadGzipFile if hasattr(gzip, "BadGzipFile") else OSError) as e:
                raise DataError("%s is corrupt (%s). Replace it with a fresh copy of the file."
                                % (path, e))
    raise DataError("missing dataset file: %s(.gz). Download it with `python -m reproduce "
                    "fetch_data`, put the IDX file there, or point --data_dir or GAS_DATA_DIR at "
                    "the folder that holds it." % path_without_gz)


def parse_idx(raw, path="<bytes>"):
    """Parses IDX bytes (unsigned-byte data) into a numpy array."""
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise DataError("%s is not an unsigned-byte IDX file (bad magic number)." % path)
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError("%s is truncated (IDX header incomplete)." % path)
    shape = struct.unpack(">" + "I" * ndim, raw[4:header])
    expected = header + int(np.prod(shape))
    if len(raw) != expected:
        raise DataError("%s has %d bytes, its IDX header promises %d: the file is truncated "
                        "or corrupt." % (path, len(raw), expected))
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def load_idx(path_without_gz, sha256=None):
    raw, path = _open_idx(path_without_gz)
    if sha256 is not None:
        digest = hashlib.sha256(raw).hexdigest()
        if digest != sha256:
            raise DataError("checksum mismatch for %s: SHA-256 of its IDX content is %s, "
                            "expected %s. The file is corrupt or a different dataset; "
                            "replace it." % (path, digest, sha256))
    return parse_idx(raw, path)


def load_idx_task(task, data_dir=None, verify=True):
    """Loads MNIST or Fashion-MNIST (IDX files) as a Dataset of uint8 images and int64 labels.
    Any image task by name: image_tasks.load_image_task."""
    if task not in IMAGE_TASKS:
        raise DataError("unknown image task %r; known: %s" % (task, ", ".join(sorted(IMAGE_TASKS))))
    spec = IMAGE_TASKS[task]
    folder = os.path.join(resolve_data_dir(data_dir), spec.folder)
    arrays = {}
    for name, digest in spec.files.items():
        arrays[name] = load_idx(os.path.join(folder, name), digest if verify else None)
    splits = {}
    for split, prefix in (("train", "train"), ("test", "t10k")):
        images, labels = arrays[prefix + "-images-idx3-ubyte"], arrays[prefix + "-labels-idx1-ubyte"]
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise DataError("%s: %s images %s and labels %s do not match."
                            % (folder, split, images.shape, labels.shape))
        splits[split] = Split(images, labels.astype(np.int64))
    return Dataset(task, splits["train"], splits["test"], 10, spec.mean, spec.std)


def to_network_input(images_uint8, mean, std):
    """uint8 [N, 28, 28] (numpy or tensor) → float32 [N, 32, 32, 1], padded and normalised;
    uint8 [N, H, W, C] (colour, e.g. CIFAR-10) → float32 [N, H, W, C] normalised per channel
    (``mean``, ``std``: C values), no padding.

    Works on numpy arrays and on TF tensors (the same arithmetic in both).
    """
    if len(images_uint8.shape) == 4:
        return _normalise_per_channel(images_uint8, mean, std)
    if isinstance(images_uint8, np.ndarray):
        x = images_uint8.astype(np.float32) / 255.0
        x = np.pad(x, [(0, 0), (2, 2), (2, 2)], mode="constant")
        return ((x - mean) / std)[..., None].astype(np.float32)
    from building_blocks.common.tf_compat import tf  # pylint: disable=g-import-not-at-top
    x = tf.cast(images_uint8, tf.float32) / 255.0
    x = tf.pad(x, [[0, 0], [2, 2], [2, 2]])
    return tf.expand_dims((x - mean) / std, -1)


def _normalise_per_channel(images_uint8, mean, std):
    mean = np.asarray(mean, np.float32)
    std = np.asarray(std, np.float32)
    if isinstance(images_uint8, np.ndarray):
        return ((images_uint8.astype(np.float32) / 255.0 - mean) / std).astype(np.float32)
    from building_blocks.common.tf_compat import tf  # pylint: disable=g-import-not-at-top
    return (tf.cast(images_uint8, tf.float32) / 255.0 - mean) / std


def from_network_input(x, mean, std):
    """Inverse of the normalisation for display: float [N, 32, 32, C] → uint8, clipped.
    (For padded digits the 2-pixel border is kept.)"""
    x = np.asarray(x, np.float32) * np.asarray(std, np.float32) + np.asarray(mean, np.float32)
    return np.clip(np.round(x * 255.0), 0, 255).astype(np.uint8)


def network_input_shape(dataset):
    """One example's network input: (32, 32, 1) for 28×28 digits (padded), else the raw
    [H, W, C] of colour images."""
    raw = tuple(dataset.test.images.shape[1:])
    if len(raw) == 2:
        return (raw[0] + 4, raw[1] + 4, 1)
    return raw


# Tasks whose real-image training (teacher, Student KD) uses the standard augmentation of
# DAFL's CIFAR-10 code: 4-pixel zero padding + random 32×32 crop, random horizontal flip.
AUGMENTED_TASKS = ("cifar10",)


def augment_example(image_uint8):
    """One uint8 [H, W, C] tensor → random crop of its 4-pixel zero-padded copy, randomly
    flipped left-right (torchvision RandomCrop(32, padding=4) + RandomHorizontalFlip)."""
    from building_blocks.common.tf_compat import tf  # pylint: disable=g-import-not-at-top
    shape = image_uint8.shape.as_list()
    padded = tf.pad(image_uint8, [[4, 4], [4, 4], [0, 0]])
    return tf.image.random_flip_left_right(tf.image.random_crop(padded, shape))


def train_augmentation(dataset):
    """The per-example augmentation of real training images for this task, or None."""
    return augment_example if dataset.name in AUGMENTED_TASKS else None

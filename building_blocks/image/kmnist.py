"""Kuzushiji-MNIST (Clanuwat et al. 2018) from the release's canonical ``.npz`` files.

The rois-codh/kmnist release ships four NumPy archives, each holding one array under the
key ``arr_0``:

    kmnist-train-imgs.npz    uint8 [60000, 28, 28]
    kmnist-train-labels.npz  uint8 [60000]          (classes 0..9, ten cursive hiragana)
    kmnist-test-imgs.npz     uint8 [10000, 28, 28]
    kmnist-test-labels.npz   uint8 [10000]

They live in ``<data_dir>/kmnist/``. The release itself publishes no digest of the .npz files;
``SHA256`` below are the SHA-256 digests of the downloaded files as pinned by a public
loader that downloads them from codh.rois.ac.jp (see DEVIATIONS.md); every file is checked
against them, and its structure (key, dtype, shape, label range) is checked as well.
"""
import hashlib
import io
import os
import zipfile

import numpy as np

from building_blocks.image import data as data_lib

FOLDER = "kmnist"
SHA256 = {
    "kmnist-train-imgs.npz": "11d69e17c8fd294905864aef177fd10c2185e5a3655f4da03d72ea5a64c17a72",
    "kmnist-train-labels.npz": "a325c877035602cb9b9ba54f4194a2a1b5f718026a463db5b5e0cdc124c03720",
    "kmnist-test-imgs.npz": "692d824896bec8f3c357ebf7a0fe904ed67ac632ce953d0b58f7fbef7bb27d87",
    "kmnist-test-labels.npz": "660f13a4705431ea2a6391c41ecbe384cd0d932c595a101ec4f3b8989e785046",
}
SIZES = {"train": 60000, "test": 10000}
# Mean and std of the KMNIST training pixels (as commonly quoted; only used when KMNIST is
# loaded on its own: the input-modes study normalises every task with MNIST's constants).
MEAN, STD = 0.1918, 0.3483


def kmnist_folder(data_dir=None):
    return os.path.join(data_lib.resolve_data_dir(data_dir), FOLDER)


def missing_message(data_dir=None, show_path=str):
    """The 'data missing' sentence used by the grid and the errors; ``show_path`` writes the
    folder (e.g. relative to the repository, for a committed table)."""
    return "put %s in %s/" % (", ".join(sorted(SHA256)), show_path(kmnist_folder(data_dir)))


def is_available(data_dir=None):
    folder = kmnist_folder(data_dir)
    return all(os.path.exists(os.path.join(folder, name)) for name in SHA256)


def load_npz_array(path, sha256=None):
    """The ``arr_0`` array of one release file, after its SHA-256 (if given) is checked."""
    if not os.path.exists(path):
        raise data_lib.DataError(
            "missing dataset file: %s. Download it from the Kuzushiji-MNIST release "
            "(github.com/rois-codh/kmnist, http://codh.rois.ac.jp/kmnist/dataset/kmnist/) and "
            "put it there, or point --data_dir or GAS_DATA_DIR at the folder that holds "
            "kmnist/." % path)
    with open(path, "rb") as f:
        raw = f.read()
    if sha256 is not None:
        digest = hashlib.sha256(raw).hexdigest()
        if digest != sha256:
            raise data_lib.DataError(
                "checksum mismatch for %s: its SHA-256 is %s, expected %s. The file is corrupt "
                "or not the Kuzushiji-MNIST release file; download it again." % (path, digest,
                                                                                 sha256))
    try:
        with np.load(io.BytesIO(raw), allow_pickle=False) as archive:
            if "arr_0" not in archive.files:
                raise data_lib.DataError("%s has no array 'arr_0' (found %s): not a "
                                         "Kuzushiji-MNIST release file." % (path, archive.files))
            return archive["arr_0"]
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as e:
        raise data_lib.DataError("%s is corrupt (%s). Replace it with a fresh copy of the "
                                 "file." % (path, e))


def _check_split(folder, split, images, labels, expected_size):
    where = os.path.join(folder, "kmnist-%s-*.npz" % split)
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (28, 28):
        raise data_lib.DataError("%s: images are %s %s, expected uint8 [N, 28, 28]."
                                 % (where, images.dtype, images.shape))
    if labels.ndim != 1 or len(labels) != len(images):
        raise data_lib.DataError("%s: %d images but labels of shape %s." % (
            where, len(images), labels.shape))
    if expected_size is not None and len(images) != expected_size:
        raise data_lib.DataError("%s: %d examples, the release has %d (truncated file?)."
                                 % (where, len(images), expected_size))
    if len(labels) and (labels.min() < 0 or labels.max() > 9):
        raise data_lib.DataError("%s: labels outside 0..9." % where)


def load_kmnist(data_dir=None, verify=True):
    """KMNIST as a ``data.Dataset`` (uint8 images, int64 labels, 10 classes).

    ``verify=False`` skips the SHA-256 checks and the release sizes (tests on tiny files);
    the structure checks always run.
    """
    folder = kmnist_folder(data_dir)
    splits = {}
    for split in ("train", "test"):
        images = load_npz_array(os.path.join(folder, "kmnist-%s-imgs.npz" % split),
                                SHA256["kmnist-%s-imgs.npz" % split] if verify else None)
        labels = load_npz_array(os.path.join(folder, "kmnist-%s-labels.npz" % split),
                                SHA256["kmnist-%s-labels.npz" % split] if verify else None)
        _check_split(folder, split, images, labels, SIZES[split] if verify else None)
        splits[split] = data_lib.Split(images, labels.astype(np.int64))
    return data_lib.Dataset("kmnist", splits["train"], splits["test"], 10, MEAN, STD)

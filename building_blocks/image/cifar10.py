"""CIFAR-10 from its canonical python-pickle release (Krizhevsky 2009).

Accepted under ``<data_dir>/cifar10/`` (or directly under ``<data_dir>``):
- ``cifar-10-python.tar.gz``, the file https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz
  (MD5 c58f30108f718f92721af3b95e74349a), read in place without extracting; or
- ``cifar-10-batches-py/``, the folder that tarball extracts to.

Each batch (``data_batch_1`` … ``data_batch_5``, ``test_batch``) is a pickled dict with
``data``: uint8 [10000, 3072] (row-major: 1024 red, 1024 green, 1024 blue values of a
32×32 image) and ``labels``: 10000 ints in 0..9. Every batch is checked against the MD5 the
dataset's authors publish for it (the same digests torchvision checks), in both forms, so a
truncated or altered file fails with a message naming it. Unpickling is restricted to numpy
arrays (the files never run code).

Tests and smoke runs on tiny generated files in the same format set
``GAS_SKIP_CIFAR10_CHECKSUMS=1``: the structure is still checked, the digests are not, a
warning is printed, and cell records say so.
"""
import hashlib
import io
import os
import pickle
import tarfile
import zlib

import numpy as np

from building_blocks.image.data import DataError, Dataset, Split, resolve_data_dir

FOLDER = "cifar10"
TARBALL = "cifar-10-python.tar.gz"
TARBALL_MD5 = "c58f30108f718f92721af3b95e74349a"
BATCH_FOLDER = "cifar-10-batches-py"
# MD5 of each batch file as published with the dataset (also torchvision's CIFAR10 list).
BATCH_MD5 = {
    "data_batch_1": "c99cafc152244af753f735de768cd75f",
    "data_batch_2": "d4bba439e000b95fd0a9bffe97cbabec",
    "data_batch_3": "54ebc095f3ab1f0389bbae665268c751",
    "data_batch_4": "634d18415352ddfa80567beed471001a",
    "data_batch_5": "482c414d41f54cd18b22e5b47cb7c3cb",
    "test_batch": "40351d587109b95175f43aff81a1287e",
}
TRAIN_BATCHES = ("data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5")
TEST_BATCHES = ("test_batch",)
CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
           "truck")
# Per-channel normalisation of DAFL's CIFAR-10 code (teacher-train.py, DAFL-train.py); the
# std values are the ones that code uses, kept so that teachers trained with it fit.
MEAN = (0.4914, 0.4822, 0.4465)
STD = (0.2023, 0.1994, 0.2010)
SKIP_ENV = "GAS_SKIP_CIFAR10_CHECKSUMS"


def checksums_skipped():
    return os.environ.get(SKIP_ENV, "") not in ("", "0")


def expected_location(data_dir=None):
    return os.path.join(resolve_data_dir(data_dir), FOLDER, TARBALL)


def missing_message(data_dir=None):
    return ("CIFAR-10 not found: put %s (from https://www.cs.toronto.edu/~kriz/cifar.html, "
            "MD5 %s) or its extracted folder %s/ in %s, or point --data_dir or GAS_DATA_DIR at "
            "the folder that holds %s/. It cannot be downloaded by this code."
            % (TARBALL, TARBALL_MD5, BATCH_FOLDER,
               os.path.join(resolve_data_dir(data_dir), FOLDER), FOLDER))


def find_source(data_dir=None):
    """The extracted folder or the tarball, whichever exists first; None if neither."""
    root = resolve_data_dir(data_dir)
    for base in (os.path.join(root, FOLDER), root):
        folder = os.path.join(base, BATCH_FOLDER)
        if os.path.isdir(folder):
            return folder
        tarball = os.path.join(base, TARBALL)
        if os.path.isfile(tarball):
            return tarball
    return None


def is_available(data_dir=None):
    return find_source(data_dir) is not None


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickles dicts, lists, strings, numbers and numpy arrays, nothing else."""

    ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy", "ndarray"),
               ("numpy", "dtype"), ("_codecs", "encode"), ("copyreg", "_reconstructor"),
               ("builtins", "object")}

    def find_class(self, module, name):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError("global %s.%s is not allowed in a CIFAR-10 batch"
                                         % (module, name))
        return super(_NumpyOnlyUnpickler, self).find_class(module, name)


def parse_batch(raw, path):
    """Pickled batch bytes → (uint8 images [N, 32, 32, 3], int64 labels [N])."""
    try:
        entry = _NumpyOnlyUnpickler(io.BytesIO(raw), encoding="latin1").load()
    except Exception as e:  # pickle/EOF/value errors vary with the damage
        raise DataError("%s is corrupt or not a CIFAR-10 python batch (%s: %s). Replace it "
                        "with a fresh copy of %s." % (path, type(e).__name__, e, TARBALL))
    if not isinstance(entry, dict):
        raise DataError("%s is not a CIFAR-10 python batch (a %s, not a dict)."
                        % (path, type(entry).__name__))
    entry = {(k.decode("latin1") if isinstance(k, bytes) else k): v for k, v in entry.items()}
    if "data" not in entry or "labels" not in entry:
        raise DataError("%s is not a CIFAR-10 python batch (keys %s; expected 'data' and "
                        "'labels')." % (path, sorted(entry)))
    data = np.asarray(entry["data"])
    labels = np.asarray(entry["labels"], dtype=np.int64)
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
        raise DataError("%s: 'data' is %s %s, expected uint8 [N, 3072]."
                        % (path, data.dtype, data.shape))
    if labels.shape != (data.shape[0],) or (labels.size and (labels.min() < 0 or
                                                             labels.max() > 9)):
        raise DataError("%s: %d labels for %d images, or labels outside 0..9."
                        % (path, labels.size, data.shape[0]))
    images = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)  # CHW rows → NHWC
    return np.ascontiguousarray(images), labels


def _check_md5(raw, name, path, verify):
    if not verify:
        return
    digest = hashlib.md5(raw).hexdigest()
    if digest != BATCH_MD5[name]:
        raise DataError("checksum mismatch for %s: MD5 %s, expected %s. The file is truncated, "
                        "altered or not the canonical CIFAR-10; replace it with a fresh copy of "
                        "%s." % (path, digest, BATCH_MD5[name], TARBALL))


def _read_folder(folder, names, verify):
    raws = {}
    for name in names:
        path = os.path.join(folder, name)
        if not os.path.isfile(path):
            raise DataError("missing CIFAR-10 file %s. The folder %s/ must hold %s (extract "
                            "%s there, or put the tarball itself in %s)."
                            % (path, BATCH_FOLDER, ", ".join(names), TARBALL,
                               os.path.dirname(folder)))
        with open(path, "rb") as f:
            raws[name] = (f.read(), path)
    return raws


def _read_tarball(path, names):
    raws = {}
    try:
        with tarfile.open(path, "r:gz") as archive:
            for name in names:
                member = BATCH_FOLDER + "/" + name
                try:
                    handle = archive.extractfile(member)
                except KeyError:
                    handle = None
                if handle is None:
                    raise DataError("%s has no member %s: not the canonical %s." % (
                        path, member, TARBALL))
                raws[name] = (handle.read(), "%s:%s" % (path, member))
    except (tarfile.TarError, EOFError, zlib.error, OSError) as e:
        raise DataError("%s is corrupt or truncated (%s: %s). Replace it with a fresh copy "
                        "(MD5 %s)." % (path, type(e).__name__, e, TARBALL_MD5))
    return raws


def load_cifar10(data_dir=None, verify=None, log=print):
    """Loads CIFAR-10 as a ``Dataset`` (uint8 [N, 32, 32, 3] images, int64 labels, DAFL's
    per-channel mean/std). ``verify``: check each batch's MD5 (default: unless
    ``GAS_SKIP_CIFAR10_CHECKSUMS`` is set)."""
    if verify is None:
        verify = not checksums_skipped()
        if not verify:
            log("warning: %s is set: CIFAR-10 checksums are NOT checked (test files only)"
                % SKIP_ENV)
    source = find_source(data_dir)
    if source is None:
        raise DataError(missing_message(data_dir))
    names = TRAIN_BATCHES + TEST_BATCHES
    raws = _read_folder(source, names, verify) if os.path.isdir(source) else \
        _read_tarball(source, names)
    splits = {}
    for split, batch_names in (("train", TRAIN_BATCHES), ("test", TEST_BATCHES)):
        images, labels = [], []
        for name in batch_names:
            raw, path = raws[name]
            _check_md5(raw, name, path, verify)
            x, y = parse_batch(raw, path)
            images.append(x)
            labels.append(y)
        splits[split] = Split(np.concatenate(images), np.concatenate(labels))
    return Dataset("cifar10", splits["train"], splits["test"], 10, MEAN, STD)


def batch_bytes(images_nhwc, labels, protocol=2):
    """The pickled batch format of the release (for tests and tiny generated datasets)."""
    images = np.asarray(images_nhwc, dtype=np.uint8)
    data = images.transpose(0, 3, 1, 2).reshape(len(images), 3072)
    return pickle.dumps({b"batch_label": b"generated", b"labels": [int(v) for v in labels],
                         b"data": data, b"filenames": [b"x.png"] * len(images)},
                        protocol=protocol)


def write_fake_release(directory, train_per_batch=20, test=20, seed=0, as_tarball=True):
    """Writes a tiny CIFAR-10 in the release's format under ``directory``/cifar10/ (random
    class-dependent colour blobs, so a classifier can learn something); returns its path."""
    rng = np.random.RandomState(seed)
    target = os.path.join(directory, FOLDER)
    folder = os.path.join(target, BATCH_FOLDER)
    os.makedirs(folder, exist_ok=True)

    def fake(n):
        labels = np.arange(n) % 10
        base = np.stack([labels * 25, 255 - labels * 25, (labels * 70) % 256], -1)
        images = base[:, None, None, :] + rng.randint(-40, 40, (n, 32, 32, 3))
        return np.clip(images, 0, 255).astype(np.uint8), labels

    for name in TRAIN_BATCHES + TEST_BATCHES:
        images, labels = fake(test if name in TEST_BATCHES else train_per_batch)
        with open(os.path.join(folder, name), "wb") as f:
            f.write(batch_bytes(images, labels))
    if not as_tarball:
        return folder
    tarball = os.path.join(target, TARBALL)
    with tarfile.open(tarball, "w:gz") as archive:
        archive.add(folder, arcname=BATCH_FOLDER)
    for name in os.listdir(folder):
        os.remove(os.path.join(folder, name))
    os.rmdir(folder)
    return tarball

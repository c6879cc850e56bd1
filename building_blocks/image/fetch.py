"""Downloads the image datasets into the folder layout the loaders read (``data.py``,
``cifar10.py``, ``kmnist.py``), from a user's mirrors first, then from the publishers.

A file is downloaded to ``<name>.part`` (an interrupted download resumes from there with an
HTTP Range request; a server that ignores Range sends it whole again), its checksum is checked
(MNIST / Fashion-MNIST: the SHA-256 of the uncompressed IDX content, the digests the loader
checks; CIFAR-10: the tarball's published MD5; Kuzushiji-MNIST: the files' SHA-256), and only
then is it given its name. A checksum mismatch discards the ``.part`` file and tries the next
source. Files already in place are checked, never downloaded again.

Mirrors (``--data_mirror`` / ``$GAS_DATA_MIRRORS``, comma-separated base URLs) hold the data
folder's own layout, e.g. ``<base>/mnist/train-images-idx3-ubyte.gz``: a copy of a working
data folder served over HTTP is a mirror. The publishers' addresses below were not reachable
from the machine this was written on (no internet), so they are as the publishers document
them, not tested here.
"""
import collections
import gzip
import hashlib
import http.client
import os
import shutil
import socket
import urllib.error
import urllib.request

from building_blocks.image import cifar10, data, kmnist

MIRRORS_ENV = "GAS_DATA_MIRRORS"
OFFLINE_ENV = "GAS_NO_FETCH"   # set (non-empty, not 0): run_all never downloads (tests, clusters)
CHUNK = 1 << 16

# folder: the data-folder subfolder; files: {name: checksum check(path) raising DataError};
# publishers: base URLs whose files sit directly under them.
Source = collections.namedtuple("Source", ["folder", "files", "publishers"])


def _digest(path, algorithm, gunzip=False):
    h = hashlib.new(algorithm)
    opener = gzip.open if gunzip else open
    try:
        with opener(path, "rb") as f:
            for block in iter(lambda: f.read(CHUNK), b""):
                h.update(block)
    except (OSError, EOFError) as e:
        raise data.DataError("%s is not a readable %sfile (%s)"
                             % (path, "gzip " if gunzip else "", e))
    return h.hexdigest()


def _check(algorithm, expected, gunzip=False):
    def check(path):
        got = _digest(path, algorithm, gunzip)
        if got != expected:
            raise data.DataError("checksum mismatch: %s of %s%s is %s, expected %s"
                                 % (algorithm.upper(), path, " (uncompressed)" if gunzip else "",
                                    got, expected))
    return check


def _idx_source(task, publishers):
    spec = data.IMAGE_TASKS[task]
    return Source(spec.folder, collections.OrderedDict(
        (name + ".gz", _check("sha256", digest, gunzip=True))
        for name, digest in sorted(spec.files.items())), publishers)


SOURCES = collections.OrderedDict([
    ("mnist", _idx_source("mnist", (
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
        "http://yann.lecun.com/exdb/mnist/"))),
    ("fashion_mnist", _idx_source("fashion_mnist", (
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/"))),
    ("cifar10", Source(cifar10.FOLDER, {cifar10.TARBALL: _check("md5", cifar10.TARBALL_MD5)},
                       ("https://www.cs.toronto.edu/~kriz/",))),
    ("kmnist", Source(kmnist.FOLDER, collections.OrderedDict(
        (name, _check("sha256", digest)) for name, digest in sorted(kmnist.SHA256.items())),
        ("http://codh.rois.ac.jp/kmnist/dataset/kmnist/",))),
])


def user_mirrors(flag_values=()):
    """Base URLs of the user's mirrors: the flag's, then $GAS_DATA_MIRRORS'."""
    found = [m for m in flag_values if m]
    found += [m.strip() for m in os.environ.get(MIRRORS_ENV, "").split(",") if m.strip()]
    return [m if m.endswith("/") else m + "/" for m in found]


def missing_files(task, data_dir=None):
    """Names of ``task``'s files not yet in the data folder (an IDX file counts as present
    uncompressed too)."""
    source = SOURCES[task]
    folder = os.path.join(data.resolve_data_dir(data_dir), source.folder)
    return [name for name in source.files
            if not any(os.path.exists(os.path.join(folder, n))
                       for n in (name, name[:-3] if name.endswith(".gz") else name))]


class IncompleteDownload(OSError):
    """The server closed the connection before the announced length (the .part is kept)."""


def download(url, part_path, timeout=30.0):
    """Fetches ``url`` into ``part_path``, continuing a partial file with a Range request (a
    206 answer is appended, a 200 answer replaces it)."""
    have = os.path.getsize(part_path) if os.path.exists(part_path) else 0
    request = urllib.request.Request(url, headers={"Range": "bytes=%d-" % have} if have else {})
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as e:
        if e.code == 416 and have:  # nothing left to send: the partial file is complete
            return
        raise
    with response:
        resumed = have and response.getcode() == 206
        length = response.headers.get("Content-Length")
        expected = (have if resumed else 0) + int(length) if length is not None else None
        with open(part_path, "ab" if resumed else "wb") as f:
            shutil.copyfileobj(response, f, CHUNK)
    got = os.path.getsize(part_path)
    if expected is not None and got < expected:  # the connection ended early: keep it to resume
        raise IncompleteDownload("%s: connection closed after %d of %d bytes" % (url, got,
                                                                                 expected))


def fetch_file(name, folder, check, urls, log=print, timeout=30.0):
    """Puts the checked file ``name`` into ``folder`` from the first of ``urls`` that serves
    it intact; returns the URL used (None: it was there already). DataError naming every
    URL tried and what to do when none does."""
    path = os.path.join(folder, name)
    if os.path.exists(path):
        try:
            check(path)
        except data.DataError as e:
            raise data.DataError("%s. Delete %s and run `python -m reproduce fetch_data` again."
                                 % (e, path))
        return None
    os.makedirs(folder, exist_ok=True)
    part = path + ".part"
    tried = []
    for url in urls:
        try:
            download(url, part, timeout)
            check(part)
        except data.DataError as e:
            tried.append("%s (%s)" % (url, e))
            os.remove(part)  # corrupt: never resumed
            continue
        except (urllib.error.URLError, http.client.HTTPException, socket.timeout,
                OSError) as e:
            tried.append("%s (%s)" % (url, getattr(e, "reason", None) or e))
            continue  # a partial .part stays and is resumed from the next source
        os.replace(part, path)
        log("fetch_data: %s <- %s" % (path, url))
        return url
    raise data.DataError(
        "could not download %s: %s. Download it by hand from one of these addresses (or the "
        "publisher's page) and put it at %s, or point --data_dir or GAS_DATA_DIR at a folder "
        "that has it." % (name, "; ".join(tried) or "no source", path))


def fetch_task(task, data_dir=None, mirrors=(), log=print, timeout=30.0):
    """Every file of ``task`` into the data folder; returns the number downloaded."""
    if task not in SOURCES:
        raise data.DataError("fetch_data: unknown task %r; known: %s"
                             % (task, ", ".join(SOURCES)))
    source = SOURCES[task]
    folder = os.path.join(data.resolve_data_dir(data_dir), source.folder)
    fetched = 0
    for name, check in source.files.items():
        urls = ([m + source.folder + "/" + name for m in mirrors]
                + [p + name for p in source.publishers])
        fetched += fetch_file(name, folder, check, urls, log, timeout) is not None
    return fetched


def ensure(tasks, data_dir=None, log=print, timeout=10.0):
    """Before a run: downloads the files of ``tasks`` that are missing (user mirrors from
    $GAS_DATA_MIRRORS first, then the publishers), unless $GAS_NO_FETCH is set. Without
    network it fails with a DataError that says where to put which file."""
    offline = os.environ.get(OFFLINE_ENV, "") not in ("", "0")
    for task in tasks:
        missing = missing_files(task, data_dir)
        if missing and offline:
            return  # the loader names the missing file and what to do
        if missing:
            log("run_all: %s: %s missing in %s; downloading" % (
                task, ", ".join(missing),
                os.path.join(data.resolve_data_dir(data_dir), SOURCES[task].folder)))
            fetch_task(task, data_dir, user_mirrors(), log, timeout)

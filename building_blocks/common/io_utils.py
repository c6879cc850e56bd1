"""Atomic file writes: a finished file is either complete or absent, never partial.

A write goes to a hidden temporary file ``.<name>.<random>.tmp`` beside the target, is
flushed to disk, then renamed over the target (``os.replace``, atomic on POSIX). A process
killed mid-write leaves at most such a temporary file, never a partial target;
``remove_stale_temp_files`` clears them (``run_all`` does so when it starts).

The temporary file is created with mode 0666 less the umask, the mode a plain
``open(path, "w")`` gives (``tempfile.mkstemp``'s 0600 made every result file private to its
writer, breaking shared result folders and Docker volumes; issue 15).

Test hook (fault-injection tests only; unset in normal runs): when ``GAS_TEST_PAUSE_WRITE``
is set to a file name, a write to a path with that base name pauses for
``GAS_TEST_PAUSE_WRITE_S`` seconds (default 120) after the temporary file is complete and
before the rename, so a test can kill the process at exactly that point.
"""
import json
import os
import time

TEMP_SUFFIX = ".tmp"


def _test_pause(path):
    name = os.environ.get("GAS_TEST_PAUSE_WRITE")
    if name and os.path.basename(path) == name:
        time.sleep(float(os.environ.get("GAS_TEST_PAUSE_WRITE_S", "120")))


def _create_temp_file(path):
    """(fd, name) of a new, empty temporary file beside ``path``, opened for writing. The
    kernel applies the umask to the 0666 asked for, as for ``open(path, "w")``; reading the
    umask instead (``os.umask`` sets it to read it) would race with other threads."""
    directory = os.path.dirname(os.path.abspath(path))
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        tmp = os.path.join(directory, ".%s.%s%s" % (os.path.basename(path),
                                                    os.urandom(6).hex(), TEMP_SUFFIX))
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError("no free temporary file name beside %s" % path)


def atomic_write_bytes(path, data):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fd, tmp = _create_temp_file(path)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        _test_pause(path)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_text(path, text):
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path, obj):
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True) + "\n")


def is_temp_file(name):
    """Whether a file name is one of atomic_write_bytes' temporary files."""
    return name.startswith(".") and name.endswith(TEMP_SUFFIX)


def remove_stale_temp_files(root, recursive=True):
    """Deletes the temporary files that killed writers left under ``root`` (only directly in
    it unless ``recursive``); returns how many. Call only when nothing else writes there."""
    removed = 0
    if not os.path.isdir(root):
        return 0
    for directory, _, names in (os.walk(root) if recursive else [next(os.walk(root))]):
        for name in names:
            if is_temp_file(name):
                os.unlink(os.path.join(directory, name))
                removed += 1
    return removed

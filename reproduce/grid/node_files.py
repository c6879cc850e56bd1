"""What a cell needs from, and gives back to, the results tree when it runs on another Ray
node that does not share the driver's filesystem (``ray_backend``).

A node runs cells in its own checkout (``GAS_REPO_ROOT`` in the environment of its
``ray start``; else the driver's checkout path, which then must exist there, e.g. on a shared
mount). Every absolute path of a cell's command keeps its position relative to the checkout
(``NodeLayout``): the driver's ``<repo>/results`` is ``<node repo>/results`` there, so a cell
writes the same relative paths, and the same commands into its records, on any node.

Files travel by value through Ray, nothing through a shared filesystem:
- ``cell_inputs``: a student's teacher checkpoint and its ``.json`` (read on the driver);
- ``cell_outputs``: the files under a cell's own names (its JSON and samples under
  ``cells/``, its ``tensorboard/`` folder; a teacher cell also its task's ``teachers/``
  files), collected on the node after the cell and written into the driver's tree
  (``write_files``; files already holding those bytes are not rewritten).
Mid-cell checkpoints (``partial/``) stay on the node: a cell retried on another node starts
from its beginning, one retried on the same node in the same grid run resumes. On a node
with its own checkout, a cell's earlier files there (a previous grid run's) are removed
before it runs (``clear_cell``), and only a cell that finished (or diverged) sends files
back, so nothing old returns as a new result.

Only the standard library: the node side runs inside a Ray task, which pickles these
functions by value (``ray_backend._make_remote``).
"""
import ctypes
import ctypes.util
import functools
import hashlib
import os
import shutil
import signal
import subprocess

TEACHER_FOLDER = "teachers"
TEMP_SUFFIX = ".tmp"  # io_utils.TEMP_SUFFIX: "." + name + "." + random + ".tmp"


class NodeLayout(object):
    """Maps the driver's absolute paths to this node's: ``<driver_root>/x`` → ``<node_root>/x``,
    and a path outside the checkout keeps its position relative to it (``../shared/data``).
    Identity when both roots are equal (the driver's node, or a shared mount)."""

    def __init__(self, driver_root, node_root):
        self.driver_root = os.path.normpath(driver_root)
        self.node_root = os.path.normpath(node_root)

    def is_identity(self):
        return self.driver_root == self.node_root

    def to_node(self, path):
        if self.is_identity() or not os.path.isabs(path):
            return path
        relative = os.path.relpath(os.path.normpath(path), self.driver_root)
        return os.path.normpath(os.path.join(self.node_root, relative))

    def command(self, command, results_dir):
        """The cell's command on this node: the results folder (written) always mapped; any
        other absolute path (the interpreter, --data_dir) mapped where that exists, else kept
        (a dataset mounted at the same path everywhere)."""
        mapped = []
        for word in command:
            if os.path.isabs(word):
                inside_results = word == results_dir or word.startswith(results_dir + os.sep)
                candidate = self.to_node(word)
                word = candidate if inside_results or os.path.exists(candidate) else word
            mapped.append(word)
        return mapped


def node_root(driver_root, environ):
    """This node's checkout: ``GAS_REPO_ROOT`` if set, else the driver's path; an error naming
    both when neither exists here."""
    root = environ.get("GAS_REPO_ROOT") or driver_root
    if not os.path.isdir(os.path.join(root, "reproduce")):
        raise RuntimeError(
            "no gas-repro checkout at %s on this Ray node. Start the node with "
            "`GAS_REPO_ROOT=/path/to/its/checkout ray start --address ...` (a checkout of the "
            "same commit with its .venv), or mount the driver's checkout at %s."
            % (root, driver_root))
    return root


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def _same_bytes(path, data):
    if not os.path.isfile(path) or os.path.getsize(path) != len(data):
        return False
    with open(path, "rb") as f:
        return sha256(f.read()) == sha256(data)


def write_files(root, files):
    """Writes ``files`` ({path relative to root: bytes}) under ``root``, each atomically
    (a temporary file renamed into place); a file that already holds those bytes is left
    untouched (a shared mount, or the driver's own node). Returns the paths written."""
    written = []
    for relative, data in sorted(files.items()):
        path = os.path.join(root, relative)
        if _same_bytes(path, data):
            continue
        os.makedirs(os.path.dirname(path), exist_ok=True)
        temporary = os.path.join(os.path.dirname(path), ".%s.%d%s" % (
            os.path.basename(path), os.getpid(), TEMP_SUFFIX))
        with open(temporary, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
        written.append(relative)
    return written


def read_files(root, relatives):
    """{relative: bytes} of those of ``relatives`` that exist under ``root``."""
    files = {}
    for relative in relatives:
        path = os.path.join(root, relative)
        if os.path.isfile(path):
            with open(path, "rb") as f:
                files[relative] = f.read()
    return files


def cell_inputs(results_dir, teacher_checkpoint):
    """{path relative to the results folder: bytes}: the teacher a student distils (its weights
    and ``.json``), read here on the driver; {} for a cell without a teacher."""
    if not teacher_checkpoint:
        return {}
    relative = os.path.relpath(teacher_checkpoint, results_dir)
    return read_files(results_dir, [relative, relative + ".json"])


def _is_temp(name):
    return name.startswith(".") and name.endswith(TEMP_SUFFIX)


def teacher_task(cell_name):
    """The task whose teacher a cell trains ("mnist/teacher", "rl/cartpole/teacher",
    "evenodd_k3/teacher" → mnist, cartpole, evenodd_k3), or None for a student."""
    if not cell_name.endswith("/teacher"):
        return None
    return cell_name[:-len("/teacher")].split("/")[-1]


def owned_by(relative, profile, cell_name):
    """Whether ``relative`` (to the results folder) is one of the cell's own outputs: under
    ``<profile>/cells/`` its JSON and samples, under ``tensorboard/`` its folder, and for a
    teacher cell its task's files under ``teachers/`` (not a resume file of an unfinished run)."""
    parts = relative.split(os.sep, 2)
    name = os.path.basename(relative)
    if len(parts) < 3 or parts[0] != profile or _is_temp(name):
        return False
    folder, rest = parts[1], parts[2]
    if folder == "cells":  # <name>.json, <name>.samples.npz, <name>_samples.npz
        return rest.startswith((cell_name + ".", cell_name + "_"))
    if folder == "tensorboard":
        return rest.startswith(cell_name + os.sep)
    task = teacher_task(cell_name)
    return (folder == TEACHER_FOLDER and task is not None and name.startswith(task + ".")
            and not name.endswith(".resume.npz"))


def cell_outputs(results_dir, profile, cell_name):
    """{relative: bytes} of the cell's own files (``owned_by``) under ``results_dir`` now: only
    its own names, so cells sharing a node never ship each other's half-written files."""
    owned = []
    for folder in ("cells", "tensorboard", TEACHER_FOLDER):
        for directory, _, names in os.walk(os.path.join(results_dir, profile, folder)):
            for name in names:
                relative = os.path.relpath(os.path.join(directory, name), results_dir)
                if owned_by(relative, profile, cell_name):
                    owned.append(relative)
    return read_files(results_dir, sorted(owned))


def _is_resume_file(name, task):
    return task is not None and name.startswith(task + ".") and name.endswith(".resume.npz")


def has_checkpoint(results_dir, profile, cell_name):
    """Whether an unfinished cell left what its next run continues from: a mid-cell
    checkpoint under ``partial/<cell>/`` or, for a teacher, its task's resume file."""
    for _, _, names in os.walk(os.path.join(results_dir, profile, "partial", cell_name)):
        if any(not _is_temp(name) for name in names):
            return True
    task = teacher_task(cell_name)
    for _, _, names in os.walk(os.path.join(results_dir, profile, TEACHER_FOLDER)):
        if any(_is_resume_file(name, task) for name in names):
            return True
    return False


def clear_cell(results_dir, profile, cell_name, keep_partial):
    """Removes the cell's own files under ``results_dir`` (a node's copy, from an earlier grid
    run) and, unless ``keep_partial``, its mid-cell checkpoints and a teacher's resume file."""
    task = teacher_task(cell_name)
    for folder in ("cells", "tensorboard", TEACHER_FOLDER):
        for directory, _, names in os.walk(os.path.join(results_dir, profile, folder)):
            for name in names:
                path = os.path.join(directory, name)
                relative = os.path.relpath(path, results_dir)
                resume = _is_resume_file(name, task)
                if owned_by(relative, profile, cell_name) or (resume and not keep_partial):
                    os.unlink(path)
    if not keep_partial:
        shutil.rmtree(os.path.join(results_dir, profile, "partial", cell_name),
                      ignore_errors=True)


def _death_signal():
    """A preexec_fn that makes the child get SIGKILL when its parent (the Ray worker) dies
    (Linux prctl PR_SET_PDEATHSIG), resolved here in the parent so the child only calls it;
    None where there is no prctl."""
    try:
        prctl = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").prctl
    except (OSError, AttributeError):
        return None
    return functools.partial(prctl, 1, signal.SIGKILL)


def run_cell(job, inputs, environ, resume_here):
    """The node's side of one cell: ``job`` (the driver's command, log file, results folder,
    profile, cell name, forwarded env, exit codes of a finished cell) run in this node's
    checkout after writing ``inputs``; returns {"code", "log", "files"}, ``files`` only for
    a finished (or diverged) cell. ``resume_here``: this cell already started on this node
    in this grid run, so its mid-cell checkpoints are its own."""
    layout = NodeLayout(job["driver_root"], node_root(job["driver_root"], environ))
    results_dir = layout.to_node(job["results_dir"])
    log_file = layout.to_node(job["log_file"])
    try:
        os.makedirs(os.path.dirname(log_file), exist_ok=True)
    except OSError as e:
        raise RuntimeError("cannot write the results folder %s on this node (%s); a results "
                           "folder outside the checkout keeps its place relative to each "
                           "node's checkout, so it must be writable there" % (results_dir, e))
    if not layout.is_identity():
        clear_cell(results_dir, job["profile"], job["cell"], keep_partial=resume_here)
    write_files(results_dir, inputs)
    with open(log_file, "w") as out:
        code = subprocess.call(layout.command(job["command"], job["results_dir"]), stdout=out,
                               stderr=subprocess.STDOUT, env=dict(environ, **job["env"]),
                               cwd=layout.node_root, preexec_fn=_death_signal())
    with open(log_file, "rb") as f:
        log = f.read()
    finished = code in job["ok_codes"]
    return {"code": code, "log": log, "files": cell_outputs(results_dir, job["profile"],
                                                            job["cell"]) if finished else {}}

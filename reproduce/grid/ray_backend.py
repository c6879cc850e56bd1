"""Ray executor for the grid (``run_all --backend ray``): each cell's command runs as one Ray
task on whichever node of the cluster has the CPUs/GPUs the cell asks for.

The task runs the same ``python -m reproduce ...`` subprocess as the local backend
(``grid.run_local``), so a cell behaves identically under both; only the placement differs.
What a multi-node cluster needs (``node_files``):
- on every node a checkout of the same commit with its ``.venv`` and data folder, at the
  driver's path or at the path in ``GAS_REPO_ROOT`` of that node's ``ray start``;
- no shared filesystem: a student's teacher reaches its node through Ray's object store, and
  each cell's log, JSON, samples, TensorBoard files and (teachers) weights come back with the
  task's result; the driver writes them atomically into the one results tree, where it
  decides what is finished (the resume rule) and writes the tables. A shared mount works
  too (files already there are not rewritten);
- a node lost mid-cell: Ray runs the cell again on another node (``CELL_MAX_RETRIES``), from
  its start; the run record lists every cell started more than once (``retries``).

Ray is imported only here, so the local backend never needs it.
"""
import os
import socket

from building_blocks.common.config import ConfigError
from building_blocks.image.data import REPO_ROOT
from reproduce.core import diverged
from reproduce.grid import node_files

# Environment variables of the driver that cells must see on any node (the rest of a cell's
# environment comes from the node it runs on). CUDA_VISIBLE_DEVICES is never forwarded: Ray
# sets it per task from the GPUs it assigns.
FORWARDED_PREFIXES = ("GAS_", "TF_", "OMP_", "PYTHONHASHSEED", "MPLBACKEND")


# How often Ray runs a cell again after its node or worker process died (Ray retries system
# failures only, never a cell that exited with an error). Cells are idempotent: a rerun on
# another node starts the cell anew from the same seed.
CELL_MAX_RETRIES = 3


class RayBackendError(ConfigError):
    """Ray could not be started or reached (a ConfigError: the CLI prints it and exits 2)."""


def _forwarded_env(env):
    return {k: v for k, v in env.items()
            if k.startswith(FORWARDED_PREFIXES) and k != "CUDA_VISIBLE_DEVICES"}


def check_reachable(address, timeout_s=5.0):
    """Fails in seconds, not minutes (Ray's own connect retries take ~2 min), when nothing
    listens at a ``host:port`` address. Other forms (``auto``, ``ray://...``) go to Ray as is."""
    host, sep, port = address.rpartition(":")
    if not sep or not host or "/" in address or not port.isdigit():
        return
    try:
        socket.create_connection((host, int(port)), timeout=timeout_s).close()
    except OSError as e:
        raise RayBackendError("nothing answers at --ray_address %s (%s). Start the head with "
                              "`ray start --head --port %s` there, or omit --ray_address to start "
                              "Ray on this machine." % (address, e.strerror or e, port))


def _make_remote(ray):
    # Defined inside a function so that Ray pickles it by value: worker processes import
    # nothing of the driver's; the node's own checkout provides reproduce.grid.node_files.
    def run_cell_on_node(job, inputs, ledger):
        import os as os_
        import socket as socket_
        import sys as sys_
        root = os_.environ.get("GAS_REPO_ROOT") or job["driver_root"]
        if os_.path.isdir(root) and root not in sys_.path:
            sys_.path.insert(0, root)
        from reproduce.grid import node_files  # pylint: disable=g-import-not-at-top
        node, host = ray.get_runtime_context().get_node_id(), socket_.gethostname()
        earlier = ray.get(ledger.started.remote(job["cell"], node, host)) if ledger else []
        result = node_files.run_cell(job, inputs, os_.environ,
                                     resume_here=any(n == node for n, _ in earlier))
        result.update(node=node, host=host)
        return result
    return ray.remote(run_cell_on_node)


def _make_ledger(ray):
    class AttemptLedger(object):
        """Counts each cell's starts (a retried cell starts again, maybe on another node)."""

        def __init__(self):
            self.starts = {}

        def started(self, cell, node, host):
            """Records a start; returns the cell's earlier starts in this grid run."""
            earlier = list(self.starts.get(cell, []))
            self.starts.setdefault(cell, []).append([node, host])
            return earlier

        def attempts(self):
            return self.starts
    return ray.remote(num_cpus=0)(AttemptLedger)


class RayExecutor(object):
    """``execute(command, log_file, env) -> exit code``, like ``grid.run_local``, on Ray.

    ``num_cpus``/``num_gpus`` are each cell's resource request; Ray runs as many cells at once
    as the cluster's resources allow. Use as a context manager: Ray is started (or joined) on
    entry and shut down on exit.
    """

    def __init__(self, address=None, num_cpus=1, num_gpus=0, local_cpus=None, log=print,
                 results_dir=None, profile=None, max_retries=CELL_MAX_RETRIES):
        if num_cpus < 1 or num_gpus < 0:
            raise ConfigError("Ray cells need num_cpus >= 1 and --gpus_per_cell >= 0, got %s "
                              "and %s" % (num_cpus, num_gpus))
        self.address, self.num_cpus, self.num_gpus = address, num_cpus, num_gpus
        self.local_cpus, self.log = local_cpus, log
        self.results_dir, self.profile, self.max_retries = results_dir, profile, max_retries
        self._ray, self._remote, self._ledger, self._inputs = None, None, None, {}
        self.nodes = 0

    def __enter__(self):
        try:
            import ray  # pylint: disable=g-import-not-at-top
        except ImportError as e:
            raise RayBackendError("--backend ray needs the `ray` package (pinned in "
                                  "requirements.lock; run ./setup_env.sh): %s" % e)
        kwargs = dict(include_dashboard=False, log_to_driver=False, configure_logging=False)
        if self.address:
            target = "Ray cluster at %s" % self.address
            check_reachable(self.address)
            kwargs["address"] = self.address
        else:
            # "local": always a fresh instance on this machine, never someone else's cluster
            # found through RAY_ADDRESS or /tmp/ray. Ray keeps its logs under its temp dir
            # (default /tmp/ray; RAY_TMPDIR moves it), never inside the repository.
            target = "a local Ray instance"
            kwargs.update(address="local", num_cpus=self.local_cpus or os.cpu_count() or 1,
                          num_gpus=None if self.num_gpus else 0,
                          object_store_memory=int(os.environ.get(
                              "GAS_RAY_OBJECT_STORE_BYTES", 100 * 1024 * 1024)))
            if os.environ.get("RAY_TMPDIR"):
                kwargs["_temp_dir"] = os.environ["RAY_TMPDIR"]
        try:
            ray.init(**kwargs)
        except Exception as e:  # ConnectionError, RuntimeError, ValueError, ... vary by cause
            raise RayBackendError("cannot start or reach %s (%s: %s). Check --ray_address (the "
                                  "head's host:port, as printed by `ray start --head`), or omit "
                                  "it to start Ray on this machine."
                                  % (target, type(e).__name__,
                                     (str(e).strip() or repr(e)).splitlines()[0]))
        self._ray = ray
        resources = ray.cluster_resources()
        cpus, gpus = resources.get("CPU", 0), resources.get("GPU", 0)
        if cpus < self.num_cpus or gpus < self.num_gpus:
            self.__exit__(None, None, None)
            raise RayBackendError(
                "%s has %g CPU(s) and %g GPU(s); one cell asks for %d CPU(s) (--threads) and %g "
                "GPU(s) (--gpus_per_cell), so no cell could ever run" % (
                    target, cpus, gpus, self.num_cpus, self.num_gpus))
        self.log("ray: connected to %s (%g CPUs, %g GPUs); each cell asks for %d CPU(s), %g "
                 "GPU(s)" % (target, cpus, gpus, self.num_cpus, self.num_gpus))
        self._remote = _make_remote(ray).options(num_cpus=self.num_cpus, num_gpus=self.num_gpus,
                                                 max_retries=self.max_retries)
        self.nodes = len([n for n in ray.nodes() if n.get("Alive")])
        # The ledger lives on the driver's node, which outlives any worker node.
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy  # pylint: disable=g-import-not-at-top
        self._ledger = _make_ledger(ray).options(
            scheduling_strategy=NodeAffinitySchedulingStrategy(
                ray.get_runtime_context().get_node_id(), soft=False)).remote()
        return self

    def __exit__(self, *exc_info):
        if self._ray is not None and self._ledger is not None:
            try:
                self.attempts = self._ray.get(self._ledger.attempts.remote(), timeout=30)
            except Exception:  # pylint: disable=broad-except
                self.attempts = {}
        if self._ray is not None:
            self._ray.shutdown()
            self._ray = None

    def max_in_flight(self):
        """How many cells can run at once on the cluster (the grid's submit window)."""
        resources = self._ray.cluster_resources()
        slots = int(resources.get("CPU", 1) // self.num_cpus)
        if self.num_gpus:
            slots = min(slots, int(resources.get("GPU", 0) // self.num_gpus))
        return max(1, slots)

    def _inputs_of(self, cell):
        """An object-store reference to the files a cell reads from the results tree (its
        teacher), put once per teacher version and shared by all its students."""
        teacher = getattr(cell, "teacher_checkpoint", None) if cell is not None else None
        key = None
        if teacher and os.path.exists(teacher):
            stat = os.stat(teacher)
            key = (teacher, stat.st_size, stat.st_mtime_ns)
        if key not in self._inputs:
            self._inputs[key] = self._ray.put(
                node_files.cell_inputs(self.results_dir, teacher) if key else {})
        return self._inputs[key]

    def __call__(self, command, log_file, env, cell=None):
        """Runs one cell's command as a Ray task and writes what it returns (its log, JSON,
        samples, TensorBoard files, a teacher's weights) into the results tree here; returns
        its exit code. A lost node or worker makes Ray run the cell again elsewhere (up to
        ``max_retries`` times); -1 if it still failed (the cell is then reported failed and a
        rerun of the grid retries it)."""
        name = cell.name if cell is not None else os.path.basename(log_file)
        job = {"command": list(command), "log_file": log_file, "env": _forwarded_env(env),
               "driver_root": REPO_ROOT, "results_dir": self.results_dir,
               "profile": self.profile, "cell": name, "ok_codes": [0, diverged.EXIT_CODE]}
        ref = self._remote.remote(job, self._inputs_of(cell), self._ledger)
        try:
            result = self._ray.get(ref)
        except self._ray.exceptions.RayError as e:
            message = str(e).strip()
            self.log("    ray task of %s failed: %s" % (name, message.splitlines()[0]))
            with open(log_file, "w") as f:  # the log the grid shows the tail of
                f.write("ray: the task of this cell failed:\n%s\n" % message)
            return -1
        node_files.write_files(self.results_dir, result["files"])
        with open(log_file, "wb") as f:
            f.write(result["log"])
        return result["code"]

    def retries(self):
        """{cell: [[node id, host], ...]} of the cells Ray started more than once (after
        ``__exit__``)."""
        return {cell: starts for cell, starts in getattr(self, "attempts", {}).items()
                if len(starts) > 1}


def run_cells(execute_cells, teachers, students, flags, local_cpus, address, gpus_per_cell,
              log):
    """``execute_cells`` (grid's) on Ray: returns the failed cells' names and what the run
    record says of the backend (its nodes; the cells started more than once because a node
    or worker was lost)."""
    executor = RayExecutor(address, flags["threads"], gpus_per_cell, local_cpus=local_cpus,
                           log=log, results_dir=flags["results_dir"], profile=flags["profile"])
    with executor:
        failed = execute_cells(teachers, students, flags, executor.max_in_flight(), log,
                               executor)
    retried = executor.retries()
    if retried:
        log("ray: %d cell(s) started more than once (a node or worker was lost): %s" % (
            len(retried), ", ".join("%s ×%d" % (c, len(s)) for c, s in sorted(retried.items()))))
    return failed, {"ray_nodes": executor.nodes, "ray_retried_cells": retried}

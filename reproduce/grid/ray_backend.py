"""Ray executor for the grid (``run_all --backend ray``): each cell's command runs as one Ray
task on whichever node of the cluster has the CPUs/GPUs the cell asks for.

The task runs the same ``python -m reproduce ...`` subprocess as the local backend
(``grid.run_local``), so a cell behaves identically under both; only the placement differs.
What this requires of a multi-node cluster (only a local instance is tested here):
- the repository, its ``.venv`` (the same ``sys.executable`` path) and the data folder exist
  at the same paths on every node;
- ``--results_dir`` is a shared filesystem path (NFS, CephFS, ...) mounted at the same place
  on every node: cells read their teacher from it and write their JSON, log and TensorBoard
  files into it, and the driver reads them back to decide what is finished (the resume rule)
  and to write the tables. Nothing is gathered over Ray's object store.

Ray is imported only here, so the local backend never needs it.
"""
import os
import socket

from building_blocks.common.config import ConfigError
from building_blocks.image.data import REPO_ROOT

# Environment variables of the driver that cells must see on any node (the rest of a cell's
# environment comes from the node it runs on). CUDA_VISIBLE_DEVICES is never forwarded: Ray
# sets it per task from the GPUs it assigns.
FORWARDED_PREFIXES = ("GAS_", "TF_", "OMP_", "PYTHONHASHSEED", "MPLBACKEND")


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
    # Defined inside a function so that Ray pickles it by value: worker processes need not
    # import this module (their sys.path may lack the repository).
    def run_cell_on_node(command, log_file, env_overrides, cwd):
        import os as os_
        import subprocess as subprocess_
        directory = os_.path.dirname(log_file)
        if directory:
            os_.makedirs(directory, exist_ok=True)
        env = dict(os_.environ, **env_overrides)
        with open(log_file, "w") as out:
            return subprocess_.call(command, stdout=out, stderr=subprocess_.STDOUT, env=env,
                                    cwd=cwd if os_.path.isdir(cwd) else None)
    return ray.remote(run_cell_on_node)


class RayExecutor(object):
    """``execute(command, log_file, env) -> exit code``, like ``grid.run_local``, on Ray.

    ``num_cpus``/``num_gpus`` are each cell's resource request; Ray runs as many cells at once
    as the cluster's resources allow. Use as a context manager: Ray is started (or joined) on
    entry and shut down on exit.
    """

    def __init__(self, address=None, num_cpus=1, num_gpus=0, local_cpus=None, log=print):
        if num_cpus < 1 or num_gpus < 0:
            raise ConfigError("Ray cells need num_cpus >= 1 and --gpus_per_cell >= 0, got %s "
                              "and %s" % (num_cpus, num_gpus))
        self.address, self.num_cpus, self.num_gpus = address, num_cpus, num_gpus
        self.local_cpus, self.log = local_cpus, log
        self._ray, self._remote = None, None

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
                                                 max_retries=0)
        return self

    def __exit__(self, *exc_info):
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

    def __call__(self, command, log_file, env):
        """Runs one cell's command as a Ray task; returns its exit code (-1 if the task or its
        node died, e.g. a worker node was lost: the cell is then reported failed and a rerun
        retries it)."""
        ref = self._remote.remote(list(command), log_file, _forwarded_env(env), REPO_ROOT)
        try:
            return self._ray.get(ref)
        except self._ray.exceptions.RayError as e:
            self.log("    ray task of %s failed: %s" % (
                os.path.basename(log_file), str(e).strip().splitlines()[0]))
            return -1

"""A Ray cluster of several nodes on this one machine, started with ``ray start`` as on real
machines: the two-node test (tests/test_ray_cluster.py) and ``bench --bench_grid_nodes``.

The head listens on 127.0.0.1; worker node i gets its own loopback address 127.0.0.(i+2),
since a driver joins the raylet of its host's address. Ray 2.7 gives every node of one
machine the head's session folder (a worker's --temp-dir is ignored) and records there the
last node's address as the host's; ``start`` gives the host the head's address back, or a
driver would join a worker's raylet and die with it. ``stop`` kills this cluster's
processes only (never ``ray stop``, which stops every Ray instance of the user).
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile

RAY = os.path.join(os.path.dirname(sys.executable), "ray")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def processes_with(text):
    """PIDs of this machine's processes whose command line contains ``text`` (Linux /proc)."""
    pids = []
    for pid in os.listdir("/proc"):
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                if text.encode() in f.read():
                    pids.append(int(pid))
        except (OSError, ValueError):
            continue
    return [p for p in pids if p != os.getpid()]


def kill_all(pids):
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


class LocalCluster(object):
    """``workers``: one dict per worker node, {"cpus": n, "cwd": folder, "env": {...}} (its
    own checkout goes in env["GAS_REPO_ROOT"]). Use as a context manager."""

    def __init__(self, head_cpus=1, workers=({"cpus": 1},), env=None,
                 object_store_bytes=100 << 20):
        self.head_cpus, self.workers = head_cpus, [dict(w) for w in workers]
        self.env = {k: v for k, v in (env if env is not None else os.environ).items()
                    if k not in ("RAY_ADDRESS", "GAS_REPO_ROOT")}
        self.object_store_bytes = object_store_bytes
        self.scratch = tempfile.mkdtemp(prefix="gasray", dir="/tmp")  # short socket paths
        self.temp_dir = os.path.join(self.scratch, "ray")
        self.port = free_port()
        self.address = "127.0.0.1:%d" % self.port

    def _start(self, args, cpus, cwd, env):
        subprocess.check_call(
            [RAY, "start"] + args + ["--num-cpus", str(cpus), "--num-gpus", "0",
                                     "--object-store-memory", str(self.object_store_bytes),
                                     "--disable-usage-stats"],
            cwd=cwd, env=env, stdout=subprocess.DEVNULL, timeout=120)

    def __enter__(self):
        try:
            self._start(["--head", "--node-ip-address", "127.0.0.1", "--port", str(self.port),
                         "--temp-dir", self.temp_dir, "--include-dashboard", "false"],
                        self.head_cpus, None, self.env)
            for i, worker in enumerate(self.workers):
                worker["node_manager_port"] = free_port()
                self._start(["--address", self.address, "--node-ip-address", "127.0.0.%d" % (i + 2),
                             "--node-manager-port", str(worker["node_manager_port"])],
                            worker.get("cpus", 1), worker.get("cwd"),
                            dict(self.env, **worker.get("env", {})))
            with open(os.path.join(self.temp_dir, "session_latest", "node_ip_address.json"),
                      "w") as f:
                json.dump({"node_ip_address": "127.0.0.1"}, f)
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc_info):
        self.stop()

    def raylet_of(self, worker):
        """PIDs of worker node ``worker``'s raylet (to kill it: a lost node)."""
        port = "--node_manager_port=%d" % self.workers[worker]["node_manager_port"]
        pids = []
        for pid in processes_with(port):
            try:
                with open("/proc/%d/cmdline" % pid, "rb") as f:
                    if f.read().split(b"\0")[0].endswith(b"raylet"):
                        pids.append(pid)
            except OSError:
                continue
        return pids

    def stop(self):
        roots = [w["env"]["GAS_REPO_ROOT"] for w in self.workers
                 if w.get("env", {}).get("GAS_REPO_ROOT")]
        kill_all(processes_with(self.temp_dir) + [p for r in roots for p in processes_with(r)])
        shutil.rmtree(self.scratch, ignore_errors=True)

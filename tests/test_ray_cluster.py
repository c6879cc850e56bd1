"""The grid on a two-node Ray cluster without a shared filesystem (issue 17).

A head node (this checkout) and a worker node are started with ``ray start`` on 127.0.0.1,
the worker in its own copy of the checkout (``GAS_REPO_ROOT``), with its own results folder;
the smoke grid of tests/test_grid_backends.py runs through them:
- uninterrupted: the tables equal the local backend's byte for byte, and the worker's cells
  reached the driver's results folder only through Ray;
- with the worker's raylet killed (SIGKILL) while it runs a student: Ray runs that cell
  again on the head, the grid finishes with the same tables, and the run record lists the
  retried cell.

About 5 minutes on 2 cores, so not part of ./run_tests.sh's default run (CI's time budget):
``GAS_RAY_CLUSTER_TEST=1 ./run_tests.sh --tf1-only tests/test_ray_cluster.py``.
"""
import json
import os
import shutil
import subprocess
import sys
import time

import pytest

from reproduce.grid.local_cluster import LocalCluster, kill_all
from reproduce.grid.node_files import NodeLayout
from tests.conftest import REPO
from tests.test_grid_backends import (CSVS, ENV, GRID, TIMEOUT_S, cell_json, read_bytes,
                                      reference, run_grid)  # noqa: F401 (fixture)

pytestmark = [
    pytest.mark.skipif(not os.environ.get("GAS_RAY_CLUSTER_TEST"),
                       reason="two-node Ray cluster test: set GAS_RAY_CLUSTER_TEST=1 (~5 min)"),
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc"),
]
STUDENTS = ("mnist/gas/seed0", "mnist/student_kd/seed0", "mnist/noise_kd/seed0")


def copy_checkout(destination):
    """The checkout's files as git sees them (tracked and new), without results/; the venv
    and the data folder beside it are links (a real second machine has its own)."""
    listed = subprocess.check_output(["git", "ls-files", "-co", "--exclude-standard"],
                                     cwd=REPO).decode().splitlines()
    for relative in listed:
        source = os.path.join(REPO, relative)
        if relative.startswith("results/") or not os.path.isfile(source):
            continue
        target = os.path.join(destination, "repo", relative)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy2(source, target)
    os.symlink(os.path.join(REPO, ".venv"), os.path.join(destination, "repo", ".venv"))
    os.symlink(os.path.join(os.path.dirname(REPO), "shared"), os.path.join(destination, "shared"))
    return os.path.join(destination, "repo")


@pytest.fixture
def cluster(tmp_path):
    """A head (this checkout) and a worker node in its own copy of the checkout."""
    worker_root = copy_checkout(str(tmp_path / "node2"))
    with LocalCluster(head_cpus=1, workers=[{"cpus": 1, "cwd": worker_root,
                                             "env": {"GAS_REPO_ROOT": worker_root}}],
                      env=ENV) as running:
        yield running, worker_root


def grid_on(cluster_address, results):
    return ["--backend", "ray", "--ray_address", cluster_address, "--results_dir", results]


def worker_results(worker_root, results):
    """Where the worker node writes what the driver keeps in ``results``."""
    return NodeLayout(REPO, worker_root).to_node(results)


def assert_same_tables(results, reference_dir):
    for name in CSVS:
        assert read_bytes(os.path.join(results, name)) == \
            read_bytes(os.path.join(reference_dir, name)), name


def test_two_nodes_without_a_shared_folder_give_the_local_tables(reference, cluster, tmp_path):
    running, worker_root = cluster
    results = str(tmp_path / "driver")
    out = run_grid(results, *grid_on(running.address, results)[:4])
    assert "(2 CPUs, 0 GPUs)" in out and "[4/4]" in out, out[-2000:]
    assert_same_tables(results, reference)
    on_worker = worker_results(worker_root, results)
    assert on_worker != results and not on_worker.startswith(results)
    ran_there = [n for n in ("mnist/teacher",) + STUDENTS
                 if os.path.exists(cell_json(on_worker, n))]
    assert ran_there, "no cell ran on the worker node"
    for name in ran_there:  # it came back through Ray, byte for byte
        assert read_bytes(cell_json(results, name)) == read_bytes(cell_json(on_worker, name))
    with open(os.path.join(results, "smoke", "run_all.json")) as f:
        record = json.load(f)
    assert record["ray_nodes"] == 2 and record["ray_retried_cells"] == {}


def test_a_lost_worker_node_is_absorbed_by_ray_retries(reference, cluster, tmp_path):
    running, worker_root = cluster
    results = str(tmp_path / "driver")
    on_worker = worker_results(worker_root, results)
    command = [sys.executable, "-m", "reproduce"] + GRID + grid_on(running.address, results)
    with open(str(tmp_path / "grid.out"), "wb") as output:
        grid = subprocess.Popen(command, cwd=REPO, env=ENV, stdout=output,
                                stderr=subprocess.STDOUT)
        deadline = time.time() + TIMEOUT_S

        def student_on_worker():
            logs = os.path.join(on_worker, "smoke", "logs")
            return [n for n in STUDENTS
                    if os.path.exists(os.path.join(logs, n.replace("/", "_") + ".log"))
                    and not os.path.exists(cell_json(on_worker, n))]
        while not student_on_worker():
            assert grid.poll() is None, "the grid ended before a student ran on the worker"
            assert time.time() < deadline, "no student started on the worker node"
            time.sleep(0.05)
        lost = student_on_worker()[0]
        raylets = running.raylet_of(0)
        assert raylets, "the worker's raylet was not found"
        kill_all(raylets)
        code = grid.wait(timeout=TIMEOUT_S)
    with open(str(tmp_path / "grid.out")) as f:
        out = f.read()
    assert code == 0, out[-3000:]
    assert_same_tables(results, reference)
    with open(os.path.join(results, "smoke", "run_all.json")) as f:
        record = json.load(f)
    assert lost in record["ray_retried_cells"], (lost, record["ray_retried_cells"], out[-2000:])
    assert "started more than once" in out

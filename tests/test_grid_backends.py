"""The grid on its two backends, and killed with SIGKILL at random points then resumed.

One small smoke grid (MNIST teacher + GAS, Student KD, noise KD for seed 0; about 30 s on
2 cores) is run uninterrupted on the local backend as the reference, then
- through a local Ray instance (``--backend ray``): the tables must equal the reference's;
- killed (the whole process group: grid and cell subprocesses) at a cell start, mid-training
  and during two results writes (a cell JSON, a table), points drawn from a seeded RNG
  (GAS_FAULT_SEED, default 8), resumed after each kill and
  finally run to completion: the CSVs must be byte-identical to the reference's, and after
  every kill no finished-result path may hold a partial file.
Cells restart from scratch after a kill (mid-cell checkpoints come every 600 s), and a smoke
cell is deterministic on CPU with a fixed thread count, which is why bytes can be compared.
"""
import csv
import glob
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time

import pytest

from building_blocks.image.data import resolve_data_dir
from building_blocks.common.io_utils import is_temp_file
from tests.conftest import REPO

pytestmark = pytest.mark.skipif(
    not os.path.isdir(os.path.join(resolve_data_dir(), "mnist")) and not os.environ.get("CI"),
    reason="no MNIST under the data directory (set GAS_DATA_DIR)")

ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONHASHSEED="0", MPLBACKEND="Agg")
for _name in ("GAS_TEST_PAUSE_WRITE", "GAS_CHECKPOINT_EVERY_S", "RAY_ADDRESS"):
    ENV.pop(_name, None)
CELLS = "mnist/gas/*,mnist/student_kd/*,mnist/noise_kd/*"
CELL_NAMES = ("mnist/teacher", "mnist/gas/seed0", "mnist/student_kd/seed0",
              "mnist/noise_kd/seed0")
GRID = ["run_all", "--profile", "smoke", "--only", "table1", "--seeds", "0", "--jobs", "2",
        "--threads", "1", "--cells", CELLS]
CSVS = ("table1.csv", "archival_check.csv")
TIMEOUT_S = 600  # a hang guard only: alone these runs take 25-40 s, but a loaded 2-core CI box is slower


def grid_command(results, *extra):
    return [sys.executable, "-m", "reproduce"] + GRID + ["--results_dir", results] + list(extra)


def run_grid(results, *extra):
    completed = subprocess.run(grid_command(results, *extra), cwd=REPO, env=ENV,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               timeout=TIMEOUT_S)
    out = completed.stdout.decode()
    assert completed.returncode == 0, out[-3000:]
    return out


def cell_json(results, name):
    return os.path.join(results, "smoke", "cells", name + ".json")


def cell_log(results, name):
    return os.path.join(results, "smoke", "logs", name.replace("/", "_") + ".log")


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    results = str(tmp_path_factory.mktemp("reference"))
    run_grid(results)
    return results


def test_ray_backend_gives_the_same_tables_as_the_local_backend(reference, tmp_path):
    if not os.environ.get("CI"):  # in CI a missing ray (pinned in the lock) fails the test
        pytest.importorskip("ray")
    results = str(tmp_path / "ray")
    out = run_grid(results, "--backend", "ray")
    assert "ray: connected to a local Ray instance" in out
    assert "[4/4]" in out
    for name in CSVS:
        assert read_bytes(os.path.join(results, name)) == \
            read_bytes(os.path.join(reference, name)), name
    for name in CELL_NAMES:
        with open(cell_json(results, name)) as f:
            ours = json.load(f)
        with open(cell_json(reference, name)) as f:
            theirs = json.load(f)
        assert ours["test_accuracy"] == theirs["test_accuracy"], name
        assert os.path.getsize(cell_log(results, name)) > 0
    with open(os.path.join(results, "manifest.json")) as f:
        assert json.load(f)["run_all"]["backend"] == "ray"
    # Resume rule on Ray too: nothing left to run, so Ray is not even started.
    out = run_grid(results, "--backend", "ray")
    assert "0 cells to run (4 already finished, skipped)" in out
    assert "Ray not started" in out and "ray: connected" not in out


# ---------------------------------------------------------------------- fault injection
class Grid(object):
    """run_all in its own process group, so SIGKILL reaches it and every cell subprocess."""

    def __init__(self, results, env_extra=None):
        self.results = results
        self.output = open(os.path.join(os.path.dirname(results), "grid.out"), "ab")
        self.process = subprocess.Popen(grid_command(results), cwd=REPO,
                                        env=dict(ENV, **(env_extra or {})),
                                        stdout=self.output, stderr=subprocess.STDOUT,
                                        start_new_session=True)

    def wait_for(self, what, predicate):
        deadline = time.time() + TIMEOUT_S
        while not predicate():
            assert self.process.poll() is None, "the grid ended before %s" % what
            assert time.time() < deadline, "timed out waiting for %s" % what
            time.sleep(0.02)

    def kill(self):
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        deadline = time.time() + 10
        while time.time() < deadline:  # until every member of the group is gone
            try:
                os.killpg(self.process.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        self.output.close()


def finished_paths(results):
    return [p for p in glob.glob(os.path.join(results, "**", "*"), recursive=True)
            if os.path.isfile(p) and not is_temp_file(os.path.basename(p))]


def assert_no_partial_results(results):
    """Every file under a finished name is complete; temporary files may remain, nothing else."""
    for path in finished_paths(results):
        if path.endswith((".json", ".csv", ".md", ".npz", ".png")):
            assert os.path.getsize(path) > 0, path
    for path in glob.glob(os.path.join(results, "smoke", "cells", "**", "*.json"),
                          recursive=True):
        with open(path) as f:
            record = json.load(f)  # raises on a partial file
        assert record["status"] == "ok" and 0.0 <= record["test_accuracy"] <= 100.0, path
        if record["kind"] == "teacher":
            teacher = os.path.join(results, "smoke", "teachers", "mnist.npz")
            with open(teacher + ".json") as f:
                assert json.load(f)["sha256"]
            assert os.path.getsize(teacher) > 1000
    for name in CSVS:
        path = os.path.join(results, name)
        if os.path.exists(path):
            with open(path) as f:
                rows = list(csv.DictReader(f))
            assert rows and all(None not in row.values() for row in rows), path
    for name in ("manifest.json", os.path.join("smoke", "run_all.json")):
        path = os.path.join(results, name)
        if os.path.exists(path):
            with open(path) as f:
                json.load(f)


def unfinished(results):
    return [n for n in CELL_NAMES if not os.path.exists(cell_json(results, n))]


def test_kill_9_at_random_points_then_resume_gives_identical_csvs(reference, tmp_path):
    rng = random.Random(int(os.environ.get("GAS_FAULT_SEED", "8")))  # other seeds: other points
    results = str(tmp_path / "results")
    kills = []

    # 1. At a cell start: the grid creates the cell's log just before starting its process.
    target = rng.choice(CELL_NAMES)
    grid = Grid(results)
    grid.wait_for("%s to start" % target, lambda: os.path.exists(cell_log(results, target)))
    grid.kill()
    kills.append("start of " + target)
    assert not os.path.exists(cell_json(results, target))
    assert_no_partial_results(results)

    # 2. Mid-training: the GAS cell has printed a progress line of its training loop.
    shutil.rmtree(os.path.join(results, "smoke", "logs"), ignore_errors=True)
    gas = "mnist/gas/seed0"
    assert gas in unfinished(results)
    progress = re.compile(r"gas mnist seed 0 (?!30/)\d+/30 \(")  # a line before the last

    def training():
        try:
            with open(cell_log(results, gas)) as f:
                return bool(progress.search(f.read()))
        except OSError:
            return False
    grid = Grid(results)
    grid.wait_for("GAS mid-training", training)
    time.sleep(rng.uniform(0.0, 0.5))
    grid.kill()
    kills.append("mid-training of " + gas)
    assert not os.path.exists(cell_json(results, gas)), "the kill came after the cell finished"
    assert_no_partial_results(results)

    # 3. During results writes: the io_utils test hook holds a complete temporary file
    # before its rename; kill then. First a cell's JSON (whichever cell finishes first), then
    # a table (after every cell has finished).
    for target_file in ("seed0.json", rng.choice(["table1.csv", "archival_check.csv"])):
        grid = Grid(results, {"GAS_TEST_PAUSE_WRITE": target_file})

        def paused():
            return any(n.startswith("." + target_file + ".") and is_temp_file(n)
                       for _, _, names in os.walk(results) for n in names)
        grid.wait_for("a write of %s" % target_file, paused)
        grid.kill()
        kills.append("write of " + target_file)
        assert_no_partial_results(results)

    # 4. Resume to completion.
    out = run_grid(results)
    removed = re.search(r"removed (\d+) unfinished temporary file", out)
    assert removed and int(removed.group(1)) >= 1, (kills, out[-2000:])
    assert not unfinished(results)
    for name in CSVS:
        assert read_bytes(os.path.join(results, name)) == \
            read_bytes(os.path.join(reference, name)), (name, kills)
    assert not [n for _, _, names in os.walk(results) for n in names if is_temp_file(n)]
    assert_no_partial_results(results)

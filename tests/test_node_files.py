"""What a cell takes to and brings back from a Ray node without a shared filesystem
(reproduce/grid/node_files.py): path mapping between checkouts, the files a cell owns, and
atomic writes that leave identical files alone. The cluster itself: tests/test_ray_cluster.py."""
import os
import sys

import pytest

from reproduce.grid import node_files
from reproduce.grid.node_files import NodeLayout


def test_paths_keep_their_place_relative_to_the_checkout():
    layout = NodeLayout("/home/a/gas-repro", "/srv/b/checkout")
    assert layout.to_node("/home/a/gas-repro/results/quick") == "/srv/b/checkout/results/quick"
    assert layout.to_node("/home/a/shared/data") == "/srv/b/shared/data"
    assert layout.to_node("results/quick") == "results/quick"  # relative: cwd is the checkout
    assert NodeLayout("/x/repo", "/x/repo").to_node("/x/repo/results") == "/x/repo/results"


def test_a_cells_command_maps_the_results_folder_always_and_other_paths_where_they_exist(
        tmp_path):
    driver, node = str(tmp_path / "driver"), str(tmp_path / "node" / "repo")
    os.makedirs(os.path.join(node, ".venv", "bin"))
    open(os.path.join(node, ".venv", "bin", "python"), "w").close()
    layout = NodeLayout(driver, node)
    results = os.path.join(driver, "results")
    command = [os.path.join(driver, ".venv", "bin", "python"), "-m", "reproduce", "distill",
               "--results_dir", results, "--teacher_checkpoint",
               os.path.join(results, "quick", "teachers", "mnist.npz"),
               "--data_dir", "/datasets/mnist"]
    assert layout.command(command, results) == [
        os.path.join(node, ".venv", "bin", "python"), "-m", "reproduce", "distill",
        "--results_dir", os.path.join(node, "results"), "--teacher_checkpoint",
        os.path.join(node, "results", "quick", "teachers", "mnist.npz"),
        "--data_dir", "/datasets/mnist"]  # not under the node's checkout: a shared mount


def test_a_node_without_a_checkout_is_named_with_what_to_do(tmp_path):
    with pytest.raises(RuntimeError, match="GAS_REPO_ROOT=.*ray start"):
        node_files.node_root(str(tmp_path / "absent"), {})
    os.makedirs(str(tmp_path / "mine" / "reproduce"))
    assert node_files.node_root("/absent", {"GAS_REPO_ROOT": str(tmp_path / "mine")}) == \
        str(tmp_path / "mine")


@pytest.mark.parametrize("relative,cell,owned", [
    ("quick/cells/mnist/gas/seed0.json", "mnist/gas/seed0", True),
    ("quick/cells/mnist/gas/seed0.samples.npz", "mnist/gas/seed0", True),
    ("quick/cells/rl/pong/gas/seed0_samples.npz", "rl/pong/gas/seed0", True),
    ("quick/cells/mnist/gas/seed10.json", "mnist/gas/seed1", False),
    ("quick/cells/mnist/gas/.seed0.json.x1.tmp", "mnist/gas/seed0", False),
    ("quick/tensorboard/mnist/gas/seed0/events.out", "mnist/gas/seed0", True),
    ("quick/tensorboard/mnist/gas/seed01/events.out", "mnist/gas/seed0", False),
    ("quick/partial/mnist/gas/seed0/model-5.index", "mnist/gas/seed0", False),
    ("smoke/cells/mnist/gas/seed0.json", "mnist/gas/seed0", False),  # another profile
    ("quick/teachers/mnist.npz", "mnist/teacher", True),
    ("quick/teachers/mnist.npz.json", "mnist/teacher", True),
    ("quick/teachers/mnist.npz", "mnist/gas/seed0", False),  # a student never ships it
    ("quick/teachers/fashion_mnist.npz", "mnist/teacher", False),
    ("quick/teachers/rl/humanoid.npz", "rl/humanoid/teacher", True),
    ("quick/teachers/rl/humanoid_standup.npz", "rl/humanoid/teacher", False),
    ("quick/teachers/rl/humanoid.npz.resume.npz", "rl/humanoid/teacher", False),
    ("quick/cells/rl/humanoid/teacher.json", "rl/humanoid/teacher", True),
])
def test_a_cell_owns_only_the_files_under_its_own_names(relative, cell, owned):
    assert node_files.owned_by(relative.replace("/", os.sep), "quick", cell) is owned


def test_inputs_and_outputs_round_trip_and_identical_files_are_left_alone(tmp_path):
    driver, node = str(tmp_path / "driver"), str(tmp_path / "node")
    teacher = os.path.join(driver, "quick", "teachers", "mnist.npz")
    node_files.write_files(driver, {"quick/teachers/mnist.npz": b"weights",
                                    "quick/teachers/mnist.npz.json": b"{}"})
    inputs = node_files.cell_inputs(driver, teacher)
    assert sorted(inputs) == ["quick/teachers/mnist.npz", "quick/teachers/mnist.npz.json"]
    assert node_files.cell_inputs(driver, None) == {}
    assert node_files.write_files(node, inputs) == sorted(inputs)
    assert node_files.write_files(node, inputs) == []  # already there: not rewritten
    node_files.write_files(node, {"quick/cells/mnist/gas/seed0.json": b"{\"ok\": 1}",
                                  "quick/cells/mnist/gas/seed1.json": b"other cell",
                                  "quick/tensorboard/mnist/gas/seed0/events": b"e"})
    outputs = node_files.cell_outputs(node, "quick", "mnist/gas/seed0")
    assert outputs == {"quick/cells/mnist/gas/seed0.json": b"{\"ok\": 1}",
                       "quick/tensorboard/mnist/gas/seed0/events": b"e"}
    assert node_files.write_files(driver, outputs) == sorted(outputs)
    with open(os.path.join(driver, "quick", "cells", "mnist", "gas", "seed0.json"), "rb") as f:
        assert f.read() == b"{\"ok\": 1}"
    assert not [n for _, _, names in os.walk(driver) for n in names if n.endswith(".tmp")]


def _job(driver, code, writes):
    """A fake cell: writes ``writes`` ({relative to the results folder: text}) under the
    --results_dir its command gets, then exits with ``code``."""
    results = os.path.join(driver, "results")
    script = ("import os, sys\nroot = sys.argv[1]\n"
              "for rel, text in %r.items():\n"
              "    path = os.path.join(root, rel)\n"
              "    os.makedirs(os.path.dirname(path), exist_ok=True)\n"
              "    open(path, 'w').write(text)\n"
              "print('cell ran'); sys.exit(%d)\n" % (writes, code))
    return {"command": [sys.executable, "-c", script, results], "env": {},
            "log_file": os.path.join(results, "quick", "logs", "mnist_gas_seed0.log"),
            "driver_root": driver, "results_dir": results, "profile": "quick",
            "cell": "mnist/gas/seed0", "ok_codes": [0, 3]}


def _checkout(path):
    os.makedirs(os.path.join(path, "reproduce"))
    return path


def test_a_node_runs_a_cell_afresh_and_sends_back_only_a_finished_cells_files(tmp_path):
    driver, node = _checkout(str(tmp_path / "driver")), _checkout(str(tmp_path / "node"))
    on_node = os.path.join(node, "results")
    old = {"quick/cells/mnist/gas/seed0.json": b"old result",
           "quick/tensorboard/mnist/gas/seed0/events.old": b"old events",
           "quick/partial/mnist/gas/seed0/model-5.index": b"old checkpoint"}
    node_files.write_files(on_node, old)  # a previous grid run's, on this node
    teacher = {"quick/teachers/mnist.npz": b"weights"}
    environ = dict(os.environ, GAS_REPO_ROOT=node)

    failed = node_files.run_cell(_job(driver, 1, {}), teacher, environ, resume_here=False)
    assert failed["code"] == 1 and failed["files"] == {} and b"cell ran" in failed["log"]
    assert not os.path.exists(os.path.join(on_node, "quick", "cells", "mnist", "gas",
                                           "seed0.json"))  # old result gone, not sent back
    assert not os.path.exists(os.path.join(on_node, "quick", "partial", "mnist", "gas", "seed0"))
    assert os.path.exists(os.path.join(on_node, "quick", "teachers", "mnist.npz"))

    done = node_files.run_cell(_job(driver, 0, {"quick/cells/mnist/gas/seed0.json": "new"}),
                               teacher, environ, resume_here=False)
    assert done["code"] == 0
    assert done["files"] == {"quick/cells/mnist/gas/seed0.json": b"new"}
    with open(os.path.join(on_node, "quick", "logs", "mnist_gas_seed0.log"), "rb") as f:
        assert f.read() == done["log"]

    # A retry on the same node in the same grid run keeps its mid-cell checkpoints.
    node_files.write_files(on_node, {"quick/partial/mnist/gas/seed0/model-5.index": b"mine"})
    node_files.run_cell(_job(driver, 0, {}), {}, environ, resume_here=True)
    assert os.path.exists(os.path.join(on_node, "quick", "partial", "mnist", "gas", "seed0",
                                       "model-5.index"))


def test_on_the_drivers_own_checkout_nothing_is_removed(tmp_path):
    driver = _checkout(str(tmp_path / "driver"))
    results = os.path.join(driver, "results")
    node_files.write_files(results, {"quick/cells/mnist/gas/seed0.json": b"kept"})
    out = node_files.run_cell(_job(driver, 1, {}), {}, dict(os.environ), resume_here=False)
    assert out["files"] == {}
    with open(os.path.join(results, "quick", "cells", "mnist", "gas", "seed0.json"), "rb") as f:
        assert f.read() == b"kept"

"""The real command line, smoke profile: grid → table1.csv + manifest, resume, determinism,
bad input. (Slowest tests of the suite: about 2-4 minutes on 2 cores.)"""
import csv
import glob
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from building_blocks.image.data import resolve_data_dir
from tests.conftest import REPO

# Needs MNIST/Fashion-MNIST. Skipped only outside CI (e.g. the Docker build, which has no data);
# under CI=true a missing dataset fails these tests instead of hiding them.
pytestmark = pytest.mark.skipif(
    not os.path.isdir(os.path.join(resolve_data_dir(), "mnist")) and not os.environ.get("CI"),
    reason="no MNIST under the data directory (set GAS_DATA_DIR)")

ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONHASHSEED="0")


def cli(*args, check=True):
    result = subprocess.run([sys.executable, "-m", "reproduce"] + list(args), cwd=REPO,
                            env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = result.stdout.decode(), result.stderr.decode()
    if check and result.returncode != 0:
        raise AssertionError("exit %d\n%s\n%s" % (result.returncode, out[-3000:], err[-3000:]))
    return result.returncode, out, err


@pytest.fixture(scope="module")
def smoke_results(tmp_path_factory):
    results = str(tmp_path_factory.mktemp("results"))
    _, out, _ = cli("run_all", "--profile", "smoke", "--only", "table1", "--jobs", "2",
                    "--results_dir", results)
    return results, out


def read_table(results):
    with open(os.path.join(results, "table1.csv")) as f:
        return list(csv.DictReader(f))


def read_cell_records(results):
    """{path relative to ``results``: record} of every cell result JSON of the smoke run."""
    records = {}
    for path in glob.glob(os.path.join(results, "smoke", "cells", "**", "*.json"),
                          recursive=True):
        with open(path) as f:
            records[os.path.relpath(path, results)] = json.load(f)
    return records


def algorithm_1_counts(config):
    """(generator updates, re-inits) of Algorithm 1's loop for a distill cell's config: rounds
    of N_s student updates; after every round but the last, a re-init once ``reinit_every``
    more student updates have passed, then N_g generator updates. DAFL's joint mode: one
    generator update per student update. KD baselines: none."""
    if not config["generator_steps_per_round"]:
        return 0, 0
    if config["shared_batch"]:
        return config["student_steps"], 0
    ends = list(range(config["student_steps_per_round"], config["student_steps"],
                      config["student_steps_per_round"]))
    reinits, next_reinit = 0, config["reinit_every"]
    for end in ends:
        if config["reinit_every"] and end >= next_reinit:
            reinits, next_reinit = reinits + 1, next_reinit + config["reinit_every"]
    return config["generator_steps_per_round"] * len(ends), reinits


def test_grid_writes_a_valid_table1_and_manifest(smoke_results):
    """table1.csv is the cells' numbers (mean, sample std, n over the seeds' result files),
    every cell ran Algorithm 1's schedule for its config against the teacher the grid
    trained, and the manifest lists exactly those cells."""
    results, out = smoke_results
    assert "ETA" in out and "[18/18]" in out
    records = read_cell_records(results)
    assert len(records) == 18 and all(r["status"] == "ok" for r in records.values())
    rows = read_table(results)
    assert len(rows) == 15
    for row in rows:
        assert row["profile"] == "smoke"
        if row["task"] == "cifar10":
            assert row["n"] == "0" and row["note"].startswith("not run")
            continue
        cells = [r for r in records.values()
                 if (r["method"], r["task"]) == (row["method"], row["task"])]
        accuracies = [r["test_accuracy"] for r in cells]
        expected_seeds = [0] if row["method"] == "teacher" else [0, 1]
        assert sorted(r["seed"] for r in cells) == expected_seeds, row
        assert row["n"] == str(len(expected_seeds)), row
        assert float(row["mean"]) == pytest.approx(np.mean(accuracies), abs=0.0051), row
        if row["method"] == "teacher":
            assert row["std"] == "", row
        else:
            assert float(row["std"]) == pytest.approx(np.std(accuracies, ddof=1), abs=0.00051)
    teacher_accuracy = {r["task"]: r["test_accuracy"] for r in records.values()
                        if r["kind"] == "teacher"}
    for path, record in records.items():
        history = record["history"]
        if record["kind"] == "teacher":
            assert record["test_accuracy"] == max(h["test_accuracy"] for h in history), path
            continue
        config = record["config"]
        assert record["test_accuracy"] == history[-1]["test_accuracy"], path
        assert record["student_steps"] == config["student_steps"], path
        assert [h["step"] for h in history] == list(range(
            config["eval_every"], config["student_steps"], config["eval_every"])) + [
                config["student_steps"]], path
        assert (record["generator_steps"], record["reinits"]) == algorithm_1_counts(config), path
        with open(os.path.join(results, "smoke", "teachers", record["task"] + ".npz.json")) as f:
            assert record["teacher_checkpoint_sha256"] == json.load(f)["sha256"], path
        assert record["teacher_test_accuracy"] == pytest.approx(
            teacher_accuracy[record["task"]], abs=0.05), path
    with open(os.path.join(results, "manifest.json")) as f:
        manifest = json.load(f)
    assert manifest["profile"] == "smoke" and manifest["seeds"] == [0, 1]
    assert sorted(c["result_file"] for c in manifest["cells"]) == sorted(records)
    for entry in manifest["cells"]:
        record = records[entry["result_file"]]
        assert (entry["cell"], entry["seed"], entry["test_accuracy"]) == (
            record["cell"], record["seed"], record["test_accuracy"])
    for path, record in records.items():  # the budget each method got (issue 20)
        if record["kind"] == "distill":
            entry = manifest["budget"][record["task"]]["methods"][record["method"]]
            assert record["student_steps"] in entry["student_steps"], path
    assert all(task["equal_student_updates"] for task in manifest["budget"].values())
    cell = manifest["cells"][0]
    for key in ("command", "git_sha", "packages", "wall_s", "seed"):
        assert key in cell
    assert "numpy" in cell["packages"]
    assert manifest["run_all"]["wall_s"] > 0
    assert os.path.getsize(os.path.join(results, "figures", "table1.png")) > 10000
    for task in ("mnist", "fashion_mnist"):  # generator samples beside real images (issue 4)
        assert os.path.getsize(os.path.join(results, "figures", "samples_%s.png" % task)) > 10000
    assert "archival check (smoke profile)" in out
    report = open(os.path.join(results, "REPORT.md")).read()
    assert "Table 1" in report and "| gas |" in report and "Deviations" in report
    # a run outside the shipped reference: each number beside the reference's (quick there)
    assert "reference check (against results, quick profile)" in out
    assert "## Beside the shipped reference" in report and "other profile" in report
    with open(os.path.join(results, "reference_check.csv")) as f:
        checked = list(csv.DictReader(f))
    assert {(r["method"], r["task"]) for r in checked if r["table"] == "table1"} >= {
        ("gas", "mnist"), ("dafl", "fashion_mnist")}
    assert all(r["verdict"] in ("other profile", "not run", "no reference") for r in checked)


def test_resume_skips_finished_cells_and_reruns_missing_ones(smoke_results):
    results, _ = smoke_results
    before = open(os.path.join(results, "table1.csv")).read()
    removed = os.path.join(results, "smoke", "cells", "mnist", "noise_kd", "seed1.json")
    os.remove(removed)
    _, out, _ = cli("run_all", "--profile", "smoke", "--only", "table1", "--jobs", "2",
                    "--results_dir", results)
    assert "1 cells to run (17 already finished, skipped)" in out
    assert os.path.exists(removed)
    # Same seed, same CPU: the rerun cell reproduces its numbers, so the table is unchanged.
    assert open(os.path.join(results, "table1.csv")).read() == before
    assert not [f for _, _, files in os.walk(results) for f in files if f.endswith(".tmp")]


def test_same_seed_twice_gives_identical_numbers(smoke_results, tmp_path):
    results, _ = smoke_results
    teacher = os.path.join(results, "smoke", "teachers", "mnist.npz")
    histories = []
    for run in ("a", "b"):
        out_dir = str(tmp_path / run)
        cli("distill", "--method", "gas", "--task", "mnist", "--seed", "1", "--profile", "smoke",
            "--results_dir", out_dir, "--teacher_checkpoint", teacher, "--threads", "2")
        with open(os.path.join(out_dir, "smoke", "cells", "mnist", "gas", "seed1.json")) as f:
            record = json.load(f)
        histories.append([(h["step"], h["test_accuracy"], h["student_loss"])
                          for h in record["history"]])
    assert histories[0] == histories[1]


@pytest.mark.parametrize("args,needle", [
    (["distill", "--method", "zskd", "--task", "mnist"], "--method"),
    (["distill", "--method", "gas", "--task", "svhn"], "--task"),
    (["distill", "--method", "gas", "--task", "mnist", "--profile", "fast"], "--profile"),
    (["distill", "--method", "gas", "--task", "mnist", "--seed", "-1"], "--seed"),
    (["distill", "--method", "gas", "--task", "mnist", "--seed", "1.5"], "--seed"),
    (["frobnicate"], "usage"),
    (["run_all", "--only", "table9", "--profile", "smoke"], "table9"),
])
def test_bad_flags_fail_with_a_message_naming_them(args, needle, tmp_path):
    code, out, err = cli(*(args + ["--results_dir", str(tmp_path)]), check=False)
    assert code != 0
    assert needle in out + err


def test_default_profile_follows_gpu_visibility(smoke_results):
    from building_blocks.common.tf_compat import gpu_visible
    results, _ = smoke_results
    _, out, _ = cli("tables", "--results_dir", results)
    expected = "paper" if gpu_visible() else "quick"
    assert out.startswith("profile: %s (default:" % expected)


def test_missing_data_and_missing_teacher_are_clear(tmp_path):
    code, _, err = cli("train_teacher", "--task", "mnist", "--profile", "smoke",
                       "--data_dir", str(tmp_path), "--results_dir", str(tmp_path), check=False)
    assert code == 2 and "missing dataset file" in err and str(tmp_path) in err
    code, _, err = cli("distill", "--method", "gas", "--task", "mnist", "--profile", "smoke",
                       "--results_dir", str(tmp_path), check=False)
    assert code == 2 and "missing checkpoint" in err and "train_teacher" in err


def test_killed_cell_resumes_from_its_partial_checkpoint(smoke_results, tmp_path):
    """SIGKILL a cell after its first mid-cell checkpoint; the rerun resumes and finishes."""
    from tests.conftest import kill_after_checkpoint_and_rerun
    results, _ = smoke_results
    teacher = os.path.join(results, "smoke", "teachers", "mnist.npz")
    out_dir = str(tmp_path / "killed")
    args = [sys.executable, "-m", "reproduce", "distill", "--method", "gas", "--task", "mnist",
            "--seed", "0", "--profile", "smoke", "--results_dir", out_dir,
            "--teacher_checkpoint", teacher, "--threads", "1"]
    env = dict(ENV, GAS_CHECKPOINT_EVERY_S="0")
    state = os.path.join(out_dir, "smoke", "partial", "mnist", "gas", "seed0", "state.json")
    result_file = os.path.join(out_dir, "smoke", "cells", "mnist", "gas", "seed0.json")
    record = kill_after_checkpoint_and_rerun(args, env, state, result_file, poll_s=0.2)
    assert record["resumed_from_step"] and record["student_steps"] == 30

"""Divergence is a status (issue 15): a NaN or infinite loss stops Algorithm 1's loop naming
the step and the term; every cell runner records the cell as diverged (no accuracy or
return) and clears its mid-cell checkpoint; tables, the archival check and the report never
average it into a result; run_all counts it as finished but diverged; the real command line
exits non-zero saying what to do."""
import csv
import hashlib
import json
import os
import subprocess
import sys

import pytest

from building_blocks.common import checkpoint
from building_blocks.image import runner
from building_blocks.rl import policy_runner
from building_blocks.image.data import resolve_data_dir
from building_blocks.common.divergence import STUDENT_TERM, Diverged, check_finite
from building_blocks.distill.loop import new_loop_state, train_rounds
from building_blocks.common.tf_compat import make_session, tf
from reproduce.core import cells, diverged, paper_reference
from reproduce.core.families import GridCell
from reproduce.fig2 import fig2
from reproduce.grid import grid
from reproduce.rl import distill_cell as rl_distill_cell
from reproduce.rl import tables as rl_tables
from reproduce.table1 import image_cells
from reproduce.table1 import tables as table1_tables
from reproduce.verdicts import check, report
from tests.conftest import REPO
from tests.test_algorithm import FakeDistiller, FakeSession, Recorder
from tests.test_distillers import gas_config

NAN, INF = float("nan"), float("inf")


# ------------------------------------------------------------------ the loop: train_rounds
class DivergingSession(FakeSession):
    """FakeSession whose ``term`` fetch is ``value`` from the ``at``-th run of ``label``'s op
    on (S: student update, G: generator update, J: joint update)."""

    def __init__(self, distiller, events, label, term, value, at):
        super(DivergingSession, self).__init__(distiller, events)
        self.label, self.term, self.value, self.at, self.runs = label, term, value, at, 0

    def run(self, fetches):
        values = super(DivergingSession, self).run(fetches)
        if isinstance(fetches, dict) and fetches["train"].label == self.label:
            self.runs += 1
            if self.runs >= self.at:
                values[self.term] = self.value
        return values


def run_until_diverged(label, term, value, at, joint=False, **fields):
    """Runs train_rounds on a DivergingSession; returns (the Diverged, events, state, sess)."""
    config = gas_config(**dict(dict(student_steps=10, student_steps_per_round=3,
                                    generator_steps_per_round=2, reinit_every=6,
                                    eval_every=4), **fields))
    events, distiller = [], FakeDistiller(joint)
    sess = DivergingSession(distiller, events, label, term, value, at)
    state = new_loop_state(config)

    def evaluate():
        events.append("E%d" % state["step"])
        return {"test_accuracy": 50.0}
    with pytest.raises(Diverged) as caught:
        train_rounds(sess, config, distiller, state, evaluate, Recorder(), Recorder(),
                     Recorder(events, "P"), 0.0)
    return caught.value, events, state, sess


def test_a_nan_student_loss_stops_the_loop_at_its_step():
    """Schedule "S S S G G P3 S E4 ...": the 5th student update's KL is NaN, so the loop stops
    right after it, before that step's evaluation or any later update or checkpoint."""
    error, events, state, _ = run_until_diverged("S", "student_loss", NAN, at=5)
    assert (error.step, error.term) == (5, STUDENT_TERM) and error.value != error.value
    assert " ".join(events) == "S S S G G P3 S E4 S"
    assert state["step"] == 5 and [h["step"] for h in state["history"]] == [4]
    assert "student step 5" in str(error) and "student KL" in str(error)


@pytest.mark.parametrize("value", [INF, -INF])
def test_an_infinite_generator_term_stops_the_loop_naming_the_term(value):
    """The 3rd generator update (the second round's first, after student step 6) returns an
    infinite one_hot loss: no further generator update, no checkpoint of that round."""
    error, events, state, _ = run_until_diverged("G", "one_hot", value, at=3)
    assert (error.step, error.term, error.value) == (6, "generator one_hot", value)
    assert " ".join(events) == "S S S G G P3 S E4 S S R G"
    assert state["generator_steps"] == 3


def test_joint_mode_checks_the_generator_terms_of_the_joint_update():
    error, events, _, _ = run_until_diverged(
        "J", "generator_objective", NAN, at=2, joint=True, method="dafl", n_generators=1,
        gamma=0.0, student_steps=5, student_steps_per_round=1, generator_steps_per_round=1,
        reinit_every=0, eval_every=2)
    assert (error.step, error.term) == (2, "generator generator_objective")
    assert " ".join(events) == "J P1 J"


def test_the_check_adds_no_session_run():
    """One session.run per update, as before: the check reads the fetched Python floats."""
    _, events, state, sess = run_until_diverged("S", "student_loss", NAN, at=5)
    assert sum(len(v) for v in sess.fetched_keys.values()) == (
        state["step"] + state["generator_steps"])
    assert events.count("R") == state["reinits"]


def test_check_finite_skips_fetches_without_a_value_and_passes_finite_ones():
    check_finite(3, {"train": None, STUDENT_TERM: 0.5, "generator one_hot": -2.0})
    with pytest.raises(Diverged, match="step 3: generator a is nan"):
        check_finite(3, {"generator a": NAN, "generator b": INF})
    assert Diverged(3, "x", NAN).fields() == {
        "status": "diverged", "diverged_at_step": 3, "diverged_term": "x",
        "diverged_value": "nan"}


# ------------------------------------------------------------------ the cell runners
TEACHER_BYTES = b"weights"


def _fake_teacher(path, architecture=None):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(TEACHER_BYTES)
    meta = {"sha256": hashlib.sha256(TEACHER_BYTES).hexdigest()}
    if architecture:
        meta["architecture"] = architecture
    with open(path + ".json", "w") as f:
        json.dump(meta, f)
    return path


def _diverging(partial_arg, written):
    """A stand-in for runner.distill / distill_policy: leaves a mid-cell checkpoint in the
    folder given as argument ``partial_arg`` (noted in ``written``), then diverges."""
    def distill(*args, **kwargs):
        del kwargs
        written.append(args[partial_arg])
        os.makedirs(args[partial_arg])
        with open(os.path.join(args[partial_arg], "state.json"), "w") as f:
            f.write("{}")
        raise Diverged(12, STUDENT_TERM, NAN)
    return distill


def _image_cell(monkeypatch, results, written):
    monkeypatch.setattr(runner, "distill", _diverging(7, written))
    monkeypatch.setattr(image_cells.image_tasks, "load_image_task", lambda *a: None)
    teacher = _fake_teacher(os.path.join(results, "t.npz"), "LeNet-5")
    image_cells.run_distill("gas", "mnist", "smoke", 1, results, overrides=["student_lr=nan"],
                            log=lambda _: None, teacher_checkpoint=teacher)


def _fig2_cell(monkeypatch, results, written):
    monkeypatch.setattr(runner, "distill", _diverging(7, written))
    monkeypatch.setattr(fig2, "load_task", lambda *a: None)
    _fake_teacher(image_cells.teacher_path(results, "smoke", "evenodd_k2"))
    fig2.run_distill("gas", 2, "smoke", 1, results, overrides=["student_lr=nan"],
                     log=lambda _: None)


def _policy_cell(monkeypatch, results, written):
    monkeypatch.setattr(policy_runner, "distill_policy", _diverging(6, written))
    teacher = _fake_teacher(os.path.join(results, "t.npz"))
    rl_distill_cell.run_rl_distill("gas", "cartpole", "smoke", 1, results,
                                   overrides=["student_lr=nan"], log=lambda _: None,
                                   teacher_checkpoint=teacher)


@pytest.mark.parametrize("run_cell,name", [
    (_image_cell, "mnist/gas/seed1"), (_fig2_cell, "evenodd_k2/gas/seed1"),
    (_policy_cell, "rl/cartpole/gas/seed1")], ids=["table1", "fig2", "policy"])
def test_each_cell_runner_records_a_diverged_cell_without_a_result(run_cell, name, monkeypatch,
                                                                   tmp_path):
    results, written = str(tmp_path), []
    with pytest.raises(diverged.CellDiverged) as caught:
        run_cell(monkeypatch, results, written)
    message = str(caught.value)
    assert caught.value.path == os.path.join(results, "smoke", "cells", name + ".json")
    with open(caught.value.path) as f:
        record = json.load(f)
    assert (record["status"], record["cell"]) == ("diverged", name)
    assert (record["diverged_at_step"], record["diverged_term"], record["diverged_value"]) == (
        12, STUDENT_TERM, "nan")
    assert record["overrides"] == ["student_lr=nan"]
    # The teacher's SHA-256, so that grid.is_stale still reruns it after a retrained teacher.
    assert record["teacher_checkpoint_sha256"] == hashlib.sha256(TEACHER_BYTES).hexdigest()
    for key in ("test_accuracy", "best_test_accuracy", "return_mean", "history"):
        assert key not in record
    assert message.startswith(name + " diverged at student step 12: student KL became nan")
    assert "--set student_lr" in message
    # The partial checkpoint is gone: a rerun starts afresh instead of replaying the NaN.
    assert written == [os.path.join(results, "smoke", "partial", name)]
    assert not os.path.exists(written[0])


def test_a_diverged_generator_term_points_at_the_generator_lr():
    error = diverged.CellDiverged("mnist/gas/seed0", Diverged(40, "generator one_hot", INF), "f")
    assert "--set generator_lr" in str(error) and "generator one_hot became inf" in str(error)


# ------------------------------------------------------------------ tables, check, report
def _rec(method, task, seed, value, status="ok", key="test_accuracy", kind="distill"):
    record = {"method": method, "task": task, "seed": seed, "kind": kind, "status": status}
    if status == "diverged":
        record.update(diverged_at_step=12, diverged_term=STUDENT_TERM)
    else:
        record[key] = value
    return record


def test_table1_leaves_a_diverged_seed_out_of_the_mean_and_names_it():
    records = [_rec("gas", "mnist", 0, 97.0), _rec("gas", "mnist", 1, None, "diverged"),
               _rec("gas", "mnist", 2, 99.0), _rec("dafl", "mnist", 0, None, "diverged")]
    rows = {(r["method"], r["task"]): r for r in table1_tables.table1_rows(
        records, "smoke", paper_reference.load_paper_reference(), notes={})}
    gas, dafl = rows[("gas", "mnist")], rows[("dafl", "mnist")]
    assert (gas["mean"], gas["std"], gas["n"]) == ("98.00", "1.414", "2")
    assert gas["note"] == "seed 1 diverged at step 12 (student KL)"
    assert (dafl["mean"], dafl["n"], dafl["note"]) == (
        "", "0", "seed 0 diverged at step 12 (student KL)")
    assert rows[("noise_kd", "mnist")]["note"] == "not run"


def test_fig2_and_policy_tables_leave_diverged_seeds_out(tmp_path):
    records = [_rec("gas", "evenodd_k2", 0, 90.0), _rec("gas", "evenodd_k2", 1, 94.0),
               _rec("gas", "evenodd_k2", 2, None, "diverged")]
    row = [r for r in fig2.fig2_rows(records, "smoke", kmnist_present=False)
           if (r["method"], r["k"]) == ("gas", "2")][0]
    assert (row["mean"], row["n"], row["note"]) == (
        "92.00", "2", "seed 2 diverged at step 12 (student KL)")
    records = [dict(_rec("gas", "cartpole", s, v, key="return_mean", kind="rl_distill"),
                    eval_episodes=5) for s, v in ((0, 100.0), (2, 200.0))]
    records.append(_rec("gas", "cartpole", 1, None, "diverged", kind="rl_distill"))
    row = [r for r in rl_tables.rl_rows("table6", str(tmp_path), "smoke", records,
                                        paper_reference.load_paper_reference())
           if (r["method"], r["task"]) == ("gas", "cartpole")][0]
    assert (row["mean"], row["n"]) == ("150.00", "2")
    assert row["note"].endswith("; seed 1 diverged at step 12 (student KL)")


def test_check_and_report_never_take_a_diverged_cell_for_a_result(tmp_path):
    with open(str(tmp_path / "table1.csv"), "w") as f:
        f.write("method,task,mean,std,n,paper_mean,paper_std,profile,note\n"
                "gas,mnist,98.80,0.100,2,98.79,0.075,smoke,"
                "seed 1 diverged at step 12 (student KL)\n"
                "dafl,mnist,,,0,98.20,,smoke,seed 0 diverged at step 3 (student KL)\n"
                "noise_kd,mnist,,,0,87.58,,smoke,not run\n")
    lines = []
    rows = check.run_check(str(tmp_path), log=lines.append)
    assert [r["verdict"] for r in rows] == ["within 1σ", "diverged", "not run"]
    assert lines[0].endswith("1 not run, 0 no paper value, 1 diverged")
    with open(str(tmp_path / "archival_check.csv")) as f:
        assert [r["note"] for r in csv.DictReader(f)][1].startswith("seed 0 diverged")
    # (an empty reference folder: this checks the report's own cells, not the shipped numbers)
    text = open(report.write_report(str(tmp_path), log=lambda _: None,
                                    reference_dir=str(tmp_path / "no_reference"))).read()
    assert "98.80 ± 0.100 (n=2, 1 diverged) · paper" in text
    assert "| dafl | diverged · reference – (*not run*) |" in text


# ------------------------------------------------------------------ run_all
def test_run_all_counts_a_diverged_cell_as_finished_not_failed(tmp_path):
    """A cell that exits with the diverged code and a diverged JSON is not a failure and is
    not rerun; one that exits with that code without its JSON is a failure."""
    cells_ = [GridCell("t/s%d" % i, ["s", str(i)], str(tmp_path / ("s%d.json" % i)), 1.0, None)
              for i in range(2)]

    def execute(command, log_file, env, cell=None):
        del env, cell
        with open(log_file, "w") as f:
            f.write("error: t/s diverged at student step 2\n")
        if command[command.index("-m") + 3] == "0":
            with open(cells_[0].result_path, "w") as f:
                json.dump({"status": "diverged"}, f)
        return diverged.EXIT_CODE
    flags = {"profile": "smoke", "results_dir": str(tmp_path), "threads": 1}
    logs = []
    failed = grid.execute_cells([], cells_, flags, 1, logs.append, execute)
    assert failed == ["t/s1"]
    assert any("t/s0 DIVERGED" in line for line in logs)
    assert any("t/s0 diverged (exit 3): error: t/s diverged" in line for line in logs)
    assert not grid.needs_run(cells_[0])


# ------------------------------------------------------------------ the real command line
HAS_MNIST = os.path.isdir(os.path.join(resolve_data_dir(), "mnist"))


def save_random_teacher(path):
    """A randomly initialised LeNet-5 teacher (a stand-in: what it knows does not matter)."""
    graph = tf.Graph()
    with graph.as_default():
        tf.set_random_seed(0)
        teacher = runner.make_classifier("teacher", 10, task="mnist")
        init = tf.global_variables_initializer()
    with make_session(graph, 1) as sess:
        sess.run(init)
        checkpoint.save_network(sess, teacher, path, {
            "task": "mnist", "architecture": runner.architecture_name("mnist", "teacher")})


@pytest.mark.skipif(not HAS_MNIST and not os.environ.get("CI"), reason="no MNIST data")
def test_smoke_cell_with_a_nan_learning_rate_ends_diverged(tmp_path):
    """`distill --set student_lr=nan`: the first update turns the student's weights to NaN,
    so the second update's KL is NaN; the cell ends "diverged" at step 2 with exit 3, and
    `tables` names it in the row's note instead of averaging it."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONHASHSEED="0", MPLBACKEND="Agg",
               GAS_CHECKPOINT_EVERY_S="0")
    results = str(tmp_path)

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "reproduce"] + list(args) + [
            "--profile", "smoke", "--results_dir", results, "--threads", "2"], cwd=REPO,
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    save_random_teacher(image_cells.teacher_path(results, "smoke", "mnist"))
    done = cli("distill", "--method", "noise_kd", "--task", "mnist", "--seed", "1",
               "--set", "student_lr=nan")
    err = done.stderr.decode().strip().splitlines()
    assert done.returncode == diverged.EXIT_CODE, err[-20:]
    assert err[-1].startswith("error: mnist/noise_kd/seed1 diverged at student step 2: "
                              "student KL became nan"), err[-1]
    assert "--set student_lr" in err[-1]
    with open(cells.result_path(results, "smoke",
                                image_cells.distill_cell("mnist", "noise_kd", 1))) as f:
        record = json.load(f)
    assert (record["status"], record["diverged_at_step"], record["diverged_term"]) == (
        "diverged", 2, "student KL")
    assert "test_accuracy" not in record
    partial = os.path.join(results, "smoke", "partial", "mnist", "noise_kd")
    assert os.path.isdir(partial) and not os.listdir(partial)  # written at step 1, then cleared
    teacher = image_cells.teacher_path(results, "smoke", "mnist")
    assert checkpoint.read_metadata(teacher)["sha256"] == record["teacher_checkpoint_sha256"]
    done = cli("tables", "--only", "table1")
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    with open(os.path.join(results, "table1.csv")) as f:
        row = [r for r in csv.DictReader(f) if (r["method"], r["task"]) == ("noise_kd", "mnist")]
    assert (row[0]["mean"], row[0]["n"], row[0]["note"]) == (
        "", "0", "seed 1 diverged at step 2 (student KL)")

"""The real command line for policy distillation, smoke profile: a randomly initialised
CartPole teacher (its own evaluation measured here, in the real env), then
`run_all --only table6` → table6.csv, Figure 3, cell JSONs; the same for Table 7 on Pong
(Impala teacher, ImpalaHalf students, DCGAN frames, Figure 4); bad input."""
import csv
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from building_blocks.common import checkpoint
from building_blocks.distill import action_distributions
from building_blocks.rl import envs, policies
from building_blocks.rl.policy_runner import Actor, evaluate
from building_blocks.common.tf_compat import make_session, tf
from reproduce.rl import distill_cell as rl_distill_cell
from tests.conftest import REPO

ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONHASHSEED="0")


def cli(*args):
    result = subprocess.run([sys.executable, "-m", "reproduce"] + list(args), cwd=REPO,
                            env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return result.returncode, result.stdout.decode(), result.stderr.decode()


def save_random_teacher(results, task, episodes=3, deterministic=True):
    """A randomly initialised teacher (test stand-in for a PPO teacher), evaluated for real."""
    spec = envs.env_spec(task)
    graph = tf.Graph()
    with graph.as_default():
        tf.set_random_seed(0)
        net = policies.make_policy(task, "teacher")
        actor = Actor(net, action_distributions.family_for(spec.action_kind), spec,
                      deterministic)
        init = tf.global_variables_initializer()
    with make_session(graph, 1) as sess:
        sess.run(init)
        returns, _ = evaluate(sess, actor, task, episodes, seed=7)
        checkpoint.save_network(sess, net, rl_distill_cell.rl_teacher_path(results, "smoke", task),
                                {"env": task, "eval_returns": returns,
                                 "eval_return_mean": float(np.mean(returns)),
                                 "note": "random initialisation (test)"})
    return returns


@pytest.fixture(scope="module")
def rl_smoke(tmp_path_factory):
    results = str(tmp_path_factory.mktemp("rl_results"))
    teacher_returns = save_random_teacher(results, "cartpole")
    code, out, err = cli("run_all", "--only", "table6", "--profile", "smoke", "--seeds", "0",
                         "--jobs", "2", "--results_dir", results)
    assert code == 0, out[-3000:] + err[-3000:]
    return results, teacher_returns


def test_table6_smoke_writes_valid_csv_figure_and_cells(rl_smoke):
    results, teacher_returns = rl_smoke
    with open(os.path.join(results, "table6.csv")) as f:
        rows = list(csv.DictReader(f))
    assert [r["task"] for r in rows[::4]] == ["humanoid", "humanoid_standup", "halfcheetah",
                                              "mountaincar", "cartpole"]
    assert all(r["method"] == m for r, m in zip(rows, ["teacher", "student_kd", "dafl", "gas"] * 5))
    by_key = {(r["method"], r["task"]): r for r in rows}
    assert by_key[("gas", "humanoid")]["note"].startswith("not run: no teacher")
    assert by_key[("gas", "humanoid")]["paper_mean"] == "5833.00"
    assert float(by_key[("teacher", "cartpole")]["mean"]) == pytest.approx(
        np.mean(teacher_returns), abs=0.01)
    for method in ("student_kd", "dafl", "gas"):
        row = by_key[(method, "cartpole")]
        assert row["n"] == "1" and 8 <= float(row["mean"]) <= 200  # CartPole-v0 returns
        path = rl_distill_cell.rl_result_path(results, "smoke", "cartpole", method, 0)
        with open(path) as f:
            record = json.load(f)
        assert record["kind"] == "rl_distill" and len(record["episodes"]) == 2
        assert record["return_mean"] == pytest.approx(np.mean(record["episodes"]))
        for field in ("command", "config", "git_sha", "packages", "wall_s"):
            assert field in record
        assert record["config"]["method"] == method
    gas = json.load(open(rl_distill_cell.rl_result_path(results, "smoke", "cartpole", "gas", 0)))
    assert gas["generator_steps"] > 0 and gas["reinits"] > 0
    assert os.path.getsize(os.path.join(results, "figures", "fig3_relative_scores.png")) > 1000
    assert os.path.exists(os.path.join(results, "manifest_table6.json"))


def test_table7_smoke_runs_pong_end_to_end_with_figure4(tmp_path):
    """Table 7's pipeline on one game (the others differ only in their action count and ROM):
    a random Impala teacher; Student KD, DAFL and GAS cells through run_all; table7.csv with
    the paper beside ours; Figure 4 from the GAS cell's frames."""
    results = str(tmp_path)
    teacher_returns = save_random_teacher(results, "pong", episodes=1, deterministic=False)
    code, out, err = cli("run_all", "--only", "table7", "--profile", "smoke", "--seeds", "0",
                         "--cells", "rl/pong/*", "--jobs", "2", "--results_dir", results)
    assert code == 0, out[-3000:] + err[-3000:]
    with open(os.path.join(results, "table7.csv")) as f:
        rows = list(csv.DictReader(f))
    assert [r["task"] for r in rows[::4]] == ["pong", "breakout", "seaquest", "enduro",
                                              "pong_lowdim"]
    by_key = {(r["method"], r["task"]): r for r in rows}
    assert float(by_key[("teacher", "pong")]["mean"]) == pytest.approx(teacher_returns[0])
    assert by_key[("gas", "pong")]["paper_mean"] != ""
    for method in ("student_kd", "dafl", "gas"):
        row = by_key[(method, "pong")]
        assert row["n"] == "1" and -21 <= float(row["mean"]) <= 21, row   # Pong scores
        assert by_key[(method, "breakout")]["mean"] == ""                 # not asked for
    gas = json.load(open(rl_distill_cell.rl_result_path(results, "smoke", "pong", "gas", 0)))
    assert gas["generator_steps"] > 0 and gas["config"]["n_generators"] == 8
    assert os.path.getsize(os.path.join(results, "figures", "fig4_samples_pong.png")) > 1000
    assert os.path.exists(os.path.join(results, "manifest_table7.json"))


def test_distill_without_teacher_names_the_file_and_the_fix(tmp_path):
    code, _, err = cli("distill", "--env", "halfcheetah", "--method", "gas", "--profile",
                       "smoke", "--results_dir", str(tmp_path))
    assert code == 2
    assert "halfcheetah.npz" in err and "train_teacher --env halfcheetah" in err


def test_unknown_env_is_a_config_error(tmp_path):
    code, _, err = cli("distill", "--env", "doom", "--method", "gas", "--profile", "smoke",
                       "--results_dir", str(tmp_path))
    assert code == 2 and "doom" in err and "cartpole" in err


def test_policy_cell_killed_mid_run_resumes_from_its_checkpoint(rl_smoke, tmp_path):
    """SIGKILL a policy cell after its first mid-cell checkpoint; the rerun of the same command
    resumes there (not from step 0) and finishes (README: quick Table 7 cells take ~1 h)."""
    from tests.conftest import kill_after_checkpoint_and_rerun
    results, _ = rl_smoke
    teacher = rl_distill_cell.rl_teacher_path(results, "smoke", "cartpole")
    out_dir = str(tmp_path / "killed")
    args = [sys.executable, "-m", "reproduce", "distill", "--env", "cartpole", "--method", "gas",
            "--seed", "0", "--profile", "smoke", "--results_dir", out_dir,
            "--teacher_checkpoint", teacher, "--threads", "1"]
    state = os.path.join(out_dir, "smoke", "partial", "rl", "cartpole", "gas", "seed0",
                         "state.json")
    result_file = rl_distill_cell.rl_result_path(out_dir, "smoke", "cartpole", "gas", 0)
    record = kill_after_checkpoint_and_rerun(args, dict(ENV, GAS_CHECKPOINT_EVERY_S="0"),
                                             state, result_file)
    assert record["resumed_from_step"] and record["student_steps"] == 20

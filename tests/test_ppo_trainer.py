"""PPO teacher pipeline: the version-lag rule, actors, a smoke run that learns CartPole, and
the CLI's artefacts, resume and errors."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from building_blocks.common import checkpoint
from building_blocks.rl import actors, policies
from building_blocks.common.config import apply_overrides
from building_blocks.rl.teacher_runner import train_ppo_teacher
from building_blocks.rl.rollout_buffer import RolloutBuffer, is_stale
from building_blocks.common.tf_compat import tf
from reproduce.rl import teacher_configs
from building_blocks.rl import envs as ENVS

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV_MODULE = "building_blocks.rl.envs"


def fake_rollout(version, steps=4, envs=2, worker=0):
    rng = np.random.RandomState(version)
    return actors.Rollout(worker, version, rng.randn(steps, envs, 3), np.zeros((steps, envs), int),
                          rng.randn(steps, envs), rng.randn(steps, envs), rng.randn(steps, envs),
                          np.zeros((steps, envs), bool), rng.randn(envs), [], [])


def test_version_lag_rule_drops_rollouts_more_than_four_versions_old():
    assert not is_stale(6, 10, 4) and not is_stale(10, 10, 4)
    assert is_stale(5, 10, 4)
    buffer = RolloutBuffer(0.99, 0.95, max_version_lag=4)
    assert buffer.add(fake_rollout(6), current_version=10)
    assert not buffer.add(fake_rollout(5), current_version=10)
    assert buffer.add(fake_rollout(9), current_version=10)
    assert (buffer.accepted_rollouts, buffer.dropped_rollouts, buffer.size) == (2, 1, 16)
    # Held data that became stale while waiting is dropped too.
    buffer.drop_stale(current_version=11)
    assert (buffer.dropped_rollouts, buffer.dropped_transitions, buffer.size) == (2, 16, 8)


def test_buffer_hands_out_oldest_transitions_and_keeps_the_rest():
    buffer = RolloutBuffer(0.99, 0.95, max_version_lag=4)
    first, second = fake_rollout(1), fake_rollout(2)
    buffer.add(first, 2)
    buffer.add(second, 2)
    assert buffer.take(17) is None
    batch = buffer.take(10)
    assert batch.obs.shape == (10, 3) and buffer.size == 6
    np.testing.assert_array_equal(batch.obs[:8], first.obs.reshape(8, 3))
    np.testing.assert_array_equal(batch.obs[8:], second.obs.reshape(8, 3)[:2])
    np.testing.assert_array_equal(buffer.take(6).obs, second.obs.reshape(8, 3)[2:])


def test_inline_actors_send_version_tagged_rollouts_of_32_steps():
    spec = ENVS.env_spec("mountaincar")
    params = _initial_params("mountaincar", spec)
    setups = actors.worker_setups(ENV_MODULE, "mountaincar", spec, 5, 2, seed=3,
                                  rollout_length=32)
    assert [s.num_envs for s in setups] == [3, 2]
    backend = actors.InlineActors(setups)
    backend.start(params, 7)
    rollouts = backend.get_rollouts()
    backend.stop()
    assert [r.version for r in rollouts] == [7, 7]
    first = rollouts[0]
    assert first.obs.shape == (32, 3, 2) and first.actions.shape == (32, 3, 1)
    assert first.log_probs.shape == first.rewards.shape == first.dones.shape == (32, 3)
    assert first.last_values.shape == (3,)


def test_process_actors_follow_broadcasts_and_report_worker_errors():
    spec = ENVS.env_spec("cartpole")
    params = _initial_params("cartpole", spec)
    backend = actors.ProcessActors(actors.worker_setups(ENV_MODULE, "cartpole", spec, 4, 2, 0, 8))
    backend.start(params, 0)
    try:
        versions = set()
        for _ in range(200):
            for rollout in backend.get_rollouts(timeout_s=5.0):
                versions.add(rollout.version)
            if versions == {0}:
                backend.broadcast(params, 1)
            if 1 in versions:
                break
        assert 1 in versions
    finally:
        backend.stop()
    broken = actors.worker_setups(ENV_MODULE, "no_such_task", spec, 2, 1, 0, 8)
    backend = actors.ProcessActors(broken)
    backend.start(params, 0)
    try:
        with pytest.raises(actors.ActorError, match="no_such_task"):
            for _ in range(60):
                backend.get_rollouts(timeout_s=1.0)
    finally:
        backend.stop()


def _initial_params(task, spec):
    graph = tf.Graph()
    with graph.as_default():
        net = policies.make_policy(task, "teacher", spec=spec)
        with tf.Session(graph=graph) as sess:
            sess.run(tf.global_variables_initializer())
            return policies.network_params(sess, net)


def _random_policy_return(task, episodes, seed):
    spec = ENVS.env_spec(task)
    rng = np.random.RandomState(seed)
    returns = []
    for i in range(episodes):
        env = ENVS.make_env(task, seed + i)
        env.reset()
        done, info = False, {}
        while not done:
            _, _, done, info = env.step(int(rng.randint(spec.action_dim)))
        returns.append(info["episode"]["r"])
    return float(np.mean(returns))


def test_smoke_ppo_improves_cartpole_over_a_random_policy(tmp_path):
    config = apply_overrides(teacher_configs.ppo_config("cartpole", "smoke", seed=1), [
        "actor_backend=inline", "total_transitions=8192", "eval_episodes=5",
        "final_eval_episodes=10"])
    spec = ENVS.env_spec("cartpole")
    out = str(tmp_path / "cartpole.npz")
    result = train_ppo_teacher(config, spec, ENV_MODULE, out, out + ".csv", out + ".png",
                               threads=1, log=lambda m: None)
    random_return = _random_policy_return("cartpole", 20, seed=123)
    assert random_return < 40  # CartPole-v0 with uniform actions lasts ~22 steps
    assert result["eval_return_mean"] > random_return + 50, (result, random_return)
    # The saved teacher holds the observation statistics it was trained with.
    graph = tf.Graph()
    with graph.as_default():
        net = policies.make_policy("cartpole", "teacher", spec=spec)
        with tf.Session(graph=graph) as sess:
            sess.run(tf.global_variables_initializer())
            meta = checkpoint.load_network(sess, net, out)
            count = sess.run(net.obs_rms.count)
    assert count == result["updates"] * config.buffer_size  # every trained-on observation
    assert meta["eval_return_mean"] == result["eval_return_mean"]
    assert meta["architecture"] == "MLP[512]"


def _cli(tmp_path, *args):
    env = dict(os.environ, PYTHONPATH=REPO)
    return subprocess.run([sys.executable, "-m", "reproduce", "train_teacher", "--profile",
                           "smoke", "--results_dir", str(tmp_path)] + list(args), cwd=REPO,
                          env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          timeout=300).stdout.decode()


def test_cli_trains_writes_artefacts_and_skips_a_finished_teacher(tmp_path):
    output = _cli(tmp_path, "--env", "cartpole", "--seed", "0")
    teacher = tmp_path / "smoke" / "teachers" / "rl" / "cartpole.npz"
    record_path = tmp_path / "smoke" / "cells" / "rl" / "cartpole" / "teacher.json"
    assert teacher.exists() and record_path.exists(), output
    for suffix in (".curve.csv", ".curve.png"):
        assert (tmp_path / "smoke" / "teachers" / "rl" / ("cartpole" + suffix)).exists()
    record = json.loads(record_path.read_text())
    meta = checkpoint.read_metadata(str(teacher))
    for key in ("task", "eval_return_mean", "eval_return_std", "eval_episodes", "transitions",
                "updates", "architecture", "version_lag_dropped_rollouts", "wall_s"):
        assert key in meta, key
    assert record["config"]["clip"] == 0.2 and record["git_sha"]
    assert record["sittings"][0]["learner_omp_threads"] == record["learner_omp_threads"]
    assert record["sittings"][0]["cpu_model"]
    # Its 2 actor processes act beside the learner: the learner gets the cores left over.
    assert record["learner_omp_threads"] == str(teacher_configs.learner_omp_threads(
        "cartpole", "smoke", (), os.cpu_count() or 1))
    assert record["eval_return_mean"] == meta["eval_return_mean"]
    lines = (tmp_path / "smoke" / "teachers" / "rl" / "cartpole.curve.csv").read_text().split()
    assert lines[0].startswith("update,transitions,wall_s") and len(lines) >= 2
    again = _cli(tmp_path, "--env", "cartpole", "--seed", "0")
    assert "already trained" in again, again


def test_learner_openmp_threads_leave_a_core_to_each_actor_process():
    assert teacher_configs.learner_omp_threads("pong", "smoke", (), 2) == 1
    assert teacher_configs.learner_omp_threads("pong", "smoke", (), 16) == 14
    assert teacher_configs.learner_omp_threads("pong", "smoke", ["num_workers=4"], 16) == 12
    assert teacher_configs.learner_omp_threads("pong", "smoke", ["actor_backend=inline"],
                                               16) is None
    assert teacher_configs.learner_omp_threads("tetris", "smoke", (), 16) is None
    # Vector tasks leave the actors their cores under every profile.
    assert teacher_configs.learner_omp_threads("halfcheetah", "quick", (), 2) == 1


def test_learner_bound_ale_teachers_get_every_core_outside_smoke():
    # The quick/paper ALE learner is the bottleneck; its actors mostly wait for it.
    assert teacher_configs.learner_omp_threads("breakout", "quick", (), 2) == 2
    assert teacher_configs.learner_omp_threads("pong", "paper", (), 16) == 16
    assert teacher_configs.learner_omp_threads("breakout", "smoke", (), 2) == 1
    assert teacher_configs.learner_omp_threads("pong_lowdim", "quick", (), 2) == 1
    assert set(teacher_configs.LEARNER_BOUND_TASKS) <= set(teacher_configs.ALE_TASKS)


def test_cli_rejects_an_unknown_environment(tmp_path):
    env = dict(os.environ, PYTHONPATH=REPO)
    proc = subprocess.run([sys.executable, "-m", "reproduce", "train_teacher", "--profile",
                           "smoke", "--env", "tetris", "--results_dir", str(tmp_path)],
                          cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=120)
    assert proc.returncode == 2
    assert "tetris" in proc.stderr.decode()


def _resume_state(path):
    with np.load(str(path)) as data:
        return json.loads(str(data["state_json"]))


def test_kill_9_mid_teacher_then_rerun_resumes_from_the_last_checkpoint(tmp_path):
    """A smoke teacher killed with -9 (actors included) resumes from its resume file: the
    second sitting starts where the file left off, and the finished record lists both."""
    import signal  # pylint: disable=g-import-not-at-top
    import time  # pylint: disable=g-import-not-at-top
    settings = ["--set", "total_transitions=20480", "--set", "checkpoint_every_s=0",
                "--set", "stop_return=1000000"]
    args = [sys.executable, "-m", "reproduce", "train_teacher", "--profile", "smoke",
            "--results_dir", str(tmp_path), "--env", "cartpole", "--seed", "0"]
    env = dict(os.environ, PYTHONPATH=REPO)
    resume = tmp_path / "smoke" / "teachers" / "rl" / "cartpole.npz.resume.npz"
    proc = subprocess.Popen(args + settings, cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.time() + 240
        while time.time() < deadline and proc.poll() is None:
            if resume.exists() and _resume_state(resume)["version"] >= 4:
                break
            time.sleep(0.2)
        assert proc.poll() is None, "the teacher finished before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        # Its actor processes notice the learner is gone and exit on their own.
        for _ in range(100):
            try:
                os.killpg(proc.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.2)
        else:
            pytest.fail("actor processes outlived the killed learner")
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    saved = _resume_state(resume)
    assert not (tmp_path / "smoke" / "teachers" / "rl" / "cartpole.npz").exists()
    # Other settings than the resume file's: refused, naming the file and the setting.
    other = subprocess.run(args + settings + ["--set", "learning_rate=0.5"], cwd=REPO, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)
    assert other.returncode == 2
    assert b"cartpole.npz.resume.npz" in other.stdout and b"learning_rate" in other.stdout
    again = subprocess.run(args + settings, cwd=REPO, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=300).stdout.decode()
    assert "resumed at update %d" % saved["version"] in again, again
    record = json.loads((tmp_path / "smoke" / "cells" / "rl" / "cartpole" /
                         "teacher.json").read_text())
    first, second = record["sittings"]
    assert second["transitions_from"] == saved["transitions"] == first["transitions_to"]
    assert second["updates_from"] == saved["version"]
    assert record["transitions"] >= 20480 and record["updates"] > saved["version"]
    assert record["wall_s"] == pytest.approx(first["wall_s"] + second["wall_s"])
    assert first["git_sha"] and second["command"].startswith("python")
    assert not resume.exists()

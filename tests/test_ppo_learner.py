"""The PPO learner's update (Table 4's 10 gradient steps read as epochs, target-KL stop,
learning-rate anneal), reward scaling by the return's std, and the per-task initial log σ."""
import math

import numpy as np
import pytest

from building_blocks.rl import actors, policies, ppo
from building_blocks.rl import envs as ENVS
from building_blocks.rl.ppo_learner import PPOLearner, minibatches
from building_blocks.rl.reward_normalizer import ReturnNormalizer
from building_blocks.rl.teacher_runner import learning_rate_at
from building_blocks.rl.rollout_buffer import Batch, RolloutBuffer
from building_blocks.common.tf_compat import tf
from reproduce.rl import teacher_configs


def test_epochs_reading_visits_every_transition_once_per_epoch():
    rng = np.random.RandomState(0)
    batches = list(minibatches(8192, 1024, 10, "epochs", rng))
    assert len(batches) == 80  # Table 4's 10 epochs × Table 5's 8192 / 1024
    for epoch in range(10):
        seen = np.concatenate(batches[epoch * 8:(epoch + 1) * 8])
        assert sorted(seen) == list(range(8192))


def test_minibatches_reading_takes_ten_steps_and_refills_the_permutation():
    batches = list(minibatches(100, 30, 10, "minibatches", np.random.RandomState(0)))
    assert len(batches) == 10 and all(len(b) == 30 for b in batches)
    assert len(set(np.concatenate(batches[:3]))) == 90  # one permutation, no repeats


def test_learning_rate_falls_linearly_to_zero_over_the_budget():
    config = teacher_configs.ppo_config("halfcheetah", "quick")
    assert learning_rate_at(config, 0) == config.learning_rate
    assert learning_rate_at(config, config.total_transitions // 4) == pytest.approx(
        0.75 * config.learning_rate)
    assert learning_rate_at(config, config.total_transitions + 5) == 0.0
    flat = teacher_configs.apply_overrides(config, ["anneal_lr=false"])
    assert learning_rate_at(flat, config.total_transitions // 2) == config.learning_rate


def _learner_and_batch(overrides, old_log_prob_shift=0.0):
    config = teacher_configs.apply_overrides(teacher_configs.ppo_config("halfcheetah", "smoke"),
                                        overrides)
    spec = ENVS.env_spec("halfcheetah")
    rng = np.random.RandomState(1)
    n = config.buffer_size
    obs = rng.randn(n, *spec.obs_shape).astype(np.float32)
    actions = rng.randn(n, spec.action_dim).astype(np.float32) * 0.1
    graph = tf.Graph()
    with graph.as_default():
        tf.set_random_seed(0)
        policy = policies.make_policy("halfcheetah", "teacher", spec=spec)
        learner = PPOLearner(config, policy, spec)
        output = policy(policy.normalize(tf.constant(obs)))
        log_prob_op = ppo.gaussian_log_prob(output.mean, output.log_std, tf.constant(actions))
        sess = tf.Session(graph=graph)
        sess.run(tf.global_variables_initializer())
        log_prob = sess.run(log_prob_op)
    batch = Batch(obs, actions, log_prob + old_log_prob_shift, rng.randn(n).astype(np.float32),
                  rng.randn(n).astype(np.float32), np.zeros(n, np.float32))
    return config, sess, learner, policy, batch


def test_update_takes_every_scheduled_step_without_a_kl_stop():
    config, sess, learner, _, batch = _learner_and_batch(["target_kl=0"])
    stats = learner.update(sess, batch, np.random.RandomState(0))
    assert stats.gradient_steps == 2 * (1024 // 256)  # smoke: 2 epochs of 4 minibatches


def test_update_stops_once_the_approximate_kl_passes_the_target():
    # Old log-probs 1 nat above the current ones: the first minibatch's KL is already ~1.
    config, sess, learner, _, batch = _learner_and_batch(["target_kl=0.03"], 1.0)
    stats = learner.update(sess, batch, np.random.RandomState(0))
    assert stats.gradient_steps == 1 and stats.approx_kl == pytest.approx(1.0, abs=1e-3)


def test_update_at_learning_rate_zero_leaves_the_policy_unchanged():
    config, sess, learner, policy, batch = _learner_and_batch(["target_kl=0"])
    before = policies.network_params(sess, policy)
    stats = learner.update(sess, batch, np.random.RandomState(0), learning_rate=0.0)
    after = policies.network_params(sess, policy)
    assert stats.learning_rate == 0.0
    for key in before:
        np.testing.assert_array_equal(before[key], after[key])
    learner.update(sess, batch, np.random.RandomState(0), learning_rate=1e-3)
    moved = policies.network_params(sess, policy)
    assert any(not np.array_equal(before[k], moved[k]) for k in before)


def test_rewards_are_divided_by_the_std_of_the_discounted_return():
    gamma = 0.9
    rewards = np.array([[1.0, 2.0], [1.0, 0.0], [3.0, 1.0]])
    dones = np.array([[False, True], [False, False], [True, False]])
    normalizer = ReturnNormalizer(gamma, clip=100.0)
    scaled = normalizer(0, rewards, dones)
    # R_t = γ R_{t-1} + r_t, reset after an episode's end, per env.
    returns = np.array([[1.0, 2.0], [1.9, 0.0], [4.71, 1.0]])
    np.testing.assert_allclose(scaled, rewards / np.sqrt(returns.var() + 1e-8), rtol=1e-5)
    # Statistics merge across rollouts as if computed at once; env 0's episode restarts at 0.
    more = np.array([[2.0, 1.0]])
    normalizer(0, more, np.zeros((1, 2), bool))
    everything = np.concatenate([returns.ravel(), [2.0, 0.9 * 1.0 + 1.0]])
    assert normalizer.std == pytest.approx(np.sqrt(everything.var() + 1e-8))
    clipped = ReturnNormalizer(gamma, clip=0.5)(1, rewards, dones)
    assert clipped.max() == pytest.approx(0.5)


def test_normalizer_state_round_trips_and_env_returns_restart():
    normalizer = ReturnNormalizer(0.99)
    normalizer(3, np.ones((4, 2)), np.zeros((4, 2), bool))
    restored = ReturnNormalizer(0.99)
    restored.load(normalizer.state())
    assert (restored.count, restored.mean, restored.var) == (
        normalizer.count, normalizer.mean, normalizer.var)
    assert restored.returns == {}
    restored.load(normalizer.state(), keep_env_returns=True)
    np.testing.assert_array_equal(restored.returns[3], normalizer.returns[3])


def test_buffer_scales_rewards_before_the_version_lag_rule():
    calls = []

    def scale(worker, rewards, dones):
        calls.append(worker)
        return rewards * 0.0

    buffer = RolloutBuffer(0.99, 0.95, 4, reward_scale=scale)
    rng = np.random.RandomState(0)
    rollout = actors.Rollout(7, 0, rng.randn(3, 2, 3), np.zeros((3, 2), int),
                             rng.randn(3, 2), np.zeros((3, 2)), rng.randn(3, 2) + 5,
                             np.zeros((3, 2), bool), np.zeros(2), [], [])
    assert not buffer.add(rollout, current_version=10)  # stale, but its returns were seen
    assert buffer.add(rollout, current_version=0)
    assert calls == [7, 7]
    batch = buffer.take(6)
    np.testing.assert_allclose(batch.returns, 0.0)  # zero rewards, zero values: zero targets


@pytest.mark.parametrize("task,sigma", [("humanoid", 0.2), ("humanoid_standup", 0.2),
                                        ("halfcheetah", math.exp(-1.0)), ("mountaincar", 1.0)])
def test_teacher_log_std_starts_at_the_tasks_initial_value(task, sigma):
    config = teacher_configs.ppo_config(task, "quick")
    spec = ENVS.env_spec(task)
    graph = tf.Graph()
    with graph.as_default():
        policy = policies.make_policy(task, "teacher", spec=spec,
                                      initial_log_std=config.initial_log_std)
        with tf.Session(graph=graph) as sess:
            sess.run(tf.global_variables_initializer())
            log_std = sess.run(policy.log_std)
    np.testing.assert_allclose(np.exp(log_std), sigma, rtol=1e-6)
    assert 2 * sigma <= spec.action_high.max() + 1e-9 or math.isclose(sigma, 1.0)
    assert math.isclose(config.initial_log_std, math.log(sigma), abs_tol=1e-12)


def test_mountaincar_keeps_the_literal_learner_and_the_mujoco_tasks_the_epoch_reading():
    literal = teacher_configs.ppo_config("mountaincar", "quick")
    assert (literal.gradient_steps_unit, literal.normalize_reward, literal.anneal_lr,
            literal.target_kl) == ("minibatches", False, False, 0.0)
    for task in ("halfcheetah", "humanoid", "humanoid_standup", "cartpole"):
        config = teacher_configs.ppo_config(task, "quick")
        assert config.gradient_steps_unit == "epochs" and config.normalize_reward

"""PPO and GAE math against numpy written like the equations (Schulman et al. 2015, 2017)."""
import math

import numpy as np
import pytest

from building_blocks.rl import ppo
from building_blocks.common.tf_compat import tf

# Framework-level: also runs in the TF 2.x compat.v1 lane (./run_tests.sh).
pytestmark = pytest.mark.tf2


def gae_like_the_paper(rewards, values, dones, last_values, gamma, lam):
    """A_t = Σ_{k≥0} (γλ)^k δ_{t+k}, the sum stopping after the step that ends an episode."""
    steps, envs = rewards.shape
    values_next = np.vstack([values[1:], last_values[None]])
    delta = rewards + gamma * values_next * (1 - dones) - values
    adv = np.zeros((steps, envs))
    for n in range(envs):
        for t in range(steps):
            total, weight = 0.0, 1.0
            for k in range(t, steps):
                total += weight * delta[k, n]
                if dones[k, n]:
                    break
                weight *= gamma * lam
            adv[t, n] = total
    return adv


@pytest.mark.parametrize("steps,envs", [(1, 1), (5, 3), (32, 2)])
def test_gae_matches_the_sum_of_discounted_td_errors(steps, envs):
    rng = np.random.RandomState(steps)
    rewards = rng.randn(steps, envs)
    values = rng.randn(steps, envs)
    dones = rng.rand(steps, envs) < 0.2
    last = rng.randn(envs)
    adv, returns = ppo.gae_advantages(rewards, values, dones, last, 0.99, 0.95)
    expected = gae_like_the_paper(rewards, values, dones.astype(float), last, 0.99, 0.95)
    np.testing.assert_allclose(adv, expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(returns, expected + values, rtol=1e-5, atol=1e-5)


def test_gae_with_lambda_one_is_discounted_return_minus_value():
    rewards = np.array([[1.0], [2.0], [3.0]])
    values = np.array([[0.5], [0.0], [1.0]])
    dones = np.array([[False], [False], [True]])
    adv, _ = ppo.gae_advantages(rewards, values, dones, np.array([100.0]), 0.9, 1.0)
    ret0 = 1 + 0.9 * 2 + 0.81 * 3  # episode ends at t=2: the bootstrap value 100 is unused
    np.testing.assert_allclose(adv[:, 0], [ret0 - 0.5, 2 + 0.9 * 3 - 0.0, 3 - 1.0], rtol=1e-6)


def test_gae_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="gae_advantages"):
        ppo.gae_advantages(np.zeros((3, 2)), np.zeros((3, 1)), np.zeros((3, 2)), np.zeros(2),
                           0.99, 0.95)


def test_clipped_surrogate_matches_numpy(graph, session_of):
    log_prob = np.log(np.array([0.5, 0.9, 0.1, 0.3, 0.7], np.float32))
    old = np.log(np.array([0.4, 0.5, 0.2, 0.3, 0.9], np.float32))
    adv = np.array([1.0, 2.0, -1.0, 0.5, -3.0], np.float32)
    out = ppo.clipped_surrogate_loss(tf.constant(log_prob), tf.constant(old), tf.constant(adv))
    loss, ratio, clipped = session_of(graph).run(out)
    r = np.exp(log_prob - old)
    expected = -np.minimum(r * adv, np.clip(r, 0.8, 1.2) * adv)
    np.testing.assert_allclose(ratio, r, rtol=1e-5)
    np.testing.assert_allclose(loss, expected, rtol=1e-5)
    # r = 1.25, 1.8 > 1.2 with A > 0 and r = 0.5, 0.78 < 0.8 with A < 0 are clipped; r = 1 not.
    np.testing.assert_array_equal(clipped, [1, 1, 1, 0, 1])


def test_clipped_surrogate_gives_no_gradient_outside_the_trust_region(graph, session_of):
    log_prob = tf.constant(np.log([0.9, 0.5]).astype(np.float32))
    out = ppo.clipped_surrogate_loss(log_prob, tf.constant(np.log([0.5, 0.5]).astype(np.float32)),
                                     tf.constant([1.0, 1.0]))
    grad = session_of(graph).run(tf.gradients(tf.reduce_sum(out.loss), log_prob)[0])
    np.testing.assert_allclose(grad, [0.0, -1.0], atol=1e-6)  # clipped ratio: no push further


def test_value_loss(graph, session_of):
    got = session_of(graph).run(ppo.value_loss(tf.constant([1.0, -2.0]), tf.constant([0.0, 1.0])))
    np.testing.assert_allclose(got, [0.5, 4.5])


def test_categorical_log_prob_and_entropy(graph, session_of):
    logits = np.array([[1.0, 2.0, 0.5], [0.0, 0.0, 0.0]], np.float32)
    actions = np.array([2, 0], np.int32)
    lp, ent = session_of(graph).run([ppo.categorical_log_prob(tf.constant(logits), actions),
                                     ppo.categorical_entropy(tf.constant(logits))])
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    np.testing.assert_allclose(lp, np.log(p[[0, 1], actions]), rtol=1e-5)
    np.testing.assert_allclose(ent, -(p * np.log(p)).sum(1), rtol=1e-5)


def test_gaussian_log_prob_and_entropy(graph, session_of):
    mean = np.array([[0.0, 1.0], [2.0, -1.0]], np.float32)
    log_std = np.array([[0.0, -1.0], [0.5, 0.2]], np.float32)
    actions = np.array([[0.3, 1.2], [1.0, -1.5]], np.float32)
    lp, ent = session_of(graph).run([
        ppo.gaussian_log_prob(tf.constant(mean), tf.constant(log_std), tf.constant(actions)),
        ppo.gaussian_entropy(tf.constant(log_std))])
    std = np.exp(log_std)
    density = np.exp(-(actions - mean) ** 2 / (2 * std ** 2)) / (std * np.sqrt(2 * np.pi))
    np.testing.assert_allclose(lp, np.log(density).sum(1), rtol=1e-5)
    np.testing.assert_allclose(ent, (0.5 * np.log(2 * np.pi * math.e * std ** 2)).sum(1),
                               rtol=1e-5)

"""PPO's learning rule (Schulman et al. 2017) and GAE (Schulman et al. 2015), as pure functions.

Graph functions take tensors and return per-example ``[B]`` tensors (the caller reduces);
``gae_advantages`` is numpy because advantages are computed on arrival of each rollout,
outside the graph. Shapes: B examples, K discrete actions, D action dimensions, T time steps
of a rollout, N environments.
"""
import collections
import math

import numpy as np

from building_blocks.common.tf_compat import tf

SurrogateLoss = collections.namedtuple("SurrogateLoss", ["loss", "ratio", "clipped"])


def gae_advantages(rewards, values, dones, last_values, gamma, lam):
    """Generalised advantage estimates and value targets of one rollout.

    rewards, values, dones: [T, N]; ``dones[t]`` is True when the episode ended at step t
    (the observation after it is a fresh episode's). last_values: [N], V of the observation
    after the last step. Returns (advantages [T, N], returns [T, N] = advantages + values),
    float32.
      δ_t = r_t + γ V(s_{t+1}) (1 − d_t) − V(s_t);  A_t = Σ_k (γλ)^k δ_{t+k}, cut at episode ends.
    """
    rewards = np.asarray(rewards, np.float64)
    values = np.asarray(values, np.float64)
    not_done = 1.0 - np.asarray(dones, np.float64)
    if rewards.shape != values.shape or rewards.shape != not_done.shape:
        raise ValueError("gae_advantages: rewards %s, values %s and dones %s must share [T, N]"
                         % (rewards.shape, values.shape, not_done.shape))
    steps = rewards.shape[0]
    next_values = np.concatenate([values[1:], np.asarray(last_values, np.float64)[None]], 0)
    deltas = rewards + gamma * next_values * not_done - values
    advantages = np.zeros_like(deltas)
    running = np.zeros_like(deltas[0])
    for t in reversed(range(steps)):
        running = deltas[t] + gamma * lam * not_done[t] * running
        advantages[t] = running
    return advantages.astype(np.float32), (advantages + values).astype(np.float32)


def clipped_surrogate_loss(log_prob, old_log_prob, advantages, clip=0.2, name="ppo_clip"):
    """PPO's clipped surrogate objective, negated to be minimised (Schulman et al. 2017, Eq. 7).

    log_prob, old_log_prob, advantages: [B]. Returns SurrogateLoss(loss [B], ratio [B],
    clipped [B] float: 1 where the clipped term is the smaller one).
      L = −min(r A, clip(r, 1 − ε, 1 + ε) A),  r = π(a|s) / π_old(a|s).
    """
    with tf.name_scope(name):
        log_prob.shape.assert_has_rank(1)
        old_log_prob.shape.assert_has_rank(1)
        advantages.shape.assert_has_rank(1)
        ratio = tf.exp(log_prob - old_log_prob)
        unclipped = ratio * advantages
        clipped = tf.clip_by_value(ratio, 1.0 - clip, 1.0 + clip) * advantages
        loss = -tf.minimum(unclipped, clipped)
        return SurrogateLoss(loss, ratio, tf.cast(clipped < unclipped, tf.float32))


def value_loss(values, returns, name="value_loss"):
    """½ (V(s) − R)², values and returns [B] → [B]."""
    with tf.name_scope(name):
        values.shape.assert_has_rank(1)
        return 0.5 * tf.square(values - returns)


def categorical_log_prob(logits, actions):
    """log π(a|s) of a categorical policy: logits [B, K], actions [B] int → [B]."""
    return -tf.nn.sparse_softmax_cross_entropy_with_logits(labels=actions, logits=logits)


def categorical_entropy(logits):
    """H(π(·|s)) = −Σ_k p_k log p_k: logits [B, K] → [B]."""
    log_p = tf.nn.log_softmax(logits)
    return -tf.reduce_sum(tf.exp(log_p) * log_p, axis=-1)


def gaussian_log_prob(mean, log_std, actions):
    """log N(a; μ, diag σ²): mean, log_std, actions [B, D] → [B]."""
    z = (actions - mean) * tf.exp(-log_std)
    return tf.reduce_sum(-0.5 * tf.square(z) - log_std - 0.5 * math.log(2.0 * math.pi), axis=-1)


def gaussian_entropy(log_std):
    """H(N(μ, diag σ²)) = Σ_d (log σ_d + ½ log(2πe)): log_std [B, D] → [B]."""
    return tf.reduce_sum(log_std + 0.5 * math.log(2.0 * math.pi * math.e), axis=-1)


def log_prob_and_entropy(output, actions):
    """(log π(a|s) [B], H(π(·|s)) [B]) of a policies.PolicyOutput: categorical when it has
    logits, diagonal Gaussian otherwise."""
    if output.logits is not None:
        return categorical_log_prob(output.logits, actions), categorical_entropy(output.logits)
    return (gaussian_log_prob(output.mean, output.log_std, actions),
            gaussian_entropy(output.log_std))

"""The PPO learner's graph: placeholders for a minibatch, the loss and one Adam train op
(one ``sess.run`` per gradient step), and ``update`` which runs Table 4's gradient steps on a
buffer of transitions.

READING (Table 4 "gradient steps per update: 10", DEVIATIONS.md): by default an update takes
a fresh buffer of ``buffer_size`` transitions (Table 5) and makes 10 epochs over it, each a
new permutation cut into minibatches of ``batch_size`` (Table 5), PPO's K epochs; with
``gradient_steps_unit='minibatches'`` it makes 10 minibatch steps in all (the literal
reading), a new permutation whenever the previous one is used up. Advantages are normalised
to mean 0, std 1 over the buffer (B.2: the optimizer "normalizes the measured advantage").
The learning rate is fed per update (linear anneal, teacher_runner); the update's remaining
minibatches are skipped once a minibatch's approximate KL exceeds 1.5 × ``target_kl``.
"""
import collections

import numpy as np

from building_blocks.rl import ppo
from building_blocks.common.tf_compat import tf

LearnerStats = collections.namedtuple("LearnerStats", [
    "loss", "policy_loss", "value_loss", "entropy", "approx_kl", "clip_fraction"])
# LearnerStats averaged over an update's steps, the steps taken and the learning rate used.
UpdateStats = collections.namedtuple("UpdateStats",
                                     LearnerStats._fields + ("gradient_steps", "learning_rate"))
KL_STOP_FACTOR = 1.5  # stop once approx KL > 1.5 × target_kl (Spinning Up, SB3)


def minibatches(size, batch_size, steps, unit, rng):
    """Index arrays [batch_size] of one update's minibatches, in order: ``steps`` epochs of
    ``size // batch_size`` minibatches each (unit 'epochs'; a remainder smaller than a
    minibatch is left out of that epoch), or ``steps`` minibatches (unit 'minibatches')."""
    if unit == "epochs":
        for _ in range(steps):
            order = rng.permutation(size)
            for start in range(0, size - batch_size + 1, batch_size):
                yield order[start:start + batch_size]
        return
    order, cursor = rng.permutation(size), 0
    for _ in range(steps):
        if cursor + batch_size > size:
            order, cursor = rng.permutation(size), 0
        yield order[cursor:cursor + batch_size]
        cursor += batch_size


class PPOLearner(object):
    """Builds the training graph of ``policy`` (a policies.MLPPolicy / ImpalaPolicy)."""

    def __init__(self, config, policy, spec):
        self.config, self.policy = config, policy
        obs_dtype = tf.uint8 if spec.obs_dtype == "uint8" else tf.float32
        self.obs = tf.placeholder(obs_dtype, (None,) + tuple(spec.obs_shape), "obs")
        if spec.action_kind == "discrete":
            self.actions = tf.placeholder(tf.int32, [None], "actions")
        else:
            self.actions = tf.placeholder(tf.float32, [None, spec.action_dim], "actions")
        self.old_log_probs = tf.placeholder(tf.float32, [None], "old_log_probs")
        self.advantages = tf.placeholder(tf.float32, [None], "advantages")
        self.returns = tf.placeholder(tf.float32, [None], "returns")
        self.learning_rate = tf.placeholder_with_default(
            tf.constant(config.learning_rate, tf.float32), [], "learning_rate")
        self._build_train_op()

    def _build_train_op(self):
        config = self.config
        with tf.name_scope("ppo_learner"):
            output = self.policy(self.policy.normalize(self.obs), training=True)
            log_prob, entropy = ppo.log_prob_and_entropy(output, self.actions)
            surrogate = ppo.clipped_surrogate_loss(log_prob, self.old_log_probs,
                                                   self.advantages, config.clip)
            policy_loss = tf.reduce_mean(surrogate.loss)
            value_loss = tf.reduce_mean(ppo.value_loss(output.value, self.returns))
            mean_entropy = tf.reduce_mean(entropy)
            loss = (policy_loss + config.value_coef * value_loss
                    - config.entropy_coef * mean_entropy)
            variables = self.policy.trainable_variables
            grads = tf.gradients(loss, variables)
            if config.max_grad_norm > 0:
                grads, _ = tf.clip_by_global_norm(grads, config.max_grad_norm)
            optimizer = tf.train.AdamOptimizer(self.learning_rate, epsilon=config.adam_epsilon)
            self.train_op = optimizer.apply_gradients(list(zip(grads, variables)))
            self.stats = LearnerStats(
                loss, policy_loss, value_loss, mean_entropy,
                tf.reduce_mean(self.old_log_probs - log_prob),
                tf.reduce_mean(surrogate.clipped))

    def update(self, sess, batch, rng, learning_rate=None):
        """Table 4's gradient steps on ``batch`` (rollout_buffer.Batch) at ``learning_rate``
        (default: the config's); returns UpdateStats (LearnerStats averaged over the steps
        taken)."""
        config = self.config
        learning_rate = config.learning_rate if learning_rate is None else learning_rate
        advantages = batch.advantages
        advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
        totals, steps = np.zeros(len(LearnerStats._fields)), 0
        for idx in minibatches(len(advantages), config.batch_size,
                               config.gradient_steps_per_update, config.gradient_steps_unit, rng):
            _, stats = sess.run([self.train_op, self.stats], {
                self.obs: batch.obs[idx], self.actions: batch.actions[idx],
                self.old_log_probs: batch.log_probs[idx], self.advantages: advantages[idx],
                self.returns: batch.returns[idx], self.learning_rate: learning_rate})
            totals += stats
            steps += 1
            if config.target_kl > 0 and stats.approx_kl > KL_STOP_FACTOR * config.target_kl:
                break
        return UpdateStats(*(tuple(totals / steps) + (steps, learning_rate)))

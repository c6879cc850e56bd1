"""The PPO learner's graph: placeholders for a minibatch, the loss and one Adam train op
(one ``sess.run`` per gradient step), and ``update`` which runs Table 4's gradient steps on a
buffer of transitions.

CHOICE (Table 4 "10 gradient steps per update"): an update takes a fresh buffer of
``buffer_size`` transitions (Table 5) and makes 10 optimizer steps, each on a minibatch of
``batch_size`` (Table 5) transitions drawn without replacement, a new permutation whenever
the previous one is used up. Advantages are normalised to mean 0, std 1 over the buffer
(B.2: the optimizer "normalizes the measured advantage").
"""
import collections

import numpy as np

from building_blocks import ppo
from building_blocks.tf_compat import tf

LearnerStats = collections.namedtuple("LearnerStats", [
    "loss", "policy_loss", "value_loss", "entropy", "approx_kl", "clip_fraction"])


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
            optimizer = tf.train.AdamOptimizer(config.learning_rate, epsilon=config.adam_epsilon)
            self.train_op = optimizer.apply_gradients(list(zip(grads, variables)))
            self.stats = LearnerStats(
                loss, policy_loss, value_loss, mean_entropy,
                tf.reduce_mean(self.old_log_probs - log_prob),
                tf.reduce_mean(surrogate.clipped))

    def update(self, sess, batch, rng):
        """``gradient_steps_per_update`` train steps on ``batch`` (rollout_buffer.Batch);
        returns the LearnerStats averaged over the steps."""
        config = self.config
        advantages = batch.advantages
        advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
        size = len(advantages)
        order, cursor = rng.permutation(size), 0
        totals = np.zeros(len(LearnerStats._fields))
        for _ in range(config.gradient_steps_per_update):
            if cursor + config.batch_size > size:
                order, cursor = rng.permutation(size), 0
            idx = order[cursor:cursor + config.batch_size]
            cursor += config.batch_size
            _, stats = sess.run([self.train_op, self.stats], {
                self.obs: batch.obs[idx], self.actions: batch.actions[idx],
                self.old_log_probs: batch.log_probs[idx], self.advantages: advantages[idx],
                self.returns: batch.returns[idx]})
            totals += stats
        return LearnerStats(*(totals / config.gradient_steps_per_update))

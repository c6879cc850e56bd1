"""The learner's experience buffer (B.2): rollouts arrive tagged with the parameter version
that produced them; those more than ``max_version_lag`` versions behind the learner are
dropped (Table 4: max version lag 4) and counted, the rest get GAE advantages on arrival
and are handed out as flat batches of ``buffer_size`` transitions, oldest first.
"""
import collections

import numpy as np

from building_blocks.rl.ppo import gae_advantages

Batch = collections.namedtuple("Batch", ["obs", "actions", "log_probs", "advantages",
                                         "returns", "values"])


def is_stale(rollout_version, current_version, max_version_lag):
    """True when a rollout of ``rollout_version`` must be dropped at ``current_version``."""
    return current_version - rollout_version > max_version_lag


class RolloutBuffer(object):
    """``reward_scale``: None, or a callable (worker, rewards, dones) → rewards the learner
    trains on (reward_normalizer.ReturnNormalizer), applied to every arriving rollout before
    the version-lag rule."""

    def __init__(self, gamma, lam, max_version_lag, reward_scale=None):
        self.gamma, self.lam, self.max_version_lag = gamma, lam, max_version_lag
        self.reward_scale = reward_scale
        self._chunks = collections.deque()   # (version, Batch of flat arrays)
        self.size = 0
        self.accepted_rollouts = self.dropped_rollouts = 0
        self.dropped_transitions = 0

    def add(self, rollout, current_version):
        """Adds an actors.Rollout unless stale; returns whether it was kept."""
        steps = rollout.rewards.size
        rewards = rollout.rewards
        if self.reward_scale is not None:
            rewards = self.reward_scale(rollout.worker, rollout.rewards, rollout.dones)
        if is_stale(rollout.version, current_version, self.max_version_lag):
            self.dropped_rollouts += 1
            self.dropped_transitions += steps
            return False
        advantages, returns = gae_advantages(rewards, rollout.values, rollout.dones,
                                             rollout.last_values, self.gamma, self.lam)

        def flat(x):  # [T, N, ...] → [T·N, ...]
            x = np.asarray(x)
            return x.reshape((-1,) + x.shape[2:])
        self._chunks.append((rollout.version, Batch(
            flat(rollout.obs), flat(rollout.actions), flat(rollout.log_probs), flat(advantages),
            flat(returns), flat(rollout.values))))
        self.size += steps
        self.accepted_rollouts += 1
        return True

    def drop_stale(self, current_version):
        """Drops held chunks that became stale while waiting (counted as dropped rollouts)."""
        kept = collections.deque()
        for version, chunk in self._chunks:
            if is_stale(version, current_version, self.max_version_lag):
                self.dropped_rollouts += 1
                self.dropped_transitions += len(chunk.advantages)
                self.size -= len(chunk.advantages)
            else:
                kept.append((version, chunk))
        self._chunks = kept

    def take(self, count):
        """The oldest ``count`` transitions as one Batch (the rest stay), or None if fewer."""
        if self.size < count:
            return None
        parts, needed = [], count
        while needed:
            version, chunk = self._chunks.popleft()
            n = len(chunk.advantages)
            if n > needed:
                parts.append(Batch(*[x[:needed] for x in chunk]))
                self._chunks.appendleft((version, Batch(*[x[needed:] for x in chunk])))
                n = needed
            else:
                parts.append(chunk)
            needed -= n
        self.size -= count
        return Batch(*[np.concatenate(xs) for xs in zip(*parts)])

"""Reward scaling by the running std of the discounted return (CHOICE, DEVIATIONS.md: the paper
is silent; OpenAI baselines' VecNormalize, CleanRL's NormalizeReward and rl-baselines3-zoo's
``normalize: true`` all do it for MuJoCo PPO).

Each env keeps its discounted return R_t = γ R_{t−1} + r_t, reset to 0 after an episode ends;
the variance σ² of every R_t seen is merged into running statistics (Chan et al. 1979, as
policies.RunningMeanStd), and the learner trains on r_t / sqrt(σ² + ε), clipped to ±clip.
Rewards are not centred (a shift would change which states are worth reaching). It runs in the
learner on each rollout's arrival, before the version-lag rule, so every env's R_t stays
continuous; its state is saved with a resumable teacher.
"""
import numpy as np

EPSILON = 1e-8


class ReturnNormalizer(object):
    def __init__(self, gamma, clip=10.0):
        self.gamma, self.clip = float(gamma), float(clip)
        self.returns = {}                 # worker → [n] running discounted return per env
        self.count, self.mean, self.var = 0.0, 0.0, 1.0

    @property
    def std(self):
        return float(np.sqrt(self.var + EPSILON))

    def __call__(self, worker, rewards, dones):
        """Scaled rewards [T, n] (float32) of one rollout of ``worker``; rewards, dones [T, n]."""
        rewards = np.asarray(rewards, np.float64)
        dones = np.asarray(dones, bool)
        running = self.returns.get(worker)
        if running is None or running.shape != rewards.shape[1:]:
            running = np.zeros(rewards.shape[1:])
        seen = np.empty_like(rewards)
        for t in range(rewards.shape[0]):
            running = self.gamma * running + rewards[t]
            seen[t] = running
            running = np.where(dones[t], 0.0, running)
        self.returns[worker] = running
        self._merge(seen.ravel())
        return np.clip(rewards / self.std, -self.clip, self.clip).astype(np.float32)

    def _merge(self, values):
        if not values.size:
            return
        batch_mean, batch_var, batch_count = values.mean(), values.var(), float(values.size)
        total = self.count + batch_count
        delta = batch_mean - self.mean
        m2 = (self.var * self.count + batch_var * batch_count
              + delta ** 2 * self.count * batch_count / total)
        self.mean += delta * batch_count / total
        self.var, self.count = m2 / total, total

    def state(self):
        """JSON-able state (resumable teachers)."""
        return {"count": self.count, "mean": self.mean, "var": self.var,
                "returns": {str(w): r.tolist() for w, r in self.returns.items()}}

    def load(self, state, keep_env_returns=False):
        """Restores ``state``. Envs restarted on resume begin new episodes, so their running
        returns restart at 0 unless ``keep_env_returns``."""
        self.count, self.mean, self.var = state["count"], state["mean"], state["var"]
        self.returns = ({int(w): np.asarray(r) for w, r in state["returns"].items()}
                        if keep_env_returns else {})

"""The wrapper every task is returned in by make_env: our spaces, action clipping, obs dtype,
and info['episode'] = {'r': return, 'l': length} on the last step of an episode."""
import numpy as np
from gym import spaces


class TaskEnv:
    """gym 0.15 API around one task's env.

    - continuous actions are clipped to [action_low, action_high] before the env sees them (so
      gym's control costs are computed on the clipped action: HalfCheetah's −0.1·|a|², Humanoid's
      −0.1·|ctrl|², MountainCar's −0.1·a²);
    - discrete actions are converted to int;
    - observations are returned as numpy arrays of spec.obs_shape / spec.obs_dtype (gym's
      float64 vectors become float32);
    - `track_episodes`: add info['episode'] when done (Atari reports full games itself).
    """

    def __init__(self, spec, env, track_episodes=True):
        self.task_spec = spec
        self.env = env
        self.track_episodes = track_episodes
        self._obs_dtype = np.dtype(spec.obs_dtype)
        if spec.action_kind == "discrete":
            self.action_space = spaces.Discrete(spec.action_dim)
        else:
            self.action_space = spaces.Box(spec.action_low, spec.action_high, dtype=np.float32)
        if spec.obs_dtype == "uint8":
            self.observation_space = spaces.Box(np.zeros(spec.obs_shape, np.uint8),
                                                np.full(spec.obs_shape, 255, np.uint8),
                                                dtype=np.uint8)
        else:
            self.observation_space = spaces.Box(-np.inf, np.inf, spec.obs_shape,
                                                dtype=self._obs_dtype)
        self._return, self._length = 0.0, 0

    @property
    def unwrapped(self):
        return self.env.unwrapped if hasattr(self.env, "unwrapped") else self.env

    def _obs(self, obs):
        return np.asarray(obs, dtype=self._obs_dtype).reshape(self.task_spec.obs_shape)

    def action(self, action):
        """The action handed to the env: int (discrete) or clipped float64 vector."""
        if self.task_spec.action_kind == "discrete":
            return int(action)
        action = np.asarray(action, dtype=np.float64).reshape(self.task_spec.action_dim)
        return np.clip(action, self.task_spec.action_low, self.task_spec.action_high)

    def reset(self):
        self._return, self._length = 0.0, 0
        return self._obs(self.env.reset())

    def step(self, action):
        obs, reward, done, info = self.env.step(self.action(action))
        reward = float(reward)
        if self.track_episodes:
            self._return += reward
            self._length += 1
            if done:
                info["episode"] = {"r": self._return, "l": self._length}
        return self._obs(obs), reward, bool(done), info

    def seed(self, seed=None):
        return self.env.seed(seed)

    def close(self):
        self.env.close()

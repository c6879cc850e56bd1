"""TEMPORARY stand-in for ``building_blocks.envs`` (owned by the envs helper, branch wt-envs).

A thin adapter over gym 0.15's CartPole-v0, MountainCarContinuous-v0 and Pendulum-v0 that
follows the RL interface contract of HELPERS.md (EnvSpec, ENV_SPECS, env_spec, make_env,
make_vec_env with auto-reset and info['episode']). It exists only so that the PPO teacher can
be developed and tested before the real factory lands; delete it at merge and point the tests
at ``building_blocks.envs`` (tests/rl_test_utils.py picks the real one when it exists).
"""
import collections

import gym

gym.logger.set_level(40)  # silence "Box bound precision lowered" warnings
import numpy as np

from building_blocks.config import ConfigError

EnvSpec = collections.namedtuple("EnvSpec", [
    "name", "gym_id", "obs_shape", "obs_dtype", "action_kind", "action_dim", "action_low",
    "action_high", "max_episode_steps"])

ENV_SPECS = collections.OrderedDict([
    ("cartpole", EnvSpec("cartpole", "CartPole-v0", (4,), "float32", "discrete", 2, None, None,
                         200)),
    ("mountaincar", EnvSpec("mountaincar", "MountainCarContinuous-v0", (2,), "float32",
                            "continuous", 1, np.array([-1.0], np.float32),
                            np.array([1.0], np.float32), 999)),
    ("pendulum", EnvSpec("pendulum", "Pendulum-v0", (3,), "float32", "continuous", 1,
                         np.array([-2.0], np.float32), np.array([2.0], np.float32), 200)),
])


def env_spec(name):
    if name not in ENV_SPECS:
        raise ConfigError("unknown environment %r; valid names: %s"
                          % (name, ", ".join(ENV_SPECS)))
    return ENV_SPECS[name]


class _Env(object):
    """gym 0.15 env with clipped continuous actions and info['episode'] at episode end."""

    def __init__(self, name, seed):
        self.spec = env_spec(name)
        self.env = gym.make(self.spec.gym_id)
        self.env.seed(int(seed))
        self._return, self._length = 0.0, 0

    def reset(self):
        self._return, self._length = 0.0, 0
        return np.asarray(self.env.reset(), np.float32)

    def step(self, action):
        if self.spec.action_kind == "continuous":
            action = np.clip(np.asarray(action, np.float32).reshape(self.spec.action_dim),
                             self.spec.action_low, self.spec.action_high)
        else:
            action = int(action)
        obs, reward, done, info = self.env.step(action)
        self._return += reward
        self._length += 1
        if done:
            info = dict(info, episode={"r": self._return, "l": self._length})
        return np.asarray(obs, np.float32), float(reward), bool(done), info

    def close(self):
        self.env.close()


def make_env(name, seed):
    return _Env(name, seed)


class _VecEnv(object):
    def __init__(self, name, num_envs, seed):
        self.envs = [_Env(name, seed * 10007 + i) for i in range(num_envs)]
        self.num_envs = num_envs

    def reset(self):
        return np.stack([env.reset() for env in self.envs])

    def step(self, actions):
        obs, rewards, dones, infos = [], [], [], []
        for env, action in zip(self.envs, actions):
            o, r, d, info = env.step(action)
            if d:
                o = env.reset()
            obs.append(o)
            rewards.append(r)
            dones.append(d)
            infos.append(info)
        return (np.stack(obs), np.asarray(rewards, np.float32), np.asarray(dones, np.bool_),
                infos)

    def close(self):
        for env in self.envs:
            env.close()


def make_vec_env(name, num_envs, seed):
    return _VecEnv(name, num_envs, seed)

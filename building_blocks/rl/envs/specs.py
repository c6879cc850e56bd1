"""The RL tasks of the paper (Tables 6 and 7, Section 4) as static specs.

Observation and action spaces follow gym 0.15.7 (`CartPole-v0`, `MountainCarContinuous-v0`,
the MuJoCo v2 classes, `<Game>NoFrameskip-v4`) after our preprocessing (Atari: HWC uint8
frames). MuJoCo action bounds are the actuator ctrlrange of gym 0.15's XML assets
(tests/test_envs.py checks them against the compiled models).
"""
import collections

import numpy as np

from building_blocks.common.config import ConfigError

EnvSpec = collections.namedtuple("EnvSpec", [
    "name",               # our task name (--env)
    "gym_id",             # the gym 0.15 environment it reproduces
    "obs_shape",          # tuple; Atari HWC, newest frame last
    "obs_dtype",          # 'float32' | 'uint8'
    "action_kind",        # 'discrete' | 'continuous'
    "action_dim",         # number of actions (discrete) or action vector size (continuous)
    "action_low",         # float64 array [action_dim] or None (discrete)
    "action_high",        # float64 array [action_dim] or None (discrete)
    "max_episode_steps",  # gym 0.15's TimeLimit, in agent steps
])


def _box(low, high, dim):
    return np.full(dim, low, np.float64), np.full(dim, high, np.float64)


def _vector(name, gym_id, obs_dim, kind, action_dim, bounds, max_steps):
    low, high = _box(bounds[0], bounds[1], action_dim) if bounds else (None, None)
    return EnvSpec(name, gym_id, (obs_dim,), "float32", kind, action_dim, low, high, max_steps)


def _atari(name, game, actions, size=84, stack=4):
    # gym 0.15 limits <Game>NoFrameskip-v4 to 400,000 emulator frames = 100,000 agent steps at
    # frame skip 4 (the limit is enforced on frames; see atari.py).
    return EnvSpec(name, game + "NoFrameskip-v4", (size, size, stack), "uint8", "discrete",
                   actions, None, None, 100000)


ENV_SPECS = collections.OrderedDict((spec.name, spec) for spec in [
    _vector("cartpole", "CartPole-v0", 4, "discrete", 2, None, 200),
    _vector("mountaincar", "MountainCarContinuous-v0", 2, "continuous", 1, (-1.0, 1.0), 999),
    _vector("halfcheetah", "HalfCheetah-v2", 17, "continuous", 6, (-1.0, 1.0), 1000),
    _vector("humanoid", "Humanoid-v2", 376, "continuous", 17, (-0.4, 0.4), 1000),
    _vector("humanoid_standup", "HumanoidStandup-v2", 376, "continuous", 17, (-0.4, 0.4), 1000),
    _atari("pong", "Pong", 6),
    _atari("breakout", "Breakout", 4),
    _atari("seaquest", "Seaquest", 18),
    _atari("enduro", "Enduro", 9),
    # Section 4: "a lower dimensional Pong, 2 stacked grayscale 48 × 48 frames".
    _atari("pong_lowdim", "Pong", 6, size=48, stack=2),
])

MUJOCO_TASKS = ("halfcheetah", "humanoid", "humanoid_standup")
# The ALE tasks are the ones with frame observations (the one list of them).
ATARI_TASKS = tuple(name for name, spec in ENV_SPECS.items() if spec.obs_dtype == "uint8")


def env_spec(name):
    """The EnvSpec of task `name`; ConfigError naming the valid tasks otherwise."""
    if name not in ENV_SPECS:
        raise ConfigError("unknown environment %r; valid --env values: %s"
                          % (name, ", ".join(ENV_SPECS)))
    return ENV_SPECS[name]


def resolve_task(name):
    """The task name for ``name``, a task name or the gym id of exactly one task (e.g.
    "HalfCheetah-v2" -> "halfcheetah"; "PongNoFrameskip-v4" is both pong and pong_lowdim, so
    it must be given as a task name); ConfigError naming the valid values otherwise."""
    if name in ENV_SPECS:
        return name
    matches = [task for task, spec in ENV_SPECS.items() if spec.gym_id == name]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise ConfigError("--env %s is the gym id of several tasks (%s); give one of them"
                          % (name, ", ".join(matches)))
    raise ConfigError("unknown environment %r; valid --env values: %s (or their gym ids: %s)"
                      % (name, ", ".join(ENV_SPECS),
                         ", ".join(sorted({s.gym_id for s in ENV_SPECS.values()}))))

"""The RL tasks of the paper behind one factory (the RL interface contract, HELPERS.md).

    spec = env_spec("humanoid")             # EnvSpec; ConfigError for unknown names
    env = make_env("humanoid", seed=0)      # gym 0.15 API: reset() / step(a)
    vec = make_vec_env("pong", 8, seed=0)   # batched, auto-resetting; env i seeded seed*10007+i

Modules: specs (EnvSpec, ENV_SPECS), task_env (the wrapper), mujoco_tasks (HalfCheetah,
Humanoid, HumanoidStandup on the official mujoco bindings or mujoco-py), atari (preprocessing),
vec (VecEnv).
"""
from building_blocks.rl.envs.specs import (ATARI_TASKS, ENV_SPECS, MUJOCO_TASKS, EnvSpec,
                                           env_spec)
from building_blocks.rl.envs.vec import VecEnv

__all__ = ["EnvSpec", "ENV_SPECS", "env_spec", "make_env", "make_vec_env", "vec_env_seed",
           "TaskEnv", "VecEnv", "MUJOCO_TASKS", "ATARI_TASKS", "stack_missing",
           "training_options"]

# The envs a teacher's actors train on, by task (make_env's keyword options): an Atari game
# ends a training episode at a lost life and clips rewards to [−1, 1], as Espeholt et al.
# (2018, Table G.1) train (B.2 names their preprocessing). Evaluation always plays full games
# with the raw score (make_env's defaults); so do the students' rollouts.
ATARI_TRAINING_OPTIONS = {"episodic_life": True, "clip_rewards": True}


def training_options(name):
    """make_env's keyword options of a teacher's training envs for task ``name``."""
    return dict(ATARI_TRAINING_OPTIONS) if name in ATARI_TASKS else {}


def __getattr__(name):
    """``TaskEnv`` on first use (PEP 562): importing this package (for the task specs) does not
    import gym, so the image experiments and the TF 2.x lane run without it."""
    if name == "TaskEnv":
        from building_blocks.rl.envs.task_env import TaskEnv  # pylint: disable=g-import-not-at-top
        return TaskEnv
    raise AttributeError("module %r has no attribute %r" % (__name__, name))


def stack_missing():
    """Why the RL tasks cannot run in this Python (gym is not installed: the TF 2.x stack,
    requirements-tf2.lock, has neither gym 0.15 nor atari-py), or None when they can."""
    import importlib.util  # pylint: disable=g-import-not-at-top
    if importlib.util.find_spec("gym") is None:
        return ("needs gym 0.15 and atari-py, which only the TF 1.15 stack installs "
                "(./run_all.sh without GAS_TF_BUILD=tf2)")
    return None


def plain_gym_warnings(gym):
    """gym 0.15's warnings carry ANSI colour codes (gym.logger.warn → colorize), which show as
    raw '[33m' in log files: drop the colour, keep the text."""
    gym.logger.colorize = lambda string, *args, **kwargs: string


def make_env(name, seed, episodic_life=False, clip_rewards=False, mujoco_backend=None,
             max_frames=None):
    """One seeded env of task `name` in the gym 0.15 API, with gym 0.15's TimeLimit.

    episodic_life / clip_rewards: Atari training options (see atari.py); by default episodes
    are full games with the raw score. mujoco_backend: 'mujoco' | 'mujoco_py' | None (auto).
    max_frames: Atari only, a game's emulator-frame limit in place of gym's 400,000.
    """
    import gym  # pylint: disable=g-import-not-at-top
    from gym.wrappers import TimeLimit  # pylint: disable=g-import-not-at-top
    plain_gym_warnings(gym)
    from building_blocks.rl.envs.task_env import TaskEnv  # pylint: disable=g-import-not-at-top
    spec = env_spec(name)
    if name in ATARI_TASKS:
        from building_blocks.rl.envs.atari import AtariTask
        size, stack = spec.obs_shape[0], spec.obs_shape[2]
        task = AtariTask(spec.gym_id, seed, frame_size=size, frame_stack=stack,
                         episodic_life=episodic_life, clip_rewards=clip_rewards,
                         max_frames=max_frames)
        return TaskEnv(spec, task, track_episodes=False)
    if episodic_life or clip_rewards or max_frames:
        raise ValueError("episodic_life / clip_rewards / max_frames apply to Atari tasks only, "
                         "not %s" % name)
    if name in MUJOCO_TASKS:
        from building_blocks.rl.envs.mujoco_tasks import TASK_CLASSES
        env = TimeLimit(TASK_CLASSES[name](mujoco_backend),
                        max_episode_steps=spec.max_episode_steps)
    else:
        env = gym.make(spec.gym_id)   # CartPole-v0, MountainCarContinuous-v0 with their TimeLimit
    env.seed(seed)
    env.action_space.seed(seed)
    return TaskEnv(spec, env)


def vec_env_seed(seed, index):
    """Seed of env `index` in a vectorised env of base seed `seed`."""
    return seed * 10007 + index


def make_vec_env(name, num_envs, seed, **env_kwargs):
    """`num_envs` envs of task `name` (make_env's keyword options apply to all) as a VecEnv."""
    if num_envs < 1:
        raise ValueError("make_vec_env: num_envs must be >= 1, got %d" % num_envs)
    return VecEnv([make_env(name, vec_env_seed(seed, i), **env_kwargs)
                   for i in range(num_envs)])

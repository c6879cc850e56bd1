"""`python -m reproduce env_info --env NAME --seed S --steps N`: one JSON line describing a task
and the return of a fixed, seeded action sequence (actions drawn from RandomState(seed) over the
action space; episodes auto-reset), so two calls with the same arguments print the same line."""
import json
import time

import gym
import numpy as np

from building_blocks.rl.envs import MUJOCO_TASKS, env_spec, make_env


def fixed_actions(spec, seed, steps):
    """The action sequence of env_info: [steps] ints, or [steps, D] uniform in the bounds."""
    rng = np.random.RandomState(seed)
    if spec.action_kind == "discrete":
        return rng.randint(spec.action_dim, size=steps)
    return rng.uniform(spec.action_low, spec.action_high, size=(steps, spec.action_dim))


def env_info(name, seed, steps):
    """Steps task `name` (seed `seed`) with the fixed action sequence; returns a JSON-able dict."""
    spec = env_spec(name)
    if steps < 0:
        raise ValueError("--steps must be >= 0")
    start = time.perf_counter()
    env = make_env(name, seed)
    obs = env.reset()
    total, episode_returns = 0.0, []
    for action in fixed_actions(spec, seed, steps):
        obs, reward, done, info = env.step(action)
        total += reward
        if done:
            if "episode" in info:
                episode_returns.append(info["episode"]["r"])
            obs = env.reset()
    record = {
        "env": name, "gym_id": spec.gym_id, "seed": seed, "steps": steps,
        "obs_shape": [int(d) for d in obs.shape], "obs_dtype": str(obs.dtype),
        "action_space": repr(env.action_space), "return": float(total),
        "episodes_completed": len(episode_returns),
        "episode_returns": [float(r) for r in episode_returns],
        "max_episode_steps": spec.max_episode_steps, "gym": gym.__version__,
        "wall_s": round(time.perf_counter() - start, 3),
    }
    if name in MUJOCO_TASKS:
        record["mujoco_backend"] = env.unwrapped.backend
        record["mujoco_version"] = env.unwrapped.sim.version
    env.close()
    return record


def main(name, seed, steps):
    print(json.dumps(env_info(name, seed, steps), sort_keys=True), flush=True)

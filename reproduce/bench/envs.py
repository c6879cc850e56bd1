"""Env throughput for `python -m reproduce bench --bench_envs cartpole,halfcheetah`: per task,
the bare simulator's rate (agent-step equivalents: gym's unwrapped classic-control env, the MuJoCo
backend's frame_skip physics substeps, or frame_skip ALE emulator frames), one make_env env, and
make_vec_env with N envs stepped in this one process. Random actions are drawn beforehand, so
only env work is timed. The vectorised rate should be >= 70% of the single-env rate per core."""
import time


from building_blocks.rl.envs import ATARI_TASKS, MUJOCO_TASKS, env_spec, make_env, make_vec_env
from reproduce.core.env_info import fixed_actions

DEFAULT_STEPS = {"cartpole": 20000, "mountaincar": 20000, "halfcheetah": 5000,
                 "humanoid": 2000, "humanoid_standup": 2000}
ATARI_STEPS = 2000


def _rate(steps, seconds):
    return steps / seconds if seconds > 0 else float("inf")


def raw_simulator_rate(task, steps, seed=0):
    """Agent steps/s of the bare simulator, no wrappers (see module docstring)."""
    spec = env_spec(task)
    actions = fixed_actions(spec, seed, steps)
    env = make_env(task, seed)
    env.reset()
    core = env.unwrapped
    if task in ATARI_TASKS:
        ale, skip = core.ale, core.frame_skip
        ale_actions = [core._action_set[a] for a in actions]
        start = time.perf_counter()
        for a in ale_actions:
            for _ in range(skip):
                ale.act(a)
            if ale.game_over():
                ale.reset_game()
        return _rate(steps, time.perf_counter() - start)
    if task in MUJOCO_TASKS:
        sim, skip = core.sim, core.frame_skip
        start = time.perf_counter()
        for a in actions:
            sim.step(a, skip)
        return _rate(steps, time.perf_counter() - start)
    start = time.perf_counter()
    for a in actions:
        done = core.step(a if spec.action_kind == "continuous" else int(a))[2]
        if done:
            core.reset()
    return _rate(steps, time.perf_counter() - start)


def single_env_rate(task, steps, seed=0):
    """Agent steps/s of one make_env env, resetting at episode ends."""
    actions = fixed_actions(env_spec(task), seed, steps)
    env = make_env(task, seed)
    env.reset()
    start = time.perf_counter()
    for a in actions:
        if env.step(a)[2]:
            env.reset()
    return _rate(steps, time.perf_counter() - start)


def vec_env_rate(task, num_envs, steps, seed=0):
    """Env steps/s (summed over envs) of make_vec_env(task, num_envs) in this process."""
    spec = env_spec(task)
    iterations = max(1, steps // num_envs)
    actions = fixed_actions(spec, seed, iterations * num_envs)
    actions = actions.reshape((iterations, num_envs) + actions.shape[1:])
    vec = make_vec_env(task, num_envs, seed)
    vec.reset()
    start = time.perf_counter()
    for batch in actions:
        vec.step(batch)
    return _rate(iterations * num_envs, time.perf_counter() - start)


def env_throughput(task, num_envs=8, steps=None):
    """{'task', 'num_envs', 'steps', 'raw_sim_steps_per_s', 'single_env_steps_per_s',
    'vec_env_steps_per_s', 'vec_over_single', 'vec_over_raw'} measured in this process (1 core)."""
    env_spec(task)
    if steps is None:
        steps = ATARI_STEPS if task in ATARI_TASKS else DEFAULT_STEPS[task]
    raw = raw_simulator_rate(task, steps)
    single = single_env_rate(task, steps)
    vec = vec_env_rate(task, num_envs, steps)
    return {"task": task, "num_envs": num_envs, "steps": steps,
            "raw_sim_steps_per_s": raw, "single_env_steps_per_s": single,
            "vec_env_steps_per_s": vec, "vec_over_single": vec / single, "vec_over_raw": vec / raw}


def main(tasks, log, num_envs=8):
    results = []
    for task in tasks:
        r = env_throughput(task, num_envs)
        results.append(r)
        log("RESULT kind=env task=%s N=%d raw_sim_steps_per_s=%.0f single_env_steps_per_s=%.0f "
            "vec_env_steps_per_s=%.0f vec_over_single=%.2f vec_over_raw=%.2f" % (
                task, num_envs, r["raw_sim_steps_per_s"], r["single_env_steps_per_s"],
                r["vec_env_steps_per_s"], r["vec_over_single"], r["vec_over_raw"]))
    return results

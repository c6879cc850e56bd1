"""`python -m reproduce bench --bench_rl cartpole,...`: PPO throughput on this machine.

For each task:
- raw: single-process simulator steps/s (one env, random actions, no policy);
- actors: env steps/s of the vectorised actors in W worker processes (policy inference
  included, learner idle), and that rate per worker as a fraction of the raw rate
  (target ≥ 70% per core used);
- learner: PPO updates/s and gradient steps/s on a Table 5-sized buffer (quick profile's
  config), without actors running.
"""
import importlib
import os
import time

import numpy as np

from reproduce.rl import teacher_cell, teacher_configs


def raw_steps_per_s(envs, task, seconds=3.0, seed=0):
    """One env stepped with uniformly random actions in this process."""
    spec = envs.env_spec(task)
    env = envs.make_env(task, seed)
    rng = np.random.RandomState(seed)
    env.reset()

    def random_action():
        if spec.action_kind == "discrete":
            return int(rng.randint(spec.action_dim))
        return rng.uniform(spec.action_low, spec.action_high).astype(np.float32)
    for _ in range(100):  # warm-up
        if env.step(random_action())[2]:
            env.reset()
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for _ in range(100):
            if env.step(random_action())[2]:
                env.reset()
        steps += 100
    return steps / (time.perf_counter() - start)


def actor_steps_per_s(env_module, task, num_envs, num_workers, seconds=8.0, seed=0,
                      backend_kind="process"):
    """Env steps/s of the actors (ProcessActors, or ``backend_kind`` e.g. 'ray') with a
    freshly initialised teacher policy."""
    from building_blocks.rl import actor_backends, actors, policies  # pylint: disable=g-import-not-at-top
    from building_blocks.common.tf_compat import tf  # pylint: disable=g-import-not-at-top
    envs = importlib.import_module(env_module)
    spec = envs.env_spec(task)
    graph = tf.Graph()
    with graph.as_default():
        net = policies.make_policy(task, "teacher", spec=spec)
        with tf.Session(graph=graph) as sess:
            sess.run(tf.global_variables_initializer())
            params = policies.network_params(sess, net)
    setups = actors.worker_setups(env_module, task, spec, num_envs, num_workers, seed, 32)
    if backend_kind == "process":
        backend = actors.ProcessActors(setups, queue_size_per_worker=1000)
    else:
        backend = actor_backends.make_backend(backend_kind, setups)
    backend.start(params, 0)
    try:
        # Warm-up: every worker has started and sent a rollout.
        seen = set()
        while len(seen) < num_workers:
            seen.update(r.worker for r in backend.get_rollouts(timeout_s=60.0))
        steps, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            steps += sum(r.rewards.size for r in backend.get_rollouts(timeout_s=1.0))
        return steps / (time.perf_counter() - start)
    finally:
        backend.stop()


def learner_updates_per_s(env_module, task, updates=3, seed=0):
    """(updates/s, gradient steps/s) of the quick-profile learner on a synthetic buffer."""
    from building_blocks.rl import policies  # pylint: disable=g-import-not-at-top
    from building_blocks.rl.ppo_learner import PPOLearner  # pylint: disable=g-import-not-at-top
    from building_blocks.rl.rollout_buffer import Batch  # pylint: disable=g-import-not-at-top
    from building_blocks.common.tf_compat import make_session, tf  # pylint: disable=g-import-not-at-top
    envs = importlib.import_module(env_module)
    spec = envs.env_spec(task)
    config = teacher_configs.ppo_config(task, "quick", seed)
    rng = np.random.RandomState(seed)
    n = config.buffer_size
    if spec.action_kind == "discrete":
        actions = rng.randint(spec.action_dim, size=n).astype(np.int32)
    else:
        actions = rng.randn(n, spec.action_dim).astype(np.float32)
    obs = rng.randn(n, *spec.obs_shape).astype(np.float32)
    if spec.obs_dtype == "uint8":
        obs = rng.randint(0, 255, size=(n,) + tuple(spec.obs_shape)).astype(np.uint8)
    batch = Batch(obs, actions, np.full(n, -1.0, np.float32), rng.randn(n).astype(np.float32),
                  rng.randn(n).astype(np.float32), np.zeros(n, np.float32))
    graph = tf.Graph()
    with graph.as_default():
        net = policies.make_policy(task, "teacher", spec=spec)
        learner = PPOLearner(config, net, spec)
        init = tf.global_variables_initializer()
    with make_session(graph, 0) as sess:
        sess.run(init)
        learner.update(sess, batch, rng)  # warm-up
        start = time.perf_counter()
        for _ in range(updates):
            learner.update(sess, batch, rng)
            if net.obs_rms is not None:
                net.obs_rms.update(sess, batch.obs)
        elapsed = time.perf_counter() - start
    return updates / elapsed, updates * config.gradient_steps_per_update / elapsed


def main(tasks, log, env_module=None, num_workers=None, envs_per_worker=32):
    env_module = env_module or teacher_cell.DEFAULT_ENV_MODULE
    envs = importlib.import_module(env_module)
    num_workers = num_workers or min(2, os.cpu_count() or 1)
    results = {}
    for task in tasks:
        raw = raw_steps_per_s(envs, task)
        actor = actor_steps_per_s(env_module, task, envs_per_worker * num_workers, num_workers)
        updates, grad_steps = learner_updates_per_s(env_module, task)
        per_core = actor / num_workers / raw
        results[task] = dict(raw_steps_per_s=raw, actor_steps_per_s=actor, workers=num_workers,
                             per_core_fraction=per_core, updates_per_s=updates,
                             gradient_steps_per_s=grad_steps)
        log("RESULT kind=rl task=%s raw_steps_per_s=%.0f actor_steps_per_s=%.0f workers=%d "
            "envs_per_worker=%d per_core_fraction_of_raw=%.2f (target >= 0.70) "
            "learner_updates_per_s=%.2f gradient_steps_per_s=%.1f" % (
                task, raw, actor, num_workers, envs_per_worker, per_core, updates, grad_steps))
    return results

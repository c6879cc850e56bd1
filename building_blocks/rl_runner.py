"""The PPO teacher runner: owns the graph, the session, the actors, the update loop,
evaluation, the learning curve and the saved teacher. The math is in ppo.py, the graph in
ppo_learner.py, acting in actors.py / acting.py.

Loop: take rollouts from the actors (dropping those more than ``max_version_lag`` versions
old), and once ``buffer_size`` transitions are held run one update (``gradient_steps_per_update``
optimizer steps), fold the buffer's observations into the running mean/std, and publish the
new parameter version. Every ``eval_every`` updates the current policy plays
``eval_episodes`` episodes on separate evaluation envs (deterministic: argmax / mean
action); the best-evaluated parameters are kept (B.2) and, at the end, re-evaluated on
``final_eval_episodes`` fresh episodes and saved.
"""
import csv
import io
import math
import time

import numpy as np

from building_blocks import acting, actors, checkpoint, policies
from building_blocks.io_utils import atomic_write_bytes, atomic_write_text
from building_blocks.ppo_learner import PPOLearner
from building_blocks.rollout_buffer import RolloutBuffer
from building_blocks.runner import Progress, format_duration
from building_blocks.tf_compat import make_session, tf

CURVE_FIELDS = ("update", "transitions", "wall_s", "train_return_mean", "train_episodes",
                "eval_return_mean", "eval_return_std", "dropped_rollouts")


def eval_seed(seed, round_index):
    """Evaluation env seeds, disjoint from the actors' (CHOICE: 10^6 + seed·10^4 + round)."""
    return 10 ** 6 + seed * 10 ** 4 + round_index


def write_curve(rows, csv_path, png_path, title):
    """Learning curve: CSV of CURVE_FIELDS, and a PNG of train / eval return vs transitions."""
    text = io.StringIO()
    writer = csv.DictWriter(text, CURVE_FIELDS)
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_text(csv_path, text.getvalue())
    import matplotlib  # pylint: disable=g-import-not-at-top
    matplotlib.use("Agg")
    from matplotlib import pyplot as plt  # pylint: disable=g-import-not-at-top
    fig, ax = plt.subplots(figsize=(6, 4))
    train = [(r["transitions"], r["train_return_mean"]) for r in rows
             if r["train_return_mean"] != ""]
    evals = [(r["transitions"], r["eval_return_mean"], r["eval_return_std"]) for r in rows
             if r["eval_return_mean"] != ""]
    if train:
        ax.plot(*zip(*train), label="training episodes (stochastic)", alpha=0.7)
    if evals:
        x, mean, std = (np.array(v, float) for v in zip(*evals))
        ax.plot(x, mean, "o-", label="evaluation (deterministic)")
        ax.fill_between(x, mean - std, mean + std, alpha=0.2)
    ax.set_xlabel("transitions")
    ax.set_ylabel("episode return")
    ax.set_title(title)
    ax.legend(loc="best")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    plt.close(fig)
    atomic_write_bytes(png_path, buffer.getvalue())


class _Evaluator(object):
    def __init__(self, config, spec, env_module):
        self.config, self.env_module = config, env_module
        self.model = acting.make_acting_model(config.task, "teacher", spec, config.seed)
        self.rounds = 0

    def __call__(self, params, episodes):
        self.model.set_params(params)
        self.rounds += 1
        returns = acting.evaluate(self.env_module, self.config.task, self.model, episodes,
                                  eval_seed(self.config.seed, self.rounds),
                                  max_frames=self.config.eval_max_frames)
        return float(np.mean(returns)), float(np.std(returns)), returns


def train_ppo_teacher(config, spec, env_module, out_path, curve_csv, curve_png, threads=0,
                      log=print):
    """Trains the PPO teacher of ``config.task``; writes ``out_path`` (+ .json) atomically at
    the end, and the learning curve as it goes. Returns the result dict."""
    config.validate()
    started = time.time()
    graph = tf.Graph()
    with graph.as_default():
        tf.set_random_seed(config.seed)
        policy = policies.make_policy(config.task, "teacher", spec=spec)
        learner = PPOLearner(config, policy, spec)
        init = tf.global_variables_initializer()
    graph.finalize()
    sess = make_session(graph, threads)
    sess.run(init)
    rng = np.random.RandomState(config.seed)
    buffer = RolloutBuffer(config.gamma, config.gae_lambda, config.max_version_lag)
    evaluator = _Evaluator(config, spec, env_module)
    setups = actors.worker_setups(env_module, config.task, spec, config.num_envs,
                                  config.num_workers, config.seed, config.rollout_length)
    backend = actors.make_backend(config.actor_backend, setups)
    progress = Progress("ppo %s" % config.task, config.total_transitions, log,
                        config.log_every_s)
    version, transitions, rows = 0, 0, []
    best = {"eval_return_mean": -math.inf}
    recent_returns = []
    stats = None
    params = policies.network_params(sess, policy)
    log("ppo %s: %d envs in %d %s actors, %s policy, %d transitions" % (
        config.task, config.num_envs, config.num_workers, config.actor_backend,
        policies.describe_architecture(config.task, "teacher"), config.total_transitions))
    backend.start(params, version)
    try:
        while transitions < config.total_transitions:
            for rollout in backend.get_rollouts(timeout_s=1.0):
                transitions += rollout.rewards.size
                recent_returns.extend(rollout.episode_returns)
                buffer.add(rollout, version)
            buffer.drop_stale(version)
            batch = buffer.take(config.buffer_size)
            if batch is None:
                continue
            stats = learner.update(sess, batch, rng)
            if policy.obs_rms is not None:
                policy.obs_rms.update(sess, batch.obs)
            version += 1
            params = policies.network_params(sess, policy)
            backend.broadcast(params, version)
            done = transitions >= config.total_transitions
            if version % config.eval_every == 0 or done:
                mean, std, _ = evaluator(params, config.eval_episodes)
                if mean > best["eval_return_mean"]:
                    best = {"eval_return_mean": mean, "eval_return_std": std, "params": params,
                            "update": version, "transitions": transitions}
                rows.append(dict(
                    update=version, transitions=transitions,
                    wall_s=round(time.time() - started, 1),
                    train_return_mean=(round(float(np.mean(recent_returns)), 3)
                                       if recent_returns else ""),
                    train_episodes=len(recent_returns),
                    eval_return_mean=round(mean, 3), eval_return_std=round(std, 3),
                    dropped_rollouts=buffer.dropped_rollouts))
                recent_returns = []
                write_curve(rows, curve_csv, curve_png, "PPO teacher, %s" % config.task)
                progress.update(transitions, "update %d eval %.1f±%.1f (best %.1f) %s" % (
                    version, mean, std, best["eval_return_mean"], _fmt(stats)), force=True)
                if mean >= config.stop_return:
                    log("ppo %s: evaluation return %.1f reached the maximum %.1f; stopping"
                        % (config.task, mean, config.stop_return))
                    break
            else:
                progress.update(transitions, "update %d %s" % (version, _fmt(stats)))
    finally:
        backend.stop()
    if "params" not in best:  # the budget ended before the first update
        mean, std, _ = evaluator(params, config.eval_episodes)
        best = {"eval_return_mean": mean, "eval_return_std": std, "params": params,
                "update": version, "transitions": transitions}
    for variable in policy.variables:
        variable.load(best["params"][policy.relative_name(variable)], sess)
    final_mean, final_std, final_returns = evaluator(best["params"], config.final_eval_episodes)
    wall_s = time.time() - started
    result = {
        "task": config.task, "env": spec.gym_id,
        "eval_return_mean": final_mean, "eval_return_std": final_std,
        "eval_episodes": len(final_returns), "eval_returns": final_returns,
        "eval_policy": "deterministic (argmax / mean action)",
        "selection_eval_return_mean": best["eval_return_mean"],
        "selection_eval_return_std": best["eval_return_std"],
        "best_update": best["update"], "best_transitions": best["transitions"],
        "transitions": transitions, "updates": version,
        "architecture": policies.describe_architecture(config.task, "teacher"),
        "version_lag_dropped_rollouts": buffer.dropped_rollouts,
        "version_lag_dropped_transitions": buffer.dropped_transitions,
        "accepted_rollouts": buffer.accepted_rollouts,
        "wall_s": wall_s, "transitions_per_s": transitions / max(wall_s, 1e-9),
    }
    checkpoint.save_network(sess, policy, out_path, dict(result, role="teacher"))
    sess.close()
    log("ppo %s: kept update %d (selection eval %.1f); final eval %.1f ± %.1f over %d episodes; "
        "%d transitions, %d updates, %d stale rollouts dropped, %s" % (
            config.task, best["update"], best["eval_return_mean"], final_mean, final_std,
            len(final_returns), transitions, version, buffer.dropped_rollouts,
            format_duration(wall_s)))
    return result


def _fmt(stats):
    if stats is None:
        return ""
    return " ".join("%s %.3g" % (k, v) for k, v in stats._asdict().items())

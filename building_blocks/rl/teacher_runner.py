"""The PPO teacher runner: owns the graph, the session, the actors, the update loop,
evaluation, the learning curve, the resumable state and the saved teacher. The math is in
ppo.py, the graph in ppo_learner.py, acting in actors.py / acting.py.

Loop: take rollouts from the actors (rewards scaled on arrival, reward_normalizer.py;
dropping those more than ``max_version_lag`` versions old), and once ``buffer_size``
transitions are held run one update (Table 4's gradient steps, ppo_learner.py) at the
annealed learning rate, fold the buffer's observations into the running mean/std, and publish
the new parameter version. Every ``eval_every`` updates the current policy plays
``eval_episodes`` episodes on separate evaluation envs (deterministic: argmax / mean
action); the best-evaluated parameters are kept (B.2) and, at the end, re-evaluated on
``final_eval_episodes`` fresh episodes and saved.

Resume: every ``checkpoint_every_s`` (after an update) the learner's variables (policy, Adam
slots, observation statistics), the best parameters, the reward normaliser, the RNG, the
counters and the curve go atomically to ``<teacher>.resume.npz``. A rerun with that file
present continues from it (a new sitting: actors restart with fresh envs on a new seed
stream, and rollouts in flight at the interruption are lost); each sitting is listed in the
result. The caller deletes the file once the teacher and its record are written.
"""
import csv
import dataclasses
import importlib
import io
import json
import math
import os
import time

import numpy as np

from building_blocks.common import checkpoint
from building_blocks.rl import acting, actor_backends, actors, policies
from building_blocks.common.config import ConfigError
from building_blocks.common.io_utils import atomic_write_bytes, atomic_write_text
from building_blocks.rl.ppo_learner import PPOLearner
from building_blocks.rl.reward_normalizer import ReturnNormalizer
from building_blocks.rl.rollout_buffer import RolloutBuffer
from building_blocks.common.progress import Progress, format_duration
from building_blocks.common.tf_compat import make_session, tf

CURVE_FIELDS = ("update", "transitions", "wall_s", "train_return_mean", "train_episodes",
                "eval_return_mean", "eval_return_std", "dropped_rollouts", "approx_kl",
                "clip_fraction", "gradient_steps", "learning_rate", "reward_std")
# Config fields a resumed teacher may change: they do not touch what is learned.
RESUME_MAY_CHANGE = ("log_every_s", "checkpoint_every_s", "actor_backend")


def resume_path(out_path):
    """The resumable state of the teacher that will be saved at ``out_path``."""
    return out_path + ".resume.npz"


def eval_seed(seed, round_index):
    """Evaluation env seeds, disjoint from the actors' (CHOICE: 10^6 + seed·10^4 + round)."""
    return 10 ** 6 + seed * 10 ** 4 + round_index


def write_curve(rows, csv_path, png_path, title):
    """Learning curve: CSV of CURVE_FIELDS, and a PNG of train / eval return vs transitions."""
    text = io.StringIO()
    writer = csv.DictWriter(text, CURVE_FIELDS, restval="")
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


def learning_rate_at(config, transitions):
    """The learning rate of the update that starts after ``transitions`` (CHOICE: linear
    anneal from Table 5's rate to 0 at the budget, as baselines ppo2 / CleanRL)."""
    if not config.anneal_lr:
        return config.learning_rate
    return config.learning_rate * max(0.0, 1.0 - transitions / float(config.total_transitions))


class _State(object):
    """Everything of a teacher run that is not a graph variable, as saved for resume."""

    def __init__(self, config):
        self.version = self.transitions = 0
        self.rows, self.recent_returns, self.sittings = [], [], []
        self.best = {"eval_return_mean": -math.inf}
        self.rng = np.random.RandomState(config.seed)
        self.normalizer = (ReturnNormalizer(config.gamma, config.reward_clip)
                           if config.normalize_reward else None)

    @property
    def wall_before(self):
        """Seconds spent in earlier sittings."""
        return sum(s["wall_s"] for s in self.sittings[:-1])

    def to_json(self, config, evaluator_rounds, buffer):
        name, keys, pos, has_gauss, gauss = self.rng.get_state()
        best = {k: v for k, v in self.best.items() if k != "params"}
        return keys, json.dumps({
            "format": 1, "config": dataclasses.asdict(config), "version": self.version,
            "transitions": self.transitions, "rows": self.rows,
            "recent_returns": self.recent_returns, "sittings": self.sittings,
            "best": best, "rng": [name, int(pos), int(has_gauss), float(gauss)],
            "evaluator_rounds": evaluator_rounds,
            "normalizer": self.normalizer.state() if self.normalizer else None,
            "buffer": {k: getattr(buffer, k) for k in (
                "accepted_rollouts", "dropped_rollouts", "dropped_transitions")}})


class TeacherRun(object):
    """One PPO teacher: ``run()`` trains (resuming if its resume file exists) and saves it."""

    def __init__(self, config, spec, env_module, out_path, curve_csv, curve_png, threads=0,
                 log=print, extra_sitting_info=None):
        self.config, self.spec, self.env_module = config.validate(), spec, env_module
        self.out_path, self.curve_csv, self.curve_png = out_path, curve_csv, curve_png
        self.log, self.extra_sitting_info = log, dict(extra_sitting_info or {})
        self.graph = tf.Graph()
        with self.graph.as_default():
            tf.set_random_seed(config.seed)
            self.policy = policies.make_policy(config.task, "teacher", spec=spec,
                                               initial_log_std=config.initial_log_std)
            self.learner = PPOLearner(config, self.policy, spec)
            self.variables = tf.global_variables()
            init = tf.global_variables_initializer()
        self.graph.finalize()
        self.sess = make_session(self.graph, threads)
        self.sess.run(init)
        self.state = _State(config)
        self.buffer = RolloutBuffer(config.gamma, config.gae_lambda, config.max_version_lag,
                                    self.state.normalizer)
        self.evaluator = _Evaluator(config, spec, env_module)

    def close(self):
        self.sess.close()

    # -- resume ---------------------------------------------------------------------------
    def save_resume(self):
        keys, text = self.state.to_json(self.config, self.evaluator.rounds, self.buffer)
        arrays = {"var/" + v.op.name: value
                  for v, value in zip(self.variables, self.sess.run(self.variables))}
        arrays.update({"best/" + k: v for k, v in self.state.best.get("params", {}).items()})
        arrays.update(rng_keys=keys, state_json=np.array(text))
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        atomic_write_bytes(resume_path(self.out_path), buffer.getvalue())

    def load_resume(self):
        """Restores the state saved at ``resume_path``; False when there is none."""
        path = resume_path(self.out_path)
        if not os.path.exists(path):
            return False
        try:
            with np.load(path) as data:
                arrays = {k: data[k] for k in data.files}
            saved = json.loads(str(arrays.pop("state_json")))
        except Exception as e:  # zip/JSON errors vary
            raise ConfigError("unreadable resume file %s (%s); delete it to train this teacher "
                              "from the start." % (path, e))
        self._check_same_config(path, saved["config"])
        for variable in self.variables:
            variable.load(arrays["var/" + variable.op.name], self.sess)
        state = self.state
        state.version, state.transitions = saved["version"], saved["transitions"]
        state.rows, state.recent_returns = saved["rows"], saved["recent_returns"]
        state.sittings = saved["sittings"]
        state.best = dict(saved["best"], eval_return_mean=float(
            saved["best"]["eval_return_mean"]))
        params = {k[len("best/"):]: v for k, v in arrays.items() if k.startswith("best/")}
        if params:
            state.best["params"] = params
        name, pos, has_gauss, gauss = saved["rng"]
        state.rng.set_state((name, arrays["rng_keys"], pos, has_gauss, gauss))
        if state.normalizer is not None:
            state.normalizer.load(saved["normalizer"])
        self.evaluator.rounds = saved["evaluator_rounds"]
        for key, value in saved["buffer"].items():
            setattr(self.buffer, key, value)
        return True

    def _check_same_config(self, path, saved):
        current = dataclasses.asdict(self.config)
        differ = sorted(k for k in set(current) | set(saved)
                        if k not in RESUME_MAY_CHANGE and current.get(k) != saved.get(k))
        if differ:
            raise ConfigError(
                "resume file %s was made with other settings (%s: %s there, %s now). Rerun "
                "with those settings to resume it, or delete it to train from the start."
                % (path, ", ".join(differ), [saved.get(k) for k in differ],
                   [current.get(k) for k in differ]))

    # -- training -------------------------------------------------------------------------
    def run(self):
        """Trains to the budget (or ``stop_return``), saves the teacher; returns the result."""
        config, state = self.config, self.state
        resumed = self.load_resume()
        sitting = {"sitting": len(state.sittings) + 1, "started": time.time(),
                   "transitions_from": state.transitions, "updates_from": state.version}
        sitting.update(self.extra_sitting_info)
        state.sittings.append(sitting)
        self._started = time.time()
        env_module = importlib.import_module(self.env_module)
        setups = actors.worker_setups(self.env_module, config.task, self.spec, config.num_envs,
                                      config.num_workers, config.seed, config.rollout_length,
                                      stream=len(state.sittings) - 1,
                                      env_options=getattr(env_module, "training_options",
                                                          lambda task: {})(config.task))
        backend = actor_backends.make_backend(config.actor_backend, setups)
        options = setups[0].env_options or {}
        self.log("ppo %s: %d envs in %d %s actors%s, %s policy, %d transitions%s" % (
            config.task, config.num_envs, config.num_workers, config.actor_backend,
            " (training envs: %s)" % ", ".join(sorted(options)) if options else "",
            policies.describe_architecture(config.task, "teacher"), config.total_transitions,
            "; resumed at update %d, %d transitions (sitting %d)" % (
                state.version, state.transitions, sitting["sitting"]) if resumed else ""))
        params = policies.network_params(self.sess, self.policy)
        backend.start(params, state.version)
        try:
            self._loop(backend)
        finally:
            backend.stop()
            if getattr(backend, "replaced", 0):  # Ray actors lost (a node) and replaced
                sitting["actors_replaced"] = backend.replaced
        return self._finish()

    def _loop(self, backend):
        config, state = self.config, self.state
        progress = Progress("ppo %s" % config.task, config.total_transitions, self.log,
                            config.log_every_s, start_step=state.transitions)
        last_checkpoint = time.time()
        while state.transitions < config.total_transitions:
            for rollout in backend.get_rollouts(timeout_s=1.0):
                state.transitions += rollout.rewards.size
                state.recent_returns.extend(rollout.episode_returns)
                self.buffer.add(rollout, state.version)
            self.buffer.drop_stale(state.version)
            batch = self.buffer.take(config.buffer_size)
            if batch is None:
                continue
            stats = self.learner.update(self.sess, batch, state.rng,
                                        learning_rate_at(config, state.transitions))
            if self.policy.obs_rms is not None:
                self.policy.obs_rms.update(self.sess, batch.obs)
            state.version += 1
            params = policies.network_params(self.sess, self.policy)
            backend.broadcast(params, state.version)
            done = state.transitions >= config.total_transitions
            if state.version % config.eval_every == 0 or done:
                if self._evaluate(params, stats, progress):
                    break
            else:
                progress.update(state.transitions, "update %d %s" % (state.version, _fmt(stats)))
            if time.time() - last_checkpoint >= config.checkpoint_every_s:
                self._close_sitting()
                self.save_resume()
                last_checkpoint = time.time()

    def _evaluate(self, params, stats, progress):
        """Evaluates the current policy, keeps it if best, logs the curve; True to stop."""
        config, state = self.config, self.state
        mean, std, _ = self.evaluator(params, config.eval_episodes)
        if mean > state.best["eval_return_mean"]:
            state.best = {"eval_return_mean": mean, "eval_return_std": std, "params": params,
                          "update": state.version, "transitions": state.transitions}
        state.rows.append(dict(
            update=state.version, transitions=state.transitions,
            wall_s=round(state.wall_before + time.time() - self._started, 1),
            train_return_mean=(round(float(np.mean(state.recent_returns)), 3)
                               if state.recent_returns else ""),
            train_episodes=len(state.recent_returns),
            eval_return_mean=round(mean, 3), eval_return_std=round(std, 3),
            dropped_rollouts=self.buffer.dropped_rollouts,
            approx_kl="%.4g" % stats.approx_kl, clip_fraction="%.4g" % stats.clip_fraction,
            gradient_steps=stats.gradient_steps, learning_rate="%.4g" % stats.learning_rate,
            reward_std=("%.4g" % state.normalizer.std) if state.normalizer else ""))
        state.recent_returns = []
        write_curve(state.rows, self.curve_csv, self.curve_png, "PPO teacher, %s" % config.task)
        progress.update(state.transitions, "update %d eval %.1f±%.1f (best %.1f) %s" % (
            state.version, mean, std, state.best["eval_return_mean"], _fmt(stats)), force=True)
        if mean >= config.stop_return:
            self.log("ppo %s: evaluation return %.1f reached the maximum %.1f; stopping"
                     % (config.task, mean, config.stop_return))
            return True
        return False

    def _close_sitting(self):
        """Brings the current sitting's entry up to date (before a save or the end)."""
        state = self.state
        sitting = state.sittings[-1]
        sitting.update(wall_s=round(time.time() - self._started, 1),
                       transitions_to=state.transitions, updates_to=state.version)

    def _finish(self):
        config, state = self.config, self.state
        self._close_sitting()
        wall_s = sum(s["wall_s"] for s in state.sittings)
        if "params" not in state.best:  # the budget ended before the first update
            params = policies.network_params(self.sess, self.policy)
            mean, std, _ = self.evaluator(params, config.eval_episodes)
            state.best = {"eval_return_mean": mean, "eval_return_std": std, "params": params,
                          "update": state.version, "transitions": state.transitions}
        best = state.best
        for variable in self.policy.variables:
            variable.load(best["params"][self.policy.relative_name(variable)], self.sess)
        final_mean, final_std, final_returns = self.evaluator(best["params"],
                                                              config.final_eval_episodes)
        result = {
            "task": config.task, "env": self.spec.gym_id,
            "eval_return_mean": final_mean, "eval_return_std": final_std,
            "eval_episodes": len(final_returns), "eval_returns": final_returns,
            "eval_policy": "deterministic (argmax / mean action)",
            "selection_eval_return_mean": best["eval_return_mean"],
            "selection_eval_return_std": best["eval_return_std"],
            "best_update": best["update"], "best_transitions": best["transitions"],
            "transitions": state.transitions, "updates": state.version,
            "architecture": policies.describe_architecture(config.task, "teacher"),
            "version_lag_dropped_rollouts": self.buffer.dropped_rollouts,
            "version_lag_dropped_transitions": self.buffer.dropped_transitions,
            "accepted_rollouts": self.buffer.accepted_rollouts,
            "reward_std": state.normalizer.std if state.normalizer else None,
            "sittings": state.sittings,
            "wall_s": wall_s, "transitions_per_s": state.transitions / max(wall_s, 1e-9),
        }
        checkpoint.save_network(self.sess, self.policy, self.out_path,
                                dict(result, role="teacher"))
        self.log("ppo %s: kept update %d (selection eval %.1f); final eval %.1f ± %.1f over %d "
                 "episodes; %d transitions, %d updates in %d sitting(s), %d stale rollouts "
                 "dropped, %s" % (
                     config.task, best["update"], best["eval_return_mean"], final_mean,
                     final_std, len(final_returns), state.transitions, state.version,
                     len(state.sittings), self.buffer.dropped_rollouts, format_duration(wall_s)))
        return result


def train_ppo_teacher(config, spec, env_module, out_path, curve_csv, curve_png, threads=0,
                      log=print, extra_sitting_info=None):
    """Trains the PPO teacher of ``config.task`` (resuming from ``resume_path(out_path)`` if
    present); writes ``out_path`` (+ .json) atomically at the end, and the learning curve as
    it goes. Returns the result dict."""
    run = TeacherRun(config, spec, env_module, out_path, curve_csv, curve_png, threads, log,
                     extra_sitting_info)
    try:
        return run.run()
    finally:
        run.close()


def _fmt(stats):
    if stats is None:
        return ""
    return " ".join("%s %.3g" % (k, v) for k, v in stats._asdict().items())

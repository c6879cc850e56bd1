"""Actors: step environments with a copy of the current policy and send rollouts of
``rollout_length`` transitions per env, tagged with the parameter version they acted with
(B.2; Table 4: 32 transitions per rollout).

Backends share one small interface (chosen by name in actor_backends.py; Ray actors in
ray_actors.py):

    backend.start(params, version)      # first parameters; actors begin stepping
    backend.broadcast(params, version)  # a new parameter version
    backend.get_rollouts(timeout_s)     # -> list of Rollout (possibly empty on timeout)
    backend.stop()

``ProcessActors``: ``num_workers`` worker processes (multiprocessing, spawn), each stepping a
``make_vec_env`` of its share of the ``num_envs`` environments and acting in numpy (MLP) or
a one-thread TF graph (Impala); it always acts with the newest parameters it has received.
``InlineActors``: the same collection run synchronously in the caller's process (tests,
debugging; deterministic for a seed).

This module imports no TensorFlow, so MLP workers start in well under a second.
"""
import collections
import importlib
import multiprocessing.queues
import os
import queue
import time
import traceback

import numpy as np

from building_blocks.rl import acting

Rollout = collections.namedtuple("Rollout", [
    "worker", "version", "obs", "actions", "log_probs", "values", "rewards", "dones",
    "last_values", "episode_returns", "episode_lengths"])
# obs [T, n, *obs_shape]; actions [T, n] (int) or [T, n, D]; log_probs, values, rewards,
# dones [T, n]; last_values [n]: V of the observation after the last step; episode_* lists
# of the episodes that ended inside the rollout.

WorkerSetup = collections.namedtuple("WorkerSetup", [
    "env_module", "task", "role", "spec", "num_envs", "env_seed", "rng_seed", "rollout_length",
    "env_options"], defaults=(None,))
# env_options: make_vec_env's keyword options (a teacher's Atari training envs: lost life =
# episode end, clipped rewards; envs.training_options), None for the env module's defaults.


class ActorError(RuntimeError):
    """An actor worker failed; the message carries its traceback."""


def split_envs(num_envs, num_workers):
    """Envs per worker: as even as possible, e.g. (10, 3) → [4, 3, 3]."""
    base, extra = divmod(num_envs, num_workers)
    return [base + (1 if w < extra else 0) for w in range(num_workers)]


def worker_setups(env_module, task, spec, num_envs, num_workers, seed, rollout_length,
                  role="teacher", stream=0, env_options=None):
    """One WorkerSetup per worker; seeds derived from the cell seed (CHOICE: worker w's
    vec env has seed seed·1000 + w, its sampling RNG seed·1000 + 500 + w, each plus
    stream·10^7: a resumed teacher's k-th sitting uses stream k, new episodes)."""
    offset = stream * 10 ** 7
    return [WorkerSetup(env_module, task, role, spec, n, seed * 1000 + w + offset,
                        seed * 1000 + 500 + w + offset, rollout_length, env_options or None)
            for w, n in enumerate(split_envs(num_envs, num_workers))]


class _Collector(object):
    """One worker's envs and acting model; ``collect`` returns the next Rollout."""

    def __init__(self, worker, setup):
        self.worker, self.setup = worker, setup
        envs = importlib.import_module(setup.env_module)
        self.vec = envs.make_vec_env(setup.task, setup.num_envs, setup.env_seed,
                                     **(setup.env_options or {}))
        self.model = acting.make_acting_model(setup.task, setup.role, setup.spec, setup.rng_seed)
        self.obs = self.vec.reset()
        self.version = None

    def set_params(self, params, version):
        self.model.set_params(params)
        self.version = version

    def collect(self):
        steps = self.setup.rollout_length
        obs, actions, log_probs, values, rewards, dones = [], [], [], [], [], []
        returns, lengths = [], []
        for _ in range(steps):
            action, log_prob, value = self.model.act(self.obs)
            obs.append(self.obs)
            self.obs, reward, done, infos = self.vec.step(action)
            actions.append(action)
            log_probs.append(log_prob)
            values.append(value)
            rewards.append(reward)
            dones.append(done)
            for d, info in zip(done, infos):
                if d and "episode" in info:
                    returns.append(float(info["episode"]["r"]))
                    lengths.append(int(info["episode"]["l"]))
        _, _, last_values = self.model.act(self.obs)
        return Rollout(self.worker, self.version, np.stack(obs), np.stack(actions),
                       np.stack(log_probs), np.stack(values),
                       np.asarray(rewards, np.float32), np.asarray(dones, np.bool_),
                       last_values, returns, lengths)

    def close(self):
        if hasattr(self.vec, "close"):
            self.vec.close()


def _worker_main(worker, setup, params_queue, rollout_queue, stop_event):
    """Worker process: wait for parameters, then send rollouts until told to stop or until
    the learner is gone (killed with -9: the worker is re-parented and must not live on)."""
    collector = None
    learner = os.getppid()

    def stopping():
        return stop_event.is_set() or os.getppid() != learner

    try:
        collector = _Collector(worker, setup)
        while collector.version is None and not stopping():
            try:
                collector.set_params(*params_queue.get(timeout=0.5))
            except queue.Empty:
                pass
        while not stopping():
            latest = None
            while True:  # the newest parameters waiting, if any
                try:
                    latest = params_queue.get_nowait()
                except queue.Empty:
                    break
            if latest is not None:
                collector.set_params(*latest)
            rollout = collector.collect()
            while not stopping():
                try:
                    rollout_queue.put(rollout, timeout=0.5)
                    break
                except queue.Full:
                    pass
    except Exception:  # reported to the learner, which raises ActorError
        rollout_queue.put(("error", worker, traceback.format_exc()))
    finally:
        if collector is not None:
            collector.close()


class ActorBackend(object):
    """Interface of the actor backends (see the module docstring)."""

    def start(self, params, version):
        raise NotImplementedError

    def broadcast(self, params, version):
        raise NotImplementedError

    def get_rollouts(self, timeout_s):
        raise NotImplementedError

    def stop(self):
        pass


class InlineActors(ActorBackend):
    """Synchronous: ``get_rollouts`` steps every worker's envs once, in this process."""

    def __init__(self, setups):
        self.collectors = [_Collector(w, s) for w, s in enumerate(setups)]

    def start(self, params, version):
        self.broadcast(params, version)

    def broadcast(self, params, version):
        for collector in self.collectors:
            collector.set_params(params, version)

    def get_rollouts(self, timeout_s=None):
        return [collector.collect() for collector in self.collectors]

    def stop(self):
        for collector in self.collectors:
            collector.close()


_SINGLE_THREAD = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


class _ParamsQueue(multiprocessing.queues.Queue):
    """A queue of parameter versions for one worker. A worker that stops never reads the
    versions still in flight, so the learner's feeder thread meets a closed pipe: expected at
    shutdown, and not worth a traceback (any other feeder error is still printed)."""

    @staticmethod
    def _on_queue_feeder_error(e, obj):
        if not isinstance(e, BrokenPipeError):
            traceback.print_exc()


class ProcessActors(ActorBackend):
    """Worker processes; rollouts come back through one bounded queue (so actors wait,
    rather than pile up stale rollouts, when the learner is busy)."""

    def __init__(self, setups, queue_size_per_worker=2):
        import multiprocessing  # pylint: disable=g-import-not-at-top
        self.ctx = multiprocessing.get_context("spawn")  # no forked TF / BLAS thread state
        self.setups = setups
        self.rollout_queue = self.ctx.Queue(maxsize=queue_size_per_worker * len(setups))
        self.params_queues = [_ParamsQueue(ctx=self.ctx) for _ in setups]
        self.stop_event = self.ctx.Event()
        self.processes = []

    def start(self, params, version):
        saved = {k: os.environ.get(k) for k in _SINGLE_THREAD}
        os.environ.update({k: "1" for k in _SINGLE_THREAD})  # one core per actor
        try:
            for w, setup in enumerate(self.setups):
                process = self.ctx.Process(
                    target=_worker_main, name="actor%d" % w, daemon=True,
                    args=(w, setup, self.params_queues[w], self.rollout_queue, self.stop_event))
                process.start()
                self.processes.append(process)
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        self.broadcast(params, version)

    def broadcast(self, params, version):
        for q in self.params_queues:
            q.put((params, version))

    def get_rollouts(self, timeout_s=1.0):
        """Everything waiting, or what arrives within ``timeout_s``; raises ActorError
        if a worker failed or died."""
        items = []
        try:
            items.append(self.rollout_queue.get(timeout=timeout_s))
            while True:
                items.append(self.rollout_queue.get_nowait())
        except queue.Empty:
            pass
        for item in items:
            if isinstance(item, tuple) and item and item[0] == "error":
                raise ActorError("actor worker %d failed:\n%s" % (item[1], item[2]))
        if not items:
            dead = ["%s (exit code %s)" % (p.name, p.exitcode) for p in self.processes
                    if not p.is_alive()]
            if dead:
                raise ActorError("actor processes %s exited without reporting an error "
                                 "(killed? out of memory?)" % ", ".join(dead))
        return items

    def stop(self):
        self.stop_event.set()
        deadline = time.time() + 10.0
        while any(p.is_alive() for p in self.processes) and time.time() < deadline:
            try:  # unblock workers waiting on a full queue
                while True:
                    self.rollout_queue.get_nowait()
            except queue.Empty:
                pass
            time.sleep(0.05)
        for process in self.processes:
            if process.is_alive():
                process.terminate()
            process.join(timeout=5)
        for q in self.params_queues + [self.rollout_queue]:
            q.cancel_join_thread()
            q.close()


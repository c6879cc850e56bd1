"""Ray actors for PPO rollouts (``actor_backend='ray'``, e.g. ``--set actor_backend=ray``):
the same ``_Collector`` as ``ProcessActors`` (``actors.py``), one per Ray actor, so the envs
can live on other machines while the learner stays one process.

Each actor holds up to ``in_flight_per_worker`` queued ``collect`` calls (as ProcessActors'
bounded queue does); Ray runs an actor's calls in order, so parameters broadcast now are used
from the next rollout that starts after the ones already queued. Every rollout carries the
version it acted with, and the learner's RolloutBuffer applies the same max-version-lag rule
as for the other backends.

An actor that dies (its process killed, its node lost) is replaced by a new one with the same
worker index and env seeds, given the latest parameters, while the learner goes on; its
rollouts in flight are lost (``replaced`` counts these replacements for the run record). An
actor whose replacements keep dying without one rollout (``MAX_REPLACEMENTS`` in a row, e.g.
an env that cannot be made), a replacement that sends nothing for ``REPLACEMENT_TIMEOUT_S``,
or an actor that raises in ``collect`` stops the learner with ActorError. A rollout that was
waiting in a lost node's object store (ObjectLostError) counts as a death of its actor.

Ray: joins the cluster in ``$RAY_ADDRESS`` if set, else starts a local instance (one CPU
slot per actor) and shuts it down in ``stop``. An actor on another node imports
building_blocks from that node's checkout (``GAS_REPO_ROOT`` in its ``ray start``
environment), else from the learner's path. Imported only when this backend is chosen.
"""
import os
import sys
import time

from building_blocks.rl import actors

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# Deaths in a row of one worker's actor (no rollout in between) before the learner stops.
MAX_REPLACEMENTS = 3
# A replaced actor that sends no rollout for this long stops the learner (e.g. the cluster has
# no CPU left to place it on), instead of training on the other actors' rollouts unnoticed.
REPLACEMENT_TIMEOUT_S = 600.0


def _actor_class(ray):
    # Defined inside a function so that Ray pickles it by value: a worker on another node
    # imports building_blocks from the repository path given, not from its own sys.path.
    class RolloutActor(object):
        def __init__(self, repo_root, worker, setup):
            import os as os_  # pylint: disable=g-import-not-at-top
            repo_root = os_.environ.get("GAS_REPO_ROOT") or repo_root
            if repo_root not in sys.path:
                sys.path.insert(0, repo_root)
            from building_blocks.rl import actors as actors_lib  # pylint: disable=g-import-not-at-top
            self.collector = actors_lib._Collector(worker, setup)  # pylint: disable=protected-access

        def set_params(self, params, version):
            self.collector.set_params(params, version)

        def collect(self):
            return self.collector.collect()

        def close(self):
            self.collector.close()
    return ray.remote(num_cpus=1)(RolloutActor)


class RayActors(actors.ActorBackend):
    """``setups``: one WorkerSetup per Ray actor (``actors.worker_setups``)."""

    def __init__(self, setups, in_flight_per_worker=2):
        import ray  # pylint: disable=g-import-not-at-top
        self.ray, self.setups, self.in_flight = ray, setups, max(1, in_flight_per_worker)
        self.started_ray = False
        if not ray.is_initialized():
            address = os.environ.get("RAY_ADDRESS")
            kwargs = dict(include_dashboard=False, log_to_driver=False, configure_logging=False)
            if address:
                kwargs["address"] = address
            else:  # one CPU slot per actor, even where actors outnumber the cores
                kwargs.update(address="local", num_cpus=max(len(setups), os.cpu_count() or 1),
                              num_gpus=0, object_store_memory=200 * 1024 * 1024)
            try:
                ray.init(**kwargs)
            except Exception as e:  # many error types
                raise actors.ActorError("cannot start or reach Ray (%s) for the Ray actors: "
                                        "%s" % (address or "local", e))
            self.started_ray = True
        self.handles, self.pending = [], {}
        self.latest, self.replaced, self.failures_in_a_row = None, 0, {}
        self.replaced_at = {}  # worker -> when its actor was replaced, until its next rollout

    def start(self, params, version):
        self._class = _actor_class(self.ray)
        self.handles = [self._class.remote(REPO_ROOT, w, s) for w, s in enumerate(self.setups)]
        self.broadcast(params, version)
        for w in range(len(self.handles)):
            for _ in range(self.in_flight):
                self._submit(w)

    def _submit(self, worker):
        self.pending[self.handles[worker].collect.remote()] = worker

    def broadcast(self, params, version):
        shared = self.ray.put(params)  # one copy in the object store; Ray passes its value
        self.latest = (shared, version)
        for handle in self.handles:
            handle.set_params.remote(shared, version)

    def _replace(self, worker, error):
        """A new actor for ``worker`` after its actor died; ActorError after MAX_REPLACEMENTS
        deaths without a rollout in between."""
        failures = self.failures_in_a_row.get(worker, 0) + 1
        self.failures_in_a_row[worker] = failures
        if failures > MAX_REPLACEMENTS:
            raise actors.ActorError("Ray actor %d died %d times in a row without a rollout:\n%s"
                                    % (worker, failures, error))
        for ref in [r for r, w in self.pending.items() if w == worker]:
            del self.pending[ref]  # lost with the actor
        try:
            self.ray.kill(self.handles[worker])
        except Exception:  # pylint: disable=broad-except  (already gone)
            pass
        self.handles[worker] = self._class.remote(REPO_ROOT, worker, self.setups[worker])
        self.handles[worker].set_params.remote(*self.latest)
        self.replaced += 1
        self.replaced_at.setdefault(worker, time.time())
        for _ in range(self.in_flight):
            self._submit(worker)

    def get_rollouts(self, timeout_s=1.0):
        """The rollouts finished within ``timeout_s`` (at least one unless it times out);
        raises ActorError if an actor failed or died."""
        ready, _ = self.ray.wait(list(self.pending), num_returns=1, timeout=timeout_s)
        if ready:
            ready, _ = self.ray.wait(list(self.pending), num_returns=len(self.pending),
                                     timeout=0)
        rollouts = []
        for ref in ready:
            if ref not in self.pending:  # dropped by a replacement of its actor
                continue
            worker = self.pending.pop(ref)
            try:
                rollouts.append(self.ray.get(ref))
            except (self.ray.exceptions.RayActorError,  # the actor's process or node died
                    self.ray.exceptions.ObjectLostError) as e:  # its rollout was on a lost node
                self._replace(worker, e)
                continue
            except self.ray.exceptions.RayError as e:
                raise actors.ActorError("Ray actor %d failed:\n%s" % (worker, e))
            self.failures_in_a_row[worker] = 0
            self.replaced_at.pop(worker, None)
            self._submit(worker)
        for worker, since in self.replaced_at.items():
            if time.time() - since > REPLACEMENT_TIMEOUT_S:
                raise actors.ActorError(
                    "Ray actor %d was replaced %.0f s ago and has sent no rollout since (no "
                    "free CPU left in the cluster for it?)" % (worker, time.time() - since))
        return rollouts

    def stop(self):
        for handle in self.handles:
            try:
                self.ray.kill(handle)
            except Exception:  # already dead
                pass
        self.handles, self.pending = [], {}
        if self.started_ray:
            self.ray.shutdown()
            self.started_ray = False

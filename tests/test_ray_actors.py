"""PPO rollouts on Ray actors (actor_backend='ray'): version-tagged rollouts that follow the
learner's broadcasts, worker errors reported, and a short PPO run through them."""
import os

import pytest

from building_blocks.rl import actor_backends, actors
from building_blocks.common.config import apply_overrides
from building_blocks.rl.teacher_runner import train_ppo_teacher
from reproduce.rl import teacher_configs
from tests.test_ppo_trainer import ENV_MODULE, ENVS, _initial_params

if not os.environ.get("CI"):  # in CI a missing ray (pinned in the lock) fails these tests
    pytest.importorskip("ray")


@pytest.fixture(scope="module")
def local_ray():
    import ray
    os.environ.pop("RAY_ADDRESS", None)
    ray.init(address="local", num_cpus=2, num_gpus=0, include_dashboard=False,
             log_to_driver=False, configure_logging=False,
             object_store_memory=100 * 1024 * 1024)
    yield ray
    ray.shutdown()


def test_ray_actors_follow_broadcasts_and_report_worker_errors(local_ray):
    spec = ENVS.env_spec("cartpole")
    params = _initial_params("cartpole", spec)
    backend = actor_backends.make_backend("ray", actors.worker_setups(ENV_MODULE, "cartpole", spec, 4, 2,
                                                              0, 8))
    backend.start(params, 0)
    try:
        versions, workers = set(), set()
        for _ in range(200):
            for rollout in backend.get_rollouts(timeout_s=5.0):
                assert rollout.obs.shape == (8, 2, 4) and rollout.rewards.shape == (8, 2)
                versions.add(rollout.version)
                workers.add(rollout.worker)
            if versions == {0}:
                backend.broadcast(params, 1)
            if 1 in versions and workers == {0, 1}:
                break
        assert 1 in versions and workers == {0, 1}
    finally:
        backend.stop()
    broken = actor_backends.make_backend("ray", actors.worker_setups(ENV_MODULE, "no_such_task", spec,
                                                             2, 1, 0, 8))
    broken.start(params, 0)
    try:
        with pytest.raises(actors.ActorError, match="no_such_task"):
            for _ in range(60):
                broken.get_rollouts(timeout_s=1.0)
    finally:
        broken.stop()
    assert local_ray.is_initialized()  # the backend leaves a Ray it did not start running


def test_a_dead_actor_is_replaced_and_the_learner_keeps_its_rollouts(local_ray):
    """A lost node kills its actors: the backend starts a new actor for the same worker with
    the latest parameters, and rollouts of every worker keep coming (issue 17)."""
    spec = ENVS.env_spec("cartpole")
    params = _initial_params("cartpole", spec)
    backend = actor_backends.make_backend("ray", actors.worker_setups(ENV_MODULE, "cartpole", spec,
                                                                      4, 2, 0, 8))
    backend.start(params, 0)
    try:
        for _ in range(50):
            if backend.get_rollouts(timeout_s=5.0):
                break
        local_ray.kill(backend.handles[1], no_restart=True)
        backend.broadcast(params, 3)
        after = set()
        for _ in range(400):
            after.update((r.worker, r.version) for r in backend.get_rollouts(timeout_s=5.0))
            if (1, 3) in after and (0, 3) in after:
                break
        assert backend.replaced == 1
        assert (1, 3) in after and (0, 3) in after, after  # the new worker 1 acts with v3
    finally:
        backend.stop()


def test_ppo_trains_through_ray_actors(local_ray, tmp_path):
    config = apply_overrides(teacher_configs.ppo_config("cartpole", "smoke", seed=1), [
        "actor_backend=ray", "total_transitions=4096", "eval_episodes=2",
        "final_eval_episodes=2"])
    out = str(tmp_path / "cartpole.npz")
    result = train_ppo_teacher(config, ENVS.env_spec("cartpole"), ENV_MODULE, out,
                               out + ".csv", out + ".png", threads=1, log=lambda m: None)
    assert result["updates"] >= 1 and os.path.exists(out)

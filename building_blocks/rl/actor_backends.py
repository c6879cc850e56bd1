"""The actor backend of a PPO teacher by name (``PPOConfig.actor_backend``): worker processes
('process', actors.py), the envs stepped in the learner's own process ('inline', actors.py), or
Ray actors, possibly on other machines ('ray', ray_actors.py; Ray is imported only then)."""
from building_blocks.rl import actors


def make_backend(kind, setups):
    """An ActorBackend of ``kind`` over ``setups`` (one actors.WorkerSetup per worker)."""
    if kind == "process":
        return actors.ProcessActors(setups)
    if kind == "inline":
        return actors.InlineActors(setups)
    if kind == "ray":
        from building_blocks.rl import ray_actors  # pylint: disable=g-import-not-at-top
        return ray_actors.RayActors(setups)
    raise ValueError("unknown actor backend %r (expected 'process', 'inline' or 'ray')" % kind)

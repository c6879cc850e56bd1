"""Which environment factory the RL tests use: ``building_blocks.envs`` once it exists,
else the temporary gym adapter ``tests/fake_envs.py`` (delete that at merge)."""
try:
    from building_blocks import envs as ENVS  # noqa: F401
    ENV_MODULE = "building_blocks.envs"
except ImportError:
    from tests import fake_envs as ENVS  # noqa: F401
    ENV_MODULE = "tests.fake_envs"

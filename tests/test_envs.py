"""The env factory of the RL contract: spaces of every task, seeding, action clipping, episode
info and time limits, the vectorised env, and the env_info command."""
import json
import subprocess
import sys

import numpy as np
import pytest

from building_blocks.common.config import ConfigError
from building_blocks.rl.envs import ENV_SPECS, env_spec, make_env, make_vec_env
from reproduce.core.env_info import env_info
from tests.conftest import REPO

EXPECTED = {  # task: (obs shape, obs dtype, gym's action-space repr) — Tables 6 and 7
    "cartpole": ((4,), "float32", "Discrete(2)"),
    "mountaincar": ((2,), "float32", "Box(1,)"),
    "halfcheetah": ((17,), "float32", "Box(6,)"),
    "humanoid": ((376,), "float32", "Box(17,)"),
    "humanoid_standup": ((376,), "float32", "Box(17,)"),
    "pong": ((84, 84, 4), "uint8", "Discrete(6)"),
    "breakout": ((84, 84, 4), "uint8", "Discrete(4)"),
    "seaquest": ((84, 84, 4), "uint8", "Discrete(18)"),
    "enduro": ((84, 84, 4), "uint8", "Discrete(9)"),
    "pong_lowdim": ((48, 48, 2), "uint8", "Discrete(6)"),
}


def test_every_task_has_its_papers_spaces():
    assert set(ENV_SPECS) == set(EXPECTED)
    for name, (shape, dtype, action_repr) in EXPECTED.items():
        spec = env_spec(name)
        env = make_env(name, 0)
        obs = env.reset()
        assert obs.shape == shape == spec.obs_shape and obs.dtype == np.dtype(dtype), name
        assert spec.obs_dtype == dtype
        assert env.observation_space.shape == shape and repr(env.action_space) == action_repr
        assert env.observation_space.contains(obs) or dtype == "float32"
        discrete = action_repr.startswith("Discrete")
        assert spec.action_kind == ("discrete" if discrete else "continuous")
        assert (spec.action_low is None) == discrete
        obs, reward, done, info = env.step(env.action_space.sample())
        assert obs.shape == shape and isinstance(reward, float) and isinstance(done, bool)
        env.close()


def test_unknown_task_is_a_config_error_naming_the_valid_ones():
    with pytest.raises(ConfigError, match="valid --env values: cartpole, mountaincar"):
        env_spec("pong-v0")


@pytest.mark.parametrize("name", ["cartpole", "mountaincar", "halfcheetah", "humanoid"])
def test_seeded_resets_are_reproducible(name):
    first, again, other = make_env(name, 11), make_env(name, 11), make_env(name, 12)
    a, b, c = first.reset(), again.reset(), other.reset()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    action = np.zeros(first.action_space.shape) if name != "cartpole" else 1
    np.testing.assert_array_equal(first.step(action)[0], again.step(action)[0])


def test_continuous_actions_are_clipped_to_the_bounds():
    clipped, inside = make_env("halfcheetah", 3), make_env("halfcheetah", 3)
    clipped.reset(), inside.reset()
    big = np.array([5.0, -5.0, 0.5, 2.0, -0.3, -9.0])
    obs_a, reward_a, _, info_a = clipped.step(big)
    obs_b, reward_b, _, info_b = inside.step(np.clip(big, -1, 1))
    np.testing.assert_array_equal(obs_a, obs_b)
    assert reward_a == reward_b and info_a["reward_ctrl"] == pytest.approx(-0.1 * 4.34)


def test_time_limits_and_episode_info():
    env = make_env("halfcheetah", 0)   # never terminates: gym's TimeLimit 1000 ends it
    env.reset()
    total = 0.0
    for t in range(1, 1001):
        _, reward, done, info = env.step(np.zeros(6))
        total += reward
        assert done == (t == 1000)
    assert info["TimeLimit.truncated"] is True
    assert info["episode"] == {"r": pytest.approx(total), "l": 1000}
    env = make_env("cartpole", 0)       # always pushing right falls over quickly
    env.reset()
    for t in range(1, 201):
        _, _, done, info = env.step(1)
        if done:
            break
    assert t < 200 and info["episode"] == {"r": float(t), "l": t}


def test_vec_env_seeds_batches_and_auto_resets():
    vec = make_vec_env("cartpole", 3, seed=2)
    obs = vec.reset()
    assert obs.shape == (3, 4) and obs.dtype == np.float32
    for i in range(3):
        np.testing.assert_array_equal(obs[i], make_env("cartpole", 2 * 10007 + i).reset())
    finished = 0
    for _ in range(60):
        obs, rewards, dones, infos = vec.step(np.ones(3, np.int64))
        assert rewards.shape == (3,) and dones.dtype == np.bool_ and len(infos) == 3
        for i in np.flatnonzero(dones):
            finished += 1
            assert infos[i]["episode"]["l"] >= 1
            assert np.abs(infos[i]["terminal_observation"][2]) > 0.2   # the pole fell
            assert np.all(np.abs(obs[i]) <= 0.05)                     # a fresh reset state
    assert finished >= 3
    with pytest.raises(ValueError):
        vec.step(np.ones(2, np.int64))
    continuous = make_vec_env("humanoid", 2, seed=0)
    assert continuous.reset().shape == (2, 376)
    assert continuous.step(np.zeros((2, 17)))[0].shape == (2, 376)


def test_env_info_is_deterministic_per_seed():
    a, b = env_info("mountaincar", 4, 300), env_info("mountaincar", 4, 300)
    c = env_info("mountaincar", 5, 300)
    assert a["return"] == b["return"] != c["return"]
    assert a["obs_shape"] == [2] and a["action_space"] == "Box(1,)" and a["steps"] == 300


def test_env_info_cli_prints_one_json_line_and_rejects_unknown_envs():
    command = [sys.executable, "-m", "reproduce", "env_info", "--env", "pong_lowdim",
               "--seed", "1", "--steps", "30"]
    result = subprocess.run(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    lines = [l for l in result.stdout.decode().splitlines() if l.strip()]
    record = json.loads(lines[-1])
    assert record["obs_shape"] == [48, 48, 2] and record["action_space"] == "Discrete(6)"
    assert record["steps"] == 30 and isinstance(record["return"], float)
    bad = subprocess.run(command[:5] + ["nope"], cwd=REPO, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    assert bad.returncode == 2 and "valid --env values" in bad.stderr.decode()


def test_env_throughput_reports_rates():
    from reproduce.bench.envs import env_throughput
    result = env_throughput("cartpole", num_envs=4, steps=400)
    for key in ("raw_sim_steps_per_s", "single_env_steps_per_s", "vec_env_steps_per_s"):
        assert result[key] > 0
    assert result["vec_over_single"] == pytest.approx(
        result["vec_env_steps_per_s"] / result["single_env_steps_per_s"])


def test_the_image_experiments_and_the_task_lists_never_import_gym():
    """With gym made unimportable, the grid, Table 1's cells, the registry (which lists the RL
    families), policies and the task specs still import: gym is loaded only to make an env
    (the TF 2.x lane has no gym)."""
    code = ("import sys\n"
            "sys.modules['gym'] = None\n"
            "import reproduce.table1.image_cells, reproduce.grid.registry\n"
            "import reproduce.grid.grid, reproduce.rl.teacher_configs\n"
            "import building_blocks.rl.policies, building_blocks.rl.policy_runner\n"
            "from building_blocks.rl import envs\n"
            "assert envs.ATARI_TASKS == ('pong', 'breakout', 'seaquest', 'enduro', "
            "'pong_lowdim')\n"
            "try:\n"
            "    envs.make_env('cartpole', 0)\n"
            "except ImportError:\n"
            "    print('gym-free')\n")
    out = subprocess.run([sys.executable, "-c", code], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, timeout=300, cwd=REPO)
    assert out.stdout.decode().strip().endswith("gym-free"), out.stdout.decode()[-2000:]


def test_gym_warnings_carry_no_ansi_colour_codes():
    """Issue 15: gym's 'Box bound precision lowered' warning printed raw '[33m' in logs."""
    import warnings
    from building_blocks.rl import envs
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        env = envs.make_env("cartpole", seed=0)
        import gym
        gym.logger.warn("a %s warning", "test")
        env.close()
    messages = [str(w.message) for w in caught]
    assert "WARN: a test warning" in messages
    assert not any("\x1b[" in m for m in messages)


def test_env_flag_accepts_a_tasks_gym_id():
    from building_blocks.common.config import ConfigError
    from building_blocks.rl.envs.specs import resolve_task
    assert resolve_task("HalfCheetah-v2") == "halfcheetah"
    assert resolve_task("humanoid") == "humanoid"
    with pytest.raises(ConfigError, match="pong, pong_lowdim"):
        resolve_task("PongNoFrameskip-v4")
    with pytest.raises(ConfigError, match="HalfCheetah-v2"):
        resolve_task("Hopper-v2")

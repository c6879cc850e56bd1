"""MuJoCo v2 tasks against gym 0.15.7's formulas (half_cheetah.py, humanoid.py,
humanoidstandup.py, mujoco_env.py), recomputed here from the simulator state."""
import copy

import numpy as np
import pytest
from gym.utils import seeding

from building_blocks.rl.envs import env_spec, make_env
from building_blocks.rl.envs.mujoco_tasks import (TASK_CLASSES, MujocoBackend, mass_center_x,
                                               mujoco_py_available)

MUJOCO_PY, MUJOCO_PY_REASON = mujoco_py_available()


def official(task, seed=0):
    env = TASK_CLASSES[task]("mujoco")
    env.seed(seed)
    return env


@pytest.mark.parametrize("task,obs_dim,action_dim,bound", [
    ("halfcheetah", 17, 6, 1.0), ("humanoid", 376, 17, 0.4), ("humanoid_standup", 376, 17, 0.4)])
def test_dimensions_and_bounds_come_from_the_xml(task, obs_dim, action_dim, bound):
    env = official(task)
    spec = env_spec(task)
    assert env.reset().shape == (obs_dim,) == spec.obs_shape
    np.testing.assert_array_equal(env.model.actuator_ctrlrange[:, 0], spec.action_low)
    np.testing.assert_array_equal(env.model.actuator_ctrlrange[:, 1], spec.action_high)
    assert spec.action_dim == action_dim and np.all(spec.action_high == bound)
    assert env.frame_skip == 5


def test_reset_noise_is_gyms():
    """mujoco_env.reset: init + U(±0.1) qpos, + 0.1·N(0,1) qvel (HalfCheetah); U(±0.01) both
    (Humanoid), drawn from gym.utils.seeding.np_random(seed)."""
    for task, draw in (("halfcheetah", lambda r, m: (r.uniform(-.1, .1, m.nq),
                                                     r.randn(m.nv) * .1)),
                       ("humanoid", lambda r, m: (r.uniform(-.01, .01, m.nq),
                                                  r.uniform(-.01, .01, m.nv)))):
        env = official(task, seed=7)
        env.reset()
        rng, _ = seeding.np_random(7)
        dq, dv = draw(rng, env.model)
        np.testing.assert_allclose(env.data.qpos, env.init_qpos + dq, atol=1e-15)
        np.testing.assert_allclose(env.data.qvel, env.init_qvel + dv, atol=1e-15)
        np.testing.assert_array_equal(env.init_qpos, env.model.qpos0)
    a, b = make_env("humanoid", 3), make_env("humanoid", 3)
    np.testing.assert_array_equal(a.reset(), b.reset())
    assert not np.array_equal(a.reset(), make_env("humanoid", 4).reset())


def test_halfcheetah_observation_and_reward():
    env = official("halfcheetah", seed=1)
    obs = env.reset()
    d = env.data
    np.testing.assert_array_equal(obs, np.concatenate([d.qpos[1:], d.qvel]))
    rng = np.random.RandomState(0)
    assert env.dt == pytest.approx(0.05)
    for _ in range(20):
        action = rng.uniform(-1, 1, 6)
        x_before = d.qpos[0]
        obs, reward, done, info = env.step(action)
        expected = (d.qpos[0] - x_before) / 0.05 - 0.1 * np.sum(action ** 2)
        assert reward == pytest.approx(expected, rel=1e-12, abs=1e-12)
        assert info["reward_ctrl"] == pytest.approx(-0.1 * np.sum(action ** 2))
        assert done is False
        np.testing.assert_array_equal(obs, np.concatenate([d.qpos[1:], d.qvel]))


def humanoid_obs_parts(obs):
    """gym's Humanoid layout: qpos[2:] 22, qvel 23, cinert 14×10, cvel 14×6, qfrc_actuator 23,
    cfrc_ext 14×6."""
    sizes = [22, 23, 140, 84, 23, 84]
    return np.split(obs, np.cumsum(sizes)[:-1])


def test_humanoid_observation_reward_and_termination():
    env = official("humanoid", seed=2)
    obs = env.reset()
    d, m = env.data, env.model
    rng = np.random.RandomState(1)
    saw_contact_force = False
    for t in range(200):
        parts = humanoid_obs_parts(obs)
        for part, field in zip(parts, (d.qpos[2:], d.qvel, d.cinert, d.cvel, d.qfrc_actuator,
                                       d.cfrc_ext)):
            np.testing.assert_array_equal(part, np.ravel(field))
        action = rng.uniform(-0.4, 0.4, 17)
        mass = m.body_mass[:, None]
        com_before = (np.sum(mass * d.xipos, 0) / np.sum(mass))[0]
        obs, reward, done, info = env.step(action)
        com_after = (np.sum(mass * d.xipos, 0) / np.sum(mass))[0]
        assert com_after == mass_center_x(m, d)
        impact = min(0.5e-6 * np.sum(np.square(d.cfrc_ext)), 10)
        expected = 1.25 * (com_after - com_before) / 0.015 - 0.1 * np.sum(action ** 2) \
            - impact + 5.0
        assert reward == pytest.approx(expected, rel=1e-12, abs=1e-12)
        saw_contact_force |= impact > 0
        assert done == (not 1.0 <= d.qpos[2] <= 2.0)
        if done:
            break
    assert done, "a random humanoid should fall within 200 steps"
    # MuJoCo 1.50 filled cfrc_ext in every step; our official backend must too.
    assert saw_contact_force


def test_humanoid_standup_reward():
    env = official("humanoid_standup", seed=3)
    env.reset()
    d = env.data
    rng = np.random.RandomState(2)
    saw_contact_force = False
    for _ in range(30):
        action = rng.uniform(-0.4, 0.4, 17)
        obs, reward, done, _ = env.step(action)
        impact = min(0.5e-6 * np.sum(np.square(d.cfrc_ext)), 10)
        expected = d.qpos[2] / 0.003 - 0.1 * np.sum(action ** 2) - impact + 1
        assert reward == pytest.approx(expected, rel=1e-12)
        assert done is False
        np.testing.assert_array_equal(humanoid_obs_parts(obs)[5], d.cfrc_ext.ravel())
        saw_contact_force |= impact > 0
    assert saw_contact_force   # lying on the floor


@pytest.mark.parametrize("task", ["halfcheetah", "humanoid"])
def test_official_backend_steps_exactly_like_mj_step(task):
    """Our split step (forward, rnePostConstraint, integrate) moves the state bit for bit like
    mujoco.mj_step; cfrc_ext is the pre-step contact force, as MuJoCo 1.50 left it."""
    import mujoco
    ours = official(task)
    ours.reset()
    model = ours.model
    ref = copy.copy(ours.data)   # the whole mjData, warm start included
    rng = np.random.RandomState(0)
    for _ in range(10):
        ctrl = rng.uniform(model.actuator_ctrlrange[:, 0], model.actuator_ctrlrange[:, 1])
        ref.ctrl[:] = ctrl
        for _ in range(ours.frame_skip):
            probe = mujoco.MjData(model)
            probe.qpos[:], probe.qvel[:], probe.ctrl[:] = ref.qpos, ref.qvel, ctrl
            probe.qacc_warmstart[:] = ref.qacc_warmstart
            mujoco.mj_forward(model, probe)
            mujoco.mj_rnePostConstraint(model, probe)
            mujoco.mj_step(model, ref)
        ours.step(ctrl)
        np.testing.assert_array_equal(ours.data.qpos, ref.qpos)
        np.testing.assert_array_equal(ours.data.qvel, ref.qvel)
        np.testing.assert_allclose(ours.data.cfrc_ext, probe.cfrc_ext, rtol=1e-9, atol=1e-9)


@pytest.mark.skipif(not MUJOCO_PY, reason="mujoco-py not importable (%s); the Docker image has "
                    "it" % MUJOCO_PY_REASON)
@pytest.mark.parametrize("task,gym_id", [("halfcheetah", "HalfCheetah-v2"),
                                         ("humanoid", "Humanoid-v2"),
                                         ("humanoid_standup", "HumanoidStandup-v2")])
def test_backends_agree(task, gym_id):
    """Our classes on mujoco-py equal gym 0.15's own classes; on the official bindings
    (MuJoCo 2.3) they agree at reset and stay close over a few steps (contact model changes)."""
    import gym
    gym_env = gym.make(gym_id).unwrapped
    gym_env.seed(5)
    ours_py = TASK_CLASSES[task]("mujoco_py")
    ours_py.seed(5)
    ours_mj = official(task, seed=5)
    obs_gym, obs_py, obs_mj = gym_env.reset(), ours_py.reset(), ours_mj.reset()
    np.testing.assert_allclose(obs_py, obs_gym, rtol=1e-12, atol=1e-12)
    kinematic = slice(0, 17) if task == "halfcheetah" else slice(0, 269)
    np.testing.assert_allclose(obs_mj[kinematic], obs_py[kinematic], rtol=1e-6, atol=1e-6)
    rng = np.random.RandomState(0)
    low, high = ours_py.model.actuator_ctrlrange.T
    for _ in range(3):
        action = rng.uniform(low, high)
        o_gym, r_gym, d_gym, _ = gym_env.step(action)
        o_py, r_py, d_py, _ = ours_py.step(action)
        o_mj, _, _, _ = ours_mj.step(action)
        np.testing.assert_allclose(o_py, o_gym, rtol=1e-10, atol=1e-10)
        assert r_py == pytest.approx(r_gym, rel=1e-10, abs=1e-10) and d_py == d_gym
        np.testing.assert_allclose(ours_mj.data.qpos, ours_py.data.qpos, atol=0.05)
    assert isinstance(ours_mj.sim, MujocoBackend)

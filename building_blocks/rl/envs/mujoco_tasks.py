"""HalfCheetah-v2, Humanoid-v2 and HumanoidStandup-v2 of gym 0.15.7, on either MuJoCo binding.

gym 0.15's v2 classes need mujoco-py 1.50 (MuJoCo 1.50 binaries). These classes rebuild them on
a small simulator backend with two implementations:

- `MujocoBackend`: the official `mujoco` Python bindings (2.3.x), used when mujoco-py is absent;
- `MujocoPyBackend`: mujoco-py (MuJoCo 1.50, the Docker image), used when it imports.

Both load gym 0.15's own XML assets. Observations, rewards, termination, frame skip, reset noise
and seeding (gym.utils.seeding) are those of gym's `half_cheetah.py`, `humanoid.py`,
`humanoidstandup.py` and `mujoco_env.py`.

MuJoCo 1.50 ran `mj_rnePostConstraint` inside every `mj_forward`/`mj_step`, which fills
`cfrc_ext` (Humanoid's contact forces, part of its observation and reward). MuJoCo >= 2.0 calls
it only for force sensors, so with the official bindings `cfrc_ext` would stay zero. The official
backend therefore steps as `mj_step` does (checkPos, checkVel, forward, checkAcc, integrate) and
calls `mj_rnePostConstraint` right after the forward pass, as 1.50 did: `cfrc_ext` then holds the
contact forces of the state at the start of the last substep, the 1.50 value (with RK4 the other
derived fields come from the last Runge-Kutta stage, in both versions).
"""
import os

import gym
import numpy as np
from gym import spaces
from gym.utils import seeding

from building_blocks.common.config import ConfigError

ASSETS = os.path.join(os.path.dirname(gym.__file__), "envs", "mujoco", "assets")
BACKEND_VARIABLE = "GAS_MUJOCO_BACKEND"   # 'mujoco' | 'mujoco_py' | unset (auto)


class MujocoBackend:
    """One simulation on the official `mujoco` bindings, stepping like MuJoCo 1.50 (see above)."""
    name = "mujoco"

    def __init__(self, xml_path):
        import mujoco
        self._mj = mujoco
        self.model = mujoco.MjModel.from_xml_path(xml_path)
        self.data = mujoco.MjData(self.model)
        self.version = mujoco.__version__
        integrator = int(self.model.opt.integrator)
        if integrator == int(mujoco.mjtIntegrator.mjINT_RK4):
            self._integrate = lambda m, d: mujoco.mj_RungeKutta(m, d, 4)
        elif integrator == int(mujoco.mjtIntegrator.mjINT_EULER):
            self._integrate = mujoco.mj_Euler
        else:
            raise ValueError("%s: only the Euler and RK4 integrators of MuJoCo 1.50 are supported"
                             % xml_path)

    def reset(self):
        self._mj.mj_resetData(self.model, self.data)

    def set_state(self, qpos, qvel):
        """mujoco-py's MjSim.set_state + forward: keeps time and act, recomputes derived fields."""
        self.data.qpos[:] = qpos
        self.data.qvel[:] = qvel
        self._mj.mj_forward(self.model, self.data)
        self._mj.mj_rnePostConstraint(self.model, self.data)
        # MuJoCo 2.3's kinematics normalises free-joint quaternions in qpos in place; 1.50
        # normalised a copy, so gym's reset observation holds the noisy, unnormalised qpos.
        # Restore it (the next step normalises before using it, as 1.50 did).
        self.data.qpos[:] = qpos

    def step(self, ctrl, n_frames):
        mj, m, d = self._mj, self.model, self.data
        d.ctrl[:] = ctrl
        for _ in range(n_frames):
            # mj_step of MuJoCo 2.3, with 1.50's mj_rnePostConstraint after the forward pass.
            mj.mj_checkPos(m, d)
            mj.mj_checkVel(m, d)
            mj.mj_forward(m, d)
            mj.mj_rnePostConstraint(m, d)
            mj.mj_checkAcc(m, d)
            self._integrate(m, d)


class MujocoPyBackend:
    """One simulation on mujoco-py 1.50 (MuJoCo 1.50 fills cfrc_ext in every step itself)."""
    name = "mujoco_py"

    def __init__(self, xml_path):
        import mujoco_py
        self._mujoco_py = mujoco_py
        self.model = mujoco_py.load_model_from_path(xml_path)
        self.sim = mujoco_py.MjSim(self.model)
        self.data = self.sim.data
        self.version = mujoco_py.__version__

    def reset(self):
        self.sim.reset()

    def set_state(self, qpos, qvel):
        old = self.sim.get_state()
        self.sim.set_state(self._mujoco_py.MjSimState(old.time, qpos, qvel, old.act,
                                                      old.udd_state))
        self.sim.forward()

    def step(self, ctrl, n_frames):
        self.data.ctrl[:] = ctrl
        for _ in range(n_frames):
            self.sim.step()


def mujoco_py_available():
    """(True, None) when mujoco-py imports, else (False, the reason)."""
    try:
        import mujoco_py  # noqa: F401
    except Exception as e:  # mujoco-py raises plain Exceptions when the binaries are missing
        return False, "%s: %s" % (type(e).__name__, str(e).splitlines()[0] if str(e) else "")
    return True, None


def default_backend():
    """'mujoco_py' when it imports (Docker, MuJoCo 1.50), else 'mujoco'; $GAS_MUJOCO_BACKEND
    forces one."""
    forced = os.environ.get(BACKEND_VARIABLE)
    if forced:
        if forced not in BACKENDS:
            raise ConfigError("$%s=%r: expected one of %s" % (BACKEND_VARIABLE, forced,
                                                              ", ".join(BACKENDS)))
        return forced
    return "mujoco_py" if mujoco_py_available()[0] else "mujoco"


BACKENDS = {"mujoco": MujocoBackend, "mujoco_py": MujocoPyBackend}


class MujocoTask(gym.Env):
    """gym 0.15's MujocoEnv: frame skip, init_qpos/init_qvel, reset noise, dt, seeding.

    Observations are float64 as in gym (the task wrapper casts them); `step` takes the action
    as given (the task wrapper clips it to the ctrlrange first).
    """
    xml_file = None
    frame_skip = 5

    def __init__(self, backend=None):
        backend = backend or default_backend()
        if backend not in BACKENDS:
            raise ConfigError("unknown MuJoCo backend %r; expected one of %s"
                              % (backend, ", ".join(BACKENDS)))
        self.sim = BACKENDS[backend](os.path.join(ASSETS, self.xml_file))
        self.model, self.data = self.sim.model, self.sim.data
        self.init_qpos = np.array(self.data.qpos, dtype=np.float64).ravel()
        self.init_qvel = np.array(self.data.qvel, dtype=np.float64).ravel()
        low, high = np.array(self.model.actuator_ctrlrange, dtype=np.float32).T
        self.action_space = spaces.Box(low=low, high=high, dtype=np.float32)
        obs_dim = self.observation_dim()
        self.observation_space = spaces.Box(-np.inf, np.inf, (obs_dim,), dtype=np.float64)
        self.seed()

    @property
    def backend(self):
        return self.sim.name

    @property
    def dt(self):
        return self.model.opt.timestep * self.frame_skip

    def seed(self, seed=None):
        self.np_random, seed = seeding.np_random(seed)
        return [seed]

    def set_state(self, qpos, qvel):
        self.sim.set_state(qpos, qvel)

    def do_simulation(self, ctrl, n_frames):
        self.sim.step(ctrl, n_frames)

    def reset(self):
        self.sim.reset()
        return self.reset_model()

    def observation_dim(self):
        raise NotImplementedError

    def reset_model(self):
        raise NotImplementedError


class HalfCheetah(MujocoTask):
    """HalfCheetah-v2: reward = Δx/dt − 0.1·|a|², never done (the TimeLimit ends episodes)."""
    xml_file = "half_cheetah.xml"

    def observation_dim(self):
        return (self.model.nq - 1) + self.model.nv

    def _get_obs(self):
        return np.concatenate([self.data.qpos.flat[1:], self.data.qvel.flat])

    def step(self, action):
        x_before = self.data.qpos[0]
        self.do_simulation(action, self.frame_skip)
        x_after = self.data.qpos[0]
        reward_run = (x_after - x_before) / self.dt
        reward_ctrl = -0.1 * np.square(action).sum()
        return (self._get_obs(), reward_run + reward_ctrl, False,
                dict(reward_run=reward_run, reward_ctrl=reward_ctrl))

    def reset_model(self):
        qpos = self.init_qpos + self.np_random.uniform(low=-.1, high=.1, size=self.model.nq)
        qvel = self.init_qvel + self.np_random.randn(self.model.nv) * .1
        self.set_state(qpos, qvel)
        return self._get_obs()


def mass_center_x(model, data):
    """x of the mass-weighted mean of the bodies' centres of mass (gym's mass_center)."""
    mass = np.expand_dims(model.body_mass, 1)
    return (np.sum(mass * data.xipos, 0) / np.sum(mass))[0]


class _HumanoidBase(MujocoTask):
    """Shared by Humanoid-v2 and HumanoidStandup-v2: 376-d observation, ±0.01 uniform reset."""

    def observation_dim(self):
        m = self.model
        return (m.nq - 2) + m.nv + 10 * m.nbody + 6 * m.nbody + m.nv + 6 * m.nbody

    def _get_obs(self):
        d = self.data
        return np.concatenate([d.qpos.flat[2:], d.qvel.flat, d.cinert.flat, d.cvel.flat,
                               d.qfrc_actuator.flat, d.cfrc_ext.flat])

    def _costs(self):
        quad_ctrl_cost = 0.1 * np.square(self.data.ctrl).sum()
        quad_impact_cost = min(.5e-6 * np.square(self.data.cfrc_ext).sum(), 10)
        return quad_ctrl_cost, quad_impact_cost

    def reset_model(self):
        c = 0.01
        self.set_state(self.init_qpos + self.np_random.uniform(low=-c, high=c, size=self.model.nq),
                       self.init_qvel + self.np_random.uniform(low=-c, high=c, size=self.model.nv))
        return self._get_obs()


class Humanoid(_HumanoidBase):
    """Humanoid-v2: 1.25·Δ(mass-centre x)/dt − 0.1·|ctrl|² − min(5e-7·|cfrc_ext|², 10) + 5;
    done when the torso height qpos[2] leaves [1, 2]."""
    xml_file = "humanoid.xml"

    def step(self, action):
        x_before = mass_center_x(self.model, self.data)
        self.do_simulation(action, self.frame_skip)
        x_after = mass_center_x(self.model, self.data)
        alive_bonus = 5.0
        lin_vel_cost = 1.25 * (x_after - x_before) / self.dt
        quad_ctrl_cost, quad_impact_cost = self._costs()
        reward = lin_vel_cost - quad_ctrl_cost - quad_impact_cost + alive_bonus
        height = self.data.qpos[2]
        done = bool(height < 1.0 or height > 2.0)
        return self._get_obs(), reward, done, dict(
            reward_linvel=lin_vel_cost, reward_quadctrl=-quad_ctrl_cost,
            reward_alive=alive_bonus, reward_impact=-quad_impact_cost)


class HumanoidStandup(_HumanoidBase):
    """HumanoidStandup-v2: qpos[2]/timestep − 0.1·|ctrl|² − min(5e-7·|cfrc_ext|², 10) + 1,
    never done. (gym divides by the model timestep, not dt; kept.)"""
    xml_file = "humanoidstandup.xml"

    def step(self, action):
        self.do_simulation(action, self.frame_skip)
        uph_cost = (self.data.qpos[2] - 0) / self.model.opt.timestep
        quad_ctrl_cost, quad_impact_cost = self._costs()
        reward = uph_cost - quad_ctrl_cost - quad_impact_cost + 1
        return self._get_obs(), reward, False, dict(
            reward_linup=uph_cost, reward_quadctrl=-quad_ctrl_cost,
            reward_impact=-quad_impact_cost)


TASK_CLASSES = {"halfcheetah": HalfCheetah, "humanoid": Humanoid,
                "humanoid_standup": HumanoidStandup}

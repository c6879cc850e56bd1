"""In-process vectorised environments: N envs stepped in a loop, auto-reset, batched arrays."""
import numpy as np


class VecEnv:
    """N TaskEnvs of one task stepped together.

    reset() -> obs [N, *obs_shape]; step(actions [N] or [N, D]) -> (obs [N, ...], rewards [N]
    float32, dones [N] bool, infos: list of N dicts). An env whose episode ended is reset at
    once: obs[i] is then the first observation of its next episode, and infos[i] holds
    'terminal_observation' (the last one) and 'episode' as make_env reported it.
    """

    def __init__(self, envs):
        if not envs:
            raise ValueError("VecEnv needs at least one env")
        self.envs = list(envs)
        self.num_envs = len(self.envs)
        self.task_spec = self.envs[0].task_spec
        self.observation_space = self.envs[0].observation_space
        self.action_space = self.envs[0].action_space
        self._obs = np.zeros((self.num_envs,) + tuple(self.task_spec.obs_shape),
                             dtype=self.task_spec.obs_dtype)

    def reset(self):
        for i, env in enumerate(self.envs):
            self._obs[i] = env.reset()
        return self._obs.copy()

    def step(self, actions):
        actions = np.asarray(actions)
        if actions.shape[0] != self.num_envs:
            raise ValueError("step: got %d actions for %d envs" % (actions.shape[0],
                                                                   self.num_envs))
        rewards = np.zeros(self.num_envs, np.float32)
        dones = np.zeros(self.num_envs, np.bool_)
        infos = []
        for i, env in enumerate(self.envs):
            obs, rewards[i], dones[i], info = env.step(actions[i])
            if dones[i]:
                info["terminal_observation"] = obs
                obs = env.reset()
            self._obs[i] = obs
            infos.append(info)
        return self._obs.copy(), rewards, dones, infos

    def close(self):
        for env in self.envs:
            env.close()

"""Acting with a policy outside the learner's graph: in actor worker processes and for
evaluation. TensorFlow-free for MLP policies (numpy forward pass from the weights dict);
an Impala policy gets a small TF graph of its own, imported only when needed.

``ActingModel.act(obs, deterministic)`` returns (actions, log_probs [N], values [N]);
stochastic actions are sampled from the categorical / diagonal Gaussian (continuous
actions are not clipped here: the environment wrapper clips, and log-probs are of the
sampled action); deterministic ones are the argmax / mean.
"""
import numpy as np

OBS_CLIP = 5.0       # keep equal to policies.OBS_CLIP
RMS_EPSILON = 1e-8   # keep equal to policies.RMS_EPSILON


def mlp_forward(params, raw_obs, action_kind):
    """An MLPPolicy's forward pass from ``params`` {relative variable name: array}
    (policies.network_params). raw_obs [B, obs_dim] → (dist_params, value [B]); dist_params
    is logits [B, K] or (mean [B, D], log_std [D])."""
    obs = np.asarray(raw_obs, np.float64).reshape(len(raw_obs), -1)
    obs = (obs - params["obs_rms/mean"]) / np.sqrt(params["obs_rms/var"] + RMS_EPSILON)
    obs = np.clip(obs, -OBS_CLIP, OBS_CLIP).astype(np.float32)
    hidden = values = obs
    i = 0
    while "pi/fc%d/w" % i in params:
        hidden = np.tanh(hidden @ params["pi/fc%d/w" % i] + params["pi/fc%d/b" % i])
        values = np.tanh(values @ params["v/fc%d/w" % i] + params["v/fc%d/b" % i])
        i += 1
    value = (values @ params["v/out/w"] + params["v/out/b"])[:, 0]
    if action_kind == "discrete":
        return hidden @ params["pi/logits/w"] + params["pi/logits/b"], value
    mean = hidden @ params["pi/mean/w"] + params["pi/mean/b"]
    return (mean, params["pi/log_std"]), value


def sample(dist_params, action_kind, rng, deterministic=False):
    """(actions, log π(actions)) from logits [N, K] or (mean [N, D], log_std [D])."""
    if action_kind == "discrete":
        logits = np.asarray(dist_params, np.float64)
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        if deterministic:
            actions = log_p.argmax(axis=1)
        else:  # Gumbel-max sampling
            actions = (log_p - np.log(-np.log(rng.uniform(size=log_p.shape)))).argmax(axis=1)
        return actions.astype(np.int32), log_p[np.arange(len(actions)), actions].astype(np.float32)
    mean, log_std = dist_params
    mean = np.asarray(mean, np.float64)
    log_std = np.broadcast_to(np.asarray(log_std, np.float64), mean.shape)
    actions = mean if deterministic else mean + np.exp(log_std) * rng.standard_normal(mean.shape)
    z = (actions - mean) / np.exp(log_std)
    log_prob = np.sum(-0.5 * z ** 2 - log_std - 0.5 * np.log(2 * np.pi), axis=1)
    return actions.astype(np.float32), log_prob.astype(np.float32)


class ActingModel(object):
    """A policy that acts from a params dict; ``set_params`` takes a new version."""

    def __init__(self, action_kind, seed):
        self.action_kind = action_kind
        self.rng = np.random.RandomState(seed)
        self.params = None

    def set_params(self, params):
        self.params = params

    def forward(self, obs):
        raise NotImplementedError

    def act(self, obs, deterministic=False):
        dist_params, values = self.forward(obs)
        actions, log_probs = sample(dist_params, self.action_kind, self.rng, deterministic)
        return actions, log_probs, np.asarray(values, np.float32)


class NumpyMLPModel(ActingModel):
    def forward(self, obs):
        return mlp_forward(self.params, obs, self.action_kind)


class TFModel(ActingModel):
    """Any policy of policies.make_policy in a one-thread graph of its own (Impala)."""

    def __init__(self, task, role, spec, seed):
        super(TFModel, self).__init__(spec.action_kind, seed)
        from building_blocks.rl import policies  # pylint: disable=g-import-not-at-top
        from building_blocks.common.tf_compat import make_session, tf  # pylint: disable=g-import-not-at-top
        self.graph = tf.Graph()
        with self.graph.as_default():
            self.net = policies.make_policy(task, role, spec=spec)
            dtype = tf.uint8 if spec.obs_dtype == "uint8" else tf.float32
            self.obs = tf.placeholder(dtype, (None,) + tuple(spec.obs_shape))
            out = self.net(self.net.normalize(self.obs))
            dist = out.logits if out.logits is not None else (out.mean, self.net.log_std)
            self.fetch = (dist, out.value)
            self.names = [self.net.relative_name(v) for v in self.net.variables]
        self.graph.finalize()
        self.sess = make_session(self.graph, threads=1)

    def set_params(self, params):
        super(TFModel, self).set_params(params)
        for name, variable in zip(self.names, self.net.variables):
            variable.load(params[name], self.sess)

    def forward(self, obs):
        return self.sess.run(self.fetch, {self.obs: obs})


def make_acting_model(task, role, spec, seed):
    """NumpyMLPModel for vector observations, TFModel for image (Impala) policies."""
    if len(spec.obs_shape) == 1:
        return NumpyMLPModel(spec.action_kind, seed)
    return TFModel(task, role, spec, seed)


def play_episodes(vec, act, episodes):
    """(returns, lengths) of the first episode of each of the ``episodes`` envs of ``vec``
    (reset here, closed at the end), acting with ``act(obs) -> actions``: one env per
    episode, each counted at its first episode's end, so short episodes are not
    over-counted. The one evaluation routine of PPO teachers and distilled students."""
    try:
        obs = vec.reset()
        returns, lengths = [None] * episodes, [None] * episodes
        while any(r is None for r in returns):
            obs, _, _, infos = vec.step(act(obs))
            for i, info in enumerate(infos):
                if returns[i] is None and "episode" in info:
                    returns[i] = float(info["episode"]["r"])
                    lengths[i] = int(info["episode"]["l"])
    finally:
        if hasattr(vec, "close"):
            vec.close()
    return returns, lengths


def evaluate(env_module, task, model, episodes, seed, deterministic=True, max_frames=0):
    """Returns of ``episodes`` full episodes, one per env of a fresh vec env seeded ``seed``
    (``max_frames`` > 0: Atari games end after that many emulator frames)."""
    import importlib  # pylint: disable=g-import-not-at-top
    envs = importlib.import_module(env_module)
    vec = envs.make_vec_env(task, episodes, seed, **({"max_frames": max_frames} if max_frames
                                                     else {}))
    return play_episodes(vec, lambda obs: model.act(obs, deterministic)[0], episodes)[0]

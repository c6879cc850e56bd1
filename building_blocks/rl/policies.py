"""Policy networks of the RL experiments (Table 5) and their observation normaliser.

- ``MLPPolicy``: vector observations; tanh MLP torso for the policy and a separate MLP of
  the same shape for the value; categorical logits (discrete) or a diagonal Gaussian with a
  state-independent log-std variable (continuous).
- ``ImpalaPolicy``: the residual CNN of Espeholt et al. (2018) for ALE frames; width 0.5 is
  the students' ImpalaHalf.
- ``RunningMeanStd``: running mean / variance of the observations, kept as non-trainable
  variables inside the policy's scope so ``checkpoint.save_network`` stores them with the
  weights (B.2: "Observations for all teachers are normalized using a running mean and
  standard deviation").

Calling a policy on *normalised* observations returns a ``PolicyOutput``; ``net.normalize``
maps raw observations to its input. ``building_blocks.rl.acting`` runs these policies in the
actor processes (an MLPPolicy in numpy, without TensorFlow).
"""
import collections

import numpy as np

from building_blocks.common.network import Network
from building_blocks.common.config import ConfigError
from building_blocks.common.seeds import variable_seed
from building_blocks.common.tf_compat import tf
from building_blocks.rl.envs.specs import ATARI_TASKS

PolicyOutput = collections.namedtuple("PolicyOutput",
                                      ["logits", "mean", "log_std", "value", "features"])

OBS_CLIP = 5.0          # normalised vector observations are clipped to ±5 (contract)
RMS_EPSILON = 1e-8


class RunningMeanStd(object):
    """Mean, variance and count of all observations seen, as float64 variables in the
    caller's variable scope (``obs_rms/mean``, ``obs_rms/var``, ``obs_rms/count``).

    ``update_op`` merges numpy-computed batch moments fed to ``batch_mean``, ``batch_var``
    (population variance) and ``batch_count`` with the parallel-variance formula of Chan
    et al. (1979): δ = μ_b − μ, n = n_a + n_b, μ' = μ + δ n_b / n,
    σ'² = (σ² n_a + σ_b² n_b + δ² n_a n_b / n) / n.
    """

    def __init__(self, shape, name="obs_rms"):
        self.shape = tuple(shape)
        with tf.variable_scope(name):
            self.mean = tf.get_variable("mean", self.shape, tf.float64, tf.zeros_initializer(),
                                        trainable=False)
            self.var = tf.get_variable("var", self.shape, tf.float64, tf.ones_initializer(),
                                       trainable=False)
            # Count 0: the first batch replaces the (0, 1) initial values exactly.
            self.count = tf.get_variable("count", [], tf.float64, tf.zeros_initializer(),
                                         trainable=False)
            self.batch_mean = tf.placeholder(tf.float64, self.shape, "batch_mean")
            self.batch_var = tf.placeholder(tf.float64, self.shape, "batch_var")
            self.batch_count = tf.placeholder(tf.float64, [], "batch_count")
            delta = self.batch_mean - self.mean
            total = self.count + self.batch_count
            new_mean = self.mean + delta * self.batch_count / total
            m2 = (self.var * self.count + self.batch_var * self.batch_count
                  + tf.square(delta) * self.count * self.batch_count / total)
            new_var = m2 / total
            # The new values are computed before any assignment runs.
            with tf.control_dependencies([new_mean, new_var, total]):
                self.update_op = tf.group(tf.assign(self.mean, new_mean),
                                          tf.assign(self.var, new_var),
                                          tf.assign(self.count, total))

    def update(self, sess, batch):
        """Merges the moments of ``batch`` [M, *shape] (numpy, M > 0) into the statistics."""
        batch = np.asarray(batch, np.float64).reshape((-1,) + self.shape)
        if not batch.shape[0]:
            return
        sess.run(self.update_op, {self.batch_mean: batch.mean(axis=0),
                                  self.batch_var: batch.var(axis=0),
                                  self.batch_count: float(batch.shape[0])})

    def normalize(self, obs):
        """(obs − μ) / sqrt(σ² + ε), clipped to ±5: float tensor [B, *shape] → float32."""
        mean = tf.cast(self.mean, tf.float32)
        std = tf.cast(tf.sqrt(self.var + RMS_EPSILON), tf.float32)
        return tf.clip_by_value((tf.cast(obs, tf.float32) - mean) / std, -OBS_CLIP, OBS_CLIP)


def _dense(in_dim, out_dim, name, gain, trainable):
    """Weights orthogonal × gain, zero bias (the usual PPO initialisation)."""
    with tf.variable_scope(name):
        w = tf.get_variable("w", [in_dim, out_dim], trainable=trainable,
                            initializer=tf.orthogonal_initializer(gain, seed=variable_seed("w")))
        b = tf.get_variable("b", [out_dim], initializer=tf.zeros_initializer(),
                            trainable=trainable)
    return w, b


class MLPPolicy(Network):
    """MLP policy and value (Table 5: MLP[64, 64], MLP[512]), tanh hidden units.

    Variables: pi/fc{i}, pi/logits or pi/mean (+ log_std [D], initialised to
    ``initial_log_std``, 0 unless the teacher's config says, teacher_configs), v/fc{i},
    v/out, obs_rms/*. ``features`` is the policy torso's last hidden layer.
    """

    def __init__(self, name, obs_dim, action_kind, action_dim, hidden=(64, 64), trainable=True,
                 initial_log_std=0.0):
        if action_kind not in ("discrete", "continuous"):
            raise ConfigError("action_kind must be 'discrete' or 'continuous', got %r"
                              % action_kind)
        self.obs_dim, self.action_kind, self.action_dim = int(obs_dim), action_kind, action_dim
        self.hidden = tuple(int(h) for h in hidden)
        self.initial_log_std = float(initial_log_std)
        super(MLPPolicy, self).__init__(name, trainable)

    def _build(self, trainable):
        self.obs_rms = RunningMeanStd((self.obs_dim,))
        sizes = (self.obs_dim,) + self.hidden
        self.pi_layers, self.v_layers = [], []
        for i in range(len(self.hidden)):
            self.pi_layers.append(_dense(sizes[i], sizes[i + 1], "pi/fc%d" % i, np.sqrt(2),
                                         trainable))
            self.v_layers.append(_dense(sizes[i], sizes[i + 1], "v/fc%d" % i, np.sqrt(2),
                                        trainable))
        head = "pi/logits" if self.action_kind == "discrete" else "pi/mean"
        self.pi_head = _dense(sizes[-1], self.action_dim, head, 0.01, trainable)
        self.v_head = _dense(sizes[-1], 1, "v/out", 1.0, trainable)
        self.log_std = None
        if self.action_kind == "continuous":
            self.log_std = tf.get_variable("pi/log_std", [self.action_dim],
                                           initializer=tf.constant_initializer(
                                               self.initial_log_std),
                                           trainable=trainable)

    def normalize(self, raw_obs):
        return self.obs_rms.normalize(raw_obs)

    def __call__(self, obs, training=False):
        """obs: normalised [B, obs_dim] → PolicyOutput."""
        del training  # no dropout / batch norm
        with tf.name_scope(self.scope_name.split("/")[-1]):
            h = obs
            for w, b in self.pi_layers:
                h = tf.tanh(tf.matmul(h, w) + b)
            features = h
            out = tf.matmul(h, self.pi_head[0]) + self.pi_head[1]
            v = obs
            for w, b in self.v_layers:
                v = tf.tanh(tf.matmul(v, w) + b)
            value = tf.squeeze(tf.matmul(v, self.v_head[0]) + self.v_head[1], axis=1)
            if self.action_kind == "discrete":
                return PolicyOutput(out, None, None, value, features)
            log_std = tf.zeros_like(out) + self.log_std
            return PolicyOutput(None, out, log_std, value, features)


class ImpalaPolicy(Network):
    """Espeholt et al. (2018)'s deep residual CNN: three stages of conv3×3 → maxpool3×3/2 →
    two residual blocks (ReLU → conv → ReLU → conv, + skip), channels (16, 32, 32) × width,
    then ReLU → fc 256 → ReLU → logits and value heads (shared torso). uint8 frames are
    scaled to [0, 1]; no running statistics (``obs_rms`` is None).
    """

    def __init__(self, name, obs_shape, num_actions, width=1.0, trainable=True):
        self.obs_shape = tuple(obs_shape)
        self.num_actions = int(num_actions)
        self.channels = [max(1, int(round(c * width))) for c in (16, 32, 32)]
        self.action_kind, self.action_dim = "discrete", self.num_actions
        super(ImpalaPolicy, self).__init__(name, trainable)

    def _build(self, trainable):
        from building_blocks.common import layers  # pylint: disable=g-import-not-at-top
        self.obs_rms = None
        in_ch = self.obs_shape[-1]
        self.stages = []
        height, width = self.obs_shape[0], self.obs_shape[1]
        for i, ch in enumerate(self.channels):
            conv = layers.Conv2D(in_ch, ch, 3, "stage%d/conv" % i, "SAME", trainable)
            blocks = [(layers.Conv2D(ch, ch, 3, "stage%d/res%d/conv0" % (i, j), "SAME", trainable),
                       layers.Conv2D(ch, ch, 3, "stage%d/res%d/conv1" % (i, j), "SAME", trainable))
                      for j in range(2)]
            self.stages.append((conv, blocks))
            in_ch = ch
            height, width = (height + 1) // 2, (width + 1) // 2
        self.flat_dim = height * width * in_ch
        self.fc = _dense(self.flat_dim, 256, "fc", np.sqrt(2), trainable)
        self.pi_head = _dense(256, self.num_actions, "pi/logits", 0.01, trainable)
        self.v_head = _dense(256, 1, "v/out", 1.0, trainable)

    def normalize(self, raw_obs):
        return tf.cast(raw_obs, tf.float32) / 255.0

    def __call__(self, obs, training=False):
        """obs: [B, H, W, C] floats in [0, 1] → PolicyOutput (logits [B, K])."""
        del training
        with tf.name_scope(self.scope_name.split("/")[-1]):
            h = obs
            for conv, blocks in self.stages:
                h = tf.nn.max_pool2d(conv(h), 3, 2, "SAME")
                for conv0, conv1 in blocks:
                    h = h + conv1(tf.nn.relu(conv0(tf.nn.relu(h))))
            h = tf.reshape(tf.nn.relu(h), [-1, self.flat_dim])
            features = tf.nn.relu(tf.matmul(h, self.fc[0]) + self.fc[1])
            logits = tf.matmul(features, self.pi_head[0]) + self.pi_head[1]
            value = tf.squeeze(tf.matmul(features, self.v_head[0]) + self.v_head[1], axis=1)
            return PolicyOutput(logits, None, None, value, features)


# Table 5 (teachers); HalfCheetah has no row: CHOICE MLP[64, 64] like the other MuJoCo tasks.
# Students of vector tasks (CHOICE, the paper names none): the teacher's hidden widths times
# ``student_width`` (PolicyDistillConfig; 1.0 by default, 0.5 = "Half" as LeNet-5-Half).
_ALE = ATARI_TASKS
TEACHER_MLP = {"humanoid": (64, 64), "humanoid_standup": (64, 64), "halfcheetah": (64, 64),
               "mountaincar": (512,), "cartpole": (512,)}


def architecture(task, role, student_width=1.0):
    """('mlp', hidden) or ('impala', width) of ``task``'s teacher or student; a vector task's
    student has ``student_width`` × its teacher's hidden widths, an ALE student is
    ImpalaHalf (Section 4)."""
    if role not in ("teacher", "student"):
        raise ConfigError("policy role must be 'teacher' or 'student', got %r" % role)
    if task in _ALE:
        return ("impala", 1.0 if role == "teacher" else 0.5)
    if task not in TEACHER_MLP:
        raise ConfigError("no policy architecture for task %r; known: %s"
                          % (task, ", ".join(sorted(list(TEACHER_MLP) + list(_ALE)))))
    hidden = TEACHER_MLP[task]
    if role == "student":
        hidden = tuple(max(1, int(round(h * student_width))) for h in hidden)
    return ("mlp", hidden)


def describe_architecture(task, role, student_width=1.0):
    kind, arg = architecture(task, role, student_width)
    if kind == "impala":
        return "Impala" if arg == 1.0 else "ImpalaHalf"
    return "MLP%s" % list(arg)


def make_policy(task, role, name=None, spec=None, trainable=True, initial_log_std=0.0,
                student_width=1.0):
    """The ``role`` ('teacher' | 'student') policy of ``task``; shapes from ``spec`` (an
    EnvSpec; default: ``building_blocks.rl.envs.env_spec(task)``)."""
    if spec is None:
        from building_blocks.rl import envs  # pylint: disable=g-import-not-at-top
        spec = envs.env_spec(task)
    kind, arg = architecture(task, role, student_width)
    name = name or role
    if kind == "impala":
        return ImpalaPolicy(name, spec.obs_shape, spec.action_dim, width=arg, trainable=trainable)
    return MLPPolicy(name, int(np.prod(spec.obs_shape)), spec.action_kind, spec.action_dim,
                     hidden=arg, trainable=trainable, initial_log_std=initial_log_std)


def network_params(sess, network):
    """{relative variable name: numpy array} of every variable of ``network``."""
    return {network.relative_name(v): value
            for v, value in zip(network.variables, sess.run(network.variables))}

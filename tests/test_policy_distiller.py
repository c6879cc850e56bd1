"""Graph behaviour of the policy distillers: gradient isolation (the teacher never trains; a
student step leaves generators unchanged and the reverse), re-initialisation, and generators
that produce the teacher's observation shape. The teacher/student here are small test-only
stand-ins with the PolicyOutput fields of the RL interface contract."""
import collections
import dataclasses

import numpy as np
import pytest

from building_blocks.common import layers, network
from building_blocks.distill import action_distributions, generators
from building_blocks.common.config import ConfigError, PolicyDistillConfig
from building_blocks.distill.policy_distiller import make_observation_generator
from dafl_baseline.policy import PolicyDAFL
from gas.policy import PolicyGAS
from building_blocks.common.tf_compat import tf

# Framework-level: also runs in the TF 2.x compat.v1 lane (./run_tests.sh).
pytestmark = pytest.mark.tf2

FakePolicyOutput = collections.namedtuple(
    "FakePolicyOutput", ["logits", "mean", "log_std", "value", "features"])


class FakePolicy(network.Network):
    """Test stand-in: flatten → fc(16) → tanh → heads; state-independent log-std."""

    def __init__(self, name, obs_shape, action_kind, action_dim, trainable=True):
        self.obs_dim = int(np.prod(obs_shape))
        self.action_kind, self.action_dim = action_kind, action_dim
        super(FakePolicy, self).__init__(name, trainable)

    def _build(self, trainable):
        self.fc = layers.Dense(self.obs_dim, 16, "fc", trainable=trainable)
        self.pi = layers.Dense(16, self.action_dim, "pi", trainable=trainable)
        self.v = layers.Dense(16, 1, "v", trainable=trainable)
        if self.action_kind == "continuous":
            self.log_std = tf.get_variable("log_std", [self.action_dim],
                                           initializer=tf.constant_initializer(-0.5),
                                           trainable=trainable)

    def __call__(self, obs, training=False):
        h = tf.tanh(self.fc(tf.reshape(obs, [-1, self.obs_dim])))
        head = self.pi(h)
        value = tf.squeeze(self.v(h), -1)
        if self.action_kind == "discrete":
            return FakePolicyOutput(head, None, None, value, h)
        log_std = tf.zeros_like(head) + self.log_std
        return FakePolicyOutput(None, head, log_std, value, h)

    def normalize(self, raw_obs):
        """A fixed stand-in for the observation normaliser: (x − 1) / 2, clipped to ±5."""
        return tf.clip_by_value((raw_obs - 1.0) / 2.0, -5.0, 5.0)


def config(method="gas", **changes):
    base = dict(method=method, task="test", seed=0, student_steps=1, batch_size=8,
                student_lr=1e-2, generator_lr=1e-2, n_generators=4, student_steps_per_round=1,
                generator_steps_per_round=1, reinit_every=1, gamma=0.4, generator_hidden=8)
    if method == "dafl":
        base.update(n_generators=1, gamma=0.0, reinit_every=0)
    base.update(changes)
    return PolicyDistillConfig(**base)


def build(cls, cfg, obs_shape, kind, action_dim=3):
    teacher = FakePolicy("teacher", obs_shape, kind, action_dim, trainable=False)
    student = FakePolicy("student", obs_shape, kind, action_dim)
    distiller = cls(cfg, teacher, student, obs_shape,
                    family=action_distributions.family_for(kind))
    return teacher, student, distiller


def snapshot(sess, teacher, student, distiller):
    groups = (teacher.variables, student.trainable_variables, distiller.bank.trainable_variables)
    return [[v.copy() for v in sess.run(g)] for g in groups]


def changed(before, after):
    return [not np.array_equal(b, a) for b, a in zip(before, after)]


@pytest.mark.parametrize("cls,method,kind,obs_shape", [
    (PolicyGAS, "gas", "continuous", (6,)),
    (PolicyGAS, "gas", "discrete", (4,)),
    (PolicyDAFL, "dafl", "continuous", (6,)),
    (PolicyGAS, "gas", "discrete", (8, 8, 2)),
])
def test_each_step_trains_only_its_own_network(graph, session_of, cls, method, kind, obs_shape):
    teacher, student, distiller = build(cls, config(method), obs_shape, kind)
    sess = session_of(graph)
    sess.run(tf.global_variables_initializer())
    t0, s0, g0 = snapshot(sess, teacher, student, distiller)
    sess.run(distiller.student_train_op)
    t1, s1, g1 = snapshot(sess, teacher, student, distiller)
    assert not any(changed(t0, t1)), "teacher changed in a student step"
    assert not any(changed(g0, g1)), "generators changed in a student step"
    # Every policy variable (log-std included) gets a KL gradient; the value head does not.
    policy_vars = [not student.relative_name(v).startswith("v/")
                   for v in student.trainable_variables]
    assert [c for c, p in zip(changed(s0, s1), policy_vars) if p] == [True] * sum(policy_vars)
    sess.run(distiller.generator_train_op)
    t2, s2, g2 = snapshot(sess, teacher, student, distiller)
    assert not any(changed(t1, t2)), "teacher changed in a generator step"
    assert not any(changed(s1, s2)), "student changed in a generator step"
    assert sum(changed(g1, g2)) >= len(g1) // 2, "generators did not train"
    fetched = sess.run(distiller.generator_fetches)
    assert set(fetched) == {"generator_objective", "entropy", "entropy_of_mean", "activation"}
    assert all(np.isfinite(v) for v in fetched.values())


def test_gas_objective_includes_the_adaptive_term(graph, session_of):
    _, _, gas = build(PolicyGAS, config(), (6,), "continuous")
    sess = session_of(graph)
    sess.run(tf.global_variables_initializer())
    objective, l_g = sess.run([gas.generator_fetches["generator_objective"],
                               [gas.generator_fetches[k] for k in
                                ("entropy", "entropy_of_mean", "activation")]])
    # With γ > 0 the objective is L_G − γ·KL, below L_G unless the student already matches.
    # (Both fetches come from one sess.run, i.e. the same generated batch.)
    l_g_total = l_g[0] + 5.0 * l_g[1] + 0.1 * l_g[2]
    assert objective < l_g_total - 1e-6


def test_reinit_redraws_generator_weights(graph, session_of):
    _, _, distiller = build(PolicyGAS, config(), (6,), "discrete")
    sess = session_of(graph)
    sess.run(tf.global_variables_initializer())
    for _ in range(2):
        sess.run(distiller.generator_train_op)
    before = [v.copy() for v in sess.run(distiller.bank.trainable_variables)]
    sess.run(distiller.reinit_op)
    after = sess.run(distiller.bank.trainable_variables)
    assert all(changed(before, after))


@pytest.mark.parametrize("obs_shape", [(376,), (2,), (84, 84, 4), (48, 48, 2)])
def test_generators_produce_the_teachers_observation_shape(graph, session_of, obs_shape):
    generator = make_observation_generator("generator", obs_shape, config())
    samples = generator(generators.sample_latent(4, 100))
    sess = session_of(graph)
    sess.run(tf.global_variables_initializer())
    out = sess.run(samples)
    assert out.shape == (4,) + obs_shape
    if len(obs_shape) == 3:  # Atari frames: the teacher's uint8 / 255 space
        assert out.min() >= 0.0 and out.max() <= 1.0
    else:  # normalised vector observations, clipped like the normaliser
        assert np.abs(out).max() <= 5.0
        np.testing.assert_allclose(out.mean(axis=0), 0.0, atol=1e-4)


def test_normalizer_reading_puts_the_plain_mlps_raw_output_through_the_teachers_normaliser(
        graph, session_of):
    """B.3's plain single-layer MLP: no batch norm; its output is a raw observation that the
    teacher's normaliser maps (the 'batch_norm' reading's BN would force mean 0 / var 1)."""
    teacher, _, distiller = build(PolicyDAFL, config("dafl", batch_size=64,
                                                     generator_output="normalizer"),
                                  (6,), "continuous")
    generator = distiller.bank.generators[0]
    assert not any("bn" in v.op.name for v in generator.variables)
    z = generators.sample_latent(64, 100, "uniform")
    normalised = generator(z)
    raw = generator.out(tf.nn.leaky_relu(generator.fc1(z), 0.2))
    sess = session_of(graph)
    sess.run(tf.global_variables_initializer())
    got, expected = sess.run([normalised, teacher.normalize(raw)])
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    assert np.abs(got.mean(axis=0)).max() > 0.05  # not forced to mean 0 per coordinate
    bn = make_observation_generator("bn_generator", (6,), config(generator_output="batch_norm"),
                                    teacher.normalize)
    assert any("bn" in v.op.name for v in bn.variables)


def test_quick_vector_cells_use_the_batch_norm_generator_and_a_teacher_width_student():
    """The readings recorded in DEVIATIONS.md (issue 18): B.3's MLP generator ends in a
    non-affine batch norm; a vector student has its teacher's widths (paper silent)."""
    from reproduce.rl import distill_configs
    cfg = distill_configs.policy_distill_config("gas", "halfcheetah", "quick", 0)
    assert cfg.generator_output == "batch_norm" and cfg.student_width == 1.0
    for bad in (0.0, 1.5):
        with pytest.raises(ConfigError, match="student_width"):
            dataclasses.replace(cfg, student_width=bad).validate()


def test_quick_ale_cells_give_every_method_the_same_updates_and_student_kd_most_of_a_game():
    """Issue 19 (DEVIATIONS.md): all quick ALE methods get the same student updates and two
    generator lifetimes; Student KD's rollouts reach deep into a Pong game (a 20-0 win lasts
    ~1,600 agent steps), not only its first few hundred steps."""
    from reproduce.rl import distill_configs
    for task in ("pong", "pong_lowdim"):
        cfgs = {m: distill_configs.policy_distill_config(m, task, "quick", 0)
                for m in distill_configs.RL_METHODS}
        assert len({c.student_steps for c in cfgs.values()}) == 1
        assert cfgs["gas"].reinit_every * 2 == cfgs["gas"].student_steps
        kd = cfgs["student_kd"]
        assert kd.rollout_transitions // kd.rollout_envs >= 1600
        assert kd.eval_deterministic  # scored as the teachers are

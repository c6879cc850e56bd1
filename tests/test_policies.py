"""Policy networks: shapes, the running observation statistics, the numpy actor path and
the checkpoint round trip (weights and normaliser)."""
import collections

import numpy as np
import pytest

from building_blocks.common import checkpoint
from building_blocks.rl import acting, policies
from building_blocks.common.config import ConfigError
from building_blocks.common.tf_compat import tf

# Framework-level (no gym): also runs in the TF 2.x compat.v1 lane (./run_tests.sh).
pytestmark = pytest.mark.tf2

Spec = collections.namedtuple("Spec", ["obs_shape", "action_kind", "action_dim"])
SPECS = {"cartpole": Spec((4,), "discrete", 2), "mountaincar": Spec((2,), "continuous", 1)}


def test_running_mean_std_matches_numpy_over_batches(graph, session_of):
    rms = policies.RunningMeanStd((3,))
    sess = session_of(graph)
    sess.run(tf.global_variables_initializer())
    rng = np.random.RandomState(0)
    batches = [rng.randn(n, 3) * [1.0, 10.0, 0.1] + [5.0, -2.0, 0.0] for n in (7, 1, 50, 13)]
    for batch in batches:
        rms.update(sess, batch)
    everything = np.concatenate(batches)
    mean, var, count = sess.run([rms.mean, rms.var, rms.count])
    np.testing.assert_allclose(mean, everything.mean(0), rtol=1e-10)
    np.testing.assert_allclose(var, everything.var(0), rtol=1e-10)
    assert count == len(everything)
    obs = rng.randn(4, 3)
    normalised = sess.run(rms.normalize(tf.constant(obs)))
    expected = np.clip((obs - everything.mean(0)) / everything.std(0), -5, 5)
    np.testing.assert_allclose(normalised, expected, rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("task", ["cartpole", "mountaincar"])
def test_mlp_policy_numpy_forward_matches_the_graph(graph, session_of, task):
    spec = SPECS[task]
    net = policies.make_policy(task, "teacher", spec=spec)
    obs = tf.placeholder(tf.float32, (None,) + spec.obs_shape)
    out = net(net.normalize(obs))
    sess = session_of(graph)
    sess.run(tf.global_variables_initializer())
    rng = np.random.RandomState(1)
    net.obs_rms.update(sess, rng.randn(20, *spec.obs_shape) * 3 + 1)
    batch = rng.randn(6, *spec.obs_shape).astype(np.float32) * 3
    params = policies.network_params(sess, net)
    dist, value = acting.mlp_forward(params, batch, spec.action_kind)
    got = policies.PolicyOutput(*[None if t is None else sess.run(t, {obs: batch}) for t in out])
    np.testing.assert_allclose(value, got.value, rtol=1e-4, atol=1e-5)
    assert got.features.shape == (6, 512)
    if spec.action_kind == "discrete":
        assert got.logits.shape == (6, spec.action_dim) and got.mean is None
        np.testing.assert_allclose(dist, got.logits, rtol=1e-4, atol=1e-5)
    else:
        assert got.logits is None and got.log_std.shape == (6, spec.action_dim)
        np.testing.assert_allclose(dist[0], got.mean, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(np.broadcast_to(dist[1], got.log_std.shape), got.log_std)


def test_impala_policy_shapes_and_half_width(graph, session_of):
    spec = policies.architecture("pong", "student")
    assert spec == ("impala", 0.5)
    teacher = policies.ImpalaPolicy("teacher", (84, 84, 4), 6)
    student = policies.ImpalaPolicy("student", (84, 84, 4), 6, width=0.5)
    assert student.channels == [8, 16, 16] and teacher.channels == [16, 32, 32]
    frames = tf.placeholder(tf.uint8, [None, 84, 84, 4])
    out = teacher(teacher.normalize(frames))
    sess = session_of(graph)
    sess.run(tf.global_variables_initializer())
    got = sess.run(out._replace(mean=out.logits, log_std=out.logits),
                   {frames: np.zeros((2, 84, 84, 4), np.uint8)})
    assert out.mean is None and out.log_std is None
    assert got.logits.shape == (2, 6) and got.value.shape == (2,)
    assert got.features.shape == (2, 256)
    assert teacher.obs_rms is None


def test_architectures_follow_table5():
    assert policies.describe_architecture("cartpole", "teacher") == "MLP[512]"
    assert policies.describe_architecture("mountaincar", "teacher") == "MLP[512]"
    assert policies.describe_architecture("humanoid", "teacher") == "MLP[64, 64]"
    # Vector students (CHOICE): the teacher's MLP by default, "Half" at student_width 0.5;
    # ALE students are ImpalaHalf (Section 4) whatever the width.
    assert policies.describe_architecture("halfcheetah", "student") == "MLP[64, 64]"
    assert policies.describe_architecture("halfcheetah", "student", 0.5) == "MLP[32, 32]"
    assert policies.describe_architecture("cartpole", "student", 0.5) == "MLP[256]"
    assert policies.describe_architecture("pong", "student", 1.0) == "ImpalaHalf"
    assert policies.describe_architecture("humanoid", "teacher", 0.5) == "MLP[64, 64]"
    assert policies.describe_architecture("breakout", "teacher") == "Impala"
    with pytest.raises(ConfigError, match="no policy architecture"):
        policies.architecture("tetris", "teacher")


def test_checkpoint_round_trip_includes_the_normaliser(tmp_path):
    spec = SPECS["mountaincar"]
    path = str(tmp_path / "teacher.npz")
    g1 = tf.Graph()
    with g1.as_default():
        net = policies.make_policy("mountaincar", "teacher", spec=spec)
        with tf.Session(graph=g1) as sess:
            sess.run(tf.global_variables_initializer())
            net.obs_rms.update(sess, np.random.RandomState(0).randn(30, 2) * 4 + 2)
            sess.run(tf.assign(net.log_std, [-0.7]))
            saved = policies.network_params(sess, net)
            checkpoint.save_network(sess, net, path, {"task": "mountaincar"})
    assert {"obs_rms/mean", "obs_rms/var", "obs_rms/count", "pi/log_std"} <= set(saved)
    g2 = tf.Graph()
    with g2.as_default():
        tf.set_random_seed(5)
        net2 = policies.make_policy("mountaincar", "teacher", spec=spec)
        with tf.Session(graph=g2) as sess:
            sess.run(tf.global_variables_initializer())
            checkpoint.load_network(sess, net2, path)
            loaded = policies.network_params(sess, net2)
    for key, value in saved.items():
        np.testing.assert_array_equal(loaded[key], value, err_msg=key)

"""The generators' batch norm (building_blocks.common.layers.BatchNorm): 4-d inputs use one
fused kernel (issue 14), which must be the same normalisation, forward and backward, as the
moments path that vector inputs keep."""
import dataclasses

import numpy as np
import pytest

from building_blocks.common import layers
from building_blocks.common.config import DistillConfig, PolicyDistillConfig
from building_blocks.common.tf_compat import make_session, tf
from building_blocks.distill.policy_distiller import make_observation_generator
from building_blocks.image.runner import INPUT_SHAPE, make_classifier
from dafl_baseline.distiller import DAFLDistiller
from gas.distiller import GASDistiller
from tests.test_seeds import DAFL, GAS, _losses

pytestmark = pytest.mark.tf2


def _both_paths(eps, affine, shape=(16, 8, 8, 3), spread=3.0):
    """(fused, moments) outputs and gradients of one BatchNorm on the same input, with
    non-trivial gamma / beta and a non-uniform upstream gradient."""
    rng = np.random.RandomState(0)
    x_value = (rng.randn(*shape) * spread + 0.5 * spread).astype(np.float32)
    upstream = rng.randn(*shape).astype(np.float32)
    graph = tf.Graph()
    with graph.as_default():
        x = tf.constant(x_value)
        bn = layers.BatchNorm(shape[-1], "bn", eps=eps, affine=affine, fused=True)
        params = [bn.gamma, bn.beta] if affine else []
        init = tf.global_variables_initializer()
        assign = []
        if affine:
            assign.append(bn.gamma.assign(rng.uniform(0.5, 2.0, shape[-1]).astype(np.float32)))
            assign.append(bn.beta.assign(rng.randn(shape[-1]).astype(np.float32)))
        out = {}
        for name, y in (("fused", bn(x)), ("moments", bn._moments(x))):
            out[name] = [y] + tf.gradients(tf.reduce_sum(y * upstream), [x] + params)
    with make_session(graph, threads=1) as sess:
        sess.run(init)
        sess.run(assign)
        return sess.run(out["fused"]), sess.run(out["moments"]), x_value


@pytest.mark.parametrize("eps,affine", [(1e-5, True), (0.8, True), (1e-5, False)],
                         ids=["bn0", "bn1_eps0.8", "bn3_no_affine"])
def test_fused_kernel_is_the_moments_normalisation_forward_and_backward(eps, affine):
    fused, moments, x = _both_paths(eps, affine)
    for a, b in zip(fused, moments):  # output, d/dx, d/dgamma, d/dbeta
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_fused_kernel_uses_batch_statistics_and_this_eps():
    # Variance ~1e-5, the size of eps: cuDNN's 1.001e-5 (tf.nn.fused_batch_norm's floor)
    # would move the output by ~2.6e-4 relative, an unbiased variance by ~0.1%.
    eps = 1e-5
    fused, _, x = _both_paths(eps, affine=False, spread=3e-3)
    x = x.astype(np.float64)
    mean, var = x.mean(axis=(0, 1, 2)), x.var(axis=(0, 1, 2))
    np.testing.assert_allclose(fused[0], (x - mean) / np.sqrt(var + eps), rtol=5e-5, atol=1e-5)


def _fused_ops(config):
    graph = tf.Graph()
    with graph.as_default():
        DAFLDistiller(config, make_classifier("teacher", trainable=False),
                      make_classifier("student"), INPUT_SHAPE)
    return [op for op in graph.get_operations() if "FusedBatchNorm" in op.type]


def test_vector_inputs_keep_the_moments_path_and_the_switch_turns_fusion_off():
    graph = tf.Graph()
    with graph.as_default():
        layers.BatchNorm(4, "bn", fused=True)(tf.zeros([8, 4]))
    assert not [op for op in graph.get_operations() if "FusedBatchNorm" in op.type]
    config = DistillConfig(**dict(DAFL, fused_batch_norm=True))
    # Four BNs per generator call (bn0..bn3), forward; their gradients in the generator step.
    assert len([op for op in _fused_ops(config) if op.type == "FusedBatchNormV3"]) >= 4
    assert not _fused_ops(dataclasses.replace(config, fused_batch_norm=False))


@pytest.mark.parametrize("fused", [True, False])
def test_atari_frame_generators_follow_the_switch(fused):
    config = PolicyDistillConfig(method="gas", task="pong_lowdim", seed=0, student_steps=1,
                                 batch_size=4, student_lr=1e-3, fused_batch_norm=fused)
    graph = tf.Graph()
    with graph.as_default():
        generator = make_observation_generator("generator", (48, 48, 2), config)
        generator(tf.zeros([4, config.latent_dim]))
    found = [op for op in graph.get_operations() if op.type == "FusedBatchNormV3"]
    assert len(found) == (3 if fused else 0)  # bn0..bn2 (sigmoid output, no last BN)


@pytest.mark.parametrize("cls,fields", [(GASDistiller, GAS), (DAFLDistiller, DAFL)],
                         ids=["gas", "dafl"])
def test_20_distillation_steps_match_the_moments_path(cls, fields):
    # Small learning rates keep the two float paths from drifting apart by chaos.
    config = DistillConfig(**dict(fields, student_lr=1e-4, generator_lr=1e-3,
                                  fused_batch_norm=True))  # wired through: op-count test above
    fused, fused_w = _losses(cls, config, 0)
    other_seed, _ = _losses(cls, dataclasses.replace(config, seed=config.seed + 1), 0)
    plain, plain_w = _losses(cls, dataclasses.replace(config, fused_batch_norm=False), 0)
    assert len(plain) == len(fused) == 20
    np.testing.assert_allclose(fused[0], plain[0], rtol=1e-4)  # after one update
    # Rounding drifts over 20 steps, but stays far below what another random stream moves.
    assert np.abs(fused - plain).max() < 0.1 * np.abs(other_seed - plain).max()
    np.testing.assert_allclose(fused, plain, rtol=5e-2)
    np.testing.assert_allclose(fused_w, plain_w, rtol=1e-2, atol=1e-5)

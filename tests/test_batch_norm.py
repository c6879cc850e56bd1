"""The generators' batch norm (building_blocks.common.layers.BatchNorm): 4-d inputs use one
fused kernel (issue 14), which must be the same normalisation, forward and backward, as the
moments path that vector inputs keep."""
import dataclasses

import numpy as np
import pytest

from building_blocks.common import layers
from building_blocks.common.config import DistillConfig
from building_blocks.common.tf_compat import make_session, tf
from dafl_baseline.distiller import DAFLDistiller
from gas.distiller import GASDistiller
from tests.test_seeds import DAFL, GAS, _losses

pytestmark = pytest.mark.tf2


def _both_paths(eps, affine, shape=(16, 8, 8, 3)):
    """(fused, moments) outputs and gradients of one BatchNorm on the same input, with
    non-trivial gamma / beta and a non-uniform upstream gradient."""
    rng = np.random.RandomState(0)
    x_value = (rng.randn(*shape) * 3.0 + 1.5).astype(np.float32)
    upstream = rng.randn(*shape).astype(np.float32)
    graph = tf.Graph()
    with graph.as_default():
        x = tf.constant(x_value)
        bn = layers.BatchNorm(shape[-1], "bn", eps=eps, affine=affine)
        params = [bn.gamma, bn.beta] if affine else []
        init = [tf.global_variables_initializer()]
        if affine:
            init.append(bn.gamma.assign(rng.uniform(0.5, 2.0, shape[-1]).astype(np.float32)))
            init.append(bn.beta.assign(rng.randn(shape[-1]).astype(np.float32)))
        out = {}
        for name, y in (("fused", bn(x)), ("moments", bn._moments(x))):
            out[name] = [y] + tf.gradients(tf.reduce_sum(y * upstream), [x] + params)
    with make_session(graph, threads=1) as sess:
        sess.run(init)
        return sess.run(out["fused"]), sess.run(out["moments"]), x_value


@pytest.mark.parametrize("eps,affine", [(1e-5, True), (0.8, True), (1e-5, False)],
                         ids=["bn0", "bn1_eps0.8", "bn3_no_affine"])
def test_fused_kernel_is_the_moments_normalisation_forward_and_backward(eps, affine):
    fused, moments, x = _both_paths(eps, affine)
    for a, b in zip(fused, moments):  # output, d/dx, d/dgamma, d/dbeta
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    if not affine:  # batch statistics, biased variance, this eps (not cuDNN's 1.001e-5)
        mean, var = x.mean(axis=(0, 1, 2)), x.var(axis=(0, 1, 2))
        np.testing.assert_allclose(fused[0], (x - mean) / np.sqrt(var + eps), rtol=1e-4,
                                   atol=1e-5)


def test_vector_inputs_keep_the_moments_path():
    graph = tf.Graph()
    with graph.as_default():
        layers.BatchNorm(4, "bn")(tf.zeros([8, 4]))
    assert not [op for op in graph.get_operations() if "FusedBatchNorm" in op.type]


@pytest.mark.parametrize("cls,fields", [(GASDistiller, GAS), (DAFLDistiller, DAFL)],
                         ids=["gas", "dafl"])
def test_20_distillation_steps_match_the_moments_path(cls, fields, monkeypatch):
    # Small learning rates keep the two float paths from drifting apart by chaos.
    config = DistillConfig(**dict(fields, student_lr=1e-4, generator_lr=1e-3))
    fused, fused_w = _losses(cls, config, 0)
    other_seed, _ = _losses(cls, dataclasses.replace(config, seed=config.seed + 1), 0)
    monkeypatch.setattr(layers.BatchNorm, "__call__", layers.BatchNorm._moments)
    plain, plain_w = _losses(cls, config, 0)
    assert len(plain) == len(fused) == 20
    np.testing.assert_allclose(fused[0], plain[0], rtol=1e-4)  # after one update
    # Rounding drifts over 20 steps, but stays far below what another random stream moves.
    assert np.abs(fused - plain).max() < 0.1 * np.abs(other_seed - plain).max()
    np.testing.assert_allclose(fused, plain, rtol=5e-2)
    np.testing.assert_allclose(fused_w, plain_w, rtol=1e-2, atol=1e-5)

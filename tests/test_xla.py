"""XLA-compiled generators (issue 14, ``xla_generators``): the same algorithm as the plain
graph up to float rounding, and still exactly reproducible run to run."""
import dataclasses

import numpy as np
import pytest

from building_blocks.common.config import DistillConfig
from building_blocks.common.tf_compat import tf
from building_blocks.image.runner import INPUT_SHAPE, make_classifier
from dafl_baseline.distiller import DAFLDistiller
from gas.distiller import GASDistiller
from tests.test_seeds import DAFL, GAS, _losses



def test_compiled_generators_match_the_plain_graph_and_reproduce_exactly():
    # DAFL only: XLA compiles each generator for ~20 s on this CPU, so GAS's bank costs
    # minutes; its generators are built by the same ``GeneratorBank.sample`` (checked below).
    cls = DAFLDistiller
    # Small learning rates keep the two float paths from drifting apart by chaos.
    config = DistillConfig(**dict(DAFL, student_lr=1e-4, generator_lr=1e-3))
    plain, plain_w = _losses(cls, config, 0)
    compiled, compiled_w = _losses(cls, dataclasses.replace(config, xla_generators=True), 0)
    assert len(plain) == len(compiled) == 20
    # Same noise stream, same generators, same objective: the first loss agrees to rounding
    # (XLA lowers the fused batch norm itself, ~4e-5 apart from oneDNN after one update),
    # and rounding drifts over 20 steps but stays far below what another random stream moves.
    np.testing.assert_allclose(compiled[0], plain[0], rtol=1e-4)  # after one update
    other_seed, _ = _losses(cls, dataclasses.replace(config, seed=config.seed + 1), 0)
    assert np.abs(compiled - plain).max() < 0.1 * np.abs(other_seed - plain).max()
    np.testing.assert_allclose(compiled, plain, rtol=5e-2)
    np.testing.assert_allclose(compiled_w, plain_w, rtol=1e-2, atol=1e-5)
    # Run to run, the compiled path gives the same bits.
    again, again_w = _losses(cls, dataclasses.replace(config, xla_generators=True), 0)
    np.testing.assert_array_equal(compiled, again)
    np.testing.assert_array_equal(compiled_w, again_w)


def _compiled_op_names(config, cls=DAFLDistiller):
    graph = tf.Graph()
    with graph.as_default():
        teacher = make_classifier("teacher", trainable=False)
        student = make_classifier("student")
        cls(config, teacher, student, INPUT_SHAPE)

    def compiled(op):
        try:
            return op.get_attr("_XlaCompile")
        except ValueError:
            return False
    return [op.name for op in graph.get_operations() if compiled(op)]


@pytest.mark.parametrize("cls,fields", [(GASDistiller, GAS), (DAFLDistiller, DAFL)],
                         ids=["gas", "dafl"])
def test_only_the_generators_ops_are_compiled_and_the_latent_draw_is_not(cls, fields):
    config = DistillConfig(**dict(fields, xla_generators=True))
    names = _compiled_op_names(config, cls)
    for k in range(config.n_generators):  # every generator of the bank, forward and backward
        scope = "generator/" if k == 0 else "generator_%d/" % k
        assert any(scope in n and "Conv2D" in n and "gradients" not in n for n in names), k
        assert any(scope in n and "Conv2D" in n and "gradients" in n for n in names), k
    assert not [n for n in names if "latent" in n]  # z keeps TF's random stream
    assert not [n for n in names if "/teacher/" in n or "/student/" in n]
    assert not _compiled_op_names(DistillConfig(**fields), cls)  # off by default

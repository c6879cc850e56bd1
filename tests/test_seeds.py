"""Random streams keyed by names, not by graph construction order (building_blocks.common.seeds)."""
import dataclasses
import zlib

import numpy as np
import pytest

from building_blocks.common import seeds
from building_blocks.common.config import DistillConfig
from building_blocks.distill.loop import new_loop_state, train_rounds
from building_blocks.image.runner import INPUT_SHAPE, make_classifier
from building_blocks.common.tf_compat import make_session, tf
from dafl_baseline.distiller import DAFLDistiller
from gas.distiller import GASDistiller

pytestmark = pytest.mark.tf2

GAS = dict(method="gas", task="mnist", seed=3, student_steps=20, batch_size=16,
           student_lr=1e-3, generator_lr=1e-2, n_generators=4, student_steps_per_round=4,
           generator_steps_per_round=2, reinit_every=8, gamma=0.4, eval_every=1000)
DAFL = dict(GAS, method="dafl", n_generators=1, gamma=0.0, reinit_every=0,
            student_steps_per_round=1, generator_steps_per_round=1, shared_batch=True)


class _Recorder(object):
    def update(self, *args, **kwargs):
        pass

    write = maybe_save = start_from = update


def _losses(cls, config, unrelated_ops):
    """Student losses of 20 steps of Algorithm 1's loop; ``unrelated_ops`` random ops are
    built first, before any network."""
    graph = tf.Graph()
    with graph.as_default():
        tf.set_random_seed(config.seed)
        for i in range(unrelated_ops):
            tf.random_uniform([7], name="unrelated%d" % i)
        teacher = make_classifier("teacher", trainable=False)
        student = make_classifier("student")
        distiller = cls(config, teacher, student, INPUT_SHAPE)
        init = tf.global_variables_initializer()
    losses = []
    with make_session(graph, threads=1) as sess:
        sess.run(init)
        state = new_loop_state(config)
        evaluate = lambda: {"loss": losses.append(sess.run(distiller.student_loss)) or 0.0}  # noqa
        train_rounds(sess, dataclasses.replace(config, eval_every=1), distiller, state, evaluate, _Recorder(), _Recorder(),
                     _Recorder(), 0.0)
        weights = sess.run(student.trainable_variables[0])
    return np.array(losses), weights


@pytest.mark.parametrize("cls,fields", [(GASDistiller, GAS), (DAFLDistiller, DAFL)],
                         ids=["gas", "dafl"])
def test_unrelated_ops_leave_the_first_20_steps_bit_identical(cls, fields):
    config = DistillConfig(**fields)
    plain, plain_w = _losses(cls, config, 0)
    shifted, shifted_w = _losses(cls, config, 5)
    assert len(plain) == 20
    np.testing.assert_array_equal(plain, shifted)
    np.testing.assert_array_equal(plain_w, shifted_w)
    # The cell seed still matters.
    other, _ = _losses(cls, DistillConfig(**dict(fields, seed=4)), 0)
    assert not np.array_equal(plain, other)


def test_op_seed_is_stable_and_name_dependent():
    assert seeds.op_seed("generator/fc/w") == seeds.op_seed("generator/fc/w")
    assert seeds.op_seed("generator/fc/w") != seeds.op_seed("generator/fc/b")
    assert all(1 <= seeds.op_seed(n) < 2 ** 31 for n in ("", "a", "student/conv1/w"))
    # Pinned: a change of the hash changes every committed number.
    assert seeds.op_seed("student/conv1/w") == 1 + zlib.crc32(b"student/conv1/w") % (2 ** 31 - 1)


def test_weight_and_bias_of_a_layer_get_different_streams(graph, session_of):
    from building_blocks.common import layers
    dense = layers.Dense(4, 4, "fc")
    sess = session_of(graph)
    sess.run(tf.global_variables_initializer())
    w, b = sess.run([dense.w, dense.b])
    assert not np.allclose(w[0], b)

"""CIFAR ResNets: parameter counts, shapes, batch-norm train/eval behaviour and update ops,
the frozen teacher during distillation, and B.1.2's learning-rate schedule."""
import numpy as np
import pytest

from building_blocks.common import layers
from building_blocks.image import resnet
from building_blocks.distill.distiller import student_learning_rate
from building_blocks.common.network import take_update_ops
from building_blocks.common.tf_compat import tf
from reproduce.table1 import configs

pytestmark = pytest.mark.tf2


def _count(variables):
    return sum(int(np.prod(v.shape.as_list())) for v in variables)


def test_parameter_counts_and_shapes(graph, session_of):
    student = resnet.ResNet("student", depth=18)
    teacher = resnet.ResNet("teacher", depth=34)
    # The CIFAR ResNets of DAFL's resnet.py: 11,173,962 and 21,282,122 trainable parameters.
    assert _count(student.trainable_variables) == 11173962
    assert _count(teacher.trainable_variables) == 21282122
    # Moving statistics are variables of the network (saved in checkpoints), not trainable.
    assert {v.op.name.split("/")[-1] for v in teacher.variables if not v.trainable} == {
        "moving_mean", "moving_var"}
    out = student(tf.zeros([2, 32, 32, 3]), training=False)
    assert out.logits.shape.as_list() == [2, 10] and out.features.shape.as_list() == [2, 512]
    with pytest.raises(ValueError, match="depth"):
        resnet.ResNet("bad", depth=50)


def test_batch_norm_train_eval_and_update_ops(graph, session_of):
    bn = layers.MovingBatchNorm(2, "bn", momentum=0.1)
    x = tf.constant(np.array([[1.0, 10.0], [3.0, 30.0]], np.float32))
    updates = []
    train_out = bn(x, True, updates)
    eval_out = bn(x, False, [])
    assert len(updates) == 2
    sess = session_of(graph)
    sess.run(tf.global_variables_initializer())
    # Training mode: batch statistics (biased variance), per channel.
    mean, var = np.array([2.0, 20.0]), np.array([1.0, 100.0])
    np.testing.assert_allclose(sess.run(train_out), (x.eval(session=sess) - mean)
                               / np.sqrt(var + 1e-5), rtol=1e-5)
    # Evaluating the training output does not move the averages; running the updates does.
    np.testing.assert_allclose(sess.run(bn.moving_mean), [0.0, 0.0])
    sess.run(updates)
    np.testing.assert_allclose(sess.run(bn.moving_mean), 0.1 * mean, rtol=1e-6)
    # moving_var moves towards the unbiased batch variance (PyTorch), here 2 × biased.
    np.testing.assert_allclose(sess.run(bn.moving_var), 0.9 + 0.1 * 2 * var, rtol=1e-6)
    # Eval mode uses the moving statistics.
    mm, mv = sess.run([bn.moving_mean, bn.moving_var])
    np.testing.assert_allclose(sess.run(eval_out), (x.eval(session=sess) - mm)
                               / np.sqrt(mv + 1e-5), rtol=1e-5)


def test_updates_collected_per_training_call(graph):
    net = resnet.ResNet("student", depth=18)
    net(tf.zeros([1, 32, 32, 3]), training=False)
    assert take_update_ops(net) == []
    net(tf.zeros([1, 32, 32, 3]), training=True)
    bns = len([v for v in net.variables if v.op.name.endswith("moving_mean")])
    assert len(take_update_ops(net)) == 2 * bns
    assert take_update_ops(net) == []  # taken once
    assert not tf.get_collection(tf.GraphKeys.UPDATE_OPS)


def test_student_step_moves_only_the_students_batch_norm(graph, session_of):
    from building_blocks.distill.distiller import NoiseKD
    config = configs.distill_config("noise_kd", "cifar10", "smoke", 0)
    teacher = resnet.ResNet("teacher", depth=34, trainable=False)
    student = resnet.ResNet("student", depth=18)
    distiller = NoiseKD(config, teacher, student, (32, 32, 3))
    sess = session_of(graph)
    sess.run(tf.global_variables_initializer())
    stats = lambda net: sess.run([v for v in net.variables if not v.trainable])  # noqa: E731
    teacher_before, student_before = stats(teacher), stats(student)
    sess.run(distiller.student_train_op)
    assert all(np.array_equal(a, b) for a, b in zip(teacher_before, stats(teacher)))
    assert not any(np.array_equal(a, b) for a, b in zip(student_before, stats(student)))
    assert sess.run(distiller.global_step) == 1


@pytest.mark.parametrize("step,expected", [(0, 0.1), (95999, 0.1), (96000, 0.01),
                                           (191999, 0.01), (192000, 0.001), (239999, 0.001)])
def test_paper_learning_rate_schedule_at_its_boundaries(graph, session_of, step, expected):
    config = configs.distill_config("gas", "cifar10", "paper", 0)
    assert (config.student_optimizer, config.student_lr, config.lr_decay_every,
            config.student_steps) == ("momentum", 0.1, 96000, 240000)
    step_input = tf.placeholder(tf.int64, [])
    lr = student_learning_rate(config, step_input)
    np.testing.assert_allclose(session_of(graph).run(lr, {step_input: step}), expected,
                               rtol=1e-6)

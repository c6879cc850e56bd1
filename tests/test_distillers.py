"""Graph behaviour of the distillers: gradient isolation, re-initialisation, generator bank."""
import numpy as np
import pytest

from building_blocks.distill import generators
from building_blocks.common.config import DistillConfig
from building_blocks.distill.distiller import NoiseKD
from building_blocks.distill.generators import GeneratorBank
from building_blocks.image.runner import INPUT_SHAPE, make_classifier
from building_blocks.common.tf_compat import tf
from dafl_baseline.distiller import DAFLDistiller
from gas.distiller import GASDistiller

# Framework-level: also runs in the TF 2.x compat.v1 lane (./run_tests.sh).
pytestmark = pytest.mark.tf2


def gas_config(**changes):
    base = dict(method="gas", task="mnist", seed=0, student_steps=1, batch_size=16,
                student_lr=1e-2, generator_lr=1e-2, n_generators=4, student_steps_per_round=1,
                generator_steps_per_round=1, reinit_every=1, gamma=0.4)
    base.update(changes)
    return DistillConfig(**base)


def build(graph, cls, config):
    teacher = make_classifier("teacher", trainable=False)
    student = make_classifier("student")
    distiller = cls(config, teacher, student, INPUT_SHAPE)
    return teacher, student, distiller


def values(sess, variables):
    return [v.copy() for v in sess.run(variables)]


def changed(before, after):
    return [not np.array_equal(b, a) for b, a in zip(before, after)]


# DCGAN generator biases whose layer feeds a batch norm with batch statistics (conv1 → bn1,
# conv2 → bn2): a per-channel constant is removed with the batch mean, so their gradient is 0
# up to rounding. (fc/b is per position of the 8×8×128 map, bn0 normalises per channel only,
# so it does get a gradient; conv3/b goes through tanh before bn3.)
BN_FED_BIASES = ["conv1/b", "conv2/b"]


def generator_gradients(distiller):
    """Ops: the gradient of ``generator_objective`` w.r.t. each generator's trainable
    variables (a list per generator; zeros for a variable the objective does not reach)."""
    return [[tf.zeros_like(v) if g is None else g for g, v in zip(
        tf.gradients(distiller.generator_objective, gen.trainable_variables),
        gen.trainable_variables)] for gen in distiller.bank.generators]


def assert_one_adam_step_trained_each_generator(distiller, gradients, before, after):
    """``gradients`` (values of ``generator_gradients``) vanish exactly on BN_FED_BIASES of
    each generator; every other variable moved by about the learning rate, as Adam's first
    step moves every weight with a non-negligible gradient by ≈ lr (``before``/``after``:
    values of ``bank.trainable_variables``). The BN-fed biases may still drift (Adam divides
    their rounding noise by itself), so their change is not asserted."""
    lr = distiller.config.generator_lr
    scale = max(np.abs(g).max() for per_generator in gradients for g in per_generator)
    k = 0
    for generator, grads in zip(distiller.bank.generators, gradients):
        names = [generator.relative_name(v) for v in generator.trainable_variables]
        vanishing = [n for n, g in zip(names, grads) if np.abs(g).max() <= 1e-5 * scale]
        assert vanishing == BN_FED_BIASES, (generator.scope_name, vanishing)
        for name in names:
            if name not in BN_FED_BIASES:
                moved = np.abs(after[k] - before[k]).max()
                assert moved >= 0.5 * lr, "%s/%s moved %g, lr %g" % (
                    generator.scope_name, name, moved, lr)
            k += 1
    assert k == len(before) == len(after)


@pytest.mark.parametrize("cls,config", [
    (GASDistiller, gas_config()),
    (DAFLDistiller, gas_config(method="dafl", n_generators=1, gamma=0.0, reinit_every=0)),
])
def test_each_step_trains_only_its_own_network(graph, session_of, cls, config):
    """A student step moves every student variable and nothing else; a generator step moves
    every generator variable that has a gradient (all but BN_FED_BIASES) and nothing else.
    Fails if a step's var_list leaks into another network, if a generator layer is cut off
    from the objective (e.g. a stray stop_gradient), or if the generator architecture changes
    which variables feed a batch norm."""
    teacher, student, distiller = build(graph, cls, config)
    generators = distiller.bank.trainable_variables
    gradients = generator_gradients(distiller)
    sess = session_of(graph)
    sess.run(tf.global_variables_initializer())

    before = {k: values(sess, v) for k, v in
              (("t", teacher.variables), ("s", student.trainable_variables), ("g", generators))}
    sess.run(distiller.student_train_op)
    after = {k: values(sess, v) for k, v in
             (("t", teacher.variables), ("s", student.trainable_variables), ("g", generators))}
    assert not any(changed(before["t"], after["t"])), "teacher changed in a student step"
    assert not any(changed(before["g"], after["g"])), "generators changed in a student step"
    assert all(changed(before["s"], after["s"])), "student did not train"

    # Gradients in a run of their own: in the train op's run, Adam may update a weight
    # before these extra ops read it.
    gradient_values = sess.run(gradients)
    sess.run(distiller.generator_train_op)
    final = {k: values(sess, v) for k, v in
             (("t", teacher.variables), ("s", student.trainable_variables), ("g", generators))}
    assert not any(changed(after["t"], final["t"])), "teacher changed in a generator step"
    assert not any(changed(after["s"], final["s"])), "student changed in a generator step"
    assert_one_adam_step_trained_each_generator(distiller, gradient_values, after["g"],
                                                final["g"])


def test_teacher_is_not_trainable_in_distillation_graph(graph):
    teacher, student, _ = build(graph, GASDistiller, gas_config())
    assert teacher.trainable_variables == []
    trainable = set(tf.trainable_variables())
    assert not trainable & set(teacher.variables)


def test_distill_temperature_reaches_the_student_and_adaptive_losses(graph):
    """Eq. 1's D for the student step and for Eq. 4's −γ·L_distill comes from one family,
    the config's temperature (1: DAFL's kdloss)."""
    _, _, distiller = build(graph, GASDistiller, gas_config(distill_temperature=4.0))
    assert distiller.family.temperature == 4.0
    names = [op.name for op in graph.get_operations()]
    assert any(n.startswith("student_step/distillation_loss/soften") for n in names)
    assert any(n.startswith("generator_step/") and "distillation_loss/soften" in n
               for n in names)


@pytest.mark.parametrize("term,scope", [("one_hot", "one_hot_loss"),
                                        ("entropy", "output_entropy")])
def test_confidence_term_reaches_every_generator_objective(graph, term, scope):
    """Eq. 2's α-term in each generator's L_G is the one the config names, and only that."""
    _, _, distiller = build(graph, GASDistiller, gas_config(confidence_term=term))
    other = {"one_hot_loss", "output_entropy"} - {scope}
    names = [op.name for op in graph.get_operations() if op.name.startswith("generator_step/")]
    for k in range(len(distiller.bank)):
        prefix = "generator_step/generator_loss%s/" % ("_%d" % k if k else "")
        assert any(n.startswith(prefix + scope + "/") for n in names), prefix
        assert not any(n.startswith(prefix + o + "/") for n in names for o in other), prefix


def test_fc1_features_are_the_hidden_fully_connected_layer(graph, session_of):
    """``features_layer="fc1"``: h_t of Eq. 3 is ReLU(fc1(conv3 features)), 84-d, before the
    teacher's dropout; the logits do not change."""
    net = make_classifier("teacher", dropout=0.2, features_layer="fc1")
    images = tf.random_normal([5] + list(INPUT_SHAPE), seed=1)
    out1 = net(images)
    net.features_layer = "conv3"  # the same weights, DAFL's reading
    out3 = net(images)
    expected = tf.nn.relu(net.fc1(out3.features))
    sess = session_of(graph)
    sess.run(tf.global_variables_initializer())
    got3, got1, want = sess.run([out3, out1, expected])
    assert got3.features.shape == (5, 120) and got1.features.shape == (5, 84)
    np.testing.assert_allclose(got1.features, want, rtol=1e-6)
    np.testing.assert_allclose(got1.logits, got3.logits, rtol=1e-6)


@pytest.mark.parametrize("placement,count", [("fc1", 1), ("all", 4)])
def test_teacher_dropout_sits_where_the_config_says_and_only_in_training(graph, session_of,
                                                                          placement, count):
    """B.1.1's dropout 0.2: after fc1 (default) or after each of the 4 hidden layers; none at
    inference, where both placements give the same function of the same weights."""
    net = make_classifier("teacher", dropout=0.2, dropout_layers=placement)
    images = tf.random_normal([6] + list(INPUT_SHAPE), seed=1)
    with tf.name_scope("train"):
        trained = net(images, training=True)
    with tf.name_scope("infer"):
        inferred = net(images, training=False)
    mask_ops = [op for op in graph.get_operations() if op.type == "RandomUniform"
                and "/dropout" in op.name]
    assert len([op for op in mask_ops if op.name.startswith("train/")]) == count
    assert not [op for op in mask_ops if op.name.startswith("infer/")]
    sess = session_of(graph)
    sess.run(tf.global_variables_initializer())
    net.dropout_layers = "fc1"
    with tf.name_scope("infer_fc1"):
        reference = net(images, training=False)
    a, b, c = sess.run([trained.logits, inferred.logits, reference.logits])
    np.testing.assert_array_equal(b, c)
    assert not np.allclose(a, b)


def test_distill_builds_the_teacher_with_the_configs_activation_layer(monkeypatch):
    """The cell's ``activation_layer`` reaches the teacher that Eq. 3 reads."""
    from building_blocks.image import runner
    seen = {}

    class Built(Exception):
        pass

    def record(role, *args, **kwargs):
        seen[role] = kwargs
        raise Built()
    monkeypatch.setattr(runner, "make_classifier", record)
    dataset = type("Dataset", (), {"num_classes": 10})()
    with pytest.raises(Built):
        runner.distill(gas_config(activation_layer="fc1"), GASDistiller, dataset, "unused.npz")
    assert seen["teacher"]["features_layer"] == "fc1"


def test_reinit_redraws_generator_weights_and_resets_adam(graph, session_of):
    _, student, distiller = build(graph, GASDistiller, gas_config())
    sess = session_of(graph)
    sess.run(tf.global_variables_initializer())
    for _ in range(3):
        sess.run(distiller.generator_train_op)
    weights = [v for v in distiller.bank.trainable_variables if v.op.name.endswith("/w")]
    trained = values(sess, weights)
    student_before = values(sess, student.trainable_variables)
    sess.run(distiller.reinit_op)
    fresh = values(sess, weights)
    assert all(changed(trained, fresh)), "re-init left some generator weights as they were"
    slots = [v for v in tf.global_variables() if "generator_optimizer" in v.op.name
             and v.op.name.endswith("/generator_optimizer")]
    assert slots and all(np.all(s == 0) for s in sess.run(slots)), "Adam moments not reset"
    assert not any(changed(student_before, values(sess, student.trainable_variables)))
    # A second re-init draws new weights again, not the same initial ones.
    sess.run(distiller.reinit_op)
    assert all(changed(fresh, values(sess, weights)))


def test_generator_bank_slices_one_latent_batch(graph, session_of):
    bank = GeneratorBank(8, generators.DCGANGenerator)
    samples = bank.sample(512)
    assert len(samples) == 8
    assert [s.shape.as_list() for s in samples] == [[64, 32, 32, 1]] * 8
    names = {v.op.name.split("/")[0] for v in bank.variables}
    assert len(names) == 8, "each generator must own its variables"
    sess = session_of(graph)
    sess.run(tf.global_variables_initializer())
    out = sess.run(samples)
    # bn3 (no affine) normalises every generator's output to mean 0, std 1.
    for x in out:
        assert abs(x.mean()) < 1e-3 and abs(x.std() - 1) < 1e-2
    assert not np.allclose(out[0], out[1])
    with pytest.raises(ValueError, match="sliced evenly"):
        bank.sample(100)


@pytest.mark.parametrize("distribution", ["uniform", "normal"])
def test_noise_kd_distils_on_the_configs_noise(graph, session_of, distribution):
    config = DistillConfig(method="noise_kd", task="mnist", seed=0, student_steps=1,
                           batch_size=64, student_lr=1e-3, latent_distribution=distribution)
    _, _, distiller = build(graph, NoiseKD, config)
    sess = session_of(graph)
    x = sess.run(distiller.student_inputs)
    assert x.shape == (64,) + INPUT_SHAPE
    if distribution == "uniform":  # U(−1, 1): bounded, variance 1/3
        assert x.min() >= -1.0 and x.max() <= 1.0 and abs(x.std() - 3 ** -0.5) < 0.01
    else:  # N(0, 1): unbounded, variance 1
        assert x.min() < -3.0 and x.max() > 3.0 and abs(x.std() - 1.0) < 0.01
    assert abs(x.mean()) < 0.01


def test_generator_without_batch_norm_has_no_bn_variables(graph):
    generator = generators.DCGANGenerator("g", batch_norm=False)
    assert not [v for v in generator.variables if "bn" in v.op.name]
    assert generator(tf.zeros([2, 100])).shape.as_list() == [2, 32, 32, 1]


def test_output_without_batch_norm_is_tanh_mapped_to_the_pixel_range(graph, session_of):
    """``output_batch_norm=False`` (DCGAN's own output, DEVIATIONS.md): the hidden batch norms
    stay, the last one goes, and a·tanh(·) + b lies in [b − a, b + a] (Fashion-MNIST's pixel
    range [0, 1], normalised) with its own spread, not bn3's mean 0 / std 1."""
    mean, std = 0.286, 0.353
    scale, shift = 0.5 / std, (0.5 - mean) / std
    generator = generators.DCGANGenerator("g", output_batch_norm=False, output_scale=scale,
                                          output_shift=shift)
    names = {v.op.name.split("/")[1] for v in generator.variables}
    assert {"bn0", "bn1", "bn2"} <= names and "bn3" not in names
    x = generator(tf.random_uniform([64, 100], -1.0, 1.0, seed=3))
    sess = session_of(graph)
    sess.run(tf.global_variables_initializer())
    out = sess.run(x)
    assert out.min() >= -mean / std - 1e-5 and out.max() <= (1 - mean) / std + 1e-5
    assert abs(out.mean()) > 0.05 or abs(out.std() - 1) > 0.05, "still batch-normalised"


def test_lenet_shapes_and_half_width(graph):
    teacher = make_classifier("teacher", dropout=0.2)
    student = make_classifier("student")
    out = teacher(tf.zeros([5, 32, 32, 1]), training=True)
    assert out.logits.shape.as_list() == [5, 10] and out.features.shape.as_list() == [5, 120]
    assert student(tf.zeros([5, 32, 32, 1])).features.shape.as_list() == [5, 60]
    count = lambda net: sum(int(np.prod(v.shape.as_list())) for v in net.variables)  # noqa
    assert count(teacher) == 61706  # LeNet-5 (6,16,120,84,10) on 32x32x1
    assert count(student) < count(teacher) / 3

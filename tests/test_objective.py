"""Loss terms against numpy written like the paper (Eqs. 1-4), on small hand-made tensors."""
import numpy as np
import pytest

from building_blocks.distill.kd import distillation_loss
from building_blocks.common.tf_compat import tf
from dafl_baseline import objective
from gas.losses import adaptive_generator_loss

# Framework-level: also runs in the TF 2.x compat.v1 lane (./run_tests.sh).
pytestmark = pytest.mark.tf2

LOGITS = np.array([[2.0, 0.5, -1.0], [0.1, 0.2, 3.0], [1.0, 1.0, 1.0], [-2.0, 4.0, 0.0]],
                  np.float32)
STUDENT = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.5, 1.0, 2.0], [0.0, 1.0, 0.0]],
                   np.float32)
FEATURES = np.array([[1.0, -2.0], [0.5, 0.0], [-3.0, 1.0], [0.0, 0.25]], np.float32)


def softmax(x):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def run(graph, session_of, tensor):
    return session_of(graph).run(tensor)


def test_one_hot_loss_is_cross_entropy_with_teacher_argmax(graph, session_of):
    p = softmax(LOGITS)
    expected = -np.log(p[np.arange(4), LOGITS.argmax(1)])
    got = run(graph, session_of, objective.one_hot_loss(tf.constant(LOGITS)))
    np.testing.assert_allclose(got, expected, rtol=1e-5)


@pytest.mark.parametrize("base", [10.0, np.e])
def test_information_entropy_loss_is_minus_entropy_of_mean_output(graph, session_of, base):
    mean = softmax(LOGITS).mean(axis=0)
    expected = np.sum(mean * np.log(mean)) / np.log(base)  # -H(E[f_t(x)]) (Eq. 2)
    got = run(graph, session_of, objective.information_entropy_loss(tf.constant(LOGITS), base))
    np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_information_entropy_loss_is_lowest_for_balanced_classes(graph, session_of):
    balanced = np.eye(3, dtype=np.float32) * 20
    collapsed = np.tile(np.array([[20.0, 0, 0]], np.float32), [3, 1])
    low, high = run(graph, session_of, [objective.information_entropy_loss(tf.constant(balanced)),
                                        objective.information_entropy_loss(tf.constant(collapsed))])
    np.testing.assert_allclose(low, -np.log10(3), rtol=1e-4)
    assert high > -1e-3


def test_information_entropy_loss_is_finite_when_a_class_probability_underflows(graph,
                                                                                session_of):
    # Class 2 never gets any mass in float32 (e^-200 underflows): 0·log 0 counts as 0, and
    # neither the value nor its gradient may become NaN (a NaN here once diverged a CI cell).
    logits = tf.constant([[100.0, 0.0, -100.0], [0.0, 100.0, -100.0]])
    loss = objective.information_entropy_loss(logits, np.e)
    value, grad = run(graph, session_of, [loss, tf.gradients(loss, logits)[0]])
    np.testing.assert_allclose(value, -np.log(2.0), rtol=1e-5)
    assert np.all(np.isfinite(grad))


def test_information_entropy_loss_is_plain_p_log_p_bit_for_bit(graph, session_of):
    # The underflow guard must not move a single bit where no class underflows (the committed
    # cells were computed without it).
    logits = tf.constant(LOGITS)
    mean = tf.reduce_mean(tf.nn.softmax(logits), axis=0)
    plain = tf.reduce_sum(mean * tf.log(mean)) / np.log(10.0)
    guarded = objective.information_entropy_loss(logits)
    got = run(graph, session_of, [guarded, plain] + tf.gradients(guarded, logits)
              + tf.gradients(plain, logits))
    assert got[0] == got[1]
    np.testing.assert_array_equal(got[2], got[3])


def test_activation_loss_is_minus_mean_absolute_feature(graph, session_of):
    got = run(graph, session_of, objective.activation_loss(tf.constant(FEATURES)))
    np.testing.assert_allclose(got, -np.abs(FEATURES).mean(axis=1), rtol=1e-6)


def test_generator_loss_combines_terms_with_dafl_weights(graph, session_of):
    loss = objective.generator_loss(tf.constant(LOGITS), tf.constant(FEATURES),
                                    one_hot_weight=1.0, information_entropy_weight=5.0,
                                    activation_weight=0.1)
    total, oh, ie, act = run(graph, session_of, loss)
    p = softmax(LOGITS)
    oh_np = np.mean(-np.log(p.max(axis=1)))
    ie_np = np.sum(p.mean(0) * np.log10(p.mean(0)))
    act_np = -np.abs(FEATURES).mean()
    np.testing.assert_allclose([oh, ie, act], [oh_np, ie_np, act_np], rtol=1e-5)
    np.testing.assert_allclose(total, oh_np + 5 * ie_np + 0.1 * act_np, rtol=1e-5)


@pytest.mark.parametrize("base", [10.0, np.e])
def test_generator_loss_entropy_term_is_eq2_mean_entropy_in_the_log_base(graph, session_of,
                                                                         base):
    """``confidence_term="entropy"``: Eq. 2's α·E[H(f_t(x))] as written, in the unit of the
    β-term (``log_base``), in place of DAFL's one-hot cross-entropy; the other terms stay."""
    loss = objective.generator_loss(tf.constant(LOGITS), tf.constant(FEATURES), log_base=base,
                                    confidence_term="entropy")
    total, h, ie, act = run(graph, session_of, loss)
    p = softmax(LOGITS)
    h_np = np.mean(-np.sum(p * np.log(p), axis=1)) / np.log(base)
    ie_np = np.sum(p.mean(0) * np.log(p.mean(0))) / np.log(base)
    np.testing.assert_allclose([h, ie, act], [h_np, ie_np, -np.abs(FEATURES).mean()], rtol=1e-5)
    np.testing.assert_allclose(total, h_np + 5 * ie_np + 0.1 * act, rtol=1e-5)
    # Not the one-hot loss: on these logits the two differ.
    assert abs(h_np * np.log(base) - np.mean(-np.log(p.max(axis=1)))) > 0.1


def test_distillation_loss_is_kl_teacher_to_student(graph, session_of):
    pt, ps = softmax(LOGITS), softmax(STUDENT)
    expected = np.sum(pt * (np.log(pt) - np.log(ps)), axis=1)
    got = run(graph, session_of, distillation_loss(tf.constant(LOGITS), tf.constant(STUDENT)))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-7)
    same = run(graph, session_of, distillation_loss(tf.constant(LOGITS), tf.constant(LOGITS)))
    np.testing.assert_allclose(same, 0.0, atol=1e-6)


def test_distillation_loss_at_a_temperature_is_t_squared_kl_of_softened(graph, session_of):
    """``distill_temperature`` T: T² · KL(softmax(z_t/T) ‖ softmax(z_s/T)) (Hinton et al.)."""
    pt, ps = softmax(LOGITS / 4.0), softmax(STUDENT / 4.0)
    expected = 16.0 * np.sum(pt * (np.log(pt) - np.log(ps)), axis=1)
    got = run(graph, session_of,
              distillation_loss(tf.constant(LOGITS), tf.constant(STUDENT), temperature=4.0))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-7)


def test_adaptive_generator_loss_subtracts_gamma_times_distill(graph, session_of):
    got = run(graph, session_of, adaptive_generator_loss(tf.constant(1.5), tf.constant(0.25), 0.4))
    assert got == pytest.approx(1.5 - 0.4 * 0.25)

"""The distillation loss shared by every method (Eq. 1)."""
from building_blocks.common.tf_compat import tf


def distillation_loss(teacher_logits, student_logits, name="distillation_loss"):
    """Eq. 1 with D = KL(f_t(x) ‖ f_s(x)) at temperature 1, as in DAFL's ``kdloss``.

    Args: teacher_logits, student_logits: [B, K].
    Returns: per-example KL divergence [B] in nats; the caller reduces it (mean = DAFL's
    sum / batch size).
    """
    with tf.name_scope(name):
        teacher_log_probs = tf.nn.log_softmax(teacher_logits)
        student_log_probs = tf.nn.log_softmax(student_logits)
        return tf.reduce_sum(tf.exp(teacher_log_probs) * (teacher_log_probs - student_log_probs),
                             axis=-1)

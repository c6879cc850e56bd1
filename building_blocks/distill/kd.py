"""The distillation loss shared by every method (Eq. 1)."""
from building_blocks.common.tf_compat import tf


def distillation_loss(teacher_logits, student_logits, temperature=1.0,
                      name="distillation_loss"):
    """Eq. 1 with D = KL(f_t(x) ‖ f_s(x)); at temperature 1 (default) DAFL's ``kdloss``.

    At temperature T ≠ 1, Hinton et al.'s T² · KL(softmax(z_t/T) ‖ softmax(z_s/T)) (the T²
    keeps the gradients' scale); T = 1 builds no extra op.
    Args: teacher_logits, student_logits: [B, K].
    Returns: per-example KL divergence [B] in nats; the caller reduces it (mean = DAFL's
    sum / batch size).
    """
    with tf.name_scope(name):
        if temperature != 1.0:
            with tf.name_scope("soften"):
                teacher_logits = teacher_logits / temperature
                student_logits = student_logits / temperature
        teacher_log_probs = tf.nn.log_softmax(teacher_logits)
        student_log_probs = tf.nn.log_softmax(student_logits)
        kl = tf.reduce_sum(tf.exp(teacher_log_probs) * (teacher_log_probs - student_log_probs),
                           axis=-1)
        return kl if temperature == 1.0 else temperature ** 2 * kl

"""Output distributions of teachers and students: the hooks that make one distiller skeleton
serve classifiers, categorical policies and diagonal-Gaussian policies.

A family reads the distribution parameters from a network output namedtuple
(``ClassifierOutput`` / ``PolicyOutput``: ``logits`` for categorical, ``mean`` and ``log_std``
for diagonal Gaussian) and provides, as pure tensor functions:
- ``kl(teacher_out, student_out)`` [B]: Eq. 1's D = KL(π_t(x) ‖ π_s(x)), nats;
- ``entropy(out)`` [B]: H(π(x)) in closed form (Eq. 2's α-term per example), nats;
- ``entropy_of_mean(out)`` scalar: H(E_x[π(x)]) over the batch (Eq. 2's β-term) — exact for
  categorical, the lower bound of Eq. 5 for Gaussians (Appendix B.4), nats;
- ``mode(out)`` / ``sample(out)`` [B] or [B, D]: actions for evaluation and rollouts.
"""
import math

from building_blocks.distill.kd import distillation_loss
from building_blocks.distill.mixture_entropy import gaussian_mixture_entropy_lower_bound
from building_blocks.common.seeds import scoped_seed
from building_blocks.common.tf_compat import tf


def categorical_entropy(logits):
    """H(softmax(logits)) per example, nats. [B, K] → [B]."""
    log_probs = tf.nn.log_softmax(logits)
    return -tf.reduce_sum(tf.exp(log_probs) * log_probs, axis=-1)


class Categorical(object):
    """π(·|x) = softmax(logits); also the classifiers' output family (Eq. 1 as in DAFL).

    ``temperature`` T: Eq. 1's D taken as Hinton et al.'s T² · KL(softmax(z_t/T) ‖
    softmax(z_s/T)); T = 1 (default) is DAFL's ``kdloss``. Only ``kl`` reads it: the entropy
    terms of Eq. 2 stay on the teacher's own probabilities.
    """
    action_kind = "discrete"
    param_fields = ("logits",)

    def __init__(self, temperature=1.0):
        self.temperature = float(temperature)  # checked by DistillConfig.validate

    def kl(self, teacher_out, student_out):
        return distillation_loss(teacher_out.logits, student_out.logits, self.temperature)

    def entropy(self, out):
        return categorical_entropy(out.logits)

    def entropy_of_mean(self, out):
        mean_probs = tf.reduce_mean(tf.nn.softmax(out.logits), axis=0)
        return -tf.reduce_sum(mean_probs * tf.log(mean_probs + 1e-12))

    def mode(self, out):
        return tf.argmax(out.logits, axis=-1, output_type=tf.int32)

    def sample(self, out):
        return tf.squeeze(tf.random.categorical(out.logits, 1, dtype=tf.int32,
                                                seed=scoped_seed("action")), axis=-1)


class DiagGaussian(object):
    """π(·|x) = N(mean(x), diag(exp(log_std)²)).

    With a PPO policy's state-independent log-std, ``entropy`` does not depend on x, so the
    α-term of Eq. 2 gives the generator no gradient; only H(E π) and the activation term do.
    """
    action_kind = "continuous"
    param_fields = ("mean", "log_std")

    def kl(self, teacher_out, student_out):
        """Closed form KL(N_t ‖ N_s) summed over action dimensions. [B, D] → [B]."""
        var_t = tf.exp(2.0 * teacher_out.log_std)
        var_s = tf.exp(2.0 * student_out.log_std)
        return tf.reduce_sum(
            student_out.log_std - teacher_out.log_std
            + (var_t + tf.square(teacher_out.mean - student_out.mean)) / (2.0 * var_s) - 0.5,
            axis=-1)

    def entropy(self, out):
        dim = tf.cast(tf.shape(out.mean)[-1], out.mean.dtype)
        return tf.reduce_sum(out.log_std, axis=-1) + 0.5 * dim * math.log(2.0 * math.pi * math.e)

    def entropy_of_mean(self, out):
        return gaussian_mixture_entropy_lower_bound(out.mean, tf.exp(out.log_std))  # Eq. 5

    def mode(self, out):
        return out.mean

    def sample(self, out):
        noise = tf.random_normal(tf.shape(out.mean), seed=scoped_seed("action_noise"))
        return out.mean + tf.exp(out.log_std) * noise


FAMILIES = {"discrete": Categorical, "continuous": DiagGaussian}


def family_for(action_kind):
    """'discrete' → Categorical(), 'continuous' → DiagGaussian()."""
    if action_kind not in FAMILIES:
        raise ValueError("unknown action kind %r (expected 'discrete' or 'continuous')"
                         % (action_kind,))
    return FAMILIES[action_kind]()


def stop_gradient(out, fields):
    """The output namedtuple with tf.stop_gradient on ``fields`` (e.g. a family's
    ``param_fields``; None values kept)."""
    return out._replace(**{field: tf.stop_gradient(getattr(out, field)) for field in fields
                           if getattr(out, field) is not None})


def split(out, num):
    """Splits every [B, ...] field of an output namedtuple into ``num`` equal parts along the
    batch; returns ``num`` namedtuples of the same type."""
    parts = {field: (tf.split(value, num, axis=0) if value is not None else [None] * num)
             for field, value in zip(out._fields, out)}
    return [out._replace(**{field: parts[field][i] for field in out._fields})
            for i in range(num)]

"""DAFL's generator objective (Chen et al. 2019), Eqs. 2–3 of the GAS paper.

L_G = w_oh · L_oh + w_ie · L_ie − λ_act · E|h_t|, with the weights of DAFL's released MNIST
setup (w_oh = 1, w_ie = 5, λ_act = 0.1):
- L_oh, the one-hot loss: cross-entropy between the teacher's output and its own argmax.
  It is DAFL's stand-in for Eq. 2's α·E[H(f_t(x))]: it is minimal exactly when the teacher is
  confident, as the entropy term is.
- L_ie = −H(E[f_t(x)]), the information-entropy loss (Eq. 2's −β·H(E f_t)). DAFL's code takes
  the logarithm in base 10; ``log_base`` keeps that choice explicit.
- −E|h_t|, the activation loss on the teacher's last hidden layer (Eq. 3).
"""
import collections
import math

from building_blocks.common.tf_compat import tf
from building_blocks.distill.action_distributions import categorical_entropy

GeneratorLoss = collections.namedtuple(
    "GeneratorLoss", ["total", "one_hot", "information_entropy", "activation"])


def one_hot_loss(teacher_logits, name="one_hot_loss"):
    """Per-example cross-entropy with the teacher's argmax as label. [B, K] → [B]."""
    with tf.name_scope(name):
        pseudo_labels = tf.stop_gradient(tf.argmax(teacher_logits, axis=-1))
        return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=pseudo_labels,
                                                              logits=teacher_logits)


def information_entropy_loss(teacher_logits, log_base=10.0, name="information_entropy_loss"):
    """−H(E_x[f_t(x)]) over the batch (Eq. 2, β-term). [B, K] → scalar.

    Entropy in units of ``log_base`` (DAFL: 10; e for nats). A class whose mean probability
    underflows to 0 contributes its limit 0·log 0 = 0 (DAFL's code would give NaN); every
    other value, and its gradient, is the plain p·log p bit for bit (the double ``where``
    keeps log 0 out of the gradient too).
    """
    with tf.name_scope(name):
        mean_probs = tf.reduce_mean(tf.nn.softmax(teacher_logits), axis=0)
        positive = mean_probs > 0
        safe = tf.where(positive, mean_probs, tf.ones_like(mean_probs))
        terms = tf.where(positive, mean_probs * tf.log(safe), tf.zeros_like(mean_probs))
        return tf.reduce_sum(terms) / math.log(log_base)


def activation_loss(teacher_features, name="activation_loss"):
    """−mean |h_t| per example (Eq. 3's −E|h_t|). [B, F] → [B]."""
    with tf.name_scope(name):
        return -tf.reduce_mean(tf.abs(teacher_features), axis=-1)


def output_entropy(teacher_logits, log_base=math.e, name="output_entropy"):
    """H(f_t(x)) per example in units of ``log_base`` (Eq. 2's α-term as written). [B, K] → [B]."""
    with tf.name_scope(name):
        return categorical_entropy(teacher_logits) / math.log(log_base)


def generator_loss(teacher_logits, teacher_features, one_hot_weight=1.0,
                   information_entropy_weight=5.0, activation_weight=0.1, log_base=10.0,
                   information_entropy=None, confidence_term="one_hot", name="generator_loss"):
    """Eq. 3: L_G = L_H − λ_act · E|h_t|, reduced over one generator's batch.

    Args: teacher_logits [B, K], teacher_features [B, F] of one generator's samples;
    information_entropy: a scalar L_ie to use instead of this batch's own (the "bank" reading
    of GAS: one L_ie over all generators' samples, ``information_entropy_scope``);
    confidence_term: Eq. 2's α-term, "one_hot" (DAFL's cross-entropy with the teacher's
    argmax, in nats) or "entropy" (E[H(f_t(x))] as written, in the units of ``log_base``,
    the unit of the β-term).
    Returns: GeneratorLoss of scalars (total and its three weighted-free terms; ``one_hot``
    holds whichever α-term ``confidence_term`` names).
    """
    with tf.name_scope(name):
        if confidence_term == "entropy":
            oh = tf.reduce_mean(output_entropy(teacher_logits, log_base))
        else:
            oh = tf.reduce_mean(one_hot_loss(teacher_logits))
        ie = (information_entropy if information_entropy is not None
              else information_entropy_loss(teacher_logits, log_base))
        act = tf.reduce_mean(activation_loss(teacher_features))
        total = one_hot_weight * oh + information_entropy_weight * ie + activation_weight * act
        return GeneratorLoss(total, oh, ie, act)


PolicyGeneratorLoss = collections.namedtuple(
    "PolicyGeneratorLoss", ["total", "entropy", "entropy_of_mean", "activation"])


def policy_generator_loss(family, teacher_out, entropy_weight=1.0, mean_entropy_weight=5.0,
                          activation_weight=0.1, name="policy_generator_loss"):
    """Eqs. 2–3 for a policy teacher: L_G = α·E[H(π_t(x))] − β·H(E[π_t(x)]) − λ_act·E|h_t|.

    Eq. 2's entropy terms themselves, in nats (no one-hot stand-in): ``family`` (an
    ``action_distributions`` family) gives H in closed form and H(E π): exact for categorical,
    Eq. 5's lower bound for diagonal Gaussians.
    Args: teacher_out: PolicyOutput of one generator's batch (features [B, F]).
    Returns: PolicyGeneratorLoss of scalars; the terms are unweighted, with the sign they
    enter L_G (entropy = E[H], entropy_of_mean = −H(E π), activation = −E|h_t|).
    """
    with tf.name_scope(name):
        entropy = tf.reduce_mean(family.entropy(teacher_out))
        neg_mean_entropy = -family.entropy_of_mean(teacher_out)
        act = tf.reduce_mean(activation_loss(teacher_out.features))
        total = (entropy_weight * entropy + mean_entropy_weight * neg_mean_entropy
                 + activation_weight * act)
        return PolicyGeneratorLoss(total, entropy, neg_mean_entropy, act)

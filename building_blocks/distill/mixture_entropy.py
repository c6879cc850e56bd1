"""Eq. 5: a lower bound on the entropy of a Gaussian mixture, H(E_x[π_t(x)]) for a batch of
diagonal-Gaussian policy outputs (Huber et al. 2008). Used by L_G on continuous-action
policies (DAFL's and GAS's, through action_distributions.DiagGaussian.entropy_of_mean)."""
import math

from building_blocks.common.tf_compat import tf


def gaussian_mixture_entropy_lower_bound(means, stds, name="gaussian_mixture_entropy_lower_bound"):
    """Eq. 5 (Huber et al. 2008): lower bound on the entropy of the uniform mixture of the
    batch's diagonal Gaussians N(μ_i, C_i), C_i = diag(σ_i²):

        H_lower = −Σ_i w_i · log Σ_j w_j · z_ij,   z_ij = N(μ_i; μ_j, C_i + C_j),   w = 1/B.

    log z_ij is computed in closed form and reduced with logsumexp, so it is stable for
    far-apart components and small σ.
    Args: means, stds: [B, D] (stds > 0).
    Returns: scalar, nats. For B = 1 it is D/2·log(4π) + Σ log σ, below the Gaussian's
    exact entropy D/2·log(2πe) + Σ log σ.
    """
    with tf.name_scope(name):
        means = tf.convert_to_tensor(means)
        stds = tf.convert_to_tensor(stds)
        means.shape.assert_has_rank(2)
        stds.shape.assert_is_compatible_with(means.shape)
        dim = tf.cast(tf.shape(means)[1], means.dtype)
        batch = tf.cast(tf.shape(means)[0], means.dtype)
        var = tf.square(stds)
        var_sum = var[:, None, :] + var[None, :, :]                       # [B, B, D]: C_i + C_j
        diff = means[:, None, :] - means[None, :, :]                      # [B, B, D]: μ_i − μ_j
        log_z = -0.5 * (dim * math.log(2.0 * math.pi)
                        + tf.reduce_sum(tf.log(var_sum), axis=-1)
                        + tf.reduce_sum(tf.square(diff) / var_sum, axis=-1))  # [B, B]
        log_mixture = tf.reduce_logsumexp(log_z, axis=1) - tf.log(batch)   # log Σ_j w_j z_ij
        return -tf.reduce_mean(log_mixture)                               # −Σ_i w_i (…)

"""GAS losses (Section 3 and Appendix B.4). Eq. 5's entropy bound, which DAFL on Gaussian
policies uses too, is in building_blocks/distill/mixture_entropy.py."""

from building_blocks.common.tf_compat import tf


def adaptive_generator_loss(generator_loss, distill_loss, gamma, name="adaptive_generator_loss"):
    """Eq. 4: L_adapt = L_G − γ · L_distill(θ_s, X_fake).

    The generator is pushed towards inputs where student and teacher disagree.
    Args: generator_loss, distill_loss: scalars for one generator's batch; gamma: float.
    """
    with tf.name_scope(name):
        return generator_loss - gamma * distill_loss

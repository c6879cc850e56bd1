"""A bank of K generators fed slices of one sampled latent batch (B.1.1).

GAS samples one batch of 512 vectors z ~ U(−1,1)^100 and slices it into 8 sub-batches of 64,
one per concurrent generator. DAFL is the bank with K = 1.
"""
from building_blocks import nets
from building_blocks.tf_compat import tf


class GeneratorBank(object):
    """K independent generators, each with its own variables; made by ``make_generator(name)``."""

    def __init__(self, num_generators, make_generator, latent_dim=100,
                 latent_distribution="uniform"):
        self.latent_dim, self.latent_distribution = latent_dim, latent_distribution
        self.generators = [make_generator("generator") for _ in range(num_generators)]

    def __len__(self):
        return len(self.generators)

    def sample(self, batch_size):
        """Draws z [batch_size, latent] in the graph; returns K tensors of batch_size / K samples."""
        if batch_size % len(self):
            raise ValueError("batch of %d cannot be sliced evenly over %d generators"
                             % (batch_size, len(self)))
        z = nets.sample_latent(batch_size, self.latent_dim, self.latent_distribution)
        slices = tf.split(z, len(self), axis=0)
        return [generator(z_k) for generator, z_k in zip(self.generators, slices)]

    @property
    def variables(self):
        return [v for g in self.generators for v in g.variables]

    @property
    def trainable_variables(self):
        return [v for g in self.generators for v in g.trainable_variables]

"""The generators (B.1.1, B.3): DAFL's DCGAN-style generator (32×32 images, and Atari frames
with a sigmoid output), the MLP generator of vector observations, the latent draw, and a bank
of K generators fed slices of one sampled latent batch.

GAS samples one batch of 512 vectors z ~ U(−1,1)^100 and slices it into 8 sub-batches of 64,
one per concurrent generator. DAFL is the bank with K = 1.
"""
from building_blocks.common import layers, xla
from building_blocks.common.network import Network
from building_blocks.common.seeds import draw_noise
from building_blocks.common.tf_compat import tf


class DCGANGenerator(Network):
    """DAFL's generator for 32×32×C images (DAFL-train.py, img_size=32).

    z [B, latent] → fc → 128×8×8 → BN → ×2 → conv3×3(128) → BN(eps 0.8) → LReLU(0.2) → ×2
    → conv3×3(64) → BN(eps 0.8) → LReLU(0.2) → conv3×3(C) → tanh → BN (no affine).
    ``batch_norm=False`` drops every BN (Table 2's "DCGAN without batch norm").
    ``output="sigmoid"`` (policy distillation on Atari frames, any S divisible by 4, e.g. 84
    or 48): conv3×3(C) → sigmoid, so frames lie in the teacher's [0, 1] input space.
    ``output_scale``, ``output_shift``: a fixed affine map of the "tanh_bn" output (identity
    default; Figure 2's generators without batch norm).
    ``output_batch_norm=False``: no BN after the tanh (DCGAN's own output), the hidden BNs
    kept; with ``output_scale``/``output_shift`` the tanh lands in the images' pixel range.
    ``fused_batch_norm``: each BN as one fused kernel (``layers.BatchNorm``; issue 14); the
    distillers pass the config's ``fused_batch_norm``.
    """

    def __init__(self, name, latent_dim=100, channels=1, image_size=32, batch_norm=True,
                 trainable=True, output="tanh_bn", output_scale=1.0, output_shift=0.0,
                 fused_batch_norm=False, output_batch_norm=True):
        if image_size % 4 or output not in ("tanh_bn", "sigmoid"):
            raise ValueError("DCGANGenerator: image_size must be a multiple of 4 and output "
                             "'tanh_bn' or 'sigmoid', got %r, %r" % (image_size, output))
        self.latent_dim, self.channels, self.batch_norm = latent_dim, channels, batch_norm
        self.output = output
        self.output_scale, self.output_shift = output_scale, output_shift
        self.fused_batch_norm = fused_batch_norm
        self.output_batch_norm = output_batch_norm
        self.init_size = image_size // 4
        super(DCGANGenerator, self).__init__(name, trainable)

    def _build(self, trainable):
        s = self.init_size
        self.fc = layers.Dense(self.latent_dim, 128 * s * s, "fc", trainable=trainable)
        self.conv1 = layers.Conv2D(128, 128, 3, "conv1", padding="SAME", trainable=trainable)
        self.conv2 = layers.Conv2D(128, 64, 3, "conv2", padding="SAME", trainable=trainable)
        self.conv3 = layers.Conv2D(64, self.channels, 3, "conv3", padding="SAME",
                                   trainable=trainable)
        if self.batch_norm:
            fused = self.fused_batch_norm
            self.bn0 = layers.BatchNorm(128, "bn0", trainable=trainable, fused=fused)
            self.bn1 = layers.BatchNorm(128, "bn1", eps=0.8, trainable=trainable, fused=fused)
            self.bn2 = layers.BatchNorm(64, "bn2", eps=0.8, trainable=trainable, fused=fused)
            if self.output == "tanh_bn" and self.output_batch_norm:
                self.bn3 = layers.BatchNorm(self.channels, "bn3", affine=False,
                                            trainable=trainable, fused=fused)

    def _norm(self, name, x):
        return getattr(self, name)(x) if self.batch_norm else x

    def __call__(self, z):
        """z [B, latent] → images [B, S, S, C] (S = image_size; 32 for the image tasks)."""
        s = self.init_size
        with tf.name_scope(self.scope_name.split("/")[-1]):
            h = tf.reshape(self.fc(z), [-1, s, s, 128])
            h = layers.upsample2x(self._norm("bn0", h))
            h = tf.nn.leaky_relu(self._norm("bn1", self.conv1(h)), 0.2)
            h = layers.upsample2x(h)
            h = tf.nn.leaky_relu(self._norm("bn2", self.conv2(h)), 0.2)
            if self.output == "sigmoid":  # Atari frames: the teacher's uint8 / 255 in [0, 1]
                return tf.sigmoid(self.conv3(h))
            out = tf.tanh(self.conv3(h))
            if self.output_batch_norm:
                out = self._norm("bn3", out)
            if self.output_scale != 1.0 or self.output_shift != 0.0:
                out = out * self.output_scale + self.output_shift
            return out


def sample_latent(batch_size, latent_dim, distribution="uniform", name="latent"):
    """z ~ U(−1, 1)^d (GAS, B.1.1) or N(0, I) (DAFL's released code), made in the graph with
    the op seed of ``name`` in the current name scope (``seeds``)."""
    return draw_noise([batch_size, latent_dim], distribution, name)


class MLPGenerator(Network):
    """Observation generator for vector-observation policies (B.3: U(−1,1)^100 noise drives
    a single-layer MLP).

    With ``output_normalizer`` (a function of raw observations, the teacher's normaliser):
    z [B, latent] → fc(hidden) → LReLU(0.2) → fc(obs_dim) = a raw observation → normaliser
    (which clips at ±5). Without it:
    z → fc(hidden) → BN → LReLU(0.2) → fc(obs_dim) → BN (no affine) → clip ±clip, where the
    last, non-affine batch norm puts samples at zero mean and unit variance per dimension,
    the statistics of the teacher's normalised inputs (as the image generator's last BN
    does), and the clip is the normaliser's (±5); ``batch_norm=False`` drops both BNs.
    CHOICE: "single-layer" read as one hidden layer (``hidden=0``: one linear layer).
    """

    def __init__(self, name, latent_dim=100, obs_dim=4, hidden=256, batch_norm=True, clip=5.0,
                 trainable=True, output_normalizer=None):
        self.latent_dim, self.obs_dim, self.hidden = latent_dim, obs_dim, hidden
        self.output_normalizer = output_normalizer
        self.batch_norm = batch_norm and output_normalizer is None
        self.clip = clip
        super(MLPGenerator, self).__init__(name, trainable)

    def _build(self, trainable):
        width = self.hidden or self.latent_dim
        if self.hidden:
            self.fc1 = layers.Dense(self.latent_dim, self.hidden, "fc1", trainable=trainable)
            if self.batch_norm:
                self.bn1 = layers.BatchNorm(self.hidden, "bn1", trainable=trainable)
        self.out = layers.Dense(width, self.obs_dim, "out", trainable=trainable)
        if self.batch_norm:
            self.bn_out = layers.BatchNorm(self.obs_dim, "bn_out", affine=False,
                                           trainable=trainable)

    def __call__(self, z):
        """z [B, latent] → observations [B, obs_dim] in the teacher's normalised input space."""
        with tf.name_scope(self.scope_name.split("/")[-1]):
            h = z
            if self.hidden:
                h = self.fc1(h)
                h = tf.nn.leaky_relu(self.bn1(h) if self.batch_norm else h, 0.2)
            x = self.out(h)
            if self.output_normalizer is not None:
                return self.output_normalizer(x)
            if self.batch_norm:
                x = self.bn_out(x)
            return tf.clip_by_value(x, -self.clip, self.clip) if self.clip else x


class GeneratorBank(object):
    """K independent generators, each with its own variables; made by ``make_generator(name)``.
    ``jit``: XLA compiles the generators' ops (the latent draw stays outside, so z is the same
    random stream either way)."""

    def __init__(self, num_generators, make_generator, latent_dim=100,
                 latent_distribution="uniform", jit=False):
        self.latent_dim, self.latent_distribution = latent_dim, latent_distribution
        self.jit = jit
        self.generators = [make_generator("generator") for _ in range(num_generators)]

    def __len__(self):
        return len(self.generators)

    def sample(self, batch_size):
        """Draws z [batch_size, latent] in the graph; returns K tensors of batch_size / K samples."""
        if batch_size % len(self):
            raise ValueError("batch of %d cannot be sliced evenly over %d generators"
                             % (batch_size, len(self)))
        z = sample_latent(batch_size, self.latent_dim, self.latent_distribution)
        slices = tf.split(z, len(self), axis=0)
        with xla.jit_scope(self.jit):
            return [generator(z_k) for generator, z_k in zip(self.generators, slices)]

    @property
    def variables(self):
        return [v for g in self.generators for v in g.variables]

    @property
    def trainable_variables(self):
        return [v for g in self.generators for v in g.trainable_variables]

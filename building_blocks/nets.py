"""Networks of the image experiments: LeNet-5 (teacher), LeNet-5-Half (student) and
DAFL's DCGAN-style generator for 32×32 inputs.

Each network is a ``Network``: it creates all its variables in its constructor under a
unique variable scope and builds ops each time it is called.
"""
import collections

from building_blocks import layers
from building_blocks.seeds import scoped_seed
from building_blocks.tf_compat import tf

ClassifierOutput = collections.namedtuple("ClassifierOutput", ["logits", "features"])


class Network(object):
    """Owns the variables under one variable scope (unique: 'student', 'student_1', ...)."""

    def __init__(self, name, trainable=True):
        self.trainable = trainable
        with tf.variable_scope(None, default_name=name) as scope:
            self.scope_name = scope.name
            self._build(trainable)
        # Only the variables the network made itself (not optimizer slots added later).
        self._variables = tf.get_collection(tf.GraphKeys.GLOBAL_VARIABLES,
                                            scope=self.scope_name + "/")

    def _build(self, trainable):
        raise NotImplementedError

    @property
    def variables(self):
        return list(self._variables)

    @property
    def trainable_variables(self):
        return [v for v in self._variables if v.trainable]

    def relative_name(self, variable):
        """Variable name without the network's scope, e.g. 'conv1/w' (checkpoint keys)."""
        return variable.op.name[len(self.scope_name) + 1:]


class LeNet5(Network):
    """LeNet-5 on 32×32×C inputs as in DAFL's lenet.py.

    conv5×5(c1) → ReLU → maxpool → conv5×5(c2) → ReLU → maxpool → conv5×5(c3) → ReLU
    (= the features h_t of Eq. 3) → fc(f1) → ReLU → [dropout] → fc(num_classes).
    ``width=1.0``: 6, 16, 120, 84 (teacher); ``width=0.5``: 3, 8, 60, 42 (LeNet-5-Half).
    Dropout (B.1.1: p = 0.2, teacher only) sits after the hidden fully connected layer.
    """

    def __init__(self, name, width=1.0, channels=1, num_classes=10, dropout=0.0, trainable=True):
        self.c1, self.c2, self.c3, self.f1 = [int(round(n * width)) for n in (6, 16, 120, 84)]
        self.channels, self.num_classes, self.dropout = channels, num_classes, dropout
        super(LeNet5, self).__init__(name, trainable)

    def _build(self, trainable):
        self.conv1 = layers.Conv2D(self.channels, self.c1, 5, "conv1", trainable=trainable)
        self.conv2 = layers.Conv2D(self.c1, self.c2, 5, "conv2", trainable=trainable)
        self.conv3 = layers.Conv2D(self.c2, self.c3, 5, "conv3", trainable=trainable)
        self.fc1 = layers.Dense(self.c3, self.f1, "fc1", trainable=trainable)
        self.fc2 = layers.Dense(self.f1, self.num_classes, "fc2", trainable=trainable)

    def __call__(self, images, training=False):
        """images [B, 32, 32, C] → ClassifierOutput(logits [B, K], features [B, c3])."""
        with tf.name_scope(self.scope_name.split("/")[-1]):
            h = layers.max_pool2x(tf.nn.relu(self.conv1(images)))
            h = layers.max_pool2x(tf.nn.relu(self.conv2(h)))
            features = tf.reshape(tf.nn.relu(self.conv3(h)), [-1, self.c3])
            h = tf.nn.relu(self.fc1(features))
            if training and self.dropout > 0:
                h = tf.nn.dropout(h, rate=self.dropout, seed=scoped_seed("dropout"))
            return ClassifierOutput(self.fc2(h), features)


class DCGANGenerator(Network):
    """DAFL's generator for 32×32×C images (DAFL-train.py, img_size=32).

    z [B, latent] → fc → 128×8×8 → BN → ×2 → conv3×3(128) → BN(eps 0.8) → LReLU(0.2) → ×2
    → conv3×3(64) → BN(eps 0.8) → LReLU(0.2) → conv3×3(C) → tanh → BN (no affine).
    ``batch_norm=False`` drops every BN (Table 2's "DCGAN without batch norm").
    ``output="sigmoid"`` (policy distillation on Atari frames, any S divisible by 4, e.g. 84
    or 48): conv3×3(C) → sigmoid, so frames lie in the teacher's [0, 1] input space.
    ``output_scale``, ``output_shift``: a fixed affine map of the "tanh_bn" output (identity
    default; Figure 2's generators without batch norm).
    """

    def __init__(self, name, latent_dim=100, channels=1, image_size=32, batch_norm=True,
                 trainable=True, output="tanh_bn", output_scale=1.0, output_shift=0.0):
        if image_size % 4 or output not in ("tanh_bn", "sigmoid"):
            raise ValueError("DCGANGenerator: image_size must be a multiple of 4 and output "
                             "'tanh_bn' or 'sigmoid', got %r, %r" % (image_size, output))
        self.latent_dim, self.channels, self.batch_norm = latent_dim, channels, batch_norm
        self.output = output
        self.output_scale, self.output_shift = output_scale, output_shift
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
            self.bn0 = layers.BatchNorm(128, "bn0", trainable=trainable)
            self.bn1 = layers.BatchNorm(128, "bn1", eps=0.8, trainable=trainable)
            self.bn2 = layers.BatchNorm(64, "bn2", eps=0.8, trainable=trainable)
            if self.output == "tanh_bn":
                self.bn3 = layers.BatchNorm(self.channels, "bn3", affine=False,
                                            trainable=trainable)

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
            out = self._norm("bn3", tf.tanh(self.conv3(h)))
            if self.output_scale != 1.0 or self.output_shift != 0.0:
                out = out * self.output_scale + self.output_shift
            return out


def sample_latent(batch_size, latent_dim, distribution="uniform", name="latent"):
    """z ~ U(−1, 1)^d (GAS, B.1.1) or N(0, I) (DAFL's released code), made in the graph with
    the op seed of ``name`` in the current name scope (``seeds``)."""
    seed = scoped_seed(name)
    if distribution == "uniform":
        return tf.random_uniform([batch_size, latent_dim], -1.0, 1.0, seed=seed, name=name)
    if distribution == "normal":
        return tf.random_normal([batch_size, latent_dim], seed=seed, name=name)
    raise ValueError("unknown latent distribution %r (expected 'uniform' or 'normal')"
                     % distribution)


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

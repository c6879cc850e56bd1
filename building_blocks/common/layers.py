"""Minimal graph-mode layers that own their variables.

A layer creates its variables once, in its constructor, under the variable scope of the
network that owns it; calling it again builds new ops on the same variables. No
``AUTO_REUSE`` and no global collections beyond TF's own, so a teacher, a student and
eight generators coexist in one graph.

Initialisation follows PyTorch's defaults (U(±1/sqrt(fan_in)) for weights and biases),
because DAFL's released code, whose generator and LeNet we reproduce, relies on them.
Layout is NHWC throughout.
"""
import math

from building_blocks.common.seeds import variable_seed
from building_blocks.common.tf_compat import tf


def _uniform_fan_in(fan_in, variable_name):
    """U(±1/sqrt(fan_in)) with the op seed of ``variable_name`` in the current scope."""
    bound = 1.0 / math.sqrt(fan_in)
    return tf.random_uniform_initializer(-bound, bound, seed=variable_seed(variable_name))


class Dense(object):
    """y = x W + b."""

    def __init__(self, in_dim, out_dim, name, trainable=True):
        with tf.variable_scope(name):
            self.w = tf.get_variable("w", [in_dim, out_dim], trainable=trainable,
                                     initializer=_uniform_fan_in(in_dim, "w"))
            self.b = tf.get_variable("b", [out_dim], trainable=trainable,
                                     initializer=_uniform_fan_in(in_dim, "b"))

    def __call__(self, x):
        return tf.matmul(x, self.w) + self.b


class Conv2D(object):
    """k×k convolution, stride 1, 'VALID' or 'SAME' padding, NHWC."""

    def __init__(self, in_ch, out_ch, kernel, name, padding="VALID", trainable=True):
        self.padding = padding
        with tf.variable_scope(name):
            fan_in = in_ch * kernel * kernel
            self.w = tf.get_variable("w", [kernel, kernel, in_ch, out_ch], trainable=trainable,
                                     initializer=_uniform_fan_in(fan_in, "w"))
            self.b = tf.get_variable("b", [out_ch], trainable=trainable,
                                     initializer=_uniform_fan_in(fan_in, "b"))

    def __call__(self, x):
        return tf.nn.bias_add(tf.nn.conv2d(x, self.w, [1, 1, 1, 1], self.padding), self.b)


class BatchNorm(object):
    """Batch normalisation over N, H, W with batch statistics only.

    DAFL runs its generator in training mode throughout distillation, so generator
    batch norm always normalises with the statistics of the current batch and keeps
    no moving averages. ``eps`` is a parameter because DAFL's generator uses
    ``BatchNorm2d(C, 0.8)``, i.e. eps = 0.8. ``fused``: 4-d inputs run one fused kernel
    (``_fused``), the same normalisation up to float rounding; vector inputs always take
    ``_moments``. (Callers pass it from the config's ``fused_batch_norm``.)
    """

    def __init__(self, channels, name, eps=1e-5, affine=True, trainable=True, fused=False):
        self.eps, self.fused = eps, fused
        self.gamma = self.beta = None
        if affine:
            with tf.variable_scope(name):
                self.gamma = tf.get_variable("gamma", [channels], initializer=tf.ones_initializer(),
                                             trainable=trainable)
                self.beta = tf.get_variable("beta", [channels], initializer=tf.zeros_initializer(),
                                            trainable=trainable)

    def __call__(self, x):
        return self._fused(x) if self.fused and len(x.shape) == 4 else self._moments(x)

    def _moments(self, x):
        """Any rank: batch mean and biased variance over every axis but the last."""
        axes = list(range(len(x.shape) - 1))
        mean, var = tf.nn.moments(x, axes)
        return tf.nn.batch_normalization(x, mean, var, self.beta, self.gamma, self.eps)

    def _fused(self, x):
        """[N, H, W, C]: the same normalisation in one kernel (``FusedBatchNormV3`` in
        training mode: batch mean and biased variance, as ``_moments``), forward and
        backward; intel-tensorflow runs it on oneDNN beside the convolutions (issue 14: a
        prototype's generator steps 17-21% faster on 2 CPU cores). Non-affine: scale 1,
        offset 0."""
        channels = int(x.shape[-1])
        # The op takes float32 scale, offset and statistics whatever x's type.
        scale = self.gamma if self.gamma is not None else tf.ones([channels], tf.float32)
        offset = self.beta if self.beta is not None else tf.zeros([channels], tf.float32)
        empty = tf.constant([], tf.float32)  # no running statistics in training mode
        # The raw op, not tf.nn.fused_batch_norm, which raises eps 1e-5 to cuDNN's 1.001e-5.
        return tf.raw_ops.FusedBatchNormV3(x=x, scale=scale, offset=offset, mean=empty,
                                           variance=empty, epsilon=self.eps,
                                           data_format="NHWC", is_training=True)[0]


def upsample2x(x):
    """Nearest-neighbour ×2 upsampling (PyTorch ``F.interpolate(scale_factor=2)``)."""
    height, width = int(x.shape[1]), int(x.shape[2])
    return tf.image.resize_nearest_neighbor(x, [2 * height, 2 * width])


def max_pool2x(x):
    return tf.nn.max_pool2d(x, 2, 2, "VALID")


class Conv2DNoBias(object):
    """k×k convolution with stride, 'SAME' padding, no bias (ResNet convolutions, which are
    followed by batch norm). PyTorch's default initialisation, as in DAFL's resnet.py."""

    def __init__(self, in_ch, out_ch, kernel, name, stride=1, trainable=True):
        self.stride = stride
        self.kernel = kernel
        with tf.variable_scope(name):
            self.w = tf.get_variable("w", [kernel, kernel, in_ch, out_ch],
                                     initializer=_uniform_fan_in(in_ch * kernel * kernel, "w"),
                                     trainable=trainable)

    def __call__(self, x):
        if self.kernel > 1:
            # PyTorch's padding = k // 2 on both sides (TF 'SAME' pads asymmetrically for
            # stride 2 on even sizes).
            p = self.kernel // 2
            x = tf.pad(x, [[0, 0], [p, p], [p, p], [0, 0]])
        return tf.nn.conv2d(x, self.w, [1, self.stride, self.stride, 1], "VALID")


class MovingBatchNorm(object):
    """Batch norm with moving averages, for classifiers (ResNets).

    ``training=True``: normalises with the batch statistics and returns the ops that move
    ``moving_mean`` / ``moving_var`` towards them (PyTorch's momentum 0.1, unbiased batch
    variance), which the caller must run with its train op; ``training=False``: normalises
    with the moving averages and changes nothing. No global UPDATE_OPS collection: a frozen
    teacher's statistics can never be updated by another network's train op.
    """

    def __init__(self, channels, name, eps=1e-5, momentum=0.1, trainable=True):
        self.eps, self.momentum = eps, momentum
        with tf.variable_scope(name):
            self.gamma = tf.get_variable("gamma", [channels], initializer=tf.ones_initializer(),
                                         trainable=trainable)
            self.beta = tf.get_variable("beta", [channels], initializer=tf.zeros_initializer(),
                                        trainable=trainable)
            self.moving_mean = tf.get_variable("moving_mean", [channels], trainable=False,
                                               initializer=tf.zeros_initializer())
            self.moving_var = tf.get_variable("moving_var", [channels], trainable=False,
                                              initializer=tf.ones_initializer())

    def __call__(self, x, training, update_ops):
        """x [..., C] → same shape; appends this call's update ops to ``update_ops``."""
        if not training:
            return tf.nn.batch_normalization(x, self.moving_mean, self.moving_var, self.beta,
                                             self.gamma, self.eps)
        axes = list(range(len(x.shape) - 1))
        mean, var = tf.nn.moments(x, axes)
        count = tf.cast(tf.reduce_prod(tf.shape(x)[:-1]), tf.float32)
        unbiased = var * count / tf.maximum(count - 1.0, 1.0)
        m = self.momentum
        update_ops.append(tf.assign(self.moving_mean, (1 - m) * self.moving_mean + m * mean))
        update_ops.append(tf.assign(self.moving_var, (1 - m) * self.moving_var + m * unbiased))
        return tf.nn.batch_normalization(x, mean, var, self.beta, self.gamma, self.eps)

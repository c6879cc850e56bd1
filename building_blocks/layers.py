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

from building_blocks.tf_compat import tf


def _uniform_fan_in(fan_in, seed=None):
    bound = 1.0 / math.sqrt(fan_in)
    return tf.random_uniform_initializer(-bound, bound, seed=seed)


class Dense(object):
    """y = x W + b."""

    def __init__(self, in_dim, out_dim, name, trainable=True):
        with tf.variable_scope(name):
            init = _uniform_fan_in(in_dim)
            self.w = tf.get_variable("w", [in_dim, out_dim], initializer=init, trainable=trainable)
            self.b = tf.get_variable("b", [out_dim], initializer=init, trainable=trainable)

    def __call__(self, x):
        return tf.matmul(x, self.w) + self.b


class Conv2D(object):
    """k×k convolution, stride 1, 'VALID' or 'SAME' padding, NHWC."""

    def __init__(self, in_ch, out_ch, kernel, name, padding="VALID", trainable=True):
        self.padding = padding
        with tf.variable_scope(name):
            init = _uniform_fan_in(in_ch * kernel * kernel)
            self.w = tf.get_variable("w", [kernel, kernel, in_ch, out_ch], initializer=init,
                                     trainable=trainable)
            self.b = tf.get_variable("b", [out_ch], initializer=init, trainable=trainable)

    def __call__(self, x):
        return tf.nn.bias_add(tf.nn.conv2d(x, self.w, [1, 1, 1, 1], self.padding), self.b)


class BatchNorm(object):
    """Batch normalisation over N, H, W with batch statistics only.

    DAFL runs its generator in training mode throughout distillation, so generator
    batch norm always normalises with the statistics of the current batch and keeps
    no moving averages. ``eps`` is a parameter because DAFL's generator uses
    ``BatchNorm2d(C, 0.8)``, i.e. eps = 0.8.
    """

    def __init__(self, channels, name, eps=1e-5, affine=True, trainable=True):
        self.eps = eps
        self.gamma = self.beta = None
        if affine:
            with tf.variable_scope(name):
                self.gamma = tf.get_variable("gamma", [channels], initializer=tf.ones_initializer(),
                                             trainable=trainable)
                self.beta = tf.get_variable("beta", [channels], initializer=tf.zeros_initializer(),
                                            trainable=trainable)

    def __call__(self, x):
        axes = list(range(len(x.shape) - 1))
        mean, var = tf.nn.moments(x, axes)
        return tf.nn.batch_normalization(x, mean, var, self.beta, self.gamma, self.eps)


def upsample2x(x):
    """Nearest-neighbour ×2 upsampling (PyTorch ``F.interpolate(scale_factor=2)``)."""
    height, width = int(x.shape[1]), int(x.shape[2])
    return tf.image.resize_nearest_neighbor(x, [2 * height, 2 * width])


def max_pool2x(x):
    return tf.nn.max_pool2d(x, 2, 2, "VALID")

"""CIFAR ResNets (He et al. 2016) as in DAFL's released resnet.py: ResNet-34 teacher and
ResNet-18 student of Table 1's CIFAR-10 column.

stem: conv3×3(64), BN, ReLU (no max-pool: 32×32 inputs); four stages of BasicBlocks with
64/128/256/512 channels, strides 1/2/2/2 ([3, 4, 6, 3] blocks for ResNet-34, [2, 2, 2, 2]
for ResNet-18); a block is conv3×3 → BN → ReLU → conv3×3 → BN, plus the input (through a
1×1 convolution + BN when the shape changes), then ReLU; 4×4 global average pool → the
512-d features h_t (Eq. 3's activation loss) → fc(num_classes).

Batch norm keeps moving averages (``layers.MovingBatchNorm``). A call with
``training=True`` collects the ops that update them in ``network.update_ops``; the caller
runs them with its train op (``take_update_ops``). The teacher is always called with
``training=False`` during distillation, so its statistics never change.
"""
from building_blocks.common import layers
from building_blocks.common.network import ClassifierOutput, Network
from building_blocks.common.tf_compat import tf

BLOCKS = {18: (2, 2, 2, 2), 34: (3, 4, 6, 3)}
STAGE_CHANNELS = (64, 128, 256, 512)


class _BasicBlock(object):

    def __init__(self, in_ch, out_ch, stride, name, trainable):
        with tf.variable_scope(name):
            self.conv1 = layers.Conv2DNoBias(in_ch, out_ch, 3, "conv1", stride, trainable)
            self.bn1 = layers.MovingBatchNorm(out_ch, "bn1", trainable=trainable)
            self.conv2 = layers.Conv2DNoBias(out_ch, out_ch, 3, "conv2", 1, trainable)
            self.bn2 = layers.MovingBatchNorm(out_ch, "bn2", trainable=trainable)
            self.projection = None
            if stride != 1 or in_ch != out_ch:
                self.projection = layers.Conv2DNoBias(in_ch, out_ch, 1, "shortcut_conv", stride,
                                                      trainable)
                self.projection_bn = layers.MovingBatchNorm(out_ch, "shortcut_bn",
                                                            trainable=trainable)

    def __call__(self, x, training, updates):
        h = tf.nn.relu(self.bn1(self.conv1(x), training, updates))
        h = self.bn2(self.conv2(h), training, updates)
        shortcut = x
        if self.projection is not None:
            shortcut = self.projection_bn(self.projection(x), training, updates)
        return tf.nn.relu(h + shortcut)


class ResNet(Network):
    """CIFAR ResNet-18 / ResNet-34 on [B, 32, 32, C] inputs."""

    def __init__(self, name, depth=18, channels=3, num_classes=10, trainable=True):
        if depth not in BLOCKS:
            raise ValueError("ResNet depth %r not supported (expected one of %s)"
                             % (depth, sorted(BLOCKS)))
        self.depth, self.channels, self.num_classes = depth, channels, num_classes
        self.update_ops = []
        super(ResNet, self).__init__(name, trainable)

    def _build(self, trainable):
        self.conv1 = layers.Conv2DNoBias(self.channels, 64, 3, "conv1", 1, trainable)
        self.bn1 = layers.MovingBatchNorm(64, "bn1", trainable=trainable)
        self.blocks = []
        in_ch = 64
        for stage, (count, out_ch) in enumerate(zip(BLOCKS[self.depth], STAGE_CHANNELS)):
            for i in range(count):
                stride = 2 if (stage > 0 and i == 0) else 1
                self.blocks.append(_BasicBlock(in_ch, out_ch, stride,
                                               "layer%d/block%d" % (stage + 1, i), trainable))
                in_ch = out_ch
        self.fc = layers.Dense(in_ch, self.num_classes, "fc", trainable=trainable)

    def __call__(self, images, training=False):
        """images [B, 32, 32, C] → ClassifierOutput(logits [B, K], features [B, 512]).

        ``training=True`` uses batch statistics and appends the moving-average updates to
        ``self.update_ops``."""
        with tf.name_scope(self.scope_name.split("/")[-1]):
            h = tf.nn.relu(self.bn1(self.conv1(images), training, self.update_ops))
            for block in self.blocks:
                h = block(h, training, self.update_ops)
            features = tf.reduce_mean(h, axis=[1, 2])  # 4×4 average pool on 32×32 inputs
            return ClassifierOutput(self.fc(features), features)

    def take_update_ops(self):
        """Returns the batch-norm update ops collected since the last call, and forgets them."""
        ops, self.update_ops[:] = list(self.update_ops), []
        return ops

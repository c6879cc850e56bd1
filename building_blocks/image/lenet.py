"""LeNet-5 (teacher) and LeNet-5-Half (student) of the image experiments, as in DAFL's
lenet.py."""
from building_blocks.common import layers
from building_blocks.common.network import ClassifierOutput, Network
from building_blocks.common.seeds import scoped_seed
from building_blocks.common.tf_compat import tf


class LeNet5(Network):
    """LeNet-5 on 32×32×C inputs as in DAFL's lenet.py.

    conv5×5(c1) → ReLU → maxpool → conv5×5(c2) → ReLU → maxpool → conv5×5(c3) → ReLU
    (= the features h_t of Eq. 3) → fc(f1) → ReLU → [dropout] → fc(num_classes).
    ``width=1.0``: 6, 16, 120, 84 (teacher); ``width=0.5``: 3, 8, 60, 42 (LeNet-5-Half).
    Dropout (B.1.1: p = 0.2, teacher only) sits after the hidden fully connected layer.
    ``features_layer="fc1"`` returns that layer's ReLU output (before dropout) as the features
    instead: literally the last hidden layer (Eq. 3; DistillConfig.activation_layer).
    ``dropout_layers="all"`` puts the dropout after every hidden layer (conv1 and conv2 after
    their pooling, conv3, fc1) in training (TeacherConfig.dropout_layers).
    """

    def __init__(self, name, width=1.0, channels=1, num_classes=10, dropout=0.0, trainable=True,
                 features_layer="conv3", dropout_layers="fc1"):
        self.c1, self.c2, self.c3, self.f1 = [int(round(n * width)) for n in (6, 16, 120, 84)]
        self.channels, self.num_classes, self.dropout = channels, num_classes, dropout
        # Checked where users set them: DistillConfig / TeacherConfig.validate.
        self.features_layer, self.dropout_layers = features_layer, dropout_layers
        super(LeNet5, self).__init__(name, trainable)

    def _build(self, trainable):
        self.conv1 = layers.Conv2D(self.channels, self.c1, 5, "conv1", trainable=trainable)
        self.conv2 = layers.Conv2D(self.c1, self.c2, 5, "conv2", trainable=trainable)
        self.conv3 = layers.Conv2D(self.c2, self.c3, 5, "conv3", trainable=trainable)
        self.fc1 = layers.Dense(self.c3, self.f1, "fc1", trainable=trainable)
        self.fc2 = layers.Dense(self.f1, self.num_classes, "fc2", trainable=trainable)

    def __call__(self, images, training=False):
        """images [B, 32, 32, C] → ClassifierOutput(logits [B, K], features [B, c3] or
        [B, f1] with ``features_layer="fc1"``)."""
        with tf.name_scope(self.scope_name.split("/")[-1]):
            dropout = training and self.dropout > 0
            every_layer = dropout and self.dropout_layers == "all"
            h = layers.max_pool2x(tf.nn.relu(self.conv1(images)))
            if every_layer:
                h = self._dropout(h, "dropout_conv1")
            h = layers.max_pool2x(tf.nn.relu(self.conv2(h)))
            if every_layer:
                h = self._dropout(h, "dropout_conv2")
            features = h = tf.reshape(tf.nn.relu(self.conv3(h)), [-1, self.c3])
            if every_layer:
                h = self._dropout(h, "dropout_conv3")
            h = tf.nn.relu(self.fc1(h))
            if self.features_layer == "fc1":
                features = h
            if dropout:
                h = self._dropout(h, "dropout")
            return ClassifierOutput(self.fc2(h), features)

    def _dropout(self, h, name):
        return tf.nn.dropout(h, rate=self.dropout, seed=scoped_seed(name))

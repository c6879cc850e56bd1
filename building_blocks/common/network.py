"""The network base: a ``Network`` creates all its variables in its constructor under a unique
variable scope and builds ops each time it is called (classifiers, generators, policies)."""
import collections

from building_blocks.common.tf_compat import tf

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


def take_update_ops(network):
    """Batch-norm update ops of a network's ``training=True`` calls so far ([] for networks
    without moving statistics, e.g. LeNet-5)."""
    take = getattr(network, "take_update_ops", None)
    return take() if take is not None else []

"""The distiller skeleton shared by Student KD, noise KD, DAFL and GAS.

A distiller builds, once, in the current graph:
- the student step: inputs from ``_student_inputs`` (the method's hook), teacher and student
  forward, Eq. 1's KL loss between their output distributions (``family``: categorical for
  classifiers and discrete policies, diagonal Gaussian for continuous policies), one optimizer
  op over the student's variables only;
- the generator step, if the method has generators (``_build_generator_step`` hook);
- ``reinit_op``, which re-draws generator weights and their optimizer state.
The loop that runs these ops lives in ``building_blocks.runner``.
"""
import numpy as np

from building_blocks import action_distributions
from building_blocks.tf_compat import tf


def make_optimizer(kind, learning_rate, name):
    if kind == "adam":
        return tf.train.AdamOptimizer(learning_rate, name=name)
    if kind == "momentum":
        return tf.train.MomentumOptimizer(learning_rate, 0.9, name=name)
    raise ValueError("unknown optimizer %r (expected 'adam' or 'momentum')" % kind)


class Distiller(object):
    """Base class; subclasses override ``_student_inputs`` and, for generator methods,
    ``_build_generator_step``."""

    def __init__(self, config, teacher, student, input_shape, train_inputs=None, family=None):
        """input_shape: one example's network input, e.g. (32, 32, 1);
        train_inputs: a tensor of real training inputs [B, ...] (Student KD only);
        family: the networks' output distribution (``action_distributions``; default
        Categorical on ``.logits``, i.e. classifiers and discrete policies)."""
        self.config, self.teacher, self.student = config, teacher, student
        self.input_shape = tuple(input_shape)
        self.family = family or action_distributions.Categorical()
        self._train_inputs = train_inputs
        self.generator_train_op = None
        self.reinit_op = None
        self.generator_fetches = {}
        with tf.name_scope("student_step"):
            inputs = tf.stop_gradient(self._student_inputs())
            teacher_out = action_distributions.stop_gradient(teacher(inputs, training=False),
                                                           self.family.param_fields)
            student_out = student(inputs, training=True)
            self.student_loss = tf.reduce_mean(self.family.kl(teacher_out, student_out))  # Eq. 1
            optimizer = make_optimizer(config.student_optimizer, config.student_lr,
                                       "student_optimizer")
            self.student_train_op = optimizer.minimize(
                self.student_loss, var_list=student.trainable_variables)
        with tf.name_scope("generator_step"):
            self._build_generator_step()

    @property
    def has_generators(self):
        return self.generator_train_op is not None

    def _student_inputs(self):
        """Hook: a tensor [batch, *input_shape] of inputs the student is distilled on."""
        raise NotImplementedError

    def _build_generator_step(self):
        """Hook: sets ``generator_train_op``, ``reinit_op`` and ``generator_fetches``."""


class StudentKD(Distiller):
    """Student KD: the teacher's outputs on the real training images (Table 1, row 2)."""

    def _student_inputs(self):
        if self._train_inputs is None:
            raise ValueError("student_kd needs real training inputs")
        return self._train_inputs


class NoiseKD(Distiller):
    """KD on U(−1, 1) inputs of the network's input shape (Table 1, row 3)."""

    def _student_inputs(self):
        return tf.random_uniform((self.config.batch_size,) + self.input_shape, -1.0, 1.0)


def real_data_pipeline(images_uint8, batch_size, seed, preprocess):
    """tf.data pipeline over uint8 training images: shuffle each epoch, batch, preprocess."""
    dataset = tf.data.Dataset.from_tensor_slices(np.asarray(images_uint8))
    dataset = dataset.shuffle(len(images_uint8), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.repeat().batch(batch_size, drop_remainder=True).map(preprocess)
    dataset = dataset.prefetch(2)
    return tf.data.make_one_shot_iterator(dataset).get_next()

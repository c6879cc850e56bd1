"""The distiller skeleton shared by Student KD, noise KD, DAFL and GAS.

A distiller builds, once, in the current graph:
- the student step: inputs from ``_student_inputs`` (the method's hook), teacher and student
  forward, Eq. 1's KL loss between their output distributions (``family``: categorical for
  classifiers and discrete policies, diagonal Gaussian for continuous policies), one optimizer
  op over the student's variables only;
- the generator step, if the method has generators (``_build_generator_step`` hook);
- ``reinit_op``, which re-draws generator weights and their optimizer state.
The loop that runs these ops lives in ``building_blocks.image.runner``.
"""
import numpy as np

from building_blocks.distill import action_distributions
from building_blocks.common.network import take_update_ops
from building_blocks.common.seeds import draw_noise
from building_blocks.common.tf_compat import tf


def make_optimizer(kind, learning_rate, name=None):
    """The one optimiser factory of teachers and distillers: Adam (B.1.1) or SGD with momentum
    0.9 (CIFAR-10, B.1.2). ``name`` None keeps TensorFlow's default ('Adam' / 'Momentum')."""
    names = {"name": name} if name else {}
    if kind == "adam":
        return tf.train.AdamOptimizer(learning_rate, **names)
    if kind == "momentum":
        return tf.train.MomentumOptimizer(learning_rate, 0.9, **names)
    raise ValueError("unknown optimizer %r (expected 'adam' or 'momentum')" % kind)


def student_learning_rate(config, step):
    """B.1.2: lr × ``lr_decay_factor`` after every ``lr_decay_every`` student updates
    (0.1 → 0.01 at 96,000 → 0.001 at 192,000); constant when ``lr_decay_every`` is 0."""
    if not config.lr_decay_every:
        return config.student_lr
    return tf.train.exponential_decay(config.student_lr, step, config.lr_decay_every,
                                      config.lr_decay_factor, staircase=True)


def weight_decay_penalty(variables, weight_decay):
    """wd · Σ ||v||² / 2, whose gradient wd · v is PyTorch SGD's ``weight_decay`` (DAFL's
    5e-4 on every parameter); 0 when ``weight_decay`` is 0."""
    if not weight_decay:
        return 0.0
    return weight_decay * tf.add_n([tf.nn.l2_loss(v) for v in variables])


class Distiller(object):
    """Base class; subclasses override ``_student_inputs`` and, for generator methods,
    ``_build_generator_step``."""
    # One op that updates student and generators together (DAFL as released); None: separate
    # student and generator steps (Algorithm 1).
    joint_train_op = None

    def __init__(self, config, teacher, student, input_shape, train_inputs=None, family=None):
        """input_shape: one example's network input, e.g. (32, 32, 1);
        train_inputs: a tensor of real training inputs [B, ...] (Student KD only);
        family: the networks' output distribution (``action_distributions``; default
        Categorical on ``.logits`` at the config's ``distill_temperature``, i.e.
        classifiers)."""
        self.config, self.teacher, self.student = config, teacher, student
        self.input_shape = tuple(input_shape)
        self.family = family or action_distributions.Categorical(config.distill_temperature)
        self._train_inputs = train_inputs
        self.generator_train_op = None
        self.reinit_op = None
        self.generator_fetches = {}
        with tf.name_scope("student_step"):
            inputs = self.student_inputs = tf.stop_gradient(self._student_inputs())
            teacher_out = action_distributions.stop_gradient(teacher(inputs, training=False),
                                                           self.family.param_fields)
            student_out = student(inputs, training=True)
            # Batch-norm statistics: the student's move with its train op; the teacher, called
            # in eval mode, has none to move.
            batch_norm_updates = take_update_ops(student) + take_update_ops(teacher)
            self.student_loss = tf.reduce_mean(self.family.kl(teacher_out, student_out))  # Eq. 1
            self.global_step = None
            if config.lr_decay_every:
                self.global_step = tf.Variable(0, trainable=False, dtype=tf.int64,
                                               name="student_global_step")
            self.student_lr = student_learning_rate(config, self.global_step)
            objective = self.student_loss + weight_decay_penalty(
                student.trainable_variables, config.weight_decay)
            optimizer = make_optimizer(config.student_optimizer, self.student_lr,
                                       "student_optimizer")
            with tf.control_dependencies(batch_norm_updates):
                self.student_train_op = optimizer.minimize(
                    objective, var_list=student.trainable_variables,
                    global_step=self.global_step)
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
    """KD on noise inputs of the network's input shape (our reading of Table 1's unlabelled
    row 3, DEVIATIONS.md): U(−1, 1) by default, N(0, 1) with ``latent_distribution="normal"``,
    per pixel of the normalised input."""

    def _student_inputs(self):
        return draw_noise((self.config.batch_size,) + self.input_shape,
                          self.config.latent_distribution, "noise_inputs")


def real_data_pipeline(images_uint8, batch_size, seed, preprocess, augment=None):
    """tf.data pipeline over uint8 training images: shuffle each epoch, [augment each
    example], batch, preprocess."""
    dataset = tf.data.Dataset.from_tensor_slices(np.asarray(images_uint8))
    dataset = dataset.shuffle(len(images_uint8), seed=seed, reshuffle_each_iteration=True)
    if augment is not None:
        dataset = dataset.map(augment)
    dataset = dataset.repeat().batch(batch_size, drop_remainder=True).map(preprocess)
    dataset = dataset.prefetch(2)
    return tf.data.make_one_shot_iterator(dataset).get_next()

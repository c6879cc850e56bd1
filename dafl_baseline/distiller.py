"""DAFL (Chen et al. 2019): one generator trained with L_G (Eqs. 2–3), the student trained
with KD on its samples."""
import functools

from building_blocks import nets
from building_blocks.distiller import Distiller, make_optimizer
from building_blocks.generators import GeneratorBank
from building_blocks.tf_compat import tf
from dafl_baseline.objective import generator_loss


class DAFLDistiller(Distiller):
    """Generator-based distiller. GAS subclasses it and overrides ``_generator_objective``."""

    def __init__(self, config, teacher, student, input_shape, train_inputs=None):
        self.bank = GeneratorBank(
            config.n_generators,
            functools.partial(nets.DCGANGenerator, latent_dim=config.latent_dim,
                              channels=input_shape[-1], image_size=input_shape[0],
                              batch_norm=config.generator_batch_norm,
                              output_scale=config.generator_output_scale,
                              output_shift=config.generator_output_shift),
            config.latent_dim, config.latent_distribution)
        super(DAFLDistiller, self).__init__(config, teacher, student, input_shape, train_inputs)

    def _student_inputs(self):
        return tf.concat(self.bank.sample(self.config.batch_size), axis=0)

    def _build_generator_step(self):
        cfg = self.config
        samples = self.bank.sample(cfg.batch_size)
        # One teacher (and student) call on all generators' samples, split back per generator.
        all_samples = tf.concat(samples, axis=0)
        teacher_out = self.teacher(all_samples, training=False)
        k = len(self.bank)
        per_generator = zip(tf.split(teacher_out.logits, k), tf.split(teacher_out.features, k))
        student_logits = self._student_logits_for_generator_step(all_samples)
        student_split = tf.split(student_logits, k) if student_logits is not None else [None] * k
        objectives, terms = [], []
        for (logits, features), s_logits in zip(per_generator, student_split):
            l_g = generator_loss(logits, features, cfg.one_hot_weight,
                                 cfg.information_entropy_weight, cfg.activation_weight,
                                 cfg.entropy_log_base)
            terms.append(l_g)
            objectives.append(self._generator_objective(l_g, logits, s_logits))
        # Generators have disjoint variables: the sum trains each on its own objective.
        self.generator_objective = tf.add_n(objectives)
        optimizer = make_optimizer("adam", cfg.generator_lr, "generator_optimizer")
        self.generator_train_op = optimizer.minimize(
            self.generator_objective, var_list=self.bank.trainable_variables)
        self.reinit_op = tf.variables_initializer(self.bank.variables + optimizer.variables(),
                                                  name="reinit_generators")
        mean = lambda xs: tf.add_n(xs) / float(k)  # noqa: E731
        self.generator_fetches = {
            "generator_objective": self.generator_objective / float(k),
            "one_hot": mean([t.one_hot for t in terms]),
            "information_entropy": mean([t.information_entropy for t in terms]),
            "activation": mean([t.activation for t in terms]),
        }

    def _student_logits_for_generator_step(self, samples):
        """Hook: student logits on the generator samples when the objective needs them."""
        del samples
        return None

    def _generator_objective(self, l_g, teacher_logits, student_logits):
        """Hook: one generator's objective. DAFL: L_G (Eq. 3)."""
        del teacher_logits, student_logits
        return l_g.total

"""DAFL (Chen et al. 2019): one generator trained with L_G (Eqs. 2–3), the student trained
with KD on its samples."""
from building_blocks.distill import action_distributions, generators
from building_blocks.distill.distiller import Distiller, make_optimizer
from building_blocks.distill.generators import GeneratorBank
from building_blocks.common.tf_compat import tf
from dafl_baseline.objective import generator_loss, information_entropy_loss


class DAFLDistiller(Distiller):
    """Generator-based distiller. GAS subclasses it and overrides ``_generator_objective``."""

    def __init__(self, config, teacher, student, input_shape, train_inputs=None, family=None):
        self.config, self.input_shape = config, tuple(input_shape)
        self.bank = GeneratorBank(config.n_generators, self._make_generator,
                                  config.latent_dim, config.latent_distribution,
                                  jit=getattr(config, "xla_generators", False))
        self._shared_samples = None
        if config.shared_batch:  # DAFL-train.py: one generated batch per iteration
            with tf.name_scope("iteration"):
                self._shared_samples = self.bank.sample(config.batch_size)
        super(DAFLDistiller, self).__init__(config, teacher, student, input_shape, train_inputs,
                                            family)
        if config.shared_batch:
            # Both updates from the same parameters, applied together, as DAFL's one
            # ``loss.backward()`` then ``optimizer_G.step(); optimizer_S.step()``. The student's
            # inputs are computed before either update; no op reads a variable the other updates.
            self.joint_train_op = tf.group(self.student_train_op, self.generator_train_op,
                                           name="dafl_iteration")

    def _samples(self):
        """One generator batch: the iteration's shared one, or a freshly drawn one."""
        if self._shared_samples is not None:
            return self._shared_samples
        return self.bank.sample(self.config.batch_size)

    def _make_generator(self, name):
        """Hook: one generator network of the bank. Images: DAFL's DCGAN."""
        cfg = self.config
        return generators.DCGANGenerator(name, latent_dim=cfg.latent_dim,
                                   channels=self.input_shape[-1], image_size=self.input_shape[0],
                                   batch_norm=cfg.generator_batch_norm,
                                   output_scale=cfg.generator_output_scale,
                                   output_shift=cfg.generator_output_shift,
                                   fused_batch_norm=cfg.fused_batch_norm,
                                   output_batch_norm=cfg.generator_output_batch_norm)

    def _generator_loss(self, teacher_out, bank_teacher_out=None):
        """Hook: L_G (Eq. 3) of one generator's batch, a namedtuple with ``total`` first.
        Images: DAFL's objective; Eq. 2's α-term is its one-hot stand-in unless
        ``confidence_term="entropy"``.
        ``bank_teacher_out``: the teacher on all generators' samples; with
        ``information_entropy_scope="bank"`` L_ie is taken over those instead."""
        cfg = self.config
        shared_ie = None
        if getattr(cfg, "information_entropy_scope", "generator") == "bank":
            shared_ie = self._bank_information_entropy(bank_teacher_out)
        return generator_loss(teacher_out.logits, teacher_out.features, cfg.one_hot_weight,
                              cfg.information_entropy_weight, cfg.activation_weight,
                              cfg.entropy_log_base, information_entropy=shared_ie,
                              confidence_term=cfg.confidence_term)

    def _bank_information_entropy(self, bank_teacher_out):
        """−H(E f_t) over every generator's samples together, built once per graph. Each
        generator's objective holds it, so the summed objective weights it k times, as the
        per-generator reading's k terms: each sample's gradient keeps its scale."""
        if getattr(self, "_bank_ie", None) is None:
            with tf.name_scope("bank_information_entropy"):
                self._bank_ie = information_entropy_loss(bank_teacher_out.logits,
                                                         self.config.entropy_log_base)
        return self._bank_ie

    def _student_inputs(self):
        return tf.concat(self._samples(), axis=0)

    def _build_generator_step(self):
        cfg = self.config
        samples = self._samples()
        # One teacher (and student) call on all generators' samples, split back per generator.
        all_samples = tf.concat(samples, axis=0)
        teacher_out = self.teacher(all_samples, training=False)
        k = len(self.bank)
        student_out = self._student_out_for_generator_step(all_samples)
        student_split = (action_distributions.split(student_out, k) if student_out is not None
                         else [None] * k)
        objectives, terms = [], []
        for t_out, s_out in zip(action_distributions.split(teacher_out, k), student_split):
            l_g = self._generator_loss(t_out, teacher_out)
            terms.append(l_g)
            objectives.append(self._generator_objective(l_g, t_out, s_out))
        # Generators have disjoint variables: the sum trains each on its own objective.
        self.generator_objective = tf.add_n(objectives)
        optimizer = make_optimizer("adam", cfg.generator_lr, "generator_optimizer")
        self.generator_train_op = optimizer.minimize(
            self.generator_objective, var_list=self.bank.trainable_variables)
        self.reinit_op = tf.variables_initializer(self.bank.variables + optimizer.variables(),
                                                  name="reinit_generators")
        mean = lambda xs: tf.add_n(xs) / float(k)  # noqa: E731
        self.generator_fetches = {  # e.g. one_hot, information_entropy, activation
            name: mean([getattr(t, name) for t in terms]) for name in terms[0]._fields[1:]}
        self.generator_fetches["generator_objective"] = self.generator_objective / float(k)

    def _student_out_for_generator_step(self, samples):
        """Hook: the student's output on the generator samples when the objective needs it."""
        del samples
        return None

    def _generator_objective(self, l_g, teacher_out, student_out):
        """Hook: one generator's objective. DAFL: L_G (Eq. 3)."""
        del teacher_out, student_out
        return l_g.total

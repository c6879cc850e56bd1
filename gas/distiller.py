"""GAS (Algorithm 1): DAFL's generator objective plus the adaptive term (Eq. 4), several
concurrent generators and periodic re-initialisation. Each ingredient is a config switch:
``gamma`` (0 turns the adaptive term off), ``n_generators``, ``reinit_every`` (0: never).
With gamma=0, n_generators=1, reinit_every=0 this is DAFL on GAS's schedule."""
from building_blocks.common.tf_compat import tf
from dafl_baseline.distiller import DAFLDistiller
from gas.losses import adaptive_generator_loss


class GASDistiller(DAFLDistiller):

    def _student_out_for_generator_step(self, samples):
        if self.config.gamma == 0:
            return None
        return self.student(samples, training=False)

    def _generator_objective(self, l_g, teacher_out, student_out):
        if student_out is None:
            return l_g.total
        l_distill = tf.reduce_mean(self.family.kl(teacher_out, student_out))  # Eq. 1
        return adaptive_generator_loss(l_g.total, l_distill, self.config.gamma)  # Eq. 4

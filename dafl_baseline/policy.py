"""DAFL on policies (Section 4, Tables 6-7): DAFL's distiller with the policy hooks of
building_blocks/distill/policy_distiller.py: observation generators (B.3) and L_G built from Eq. 2's
entropy terms in nats (no one-hot stand-in; Eq. 5's bound for Gaussians)."""
from building_blocks.distill.policy_distiller import make_observation_generator
from dafl_baseline.distiller import DAFLDistiller
from dafl_baseline.objective import policy_generator_loss


class PolicyGeneratorHooks(object):
    """The generator hooks of DAFLDistiller for policies (GAS's policy variant uses them too)."""

    def _make_generator(self, name):
        # The teacher is set after the bank is made; its normaliser is looked up when the
        # generator is called.
        return make_observation_generator(name, self.input_shape, self.config,
                                          lambda raw: self.teacher.normalize(raw))

    def _generator_loss(self, teacher_out, bank_teacher_out=None):
        del bank_teacher_out  # Eq. 2's terms on each generator's own batch
        cfg = self.config
        return policy_generator_loss(self.family, teacher_out, cfg.entropy_weight,
                                     cfg.mean_entropy_weight, cfg.activation_weight)


class PolicyDAFL(PolicyGeneratorHooks, DAFLDistiller):
    """DAFL on policies: one generator, L_G only."""

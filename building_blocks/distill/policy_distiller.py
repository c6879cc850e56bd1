"""Simulator-free policy distillation (Section 4, Tables 6-7): the image distillers with
policy hooks. What differs from images, all of it here:

- output family: Categorical (discrete actions) or DiagGaussian (continuous), passed to the
  skeleton, which uses its KL for Eq. 1 and GAS's Eq. 4;
- generators (B.3): an MLP on U(−1,1)^100 noise for vector observations, DAFL's DCGAN with a
  sigmoid output for Atari frames (84×84×4, or 48×48×2 for low-dimensional Pong), both in the
  teacher's normalised input space;
- L_G: Eq. 2's entropy terms in nats (``policy_generator_loss``), Eq. 5's bound for
  Gaussians, instead of DAFL's one-hot stand-in.
The student/generator rounds, reinit and loop are the image ones (``loop.train_rounds``).
The methods own their policy variants (dafl_baseline/policy.py, gas/policy.py); this base
holds what they share and Student KD, and never imports them.
"""
from building_blocks.distill import generators
from building_blocks.distill.distiller import StudentKD


def make_observation_generator(name, obs_shape, config, normalizer=None):
    """An MLP generator for [D] observations, a DCGAN for [S, S, C] frames. ``normalizer``:
    the teacher's observation normaliser, which the 'normalizer' reading of
    ``config.generator_output`` puts on the MLP's raw output."""
    if len(obs_shape) == 1:
        return generators.MLPGenerator(
            name, config.latent_dim, obs_shape[0], config.generator_hidden,
            config.generator_batch_norm, config.obs_clip,
            output_normalizer=normalizer if config.generator_output == "normalizer" else None)
    return generators.DCGANGenerator(name, config.latent_dim, channels=obs_shape[-1],
                               image_size=obs_shape[0], batch_norm=config.generator_batch_norm,
                               output="sigmoid", fused_batch_norm=config.fused_batch_norm)


class PolicyStudentKD(StudentKD):
    """Student KD on observations of the teacher's own rollouts (``train_inputs``)."""

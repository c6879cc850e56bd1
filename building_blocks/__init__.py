"""What the methods share, by concern: ``common`` (TF shim, configs, checkpoints, seeds,
layers), ``distill`` (the distiller skeleton, generators, Algorithm 1's loop), ``image``
(datasets, classifiers, the image runner) and ``rl`` (environments, policies, PPO, the policy
runner). Import the modules directly, e.g. ``from building_blocks.common import config``."""

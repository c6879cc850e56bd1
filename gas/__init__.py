"""Generative Adversarial Simulator: the adaptive loss (Eq. 4) and the GAS distiller."""
from gas.distiller import GASDistiller
from gas.losses import adaptive_generator_loss

__all__ = ["GASDistiller", "adaptive_generator_loss"]

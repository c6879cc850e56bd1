"""DAFL (Chen et al. 2019): the generator objective (Eqs. 2-3) and its distiller."""
from dafl_baseline.distiller import DAFLDistiller
from dafl_baseline.objective import generator_loss

__all__ = ["DAFLDistiller", "generator_loss"]

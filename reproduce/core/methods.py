"""The one method registry: each method's distiller class for images and for policies.

Which methods a family runs is the family's choice (Table 1: ``table1.configs.METHODS``;
Figure 2: ``fig2.fig2.METHODS``; Tables 6-7: ``rl.distill_configs``); what a method name means
is said here only. ``dafl_reinit`` (Figure 2) is DAFL's distiller under a schedule with GAS's
generator re-initialisation (its config says so, not its class).
"""
import collections

from building_blocks.common.config import ConfigError
from building_blocks.distill.distiller import NoiseKD, StudentKD
from building_blocks.distill.policy_distiller import PolicyStudentKD
from dafl_baseline.distiller import DAFLDistiller
from dafl_baseline.policy import PolicyDAFL
from gas.distiller import GASDistiller
from gas.policy import PolicyGAS

Method = collections.namedtuple("Method", ["image", "policy"])  # distiller classes or None

METHODS = collections.OrderedDict([
    ("student_kd", Method(StudentKD, PolicyStudentKD)),
    ("noise_kd", Method(NoiseKD, None)),
    ("dafl", Method(DAFLDistiller, PolicyDAFL)),
    ("dafl_reinit", Method(DAFLDistiller, None)),
    ("gas", Method(GASDistiller, PolicyGAS)),
])


def distiller_class(method, kind):
    """The distiller class of ``method`` for ``kind`` ('image' | 'policy')."""
    cls = getattr(METHODS[method], kind) if method in METHODS else None
    if cls is None:
        known = [m for m, entry in METHODS.items() if getattr(entry, kind) is not None]
        raise ConfigError("unknown %s method %r; choose one of %s"
                          % (kind, method, ", ".join(known)))
    return cls

"""GAS on policies (Section 4, Tables 6-7): Eq. 4's adaptive term, several generators and
re-initialisation, with DAFL's policy hooks (dafl_baseline/policy.py)."""
from dafl_baseline.policy import PolicyGeneratorHooks
from gas.distiller import GASDistiller


class PolicyGAS(PolicyGeneratorHooks, GASDistiller):
    """GAS on policies: Eq. 4's adaptive term, several generators, re-initialisation."""

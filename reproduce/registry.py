"""The one family registry: every table/figure family ``run_all --only`` knows, in run order
(Table 1, Figure 2, Table 6, Table 7). It imports the families; none registers itself."""
import collections

from building_blocks.common.config import ConfigError
from reproduce import fig2, rl_distill_configs, rl_families, table1_family

REGISTRY = collections.OrderedDict((family.name, family) for family in (
    table1_family.Table1(),
    fig2.Fig2(),
    rl_families.PolicyTable("table6", rl_distill_configs.VECTOR_TASKS,
                            ("table6.csv", "table6.md", "figures/fig3_relative_scores.png")),
    rl_families.PolicyTable("table7", rl_distill_configs.ALE_TASKS,
                            ("table7.csv", "table7.md", "figures/fig4_samples_pong.png",
                             "figures/fig4_samples_enduro.png")),
))


def get(names):
    """The families named in ``names`` (e.g. --only), in registry order; ConfigError if unknown."""
    unknown = [n for n in names if n not in REGISTRY]
    if unknown:
        raise ConfigError("unknown --only %s; available: %s"
                          % (",".join(unknown), ", ".join(REGISTRY)))
    return [family for name, family in REGISTRY.items() if name in names]

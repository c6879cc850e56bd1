"""The one family registry: every table/figure family ``run_all --only`` knows, in run order
(Table 1, Figure 2, Table 6, Table 7). It imports the families; none registers itself."""
import collections

from building_blocks.common.config import ConfigError
from reproduce.fig2.fig2 import Fig2
from reproduce.rl import distill_configs
from reproduce.rl import tables as rl_tables
from reproduce.rl.families import PolicyTable
from reproduce.table1.family import Table1

REGISTRY = collections.OrderedDict((family.name, family) for family in (
    Table1(),
    Fig2(),
    PolicyTable("table6", distill_configs.VECTOR_TASKS,
                ("table6.csv", "table6.md", "figures/fig3_relative_scores.png")),
    PolicyTable("table7", distill_configs.ALE_TASKS,
                ("table7.csv", "table7.md") + tuple(
                    "figures/fig4_samples_%s.png" % game for game in rl_tables.FIGURE4_GAMES)),
))


def get(names):
    """The families named in ``names`` (e.g. --only), in registry order; ConfigError if unknown."""
    unknown = [n for n in names if n not in REGISTRY]
    if unknown:
        raise ConfigError("unknown --only %s; available: %s"
                          % (",".join(unknown), ", ".join(REGISTRY)))
    return [family for name, family in REGISTRY.items() if name in names]

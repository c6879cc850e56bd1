"""What a table/figure family of the grid is, and the cells each one runs. The families
themselves: table1/family.py, fig2/fig2.py, rl/families.py; the registry that lists them:
grid/registry.py.

A family (Table 1, Figure 2, Table 6, Table 7, ...) says which cells it needs and how to turn
their finished JSON records into its outputs (CSV, figures). The grid (``reproduce.grid.grid``)
runs cells of any family the same way: one subprocess each, finished cells skipped.

A ``GridCell`` is what the grid needs to know of a cell:
- ``name``: unique within a profile (also names its log file);
- ``args``: the ``python -m reproduce`` arguments that run it, without the flags the grid
  adds itself (--profile, --results_dir, --data_dir, --threads);
- ``result_path``: the JSON the cell writes atomically when it finishes (the resume rule);
- ``cost``: relative cost units for the ETA;
- ``needs``: the name of the cell that must finish first (a student needs its teacher), or None;
- ``teacher_checkpoint``: (students, optional) the teacher .npz it distils; a finished student
  whose recorded ``teacher_checkpoint_sha256`` differs from that teacher's is stale and rerun.
"""
import collections
import os

from reproduce.core import cells

GridCell = collections.namedtuple("GridCell", ["name", "args", "result_path", "cost", "needs",
                                               "teacher_checkpoint"], defaults=(None,))


class Family(object):
    """One table or figure family. Subclasses set ``name`` and override the three hooks."""

    name = None
    outputs = ()  # paths relative to the results folder, for the log and the manifest

    def preflight(self, data_dir):
        """Fails fast (DataError, ConfigError) before hours of work, e.g. on bad data."""

    def unavailable(self):
        """Why this family cannot run in this Python (its cells are then not run and its
        tables say so), or None."""
        return None

    def cells(self, profile, seeds, results_dir, data_dir):
        """(teachers, students): two lists of GridCell; ``seeds`` None = the profile's."""
        raise NotImplementedError

    def write_outputs(self, results_dir, profile, run_info=None, log=print):
        """Writes the family's tables and figures from the finished cells."""
        raise NotImplementedError


def family_log_dir(results_dir, profile):
    return os.path.join(cells.profile_dir(results_dir, profile), "logs")

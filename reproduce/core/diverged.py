"""Cells whose training diverged (``building_blocks.common.divergence.Diverged``, issue 15).

Such a cell finishes with a result JSON saying ``"status": "diverged"``, the student step and
the loss term, and no test accuracy or return. So the tables never average it into a mean
(they name it in the row's note and count only finished seeds in n), ``run_all`` counts it
as finished but diverged (it is not rerun until its JSON is deleted), and the command line
exits with ``EXIT_CODE`` and says what to do.
"""
import json

from building_blocks.common.io_utils import atomic_write_json

STATUS = "diverged"
EXIT_CODE = 3  # 2 is a bad input; a diverged cell is a finished run without a result


class CellDiverged(Exception):
    """A cell stopped on a non-finite loss; its diverged record is written."""

    def __init__(self, cell, error, path):
        flag = "generator_lr" if error.term.startswith("generator") else "student_lr"
        super(CellDiverged, self).__init__(
            "%s diverged at student step %d: %s became %s. It is recorded as diverged in %s "
            "(no result; tables leave it out of the mean). Lower the learning rate (e.g. "
            "--set %s=<smaller value>) and rerun the cell; run_all reruns it once that file "
            "is deleted." % (cell, error.step, error.term, error.value, path, flag))
        self.cell, self.error, self.path = cell, error, path


def finish(record, error, path, partial_dir):
    """Writes the diverged ``record`` (a cell record without results) to ``path``, removes
    the cell's mid-cell checkpoint (resuming from it would replay the same divergence), and
    returns the ``CellDiverged`` for the caller to raise."""
    # Imported here: the tables, the archival check and the report use this module without
    # TensorFlow, which building_blocks.distill.loop loads.
    from building_blocks.distill.loop import clear_partial  # pylint: disable=g-import-not-at-top
    record.update(error.fields())
    atomic_write_json(path, record)
    clear_partial(partial_dir)
    return CellDiverged(record["cell"], error, path)


def is_diverged(record):
    return record.get("status") == STATUS


def read_status(path):
    """The status of the result JSON at ``path`` ("ok", "diverged"), or None if unreadable."""
    try:
        with open(path) as f:
            return json.load(f).get("status")
    except (OSError, ValueError):
        return None


NOTE_MARK = " diverged at step "


def note(records):
    """A table row's note on its diverged cells, e.g. "seed 1 diverged at step 12 (student
    KL)"; "" when there are none."""
    return "; ".join("seed %d%s%d (%s)" % (
        r["seed"], NOTE_MARK, r["diverged_at_step"], r["diverged_term"])
        for r in sorted(records, key=lambda r: r["seed"]) if is_diverged(r))


def with_note(text, records):
    """``text`` (the row's other note) followed by the note on its diverged cells."""
    return "; ".join(part for part in (text, note(records)) if part)


def count_suffix(note_text):
    """", 1 diverged" for a row note naming one diverged seed ("" for none), to follow n."""
    count = note_text.count(NOTE_MARK)
    return ", %d diverged" % count if count else ""

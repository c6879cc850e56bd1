"""Table 1 in long form (core/tables.py's format), our numbers beside the paper's.

table1.csv columns: method,task,mean,std,n,paper_mean,paper_std,profile,note
- mean/std: test accuracy in percent; std is the sample standard deviation across seeds
  (ddof = 1), empty when n < 2.
- paper values come only from reproduce/paper_reference.csv.
- n counts the seeds with a result; seeds whose training diverged are named in the note
  (e.g. "seed 1 diverged at step 12 (student KL)") and left out of mean and std.
"""
import collections
import os

from building_blocks.common.io_utils import atomic_write_text
from reproduce.core import diverged
from reproduce.core.provenance import portable_path
from reproduce.core.paper_reference import (ReferenceError, load_paper_reference,
                                            paper_reference_path)
from reproduce.core.tables import (fmt, load_cell_records, mean_std, rows_to_csv,
                                   rows_to_markdown, split_diverged)
from reproduce.table1 import configs
from reproduce.table1.manifest import write_manifest

TABLE1_METHODS = ("teacher",) + configs.METHODS


def not_run_notes(data_dir=None):
    """Notes for Table 1 cells without results, keyed (method, task) or task."""
    from building_blocks.image import cifar10  # pylint: disable=g-import-not-at-top
    notes = {("noise_kd", "cifar10"): "not run: Table 1 has no CIFAR-10 value for this row "
                                      "(run it with `distill --method noise_kd --task cifar10`)"}
    if not cifar10.is_available(data_dir):
        notes["cifar10"] = ("not run: data missing (put %s in %s/)" % (  # no machine's path
            cifar10.TARBALL, portable_path(os.path.dirname(cifar10.expected_location(data_dir)))))
    return notes


def table1_rows(records, profile, reference, notes=None):
    """Rows of Table 1 from cell records (finished ones averaged, diverged ones noted)."""
    finished, stopped = split_diverged(records)
    rows = []
    for task in configs.TABLE1_TASKS:
        for method in TABLE1_METHODS:
            key = ("table1", method, task)
            if key not in reference:
                raise ReferenceError("%s has no row for %s / %s / %s; restore it from the paper "
                                     "(Table 1)." % (paper_reference_path(), *key))
            paper_mean, paper_std = reference[key]
            values = [r["test_accuracy"] for r in finished.get((method, task), [])]
            stopped_here = stopped.get((method, task), [])
            note = ""
            if values:
                mean, std = mean_std(values)
                if method == "teacher":
                    note = "one teacher (seed %d)" % configs.TEACHER_SEED
            else:
                mean = std = None
                notes = not_run_notes() if notes is None else notes
                if not stopped_here:
                    note = notes.get((method, task), notes.get(task, "not run"))
            note = diverged.with_note(note, stopped_here)
            rows.append(collections.OrderedDict([
                ("method", method), ("task", task), ("mean", fmt(mean)), ("std", fmt(std, 3)),
                ("n", str(len(values))), ("paper_mean", paper_mean), ("paper_std", paper_std),
                ("profile", profile), ("note", note)]))
    return rows


def write_table1(results_dir, profile, run_info=None, notes=None):
    """Writes <results>/table1.csv, table1.md and manifest.json from the finished cells."""
    records = load_cell_records(results_dir, profile)
    rows = table1_rows(records + load_cell_records(results_dir, profile,
                                                   statuses=(diverged.STATUS,)),
                       profile, load_paper_reference(), notes)
    atomic_write_text(os.path.join(results_dir, "table1.csv"), rows_to_csv(rows))
    atomic_write_text(os.path.join(results_dir, "table1.md"), rows_to_markdown(rows))
    from reproduce.table1 import figures  # pylint: disable=g-import-not-at-top
    figures.plot_table1(rows, os.path.join(results_dir, "figures", "table1.png"))
    write_manifest(results_dir, profile, records, run_info)
    return rows

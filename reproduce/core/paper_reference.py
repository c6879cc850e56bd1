"""The paper's numbers: reproduce/paper_reference.csv, one row per table, method and task
(columns table,method,task,paper_mean,paper_std), read by every family's table."""
import csv
import os

PAPER_REFERENCE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                               "paper_reference.csv")


class ReferenceError(ValueError):
    """The paper reference file is missing a row or malformed."""


def paper_reference_path():
    """reproduce/paper_reference.csv, or the file $GAS_PAPER_REFERENCE names (for tests)."""
    return os.environ.get("GAS_PAPER_REFERENCE") or PAPER_REFERENCE


def load_paper_reference(path=None):
    path = path or paper_reference_path()
    reference = {}
    try:
        with open(path) as f:
            for row in csv.DictReader(f):
                reference[(row["table"], row["method"], row["task"])] = (
                    row["paper_mean"], row["paper_std"])
    except OSError as e:
        raise ReferenceError("cannot read the paper reference file %s (%s); restore it from "
                             "git" % (path, e.strerror or e))
    except KeyError as e:
        raise ReferenceError("paper reference file %s is malformed: no column %s; restore it "
                             "from git" % (path, e))
    return reference

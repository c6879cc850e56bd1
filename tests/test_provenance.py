"""Recorded commands re-run from the repository root (reproduce/provenance.py)."""
import os

from building_blocks.image.data import REPO_ROOT
from reproduce import provenance


def test_portable_command_has_no_absolute_paths():
    argv = ["python", "-m", "reproduce", "distill", "--results_dir",
            os.path.join(REPO_ROOT, "results"), "--data_dir=" + os.path.join(
                os.path.dirname(REPO_ROOT), "shared", "data"), "--threads", "1",
            "--set", "student_lr=0.002"]
    command = provenance.portable_command(argv)
    assert command == ("python -m reproduce distill --results_dir results "
                       "--data_dir=../shared/data --threads 1 --set student_lr=0.002")
    assert " /" not in command and "=/" not in command

"""Recorded commands re-run from the repository root (reproduce/core/provenance.py)."""
import os

from building_blocks.image.data import REPO_ROOT
from reproduce.core import provenance


def test_portable_command_has_no_absolute_paths():
    argv = ["python", "-m", "reproduce", "distill", "--results_dir",
            os.path.join(REPO_ROOT, "results"), "--data_dir=" + os.path.join(
                os.path.dirname(REPO_ROOT), "shared", "data"), "--threads", "1",
            "--set", "student_lr=0.002"]
    command = provenance.portable_command(argv)
    assert command == ("python -m reproduce distill --results_dir results "
                       "--data_dir=../shared/data --threads 1 --set student_lr=0.002")
    assert " /" not in command and "=/" not in command


def test_cell_records_carry_no_absolute_paths_of_the_machine():
    """The checkpoint paths a runner reports (image teacher, RL student's teacher) are
    written relative to the repository root, like the command."""
    from reproduce.core import cells
    from reproduce.table1 import configs, image_cells
    cell = image_cells.teacher_cell("mnist")
    record = cells.cell_record(cell, "smoke", configs.teacher_config("mnist", "smoke"), {
        "checkpoint": os.path.join(REPO_ROOT, "runs", "smoke", "smoke", "teachers", "mnist.npz"),
        "teacher_checkpoint": "/elsewhere/t.npz", "test_accuracy": 90.0}, 0.0)
    assert record["checkpoint"] == os.path.join("runs", "smoke", "smoke", "teachers",
                                                "mnist.npz")
    assert not os.path.isabs(record["teacher_checkpoint"])
    assert record["test_accuracy"] == 90.0

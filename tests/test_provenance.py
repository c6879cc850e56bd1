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


def test_cpu_model_names_the_cpu_and_the_extensions_onednn_picks_kernels_by(tmp_path):
    """Cells made on CPUs with other vector extensions may round differently, so the record
    names the model and the extensions it has (only those of ONEDNN_ISA_FLAGS)."""
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nmodel name\t: Example CPU 9000\n"
                    "flags\t\t: fpu sse2 avx2 avx512f\n\n"
                    "processor\t: 1\nmodel name\t: Example CPU 9000\nflags\t\t: fpu\n")
    assert provenance.cpu_model(str(info)) == "Example CPU 9000 [avx2 avx512f]"
    assert provenance.machine_fields({"cpu_model": "x [avx2]"}) == {"cpu_model": "x [avx2]"}
    assert provenance.machine_fields({"git_sha": "abc"}) == {}
    assert "cpu_model" in provenance.environment()


def test_git_sha_is_read_once_so_a_long_cell_records_the_commit_it_started_at(monkeypatch):
    """A commit made while an hour-long cell runs must not appear in that cell's record."""
    monkeypatch.setattr(provenance, "_GIT_SHA", [])
    answers = iter(["a" * 40, "b" * 40])
    monkeypatch.setattr(provenance, "_read_git_sha", lambda: next(answers))
    assert provenance.git_sha() == "a" * 40
    assert provenance.git_sha() == "a" * 40  # HEAD moved on; the process's code did not
    assert provenance.environment()["git_sha"] == "a" * 40

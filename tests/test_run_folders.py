"""The shipped reference apart from a user's runs (issue 15 item 1): where commands write by
default, reusing the reference's teachers, and every number beside the reference's."""
import os
import subprocess
import sys

import pytest

from reproduce.core import run_folders
from reproduce.core.families import GridCell
from reproduce.verdicts import reference_check, report
from tests.conftest import REPO

HEADER = "method,task,mean,std,n,paper_mean,paper_std,profile,note\n"


def _write(folder, name, body, header=HEADER):
    os.makedirs(str(folder), exist_ok=True)
    with open(os.path.join(str(folder), name), "w") as f:
        f.write(header + body)


def test_default_folder_is_a_run_folder_never_the_reference():
    for profile in ("paper", "quick", "smoke"):
        folder = run_folders.default_results_dir(profile)
        assert folder == os.path.join(REPO, "runs", profile)
        assert not run_folders.is_reference(folder)
        assert not os.path.realpath(folder).startswith(
            os.path.realpath(run_folders.REFERENCE_DIR) + os.sep)
    assert run_folders.is_reference(os.path.join(REPO, "results"))
    assert run_folders.is_reference(os.path.join(REPO, "results", "..", "results"))


def test_cli_defaults_to_runs_profile_not_results():
    """A command without --results_dir reads and writes runs/<profile> (here: check, which
    finds no tables in a fresh run folder and says where it looked)."""
    folder = os.path.join(REPO, "runs", "smoke")
    if os.path.exists(os.path.join(folder, "table1.csv")):
        pytest.skip("a smoke run exists in runs/smoke")
    result = subprocess.run([sys.executable, "-m", "reproduce", "check", "--profile", "smoke"],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            universal_newlines=True)
    assert result.returncode == 2
    assert "no result tables" in result.stderr and folder in result.stderr


def _teacher_and_student(run):
    teacher = GridCell("mnist/teacher", [], os.path.join(run, "smoke/cells/mnist/teacher.json"),
                       1.0, None)
    student = GridCell("mnist/gas/seed0", [], os.path.join(run, "smoke/cells/mnist/gas/s0.json"),
                       1.0, "mnist/teacher",
                       os.path.join(run, "smoke/teachers/mnist.npz"))
    return teacher, student


def test_reuse_reference_teachers_copies_record_and_checkpoint_never_overwrites(tmp_path):
    reference, run = str(tmp_path / "reference"), str(tmp_path / "run")
    for relative, text in (("smoke/cells/mnist/teacher.json", "{\"ref\": 1}"),
                           ("smoke/teachers/mnist.npz", "weights"),
                           ("smoke/teachers/mnist.npz.json", "{\"sha256\": \"x\"}")):
        os.makedirs(os.path.dirname(os.path.join(reference, relative)), exist_ok=True)
        with open(os.path.join(reference, relative), "w") as f:
            f.write(text)
    teacher, student = _teacher_and_student(run)
    other = GridCell("fashion_mnist/teacher", [],
                     os.path.join(run, "smoke/cells/fashion_mnist/teacher.json"), 1.0, None)
    logs = []
    copied = run_folders.reuse_reference_teachers([teacher, other], [student], run,
                                                  logs.append, reference)
    assert copied == ["mnist/teacher"]  # fashion_mnist is not in the reference: it trains
    for relative in ("smoke/cells/mnist/teacher.json", "smoke/teachers/mnist.npz",
                     "smoke/teachers/mnist.npz.json"):
        with open(os.path.join(run, relative)) as a, open(os.path.join(reference, relative)) as b:
            assert a.read() == b.read()
    assert not os.path.exists(other.result_path)
    assert "reusing 1 teacher(s)" in logs[0]
    # a teacher finished in the run folder is its own: never replaced
    with open(teacher.result_path, "w") as f:
        f.write("{\"mine\": 1}")
    assert run_folders.reuse_reference_teachers([teacher], [student], run, logs.append,
                                                reference) == []
    with open(teacher.result_path) as f:
        assert f.read() == "{\"mine\": 1}"
    # the reference folder itself: nothing to copy
    assert run_folders.reuse_reference_teachers([teacher], [student], reference, logs.append,
                                                reference) == []


def test_a_teacher_without_its_checkpoint_in_the_reference_is_not_copied(tmp_path):
    reference, run = str(tmp_path / "reference"), str(tmp_path / "run")
    os.makedirs(os.path.join(reference, "smoke/cells/mnist"))
    with open(os.path.join(reference, "smoke/cells/mnist/teacher.json"), "w") as f:
        f.write("{}")
    teacher, student = _teacher_and_student(run)
    assert run_folders.reuse_reference_teachers([teacher], [student], run, lambda _: None,
                                                reference) == []
    assert not os.path.exists(teacher.result_path)  # a record without weights would lie


@pytest.mark.parametrize("ours,reference,expected", [
    ("96.47,0.752,3,quick", "96.47,0.752,3,quick", "identical"),
    ("96.47,0.750,3,quick", "96.47,0.752,3,quick", "within 1σ"),   # std differs: not identical
    ("97.80,0.752,3,quick", "96.47,0.752,3,quick", "within 2σ"),   # 1.33 ≤ 2 × 0.752
    ("99.00,0.752,3,quick", "96.47,0.752,3,quick", "outside"),
    ("98.90,,1,quick", "98.97,,1,quick", "outside"),                # no σ: identical or not
    ("40.00,1.000,3,smoke", "96.47,0.752,3,quick", "other profile"),
    ("96.47,0.752,3,quick", ",,0,quick", "no reference"),
    (",,0,quick", "96.47,0.752,3,quick", "not run"),
])
def test_reference_verdicts(ours, reference, expected):
    keys = ("mean", "std", "n", "profile")
    assert reference_check.verdict(dict(zip(keys, ours.split(","))),
                                   dict(zip(keys, reference.split(","))))[0] == expected


def test_reference_rows_match_by_table_method_task_and_skip_the_reference_itself(tmp_path):
    run, reference = tmp_path / "run", tmp_path / "reference"
    _write(reference, "table1.csv", "gas,mnist,96.47,0.752,3,98.79,0.075,quick,\n"
                                    "dafl,mnist,95.99,0.191,3,98.20,,quick,\n")
    _write(run, "table1.csv", "dafl,mnist,95.99,0.191,3,98.20,,quick,\n"
                              "gas,mnist,97.00,0.500,3,98.79,0.075,quick,\n"
                              "gas,cifar10,,,0,92.35,,quick,not run\n")
    _write(run, "fig2_input_modes.csv", "gas,1,evenodd_k1,99.00,0.100,3,quick,\n",
           header="method,k,task,mean,std,n,profile,note\n")
    lines = []
    rows = reference_check.run_reference_check(str(run), lines.append, str(reference))
    assert [(r["table"], r["method"], r["task"], r["verdict"]) for r in rows] == [
        ("table1", "dafl", "mnist", "identical"), ("table1", "gas", "mnist", "within 1σ"),
        ("table1", "gas", "cifar10", "not run"),
        ("fig2_input_modes", "gas", "evenodd_k1", "no reference")]
    assert rows[1]["reference_mean"] == "96.47" and rows[1]["difference"] == "+0.53"
    assert os.path.exists(str(run / reference_check.FILE_NAME))
    assert "1 identical, 1 within 1σ, 1 no reference, 1 not run" in lines[0]
    assert reference_check.run_reference_check(str(reference), lines.append,
                                               str(reference)) == []
    assert not os.path.exists(str(reference / reference_check.FILE_NAME))


def test_report_of_a_run_sets_each_number_beside_paper_and_reference(tmp_path):
    run, reference = tmp_path / "run", tmp_path / "reference"
    _write(reference, "table1.csv", "gas,mnist,96.47,0.752,3,98.79,0.075,quick,\n")
    _write(run, "table1.csv", "gas,mnist,96.47,0.752,3,98.79,0.075,quick,\n")
    text = open(report.write_report(str(run), lambda _: None, str(reference))).read()
    assert ("96.47 ± 0.752 (n=3) · paper 98.79 ± 0.075 · *outside* · reference 96.47 ± 0.752 "
            "(*identical*)") in text
    assert "## Beside the shipped reference" in text
    assert "| table1 | gas | mnist | 96.47 ± 0.752 (n=3) | 96.47 ± 0.752 (n=3, quick) | identical |" \
        in text
    # the reference's own report has no reference column
    text = open(report.write_report(str(reference), lambda _: None, str(reference))).read()
    assert "Beside the shipped reference" not in text and "This folder is the shipped" in text


@pytest.mark.skipif(not os.path.isdir(os.path.join(REPO, ".git")) and not os.path.isfile(
    os.path.join(REPO, ".git")), reason="not a git checkout")
def test_run_folders_and_parked_runs_are_git_ignored():
    """A user's runs (runs/<profile>) and parked in-progress runs (results/runs/) never show
    up as changes to commit; the reference's own files do."""
    paths = ["runs/quick/table1.csv", "results/runs/teacher_in_progress/RESUME.txt",
             "results/quick/teachers/rl/humanoid.npz.resume.npz"]
    result = subprocess.run(["git", "check-ignore"] + paths, cwd=REPO, stdout=subprocess.PIPE,
                            universal_newlines=True)
    assert result.stdout.split() == paths
    result = subprocess.run(["git", "check-ignore", "results/table1.csv"], cwd=REPO,
                            stdout=subprocess.PIPE, universal_newlines=True)
    assert result.returncode == 1  # not ignored

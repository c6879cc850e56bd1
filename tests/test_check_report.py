"""Archival check verdicts on hand-made CSVs, and the report."""
import csv
import json
import os

import pytest

from reproduce.verdicts import check, report

HEADER = "method,task,mean,std,n,paper_mean,paper_std,profile,note\n"


def write_table(directory, body):
    path = os.path.join(str(directory), "table1.csv")
    with open(path, "w") as f:
        f.write(HEADER + body)
    return path


@pytest.mark.parametrize("mean,std,paper_mean,paper_std,expected", [
    (98.8, 0.1, 98.79, 0.075, "within 1σ"),
    (98.65, 0.05, 98.79, 0.075, "within 2σ"),    # σ = max(0.075, 0.05) = 0.075; 0.14 ≤ 2σ
    (97.0, 0.1, 98.79, 0.075, "outside"),
    (98.5, 0.4, 98.20, None, "within 1σ"),       # paper σ missing: ours is σ
    (99.0, None, 99.35, None, "outside"),        # no σ at all: only equality would pass
    (None, None, 98.0, None, "not run"),
    (89.0, 0.3, None, None, "no paper value"),
])
def test_verdict(mean, std, paper_mean, paper_std, expected):
    assert check.verdict(mean, std, paper_mean, paper_std)[0] == expected


def test_check_writes_csv_and_summary_and_enforces_require(tmp_path):
    write_table(tmp_path, "gas,mnist,98.80,0.100,3,98.79,0.075,quick,\n"
                          "dafl,mnist,90.00,1.000,3,98.20,,quick,\n"
                          "gas,cifar10,,,0,92.35,,quick,not run\n"
                          "dafl,fashion_mnist,80.00,1.000,3,,,quick,\n")
    lines = []
    rows = check.run_check(str(tmp_path), log=lines.append)
    assert [r["verdict"] for r in rows] == ["within 1σ", "outside", "not run", "no paper value"]
    assert lines == ["archival check (quick profile): 1 within 1σ, 0 within 2σ, 1 outside, "
                     "1 not run, 1 no paper value"]
    with open(os.path.join(str(tmp_path), "archival_check.csv")) as f:
        written = list(csv.DictReader(f))
    assert written[1]["difference"] == "-8.20" and written[1]["sigma"] == "1.000"
    check.run_check(str(tmp_path), require=0.5, log=lambda _: None)
    with pytest.raises(check.CheckError, match="1 of 2 comparable cells"):
        check.run_check(str(tmp_path), require=0.75, log=lambda _: None)


def test_check_without_tables_is_a_clear_error(tmp_path):
    with pytest.raises(check.CheckError, match="run ./run_all.sh first"):
        check.run_check(str(tmp_path))


def test_report_renders_tables_verdicts_and_deviations(tmp_path):
    write_table(tmp_path, "gas,mnist,98.80,0.100,3,98.79,0.075,quick,\n"
                          "teacher,mnist,99.00,,1,99.35,,quick,\n")
    path = report.write_report(str(tmp_path), log=lambda _: None)
    text = open(path).read()
    assert "98.80 ± 0.100 (n=3) · paper 98.79 ± 0.075 · *within 1σ*" in text
    assert "## Deviations from the paper" in text and "student learning rate" in text


def test_students_of_a_teacher_that_was_not_reproduced_are_judged_relative_to_it(tmp_path):
    """Our teacher far below the paper's: each student is compared as student ÷ teacher with
    the paper's ratio; a teacher within 5% keeps the absolute verdicts; a ratio of negative
    scores means nothing."""
    write_table(tmp_path,
                "teacher,halfcheetah,1500.0,30.0,1,7698.0,103.1,quick,\n"
                "gas,halfcheetah,1480.0,40.0,5,6580.0,445.3,quick,\n"     # 0.987 vs 0.855
                "dafl,halfcheetah,1470.0,20.0,5,-0.387,0.209,quick,\n"    # 0.98 vs ~0
                "student_kd,halfcheetah,1300.0,250.0,5,7199.0,459.9,quick,\n"  # 0.867 vs 0.935
                "teacher,mnist,98.97,,1,98.91,,quick,\n"
                "gas,mnist,96.5,0.5,3,97.25,0.3,quick,\n"
                "teacher,pong,-5.0,1.0,1,20.9,0.2,quick,\n"
                "gas,pong,-21.0,0.0,5,-20.54,0.5,quick,\n")
    rows = {(r["method"], r["task"]): r for r in check.run_check(str(tmp_path),
                                                                  log=lambda _: None)}
    assert rows[("teacher", "halfcheetah")]["verdict"] == "outside"
    assert rows[("gas", "halfcheetah")]["verdict"] == "relative outside"
    assert rows[("gas", "halfcheetah")]["teacher_ratio"] == "0.987"
    assert rows[("gas", "halfcheetah")]["paper_teacher_ratio"] == "0.855"
    assert rows[("dafl", "halfcheetah")]["verdict"] == "relative outside"
    # σ of the ratio: max(459.9 / 7698, 250 / 1500) = 0.167 ≥ |0.867 − 0.935|
    assert rows[("student_kd", "halfcheetah")]["verdict"] == "relative within 1σ"
    assert rows[("gas", "mnist")]["verdict"] == "within 2σ"  # teacher within 5%: absolute
    assert rows[("gas", "mnist")]["teacher_ratio"] == ""
    assert rows[("gas", "pong")]["verdict"] == "teacher not reproduced"


def test_report_run_section_names_each_manifest_its_seeds_and_the_cells_machines(tmp_path):
    """Table 6/7 cells (seeds 0-4, other machines) are described too, not only Table 1's."""
    write_table(tmp_path, "gas,mnist,98.80,0.100,3,98.79,0.075,quick,\n")

    def cells(seeds, cpu, sha):
        return [{"cell": "c/seed%d" % s, "seed": s, "cpu_model": cpu, "git_sha": sha}
                for s in seeds]
    manifests = {"manifest.json": {"profile": "quick", "cells": cells([0, 1, 2], "CPU A", "a1")},
                 "manifest_table7.json": {"profile": "quick",
                                          "cells": cells([0, 1, 2, 3, 4], "CPU B", "b2")}}
    for name, manifest in manifests.items():
        with open(os.path.join(str(tmp_path), name), "w") as f:
            json.dump(manifest, f)
    text = open(report.write_report(str(tmp_path), log=lambda _: None)).read()
    assert "- Table 1 and Figure 2 (`manifest.json`): 3 cells, seeds 0-2" in text
    assert "- Table 7 (`manifest_table7.json`): 5 cells, seeds 0-4" in text
    assert "Table 6 (`manifest_table6.json`)" not in text
    assert "- git sha of the cells: a1, b2" in text
    assert "- CPUs of the cells: CPU B (5 cells); CPU A (3 cells)" in text


def test_report_of_table7_alone_takes_the_profile_from_its_manifest(tmp_path):
    write_table(tmp_path, "gas,mnist,98.80,0.100,3,98.79,0.075,quick,\n")
    with open(os.path.join(str(tmp_path), "manifest_table7.json"), "w") as f:
        json.dump({"profile": "smoke", "cells": [{"seed": 0, "git_sha": "c3"}]}, f)
    text = open(report.write_report(str(tmp_path), log=lambda _: None)).read()
    assert "- profile: smoke" in text
    assert "- Table 7 (`manifest_table7.json`): 1 cells, seeds 0" in text
    assert "not recorded (1 cells)" in text

"""Small pieces behind resume and the Ray backend: temporary files of atomic writes, the
write-pause test hook, --cells selection, and the Ray executor's checks (no Ray started)."""
import json
import os
import stat
import sys
import threading
import time

import pytest

from building_blocks.common import io_utils
from building_blocks.common.config import ConfigError
from reproduce.core.families import GridCell
from reproduce.grid import grid, ray_backend


def test_stale_temp_files_are_removed_and_finished_files_kept(tmp_path):
    io_utils.atomic_write_text(str(tmp_path / "a" / "done.json"), "{}\n")
    stale = tmp_path / "a" / ".done2.json.x1y2.tmp"
    stale.write_text("{\"partial")
    (tmp_path / "top.tmp").write_text("not ours: no leading dot")
    (tmp_path / ".t.csv.abc.tmp").write_text("x")
    assert io_utils.remove_stale_temp_files(str(tmp_path), recursive=False) == 1
    assert io_utils.remove_stale_temp_files(str(tmp_path)) == 1
    assert not stale.exists() and (tmp_path / "a" / "done.json").read_text() == "{}\n"
    assert (tmp_path / "top.tmp").exists()
    assert io_utils.remove_stale_temp_files(str(tmp_path / "missing")) == 0


def test_write_pause_hook_holds_a_complete_temp_file_before_the_rename(tmp_path, monkeypatch):
    monkeypatch.setenv("GAS_TEST_PAUSE_WRITE", "table1.csv")
    monkeypatch.setenv("GAS_TEST_PAUSE_WRITE_S", "1.0")
    target = tmp_path / "table1.csv"
    writer = threading.Thread(target=io_utils.atomic_write_text, args=(str(target), "a,b\n"))
    writer.start()
    deadline = time.time() + 5
    temps = []
    while not temps and time.time() < deadline:
        temps = [n for n in os.listdir(str(tmp_path)) if io_utils.is_temp_file(n)]
        time.sleep(0.01)
    assert temps and not target.exists()
    assert (tmp_path / temps[0]).read_text() == "a,b\n"
    writer.join()
    assert target.read_text() == "a,b\n" and os.listdir(str(tmp_path)) == ["table1.csv"]
    io_utils.atomic_write_text(str(tmp_path / "other.csv"), "x")  # other names: no pause


@pytest.mark.parametrize("umask,mode", [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)],
                         ids=["umask022", "umask002", "umask077"])
def test_atomic_writes_get_the_mode_a_plain_open_gives(tmp_path, umask, mode):
    """0666 less the umask, like open(path, "w") (mkstemp's 0600 hid results from the other
    users of a shared results folder or Docker volume; issue 15)."""
    previous = os.umask(umask)
    try:
        io_utils.atomic_write_text(str(tmp_path / "table1.csv"), "a,b\n")
        io_utils.atomic_write_json(str(tmp_path / "cells" / "seed0.json"), {"status": "ok"})
        with open(str(tmp_path / "plain.csv"), "w") as f:
            f.write("a,b\n")
    finally:
        os.umask(previous)
    for name in ("table1.csv", os.path.join("cells", "seed0.json"), "plain.csv"):
        assert stat.S_IMODE(os.stat(str(tmp_path / name)).st_mode) == mode, name


def _cell(name, needs=None):
    return GridCell(name, [], "/nonexistent/" + name, 1.0, needs)


def test_cells_selection_keeps_needed_teachers_and_rejects_unknown_patterns():
    teachers = [_cell("mnist/teacher"), _cell("fashion_mnist/teacher")]
    students = [_cell("mnist/gas/seed0", "mnist/teacher"),
                _cell("fashion_mnist/gas/seed0", "fashion_mnist/teacher"),
                _cell("mnist/dafl/seed0", "mnist/teacher")]
    kept_t, kept_s = grid.select_cells(teachers, students, ["mnist/gas/*"])
    assert [c.name for c in kept_t] == ["mnist/teacher"]
    assert [c.name for c in kept_s] == ["mnist/gas/seed0"]
    kept_t, kept_s = grid.select_cells(teachers, students, ["*/teacher"])
    assert len(kept_t) == 2 and not kept_s
    assert grid.select_cells(teachers, students, None) == (teachers, students)
    with pytest.raises(grid.GridError, match="zskd"):
        grid.select_cells(teachers, students, ["mnist/gas/*", "mnist/zskd/*"])


def test_unknown_backend_and_address_without_ray_are_refused_before_any_work(tmp_path):
    with pytest.raises(grid.GridError, match="--backend"):
        grid.run_all("smoke", ["table1"], 1, str(tmp_path), backend="spark")
    with pytest.raises(grid.GridError, match="--ray_address"):
        grid.run_all("smoke", ["table1"], 1, str(tmp_path), ray_address="h:1")
    assert not os.listdir(str(tmp_path))


def test_ray_executor_forwards_only_run_settings_and_checks_the_address():
    env = {"GAS_DATA_DIR": "/d", "OMP_NUM_THREADS": "2", "PYTHONHASHSEED": "0",
           "CUDA_VISIBLE_DEVICES": "3", "HOME": "/root", "TF_CPP_MIN_LOG_LEVEL": "2"}
    assert ray_backend._forwarded_env(env) == {  # pylint: disable=protected-access
        "GAS_DATA_DIR": "/d", "OMP_NUM_THREADS": "2", "PYTHONHASHSEED": "0",
        "TF_CPP_MIN_LOG_LEVEL": "2"}
    with pytest.raises(ray_backend.RayBackendError, match="127.0.0.1:1"):
        ray_backend.check_reachable("127.0.0.1:1", timeout_s=2.0)
    ray_backend.check_reachable("auto")  # left to Ray
    with pytest.raises(ConfigError, match="num_cpus"):
        ray_backend.RayExecutor(num_cpus=0)


def test_family_record_keeps_a_summary_of_earlier_invocations(tmp_path):
    path = str(tmp_path / "run_all_table6.json")
    assert "earlier_invocations" not in grid.with_earlier_invocations(path, {"cells_run": 3})
    first = {"command": "./run_all.sh --only table6", "git_sha": "a", "wall_s": 10.0,
             "cells_run": 48, "failed": ["rl/cartpole/teacher"], "packages": {"x": "1"},
             "earlier_invocations": [{"git_sha": "0", "wall_s": 1.0, "cells_run": 2}]}
    with open(path, "w") as f:
        json.dump(first, f)
    second = grid.with_earlier_invocations(path, {"cells_run": 16, "git_sha": "b"})
    assert second["git_sha"] == "b" and second["cells_run"] == 16
    assert second["earlier_invocations"] == [
        {"git_sha": "0", "wall_s": 1.0, "cells_run": 2},
        {"command": "./run_all.sh --only table6", "git_sha": "a", "wall_s": 10.0,
         "cells_run": 48, "failed": ["rl/cartpole/teacher"]}]
    with open(path, "w") as f:   # a rerun that skipped every cell adds nothing
        json.dump({"cells_run": 0, "earlier_invocations": second["earlier_invocations"]}, f)
    assert len(grid.with_earlier_invocations(path, {})["earlier_invocations"]) == 2


@pytest.mark.parametrize("profile,expected", [("smoke", 1), ("quick", 1)])
def test_a_cells_threads_come_from_the_profile_not_from_jobs(tmp_path, monkeypatch, profile,
                                                             expected):
    """The same cell gets the same command line (and so the same numbers) under --jobs 1 and
    --jobs 2: its intra-op threads are the profile's."""
    from reproduce.grid import grid
    seen = []

    def fake_execute(teachers, students, flags, jobs, log, executor=None):
        seen.append((jobs, flags["threads"], grid.cell_command(students[0], flags)))
        return []
    monkeypatch.setattr(grid, "execute_cells", fake_execute)
    monkeypatch.setattr(grid, "_write_outputs", lambda *a: None)
    for jobs in (1, 2):
        grid.run_all(profile, ["table1"], jobs, str(tmp_path), seeds=[0], log=lambda m: None,
                     cell_patterns=["mnist/noise_kd/*"])
    assert [s[:2] for s in seen] == [(1, expected), (2, expected)]
    assert seen[0][2] == seen[1][2]


def test_every_student_cell_names_its_teacher_checkpoint(tmp_path):
    """A student of a retrained teacher must be rerun (grid.is_stale), which needs the cell to
    name the checkpoint it distils; the RL families once left it out, so retrained PPO
    teachers kept their old students."""
    from reproduce.grid import registry
    from reproduce.rl.distill_cell import rl_teacher_path
    checked = set()
    for family in registry.get(list(registry.REGISTRY)):
        if family.unavailable():
            continue
        for profile in ("smoke", "quick"):
            _, students = family.cells(profile, None, str(tmp_path), None)
            checked.update(c.name.split("/")[0] for c in students)
            for cell in students:
                assert cell.teacher_checkpoint, (family.name, cell.name)
                if cell.name.startswith("rl/"):
                    task = cell.name.split("/")[1]
                    assert cell.teacher_checkpoint == rl_teacher_path(str(tmp_path), profile,
                                                                      task)
    assert {"mnist", "evenodd_k1", "rl"} <= checked


def test_grid_eta_uses_each_cells_own_time_and_the_jobs_in_parallel():
    """Two jobs, 10 cells of cost 1 each taking 60 s: after two have finished, 8 are left,
    4 rounds of 60 s on two jobs: 4 min, whatever the grid's wall clock says (issue 15: the
    wall-clock rate swung with the cells still in flight)."""
    from reproduce.grid.grid import Tracker
    lines = []
    tracker = Tracker(10.0, 10, lines.append, jobs=2)
    tracker.finished("a", 1.0, 60.0, "done")
    assert tracker.eta() == pytest.approx(60.0 * 9 / 2)
    tracker.finished("b", 1.0, 60.0, "done")
    assert tracker.eta() == pytest.approx(240.0)
    # a cheap cell that finished fast does not pull the estimate down for the costly ones
    tracker.finished("c", 0.1, 6.0, "done")
    assert tracker.eta() == pytest.approx(126.0 / 2.1 * 7.9 / 2)
    assert lines[-1].startswith("[3/10] c done in 6s")


def test_table1_cell_costs_follow_the_quick_wall_times():
    """The ETA's cost units of a quick Table 1 cell, against the wall times measured on the
    2-core machine (Student KD ~110 s, DAFL ~1,300 s, GAS ~1,700-2,100 s): each within a
    factor 1.5, and a cell's fixed start-up keeps a short cell from counting as nearly free."""
    from reproduce.table1 import configs, family
    measured_s = {"student_kd": 110.0, "noise_kd": 112.0, "dafl": 1300.0, "gas": 1900.0}
    seconds_per_unit = 0.63
    for method, seconds in measured_s.items():
        cost = family.image_student_cost(configs.distill_config(method, "mnist", "quick", 0))
        assert seconds / 1.5 <= cost * seconds_per_unit <= seconds * 1.5, (method, cost)
    smoke = {m: family.image_student_cost(configs.distill_config(m, "mnist", "smoke", 0))
             for m in measured_s}
    assert smoke["student_kd"] >= 0.5 * smoke["gas"]


def test_a_cell_resuming_from_its_checkpoint_appends_to_its_log_a_fresh_run_starts_it_anew(
        tmp_path):
    """A ~1 h Table 7 cell run over two sittings keeps the first sitting's log."""
    logs = tmp_path / "quick" / "logs"
    logs.mkdir(parents=True)
    say = [sys.executable, "-c", "print('second sitting')"]

    def run(name, log):
        log.write_text("first sitting\n")
        cell = GridCell(name, [], str(tmp_path / "unused.json"), 1.0, None)
        assert grid.run_local(say, str(log), dict(os.environ), cell) == 0
        return log.read_text()

    student_log = logs / "rl_pong_gas_seed0.log"
    assert run("rl/pong/gas/seed0", student_log) == "second sitting\n"
    partial = tmp_path / "quick" / "partial" / "rl" / "pong" / "gas" / "seed0"
    partial.mkdir(parents=True)
    (partial / ".ckpt.npz.ab12.tmp").write_bytes(b"half-written")  # not a checkpoint
    assert run("rl/pong/gas/seed0", student_log) == "second sitting\n"
    (partial / "ckpt.npz").write_bytes(b"state")
    text = run("rl/pong/gas/seed0", student_log)
    assert text.startswith("first sitting\n") and text.endswith("second sitting\n")
    assert "rl/pong/gas/seed0 resumes from its checkpoint" in text
    assert run("rl/pong/dafl/seed0", logs / "rl_pong_dafl_seed0.log") == "second sitting\n"

    teacher_log = logs / "rl_pong_teacher.log"
    assert run("rl/pong/teacher", teacher_log) == "second sitting\n"
    teachers = tmp_path / "quick" / "teachers" / "rl"
    teachers.mkdir(parents=True)
    (teachers / "pong_lowdim.npz.resume.npz").write_bytes(b"other task")
    assert run("rl/pong/teacher", teacher_log) == "second sitting\n"
    (teachers / "pong.npz.resume.npz").write_bytes(b"state")
    assert run("rl/pong/teacher", teacher_log).startswith("first sitting\n")

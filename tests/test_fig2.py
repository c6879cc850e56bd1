"""Figure 2 (input modes): even/odd tasks, the KMNIST loader on tiny generated files, the fig2
configs, the stale-student rule of --retrain_teachers, and a smoke run of `run_all --only fig2`."""
import csv
import dataclasses
import json
import os

import numpy as np
import pytest

from building_blocks.image import data as data_lib
from building_blocks.image import input_modes, kmnist
from building_blocks.common.config import ConfigError
from building_blocks.image.data import DataError


def fake_dataset(name, per_class_train=3, per_class_test=2):
    """Labels 0..9, each image filled with its label (so a test can read an image's class)."""
    def split(n):
        labels = np.repeat(np.arange(10), n).astype(np.int64)
        images = np.broadcast_to(labels[:, None, None], (len(labels), 28, 28)).astype(np.uint8)
        return data_lib.Split(images.copy(), labels)
    return data_lib.Dataset(name, split(per_class_train), split(per_class_test), 10, 0.5, 0.5)


# ------------------------------------------------------------------------- even / odd tasks
@pytest.mark.parametrize("k,even,odd", [(1, [0], [1]), (2, [0, 2], [1, 3]),
                                        (5, [0, 2, 4, 6, 8], [1, 3, 5, 7, 9])])
def test_even_odd_uses_the_first_k_even_and_odd_digits(k, even, odd):
    task = input_modes.even_odd_task(k, fake_dataset("mnist"))
    assert task.name == "evenodd_k%d" % k and task.num_classes == 2
    assert (task.mean, task.std) == (0.1307, 0.3081)  # MNIST's constants for every k
    for split, per_class in ((task.train, 3), (task.test, 2)):
        digits = split.images[:, 0, 0].astype(int)  # fake images carry their digit
        assert sorted(set(digits)) == sorted(even + odd)
        np.testing.assert_array_equal(split.labels, digits % 2)  # even = 0, odd = 1
        assert len(split.labels) == 2 * k * per_class
        assert (split.labels == 0).sum() == (split.labels == 1).sum() == k * per_class


def test_even_odd_beyond_five_adds_kmnist_symbols_and_needs_them():
    mnist, extra = fake_dataset("mnist"), fake_dataset("kmnist", 4, 1)
    assert input_modes.exemplars(7) == {
        0: [("mnist", d) for d in (0, 2, 4, 6, 8)] + [("kmnist", 0), ("kmnist", 2)],
        1: [("mnist", d) for d in (1, 3, 5, 7, 9)] + [("kmnist", 1), ("kmnist", 3)]}
    task = input_modes.even_odd_task(7, mnist, extra)
    assert len(task.train.labels) == 10 * 3 + 4 * 4
    assert len(task.test.labels) == 10 * 2 + 4 * 1
    assert (task.train.labels == 0).sum() == 5 * 3 + 2 * 4
    with pytest.raises(DataError, match="Kuzushiji"):
        input_modes.even_odd_task(6, mnist, None)
    for bad in (0, 11):
        with pytest.raises(ValueError, match="1..10"):
            input_modes.exemplars(bad)


def test_even_odd_training_prefix_holds_both_classes():
    task = input_modes.even_odd_task(5, fake_dataset("mnist", per_class_train=50))
    assert set(task.train.labels[:20]) == {0, 1}  # smoke teachers train on a prefix


# ------------------------------------------------------------------------------ KMNIST
def write_kmnist(folder, n_train=6, n_test=4, **replace):
    os.makedirs(folder, exist_ok=True)
    rng = np.random.RandomState(0)
    arrays = {
        "kmnist-train-imgs.npz": rng.randint(0, 256, (n_train, 28, 28)).astype(np.uint8),
        "kmnist-train-labels.npz": (np.arange(n_train) % 10).astype(np.uint8),
        "kmnist-test-imgs.npz": rng.randint(0, 256, (n_test, 28, 28)).astype(np.uint8),
        "kmnist-test-labels.npz": (np.arange(n_test) % 10).astype(np.uint8),
    }
    arrays.update(replace)
    for name, array in arrays.items():
        np.savez_compressed(os.path.join(folder, name), arr_0=array)
    return arrays


def test_kmnist_loader_reads_generated_release_files(tmp_path):
    arrays = write_kmnist(str(tmp_path / "kmnist"))
    assert kmnist.is_available(str(tmp_path))
    dataset = kmnist.load_kmnist(str(tmp_path), verify=False)
    assert dataset.num_classes == 10 and dataset.train.labels.dtype == np.int64
    np.testing.assert_array_equal(dataset.train.images, arrays["kmnist-train-imgs.npz"])
    np.testing.assert_array_equal(dataset.test.labels, arrays["kmnist-test-labels.npz"])


def test_kmnist_missing_file_names_it_and_the_folder(tmp_path):
    write_kmnist(str(tmp_path / "kmnist"))
    os.remove(str(tmp_path / "kmnist" / "kmnist-test-labels.npz"))
    assert not kmnist.is_available(str(tmp_path))
    with pytest.raises(DataError, match="missing dataset file: .*kmnist-test-labels.npz"):
        kmnist.load_kmnist(str(tmp_path), verify=False)
    assert str(tmp_path / "kmnist") in kmnist.missing_message(str(tmp_path))


def test_kmnist_checksum_mismatch_names_the_file(tmp_path):
    write_kmnist(str(tmp_path / "kmnist"))  # tiny files: not the release's bytes
    with pytest.raises(DataError, match="checksum mismatch for .*kmnist-train-imgs.npz"):
        kmnist.load_kmnist(str(tmp_path))


@pytest.mark.parametrize("corrupt,needle", [
    (b"not a zip archive", "kmnist-train-labels.npz is corrupt"),
    (None, "no array 'arr_0'"),
])
def test_kmnist_corrupt_files_are_named(tmp_path, corrupt, needle):
    folder = str(tmp_path / "kmnist")
    write_kmnist(folder)
    path = os.path.join(folder, "kmnist-train-labels.npz")
    if corrupt is None:
        np.savez(path, labels=np.zeros(6, np.uint8))
    else:
        with open(path, "wb") as f:
            f.write(corrupt)
    with pytest.raises(DataError, match=needle):
        kmnist.load_kmnist(str(tmp_path), verify=False)


def test_kmnist_wrong_structure_is_refused(tmp_path):
    write_kmnist(str(tmp_path / "kmnist"),
                 **{"kmnist-test-imgs.npz": np.zeros((4, 32, 32), np.uint8)})
    with pytest.raises(DataError, match=r"expected uint8 \[N, 28, 28\]"):
        kmnist.load_kmnist(str(tmp_path), verify=False)
    write_kmnist(str(tmp_path / "kmnist"), **{"kmnist-train-labels.npz": np.arange(5)})
    with pytest.raises(DataError, match="6 images but labels"):
        kmnist.load_kmnist(str(tmp_path), verify=False)


# ---------------------------------------------------------------------------- configs
def test_fig2_configs_follow_table2_and_differ_only_in_the_gas_ingredients():
    from reproduce.fig2 import fig2
    configs = {m: fig2.distill_config(m, 3, "paper", 0) for m in fig2.METHODS}
    for config in configs.values():
        assert config.generator_lr == 0.01 and config.student_lr == 0.001  # Table 2
        assert not config.generator_batch_norm and config.task == "evenodd_k3"
    assert fig2.teacher_config(3, "paper").learning_rate == 0.0007
    assert (configs["dafl"].n_generators, configs["dafl"].gamma, configs["dafl"].reinit_every) \
        == (1, 0.0, 0)
    assert (configs["dafl_reinit"].n_generators, configs["dafl_reinit"].gamma) == (1, 0.0)
    assert configs["dafl_reinit"].reinit_every == configs["gas"].reinit_every > 0
    assert (configs["gas"].n_generators, configs["gas"].gamma) == (8, 0.4)
    ingredients = {"method", "n_generators", "gamma", "reinit_every"}
    as_dicts = {m: dataclasses.asdict(c) for m, c in configs.items()}
    for m in fig2.METHODS:
        assert {key for key in as_dicts[m] if as_dicts[m][key] != as_dicts["gas"][key]} \
            <= ingredients
    # Profiles change sizes only.
    sizes = {"student_steps", "batch_size", "student_steps_per_round",
             "generator_steps_per_round", "reinit_every", "eval_every", "log_every_s"}
    quick = dataclasses.asdict(fig2.distill_config("gas", 3, "quick", 0))
    assert {key for key in quick if quick[key] != as_dicts["gas"][key]} <= sizes
    with pytest.raises(ConfigError, match="--k"):
        fig2.distill_config("gas", 11, "quick", 0)
    with pytest.raises(ConfigError, match="--method"):
        fig2.distill_config("student_kd", 1, "quick", 0)


def test_fig2_paper_and_quick_schedules_keep_table1s_quick_rules(monkeypatch):
    from reproduce.fig2 import fig2
    assert fig2.check_schedule("paper") == [] and fig2.check_schedule("quick") == []
    # The old quick schedule (400 updates, 50:10 rounds, re-init every 100) is refused: 20
    # generator updates per lifetime and a first round of 12.5% of the run.
    monkeypatch.setitem(fig2._SCHEDULE, "quick", (400, 32, (50, 10), 100, 100))  # noqa
    problems = " ".join(fig2.check_schedule("quick"))
    assert "20 generator updates per lifetime" in problems and "first round" in problems
    assert "fig2 dafl:" not in problems  # DAFL's row has no re-init by design
    monkeypatch.setitem(fig2._SCHEDULE, "quick", (1000, 8, (25, 5), 500, 100))  # noqa
    assert "fewer than the 2 classes" in " ".join(fig2.check_schedule("quick"))


def test_generator_output_map_takes_tanh_range_to_normalised_pixels():
    from reproduce.fig2 import fig2
    scale, shift = fig2.generator_output_map(0.1307, 0.3081)
    for tanh_value, pixel in ((-1.0, 0.0), (0.0, 0.5), (1.0, 1.0)):
        assert abs(tanh_value * scale + shift - (pixel - 0.1307) / 0.3081) < 1e-9


def test_fig2_cells_cover_k_1_to_5_without_kmnist_and_to_10_with_it(tmp_path):
    from reproduce.grid import registry
    family = registry.get(["fig2"])[0]
    no_kmnist = str(tmp_path / "data")
    teachers, students = family.cells("quick", None, str(tmp_path), no_kmnist)
    assert [c.name for c in teachers] == ["evenodd_k%d/teacher" % k for k in range(1, 6)]
    assert len(students) == 5 * 3 * 3
    assert all(c.teacher_checkpoint.endswith("quick/teachers/%s.npz" % c.name.split("/")[0])
               for c in students)
    write_kmnist(os.path.join(no_kmnist, "kmnist"))
    teachers, students = family.cells("smoke", (0,), str(tmp_path), no_kmnist)
    assert len(teachers) == 10 and len(students) == 10 * 3


def test_rows_say_data_missing_beyond_five_without_kmnist():
    from reproduce.fig2 import fig2
    records = [{"task": "evenodd_k2", "method": "gas", "test_accuracy": a} for a in (90., 94.)]
    rows = fig2.fig2_rows(records, "quick", kmnist_present=False)
    by_key = {(r["method"], r["k"]): r for r in rows}
    assert len(rows) == 4 * 10
    assert (by_key[("gas", "2")]["mean"], by_key[("gas", "2")]["std"],
            by_key[("gas", "2")]["n"]) == ("92.00", "2.828", "2")  # ddof = 1
    assert by_key[("gas", "3")]["note"] == "not run"
    assert by_key[("dafl", "7")]["note"].startswith("not run: data missing (put kmnist-")
    assert " in /" not in by_key[("dafl", "7")]["note"]  # no machine's path in a table


# ------------------------------------------------------------- stale students, retraining
def _write_json(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(obj, f)


def test_students_of_a_changed_teacher_are_stale_and_rerun(tmp_path):
    from reproduce.core.families import GridCell
    from reproduce.grid import grid
    teacher_npz = str(tmp_path / "teachers" / "t.npz")
    teacher = GridCell("t/teacher", ["teacher"], str(tmp_path / "cells" / "t.json"), 1.0, None)
    students = [GridCell("t/s%d" % i, ["student", str(i)], str(tmp_path / "cells" / ("s%d.json" % i)),
                         1.0, "t/teacher", teacher_npz) for i in range(2)]
    _write_json(teacher_npz + ".json", {"sha256": "old"})
    _write_json(teacher.result_path, {"status": "ok"})
    _write_json(students[0].result_path, {"teacher_checkpoint_sha256": "old"})
    _write_json(students[1].result_path, {"teacher_checkpoint_sha256": "old"})
    assert not any(grid.is_stale(s) for s in students)
    ran = []

    def execute(command, log_file, env, cell=None):
        """Fake cells: the teacher writes new weights, students record the teacher's sha."""
        del log_file, env, cell
        name = command[command.index("-m") + 2:][0]
        ran.append(command[command.index("-m") + 2:command.index("--profile")])
        if name == "teacher":
            _write_json(teacher_npz + ".json", {"sha256": new_sha[0]})
            _write_json(teacher.result_path, {"status": "ok"})
        else:
            cell = students[int(command[command.index("-m") + 3])]
            _write_json(cell.result_path, {"teacher_checkpoint_sha256": new_sha[0]})
        return 0

    flags = {"profile": "smoke", "results_dir": str(tmp_path), "threads": 1}
    new_sha = ["old"]
    assert grid.execute_cells([teacher], students, flags, 1, lambda _: None, execute) == []
    assert ran == []  # everything finished and current: nothing runs
    # --retrain_teachers with a bit-identical result: the students stay valid.
    grid.forget_teachers([teacher], lambda _: None)
    assert not os.path.exists(teacher.result_path)
    grid.execute_cells([teacher], students, flags, 1, lambda _: None, execute)
    assert ran == [["teacher"]]
    # A retrained teacher with different weights: both students are stale and rerun.
    ran[:], new_sha[0] = [], "new"
    grid.forget_teachers([teacher], lambda _: None)
    logs = []
    grid.execute_cells([teacher], students, flags, 1, logs.append, execute)
    assert sorted(ran) == [["student", "0"], ["student", "1"], ["teacher"]]
    assert any("stale" in line for line in logs)
    assert not any(grid.is_stale(s) for s in students)


# -------------------------------------------------------------------------- CLI smoke run
SHARED_MNIST = os.path.isdir(os.path.join(data_lib.resolve_data_dir(), "mnist"))


@pytest.mark.skipif(not SHARED_MNIST and not os.environ.get("CI"), reason="no MNIST data")
def test_run_all_only_fig2_smoke_writes_csv_png_manifest_and_report(tmp_path):
    from tests.test_cli_smoke import cli
    results = str(tmp_path / "results")
    # k = 1 and 2 only (8 cells of the 20): every method, teachers, figure, report and the
    # rows of k that did not run are covered without the CI time of the other 12 cells.
    _, out, _ = cli("run_all", "--profile", "smoke", "--only", "fig2", "--seeds", "0",
                    "--jobs", "2", "--results_dir", results,
                    "--cells", "evenodd_k1/*,evenodd_k2/*")
    assert "[8/8]" in out
    with open(os.path.join(results, "fig2_input_modes.csv")) as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 40 and list(rows[0])[:5] == ["method", "k", "task", "mean", "std"]
    kmnist_present = kmnist.is_available()
    from tests.test_cli_smoke import read_cell_records
    accuracy = {(r["method"], r["task"]): r["test_accuracy"]
                for r in read_cell_records(results).values() if r["task"].startswith("evenodd_k")}
    for row in rows:
        if int(row["k"]) <= 2:
            # One seed: the row is that cell's own test accuracy.
            assert row["n"] == "1" and row["std"] == "", row
            assert float(row["mean"]) == pytest.approx(
                accuracy[(row["method"], row["task"])], abs=0.0051), row
        elif int(row["k"]) <= 5 or kmnist_present:
            assert row["n"] == "0" and row["note"] == "not run", row
        else:
            assert row["n"] == "0" and row["note"].startswith("not run: data missing")
    png = os.path.join(results, "figures", "fig2_input_modes.png")
    with open(png, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    with open(os.path.join(results, "manifest.json")) as f:
        manifest = json.load(f)
    assert len([c for c in manifest["cells"] if c["cell"].startswith("evenodd_k")]) == 8
    with open(os.path.join(results, "smoke", "cells", "evenodd_k2", "gas", "seed0.json")) as f:
        record = json.load(f)
    with open(os.path.join(results, "smoke", "teachers", "evenodd_k2.npz.json")) as f:
        assert record["teacher_checkpoint_sha256"] == json.load(f)["sha256"]
    assert record["config"]["generator_batch_norm"] is False and record["k"] == 2
    with open(os.path.join(results, "REPORT.md")) as f:
        report = f.read()
    assert "Figure 2" in report and "drops significantly past 2 digits" in report
    code, _, err = cli("fig2_distill", "--k", "11", "--method", "gas", "--profile", "smoke",
                       "--results_dir", results, check=False)
    assert code == 2 and "--k" in err

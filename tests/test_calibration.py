"""Time-to-accuracy curves (reproduce/table1/calibration.py) from finished cell JSONs."""
import csv
import io
import os

from building_blocks.common.io_utils import atomic_write_json
from reproduce.core import cells
from reproduce.table1 import calibration, image_cells


def _cell(root, task, method, history, config=None, overrides=(), fused=True):
    """A finished cell JSON; ``fused=None``: a config made before the switch existed."""
    path = cells.result_path(root, "quick", image_cells.distill_cell(task, method, 0))
    config = dict(config or {})
    if fused is not None:
        config["fused_batch_norm"] = fused
    atomic_write_json(path, {"method": method, "task": task, "seed": 0, "config": config,
                             "overrides": list(overrides), "history": history,
                             "wall_s": history[-1]["wall_s"], "git_sha": "abc"})


def test_curves_join_table1_cells_and_calibration_variants(tmp_path):
    results = str(tmp_path)
    _cell(results, "mnist", "gas", [{"step": 200, "wall_s": 60.0, "test_accuracy": 90.0},
                                    {"step": 400, "wall_s": 121.0, "test_accuracy": 95.5}])
    _cell(results, "mnist", "dafl", [{"step": 200, "wall_s": 70.0, "test_accuracy": 85.0}],
          config={"shared_batch": True})
    _cell(os.path.join(results, calibration.CALIBRATION_DIR), "mnist", "dafl",
          [{"step": 200, "wall_s": 80.0, "test_accuracy": 84.0}],
          config={"shared_batch": False}, overrides=["shared_batch=false"])
    paths = calibration.write_calibration(results, "quick", log=lambda *_: None)
    assert [os.path.relpath(p, results) for p in paths] == [calibration.CSV_FILE,
                                                            calibration.FIGURE_FILE]
    with open(paths[0]) as f:
        rows = list(csv.DictReader(io.StringIO(f.read())))
    curves = {(r["curve"], r["student_updates"]): r["test_accuracy"] for r in rows}
    assert curves == {("dafl (shared batch, as released)", "200"): "85.00",
                      ("gas", "200"): "90.00", ("gas", "400"): "95.50",
                      ("dafl (fresh batch)", "200"): "84.00"}
    assert {r["task"] for r in rows} == {"mnist"} and {r["profile"] for r in rows} == {"quick"}
    assert os.path.getsize(paths[1]) > 1000


def test_nothing_finished_writes_nothing(tmp_path):
    assert calibration.write_calibration(str(tmp_path), "quick", log=lambda *_: None) == []
    assert not os.listdir(str(tmp_path))


def test_named_variant_folders_sit_side_by_side(tmp_path):
    """Two variants of one method and task, each in its own folder under calibration/, both
    become curves; length overrides stay out of the label but in the overrides column."""
    results = str(tmp_path)
    _cell(results, "fashion_mnist", "gas", [{"step": 200, "wall_s": 60.0, "test_accuracy": 49.0}])
    for name, gamma, accuracy in (("gamma0", "0", 40.0), ("gamma1", "1.0", 48.0)):
        _cell(os.path.join(results, calibration.CALIBRATION_DIR, name), "fashion_mnist", "gas",
              [{"step": 200, "wall_s": 70.0, "test_accuracy": accuracy}],
              overrides=["student_steps=600", "eval_every=200", "gamma=" + gamma])
    rows = calibration.calibration_rows(results, "quick")
    assert [(r["curve"], r["test_accuracy"]) for r in rows] == [
        ("gas", "49.00"), ("gas [gamma=0]", "40.00"), ("gas [gamma=1.0]", "48.00")]
    assert rows[1]["overrides"] == "student_steps=600 eval_every=200 gamma=0"


def test_a_run_longer_than_the_profile_is_its_own_curve(tmp_path):
    """A long probe (--set student_steps=8000) must not merge with the profile's curve."""
    results = str(tmp_path)
    _cell(results, "fashion_mnist", "gas", [{"step": 200, "wall_s": 60.0, "test_accuracy": 60.0}],
          config={"student_steps": 1600})
    _cell(os.path.join(results, calibration.CALIBRATION_DIR, "long"), "fashion_mnist", "gas",
          [{"step": 200, "wall_s": 61.0, "test_accuracy": 61.0}],
          config={"student_steps": 8000}, overrides=["student_steps=8000", "eval_every=200"])
    rows = calibration.calibration_rows(results, "quick")
    assert sorted({r["curve"] for r in rows}) == ["gas", "gas [8000 updates]"]


def test_a_cell_made_before_fused_batch_norm_is_labelled_moments(tmp_path):
    """Cells whose config predates the switch (issue 14) ran the moments batch norm: their
    curves must not pass for the profile's fused default; student KD has no generator."""
    results = str(tmp_path)
    _cell(results, "mnist", "gas", [{"step": 200, "wall_s": 60.0, "test_accuracy": 90.0}])
    old = os.path.join(results, calibration.CALIBRATION_DIR, "old")
    _cell(old, "mnist", "gas", [{"step": 200, "wall_s": 61.0, "test_accuracy": 89.0}],
          overrides=["gamma=0"], fused=None)
    _cell(old, "mnist", "student_kd", [{"step": 200, "wall_s": 9.0, "test_accuracy": 98.0}],
          fused=None)
    rows = calibration.calibration_rows(results, "quick")
    assert sorted({r["curve"] for r in rows}) == [
        "gas", "gas [gamma=0, moments batch norm]", "student_kd"]

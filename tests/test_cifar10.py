"""CIFAR-10 loader on tiny files in the release's real format (tarball and extracted folder),
its missing/corrupt/checksum errors, the CIFAR-10 configs, the Table 1 not-run note, the
samples figure, and (slowest, ~1-2 min) the smoke CLI on generated data."""
import io
import json
import os
import pickle
import subprocess
import sys
import tarfile

import numpy as np
import pytest

from building_blocks.image import cifar10, data, image_tasks
from building_blocks.image.data import DataError
from reproduce.table1 import configs
from tests.conftest import REPO


@pytest.fixture
def skip_checksums(monkeypatch):
    monkeypatch.setenv(cifar10.SKIP_ENV, "1")


@pytest.mark.parametrize("as_tarball", [True, False])
def test_loads_generated_release_in_both_forms(tmp_path, skip_checksums, as_tarball):
    source = cifar10.write_fake_release(str(tmp_path), train_per_batch=6, test=4,
                                        as_tarball=as_tarball)
    assert os.path.basename(source) == (cifar10.TARBALL if as_tarball else cifar10.BATCH_FOLDER)
    dataset = image_tasks.load_image_task("cifar10", str(tmp_path))
    assert dataset.train.images.shape == (30, 32, 32, 3)
    assert dataset.train.images.dtype == np.uint8 and dataset.train.labels.dtype == np.int64
    assert dataset.test.images.shape == (4, 32, 32, 3)
    np.testing.assert_array_equal(dataset.test.labels, [0, 1, 2, 3])
    assert data.network_input_shape(dataset) == (32, 32, 3)
    x = data.to_network_input(dataset.test.images, dataset.mean, dataset.std)
    assert x.shape == (4, 32, 32, 3) and x.dtype == np.float32
    np.testing.assert_array_equal(data.from_network_input(x, dataset.mean, dataset.std),
                                  dataset.test.images)


def test_pixel_layout_is_row_major_chw():
    image = np.zeros((1, 32, 32, 3), np.uint8)
    image[0, 1, 2, 0], image[0, 3, 4, 2] = 200, 100  # red at (row 1, col 2), blue at (3, 4)
    raw = cifar10.batch_bytes(image, [7])
    row = pickle.loads(raw)[b"data"][0]
    assert row[1 * 32 + 2] == 200 and row[2 * 1024 + 3 * 32 + 4] == 100
    images, labels = cifar10.parse_batch(raw, "x")
    np.testing.assert_array_equal(images, image)
    assert labels.tolist() == [7]


def test_missing_data_names_the_file_and_the_fix(tmp_path):
    with pytest.raises(DataError) as error:
        image_tasks.load_image_task("cifar10", str(tmp_path))
    message = str(error.value)
    assert os.path.join(str(tmp_path), "cifar10") in message
    assert cifar10.TARBALL in message and "--data_dir" in message
    assert not cifar10.is_available(str(tmp_path))


def test_checksums_are_checked_by_default(tmp_path, monkeypatch):
    monkeypatch.delenv(cifar10.SKIP_ENV, raising=False)
    cifar10.write_fake_release(str(tmp_path), 2, 2, as_tarball=False)
    with pytest.raises(DataError, match=r"checksum mismatch for .*data_batch_1: MD5"):
        image_tasks.load_image_task("cifar10", str(tmp_path))


def test_truncated_tarball_and_corrupt_batch_fail_clearly(tmp_path, skip_checksums):
    tarball = cifar10.write_fake_release(str(tmp_path), 2, 2)
    raw = open(tarball, "rb").read()
    with open(tarball, "wb") as f:
        f.write(raw[:len(raw) // 2])
    with pytest.raises(DataError, match="corrupt or truncated"):
        cifar10.load_cifar10(str(tmp_path))
    folder = cifar10.write_fake_release(str(tmp_path / "b"), 2, 2, as_tarball=False)
    with open(os.path.join(folder, "test_batch"), "wb") as f:
        f.write(cifar10.batch_bytes(np.zeros((2, 32, 32, 3)), [0, 1])[:-20])
    with pytest.raises(DataError, match="test_batch is corrupt"):
        cifar10.load_cifar10(str(tmp_path / "b"))
    os.remove(os.path.join(folder, "data_batch_3"))
    with pytest.raises(DataError, match="missing CIFAR-10 file .*data_batch_3"):
        cifar10.load_cifar10(str(tmp_path / "b"))


def test_batches_may_not_run_code(tmp_path):
    class Evil(object):
        def __reduce__(self):
            return (os.system, ("echo pwned",))
    with pytest.raises(DataError, match="not allowed"):
        cifar10.parse_batch(pickle.dumps({b"data": Evil()}), "evil")
    with pytest.raises(DataError, match="uint8"):
        cifar10.parse_batch(pickle.dumps({b"data": np.zeros((2, 5)), b"labels": [0, 1]}), "x")


def test_tarball_without_the_release_layout(tmp_path, skip_checksums):
    folder = tmp_path / "cifar10"
    folder.mkdir()
    with tarfile.open(str(folder / cifar10.TARBALL), "w:gz") as archive:
        info = tarfile.TarInfo("other/file")
        info.size = 3
        archive.addfile(info, io.BytesIO(b"abc"))
    with pytest.raises(DataError, match="no member cifar-10-batches-py/data_batch_1"):
        cifar10.load_cifar10(str(tmp_path))


def test_cifar_configs_follow_b12_and_profiles_change_only_sizes():
    gas = configs.distill_config("gas", "cifar10", "paper", 0)
    assert (gas.generator_lr, gas.gamma, gas.n_generators) == (0.015, 0.4, 8)
    assert (gas.student_steps_per_round, gas.generator_steps_per_round) == (10, 1)
    assert (gas.student_steps, gas.lr_decay_every, gas.lr_decay_factor) == (240000, 96000, 0.1)
    teacher = configs.teacher_config("cifar10", "paper")
    assert (teacher.optimizer, teacher.learning_rate, teacher.weight_decay,
            teacher.lr_boundaries_epochs, teacher.epochs) == ("momentum", 0.1, 5e-4, "80,120", 200)
    sizes = {"student_steps", "batch_size", "reinit_every", "eval_every", "log_every_s",
             "lr_decay_every", "test_examples"}
    for method in configs.METHODS:
        paper = configs.distill_config(method, "cifar10", "paper", 0)
        for profile in ("quick", "smoke"):
            other = configs.distill_config(method, "cifar10", profile, 0)
            differing = {k for k in paper.__dataclass_fields__
                         if getattr(paper, k) != getattr(other, k)}
            assert differing <= sizes, (profile, differing)


def test_table1_note_says_data_missing(tmp_path):
    from reproduce.core import paper_reference
    from reproduce.table1 import tables
    notes = tables.not_run_notes(str(tmp_path))
    assert notes["cifar10"].startswith("not run: data missing")
    folder = notes["cifar10"].split(" in ", 1)[1].rstrip("/)")
    assert not os.path.isabs(folder)  # a committed table names no machine's path
    assert os.path.normpath(os.path.join(REPO, folder)) == os.path.join(str(tmp_path), "cifar10")
    rows = tables.table1_rows([], "smoke", paper_reference.load_paper_reference(), notes)
    assert all(r["note"].startswith("not run") for r in rows if r["task"] == "cifar10")
    cifar10.write_fake_release(str(tmp_path), 1, 1)
    assert "cifar10" not in tables.not_run_notes(str(tmp_path))


def test_sample_figure_writes_a_png(tmp_path, skip_checksums):
    from reproduce.table1 import figures, image_cells
    cifar10.write_fake_release(str(tmp_path / "data"), 2, 20)
    rng = np.random.RandomState(0)
    path = image_cells.samples_path(str(tmp_path), "smoke",
                                    image_cells.distill_cell("cifar10", "gas", 0))
    os.makedirs(os.path.dirname(path))
    np.savez(path, images=rng.randint(0, 255, (16, 32, 32, 3)).astype(np.uint8),
             teacher_class=np.arange(16) % 10, teacher_confidence=np.ones(16),
             generator=np.arange(16) // 2)
    out = figures.plot_samples("cifar10", str(tmp_path), "smoke", str(tmp_path / "data"))
    assert out.endswith("samples_cifar10.png") and os.path.getsize(out) > 5000


def test_smoke_cli_on_generated_cifar(tmp_path):
    """train_teacher + distill (DAFL) through the real CLI on a generated release."""
    cifar10.write_fake_release(str(tmp_path / "data"), 20, 20)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONHASHSEED="0")
    env[cifar10.SKIP_ENV] = "1"
    common = ["--task", "cifar10", "--profile", "smoke", "--data_dir", str(tmp_path / "data"),
              "--results_dir", str(tmp_path / "results"), "--threads", "2"]
    for args in (["train_teacher"], ["distill", "--method", "dafl"]):
        result = subprocess.run([sys.executable, "-m", "reproduce"] + args + common, cwd=REPO,
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        assert result.returncode == 0, result.stdout.decode()[-3000:]
    cells_dir = tmp_path / "results" / "smoke" / "cells" / "cifar10"
    teacher = json.loads((cells_dir / "teacher.json").read_text())
    assert teacher["config"]["optimizer"] == "momentum"
    assert teacher["data_checksums"].startswith("SKIPPED")
    record = json.loads((cells_dir / "dafl" / "seed0.json").read_text())
    assert record["student_steps"] == 11 and record["generator_steps"] == 10
    with np.load(str(cells_dir / "dafl" / "seed0.samples.npz")) as samples:
        assert samples["images"].shape == (256, 32, 32, 3)
        assert samples["images"].dtype == np.uint8
    meta = json.loads((tmp_path / "results" / "smoke" / "teachers" /
                       "cifar10.npz.json").read_text())
    assert meta["architecture"] == "ResNet-34"
    # A LeNet teacher checkpoint is refused for CIFAR-10 with a clear message.
    lenet = tmp_path / "lenet.npz"
    lenet.write_bytes(b"x")
    (tmp_path / "lenet.npz.json").write_text(json.dumps({"architecture": "LeNet-5"}))
    result = subprocess.run([sys.executable, "-m", "reproduce", "distill", "--method", "gas",
                             "--teacher_checkpoint", str(lenet)] + common, cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert result.returncode == 2 and b"needs a ResNet-34 teacher" in result.stdout

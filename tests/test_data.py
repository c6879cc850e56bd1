"""IDX loader on the real shared data and on small files the tests write."""
import gzip
import os
import struct

import numpy as np
import pytest

from building_blocks.image import data, image_tasks

SHARED = data.resolve_data_dir()  # --data_dir default: $GAS_DATA_DIR, else ../shared/data
# Skipped only outside CI (e.g. the Docker build); under CI=true missing data fails the tests.
needs_shared = pytest.mark.skipif(
    not os.path.isdir(os.path.join(SHARED, "mnist")) and not os.environ.get("CI"),
    reason="../shared/data not present")


def idx_bytes(array):
    header = struct.pack(">BBBB", 0, 0, 8, array.ndim) + struct.pack(">" + "I" * array.ndim,
                                                                      *array.shape)
    return header + array.astype(np.uint8).tobytes()


@needs_shared
@pytest.mark.parametrize("task,mean", [("mnist", 0.1307), ("fashion_mnist", 0.2860)])
def test_real_shared_data_loads_with_checksums(task, mean):
    dataset = image_tasks.load_image_task(task)
    assert dataset.train.images.shape == (60000, 28, 28)
    assert dataset.test.images.shape == (10000, 28, 28)
    assert set(np.unique(dataset.train.labels)) == set(range(10))
    # The content is the dataset the folder names (checked by content, not by the folder's README).
    assert abs(dataset.train.images.mean() / 255.0 - mean) < 1e-3
    x = data.to_network_input(dataset.test.images[:4], dataset.mean, dataset.std)
    assert x.shape == (4, 32, 32, 1) and x.dtype == np.float32
    np.testing.assert_allclose(x[:, :2], -dataset.mean / dataset.std, rtol=1e-6)  # zero padding


def test_raw_and_gz_idx_round_trip(tmp_path):
    array = np.arange(2 * 3 * 4).reshape(2, 3, 4)
    (tmp_path / "raw").write_bytes(idx_bytes(array))
    with gzip.open(str(tmp_path / "zipped.gz"), "wb") as f:
        f.write(idx_bytes(array))
    np.testing.assert_array_equal(data.load_idx(str(tmp_path / "raw")), array)
    np.testing.assert_array_equal(data.load_idx(str(tmp_path / "zipped")), array)


def test_wrong_checksum_names_the_file(tmp_path):
    (tmp_path / "f").write_bytes(idx_bytes(np.zeros((2, 2), np.uint8)))
    with pytest.raises(data.DataError, match=r"checksum mismatch for .*f"):
        data.load_idx(str(tmp_path / "f"), sha256="0" * 64)


def test_truncated_and_corrupt_files_are_rejected(tmp_path):
    full = idx_bytes(np.zeros((4, 5, 5), np.uint8))
    (tmp_path / "short").write_bytes(full[:-3])
    with pytest.raises(data.DataError, match="truncated"):
        data.load_idx(str(tmp_path / "short"))
    (tmp_path / "junk.gz").write_bytes(b"this is not gzip at all")
    with pytest.raises(data.DataError, match=r"junk.gz is corrupt"):
        data.load_idx(str(tmp_path / "junk"))
    (tmp_path / "magic").write_bytes(b"\x01\x02\x03\x04")
    with pytest.raises(data.DataError, match="magic"):
        data.load_idx(str(tmp_path / "magic"))


def test_missing_dataset_names_file_and_fix(tmp_path):
    with pytest.raises(data.DataError) as error:
        image_tasks.load_image_task("mnist", str(tmp_path))
    message = str(error.value)
    assert os.path.join(str(tmp_path), "mnist") in message
    assert "--data_dir" in message and "GAS_DATA_DIR" in message


def test_data_dir_resolution(monkeypatch, tmp_path):
    monkeypatch.setenv("GAS_DATA_DIR", str(tmp_path))
    assert data.resolve_data_dir() == str(tmp_path)
    assert data.resolve_data_dir("/x/y") == "/x/y"
    monkeypatch.delenv("GAS_DATA_DIR")
    assert data.resolve_data_dir() == data.DEFAULT_DATA_DIR


@needs_shared
def test_corrupted_copy_of_real_file_fails_checksum(tmp_path):
    folder = tmp_path / "mnist"
    folder.mkdir()
    for name in data.IMAGE_TASKS["mnist"].files:
        raw = gzip.open(os.path.join(SHARED, "mnist", name + ".gz")).read()
        if name == "t10k-labels-idx1-ubyte":
            raw = raw[:-1] + bytes([(raw[-1] + 1) % 256])  # one flipped label
        (folder / name).write_bytes(raw)
    with pytest.raises(data.DataError, match="t10k-labels-idx1-ubyte"):
        image_tasks.load_image_task("mnist", str(tmp_path))

"""The environment scripts' choices (issue 16), run in bash without building anything:
which TF 2.x build a visible GPU selects, how a build's few differing pins replace a lock's,
and the refusal of an unknown build. The GPU overlay's CUDA pins are checked against the
installed TensorFlow's own metadata on the TF 2.x lane."""
import os
import re
import subprocess

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.tf2

LIB = os.path.join(REPO, "scripts", "env_lib.sh")


def bash(script, path=None, env=None):
    environ = dict(os.environ, **(env or {}))
    if path is not None:
        environ["PATH"] = path
    return subprocess.run(["/bin/bash", "-c", "_GAS_TAG=test; . %s; %s" % (LIB, script)],
                          env=environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True)


def fake_nvidia_smi(folder, output, status=0):
    folder.mkdir(exist_ok=True)
    tool = folder / "nvidia-smi"
    tool.write_text("#!/bin/sh\nprintf '%%s\\n' '%s'\nexit %d\n" % (output, status))
    tool.chmod(0o755)
    return "%s:%s" % (folder, os.environ["PATH"])


@pytest.mark.parametrize("output,status,device", [
    ("GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-0)", 0, "gpu"),
    ("No devices were found", 6, "cpu"),
])
def test_auto_picks_the_gpu_build_only_when_nvidia_smi_lists_a_gpu(tmp_path, output, status,
                                                                   device):
    done = bash("_gas_tf2_device", fake_nvidia_smi(tmp_path / "bin", output, status),
                {"GAS_TF2_DEVICE": "auto"})
    assert (done.returncode, done.stdout.strip()) == (0, device), done.stderr


def test_no_nvidia_smi_means_the_cpu_build_and_the_variable_overrides_auto(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert bash("_gas_tf2_device", str(empty), {"GAS_TF2_DEVICE": ""}).stdout.strip() == "cpu"
    gpu_box = fake_nvidia_smi(tmp_path / "bin", "GPU 0: NVIDIA A100 (UUID: GPU-1)")
    assert bash("_gas_tf2_device", gpu_box, {"GAS_TF2_DEVICE": "cpu"}).stdout.strip() == "cpu"
    refused = bash("_gas_tf2_device", gpu_box, {"GAS_TF2_DEVICE": "cuda"})
    assert refused.returncode == 1 and "GAS_TF2_DEVICE must be auto, cpu or gpu" in refused.stderr


def test_overlay_replaces_pins_by_normalised_name_drops_the_named_and_keeps_the_rest(tmp_path):
    base = tmp_path / "base.lock"
    base.write_text("# comment\nFoo_Bar==1.0\nkeep==2.0  # why\n\ntensorflow-cpu==2.17.1\n")
    overlay = tmp_path / "overlay.lock"
    overlay.write_text("# gpu\nfoo.bar==3.0\ntensorflow==2.17.1\n")
    done = bash("_gas_overlay_lock %s %s tensorflow-cpu" % (base, overlay))
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["keep==2.0", "foo.bar==3.0", "tensorflow==2.17.1"]


def test_unknown_builds_are_refused_before_anything_is_touched():
    for script, variable, value, message in [
            ("setup_env.sh", "GAS_TF_BUILD", "cuda12", "GAS_TF_BUILD must be cpu, stock, gpu, ngc"),
            ("setup_env_tf2.sh", "GAS_TF2_DEVICE", "tpu", "GAS_TF2_DEVICE must be auto, cpu or gpu")]:
        done = subprocess.run([os.path.join(REPO, script)], env=dict(os.environ, **{variable: value}),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
        assert done.returncode == 1 and message in done.stderr, (script, done.stderr)


def test_gpu_overlay_pins_what_the_installed_tensorflow_declares_for_and_cuda():
    """The CUDA wheels of requirements-tf2-gpu.lock are exactly the `and-cuda` extra of the
    TensorFlow in this venv (tensorflow-cpu declares the same extra as tensorflow)."""
    metadata = pytest.importorskip("importlib.metadata")
    try:
        requires = metadata.requires("tensorflow-cpu") or []
    except metadata.PackageNotFoundError:
        pytest.skip("tensorflow-cpu is not installed here (the TF 1.15 lane)")
    declared = {}
    for requirement in requires:
        match = re.match(r"^(nvidia-[\w-]+)\s*==\s*([\w.]+)\s*;\s*extra\s*==\s*['\"]and-cuda['\"]",
                         requirement)
        if match:
            declared[match.group(1)] = match.group(2)
    from tests.test_docker_and_lock import pins
    overlay = pins("requirements-tf2-gpu.lock")
    overlay.pop("tensorflow")
    assert declared and overlay == declared


def test_stamp_input_ignores_comments_but_not_pins(tmp_path):
    """A venv is rebuilt when its lock's pins change, not when the text explaining them does."""
    plain, explained, bumped = (tmp_path / name for name in ("a.lock", "b.lock", "c.lock"))
    plain.write_text("numpy==1.18.5\nray==2.7.2\n")
    explained.write_text("# why numpy\nnumpy==1.18.5   # TF 1.15 needs < 1.19\n\nray==2.7.2\n")
    bumped.write_text("numpy==1.18.4\nray==2.7.2\n")
    stamp = {path: bash("_gas_pins %s | _gas_sha256" % path).stdout
             for path in (plain, explained, bumped)}
    assert stamp[plain] == stamp[explained] != stamp[bumped]
    assert len(stamp[plain].strip()) == 64

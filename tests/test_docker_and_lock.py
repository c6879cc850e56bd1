"""The Dockerfile and the lock files agree (no Docker engine here to build the image)."""
import os
import re

from tests.conftest import REPO


def read(name):
    with open(os.path.join(REPO, name)) as f:
        return f.read()


def pins(name):
    result = {}
    for line in read(name).splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        match = re.match(r"^([A-Za-z0-9_.\-\[\]]+)==([A-Za-z0-9_.+\-]+)$", line)
        assert match, "%s: %r is not an exact pin" % (name, line)
        result[match.group(1).lower().replace("_", "-")] = match.group(2)
    return result


def test_lock_pins_the_tf115_stack_exactly():
    lock = pins("requirements.lock")
    assert lock["protobuf"] == "3.20.3"
    major, minor = [int(x) for x in lock["numpy"].split(".")[:2]]
    assert (major, minor) < (1, 19)
    assert lock["gym"].startswith("0.15.") and lock["atari-py"] == "0.2.6"
    assert not {"tensorflow", "tensorflow-gpu", "intel-tensorflow"} & set(lock)


def test_setup_script_tf_pins():
    script = read("setup_env.sh")
    assert re.search(r'^GPU_TF_PIN="tensorflow-gpu==1\.15\.5"', script, re.M)
    assert re.search(r'^STOCK_TF_PIN="tensorflow==1\.15\.5"', script, re.M)
    assert re.search(r'^CPU_TF_PIN="(intel-)?tensorflow==1\.15\.\d+"', script, re.M)
    assert "requirements.lock" in script


def stage(dockerfile, name):
    """The lines of the Dockerfile's stage ``name`` (from its FROM to the next FROM)."""
    match = re.search(r"^FROM \S+ AS %s\n(.*?)(?=^FROM )" % re.escape(name), dockerfile, re.M | re.S)
    assert match, "no stage %s" % name
    return match.group(0)


def test_dockerfile_uses_the_lock_and_the_cuda10_wheel():
    dockerfile = read("Dockerfile")
    assert re.search(r"^FROM nvidia/cuda:10\.0-cudnn7-\S+-ubuntu18\.04 AS base-cuda10$", dockerfile, re.M)
    cuda10 = stage(dockerfile, "base-cuda10")
    assert "GAS_TF_BUILD=gpu" in cuda10 and "GAS_PYTHON=/usr/bin/python3.7" in cuda10
    assert re.search(r"^COPY setup_env\.sh requirements\.lock", dockerfile, re.M)
    assert "python3.7" in dockerfile and "RUN ./setup_env.sh" in dockerfile
    assert "RUN ./run_tests.sh" in dockerfile  # the unit tests run at build time
    assert re.search(r'^CMD \["\./run_all\.sh"\]', dockerfile, re.M)
    assert "mjpro150" in dockerfile and "requirements-docker-mujoco.lock" in dockerfile


def test_dockerfile_builds_the_cuda10_image_by_default_and_the_ngc_image_on_request():
    """Issue 16: one Dockerfile, two TF 1.15 bases: CUDA 10.0 (up to Turing) by default, NVIDIA's
    TF1 container (Ampere, Ada, Hopper) with --build-arg TF_IMAGE=ngc; the rest is shared."""
    dockerfile = read("Dockerfile")
    assert re.search(r"^ARG TF_IMAGE=cuda10$", dockerfile, re.M)
    assert re.search(r"^FROM base-\$\{TF_IMAGE\}$", dockerfile, re.M)
    ngc = stage(dockerfile, "base-ngc")
    assert re.match(r"FROM nvcr\.io/nvidia/tensorflow:\d\d\.\d\d-tf1-py3 AS base-ngc", ngc)
    assert "GAS_TF_BUILD=ngc" in ngc and "GAS_PYTHON=/usr/bin/python3.8" in ngc
    assert "cmake" in ngc and "zlib1g-dev" in ngc  # atari-py 0.2.6 builds from its sdist on 3.8
    shared = dockerfile[dockerfile.index("FROM base-${TF_IMAGE}"):]
    copy = re.search(r"^COPY setup_env\.sh (.*) \./$", shared, re.M).group(1).split()
    assert "requirements-ngc.lock" in copy and "requirements.lock" in copy
    assert shared.index("COPY setup_env.sh") < shared.index("RUN ./setup_env.sh")
    assert "GAS_TF_BUILD=" not in shared  # each base names its own build
    script = read("setup_env.sh")
    assert re.search(r"^\s+ngc\)", script, re.M) and "--system-site-packages" in script


def test_ngc_lock_only_replaces_pins_of_the_lock_that_nvidias_tf_build_requires():
    lock, ngc = pins("requirements.lock"), pins("requirements-ngc.lock")
    assert ngc == {"gast": "0.3.3", "astunparse": "1.6.3"}
    for name, version in ngc.items():
        assert lock.get(name) != version, "%s: already the lock's pin" % name


def test_docker_mujoco_additions_do_not_contradict_the_lock():
    lock, extra = pins("requirements.lock"), pins("requirements-docker-mujoco.lock")
    assert extra["mujoco-py"].startswith("1.50.")  # gym 0.15.7: mujoco-py>=1.50,<2.0
    for name in set(lock) & set(extra):
        assert lock[name] == extra[name], name


def test_tf2_lock_is_exact():
    tf2 = pins("requirements-tf2.lock")
    assert tf2["tensorflow-cpu"].startswith("2.")


def test_tf2_gpu_lock_is_the_gpu_build_of_the_same_tensorflow():
    tf2, gpu = pins("requirements-tf2.lock"), pins("requirements-tf2-gpu.lock")
    assert gpu["tensorflow"] == tf2["tensorflow-cpu"]
    cuda = {name for name in gpu if name != "tensorflow"}
    assert cuda and all(name.startswith("nvidia-") and name.endswith("-cu12") for name in cuda)
    assert not cuda & set(tf2)


def test_docker_image_fetches_mnist_before_declaring_the_data_volume():
    with open(os.path.join(REPO, "Dockerfile")) as f:
        dockerfile = f.read()
    fetch = dockerfile.index("reproduce fetch_data --tasks mnist,fashion_mnist --data_dir /data")
    assert "GAS_DATA_DIR=/data" in dockerfile[:fetch]
    assert fetch < dockerfile.index('VOLUME ["/data"]') < dockerfile.index("RUN ./run_tests.sh")


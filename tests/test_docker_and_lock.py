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


def test_dockerfile_uses_the_lock_and_the_cuda10_wheel():
    dockerfile = read("Dockerfile")
    assert re.search(r"^FROM nvidia/cuda:10\.0-cudnn7-\S+-ubuntu18\.04", dockerfile, re.M)
    assert re.search(r"GAS_TF_BUILD=gpu", dockerfile)
    assert re.search(r"^COPY setup_env\.sh requirements\.lock", dockerfile, re.M)
    assert "python3.7" in dockerfile and "RUN ./setup_env.sh" in dockerfile
    assert "RUN ./run_tests.sh" in dockerfile  # the unit tests run at build time
    assert re.search(r'^CMD \["\./run_all\.sh"\]', dockerfile, re.M)
    assert "mjpro150" in dockerfile and "requirements-docker-mujoco.lock" in dockerfile


def test_docker_mujoco_additions_do_not_contradict_the_lock():
    lock, extra = pins("requirements.lock"), pins("requirements-docker-mujoco.lock")
    assert extra["mujoco-py"].startswith("1.50.")  # gym 0.15.7: mujoco-py>=1.50,<2.0
    for name in set(lock) & set(extra):
        assert lock[name] == extra[name], name


def test_tf2_lock_is_exact():
    tf2 = pins("requirements-tf2.lock")
    assert tf2["tensorflow-cpu"].startswith("2.")


def test_docker_image_fetches_mnist_before_declaring_the_data_volume():
    with open(os.path.join(REPO, "Dockerfile")) as f:
        dockerfile = f.read()
    fetch = dockerfile.index("reproduce fetch_data --tasks mnist,fashion_mnist --data_dir /data")
    assert "GAS_DATA_DIR=/data" in dockerfile[:fetch]
    assert fetch < dockerfile.index('VOLUME ["/data"]') < dockerfile.index("RUN ./run_tests.sh")


import json
import os
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from building_blocks.common.tf_compat import make_session, tf  # noqa: E402


@pytest.fixture
def graph():
    g = tf.Graph()
    with g.as_default():
        tf.set_random_seed(0)
        yield g


@pytest.fixture
def session_of():
    sessions = []

    def make(graph):
        sess = make_session(graph, threads=1)
        sessions.append(sess)
        return sess
    yield make
    for sess in sessions:
        sess.close()


def pytest_ignore_collect(collection_path, config):
    """TF 2.x lane (./run_tests.sh, GAS_EXPECT_TF_MAJOR=2, ``-m tf2``): collect only the modules
    that hold tf2-marked tests. The others import the TF 1.15 stack's packages (gym, mujoco,
    ray), which .venv-tf2 does not install, and none of their tests would run there anyway."""
    del config
    if (os.environ.get("GAS_EXPECT_TF_MAJOR") != "2" or collection_path.suffix != ".py"
            or not collection_path.name.startswith("test_")):
        return None
    return "pytest.mark.tf2" not in collection_path.read_text(encoding="utf-8")


def kill_after_checkpoint_and_rerun(args, env, state, result_file, poll_s=0.05,
                                    timeout_s=240):
    """Runs the cell command ``args``, SIGKILLs it once its mid-cell checkpoint ``state``
    exists, asserts the checkpoint was written and ``result_file`` was not, then reruns the
    same command and asserts that it resumed, finished and cleaned up; returns the record."""
    import signal
    import subprocess
    import time
    process = subprocess.Popen(args, cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.time() + timeout_s
    while not os.path.exists(state) and process.poll() is None and time.time() < deadline:
        time.sleep(poll_s)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert os.path.exists(state), "no partial checkpoint was written before the kill"
    assert not os.path.exists(result_file), "the cell finished before it was killed"
    completed = subprocess.run(args, cwd=REPO, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT)
    assert completed.returncode == 0, completed.stdout.decode()[-2000:]
    assert b"resuming from the partial checkpoint" in completed.stdout
    assert not os.path.exists(os.path.dirname(state)), "partial checkpoint not cleaned up"
    with open(result_file) as f:
        return json.load(f)

import os
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from building_blocks.tf_compat import make_session, tf  # noqa: E402


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

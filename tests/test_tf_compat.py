"""building_blocks.common.tf_compat gives the same graph-mode TF1 API on TF 1.15 and TF 2.x."""
import os

import numpy as np
import pytest
import tensorflow

from building_blocks.common import tf_compat
from building_blocks.common.tf_compat import build_info, tf

# Runs in both lanes of ./run_tests.sh (TF 1.15 in .venv, TF 2.x in .venv-tf2).
pytestmark = pytest.mark.tf2


def test_tf_is_graph_mode_compat_v1():
    assert tf is tensorflow.compat.v1
    assert not tf.executing_eagerly()
    assert callable(tf.placeholder) and callable(tf.Session)
    # TF1 variable semantics on both versions (disable_v2_behavior on TF 2.x).
    assert not tf.resource_variables_enabled()


def test_placeholder_feeds_through_a_session(graph, session_of):
    x = tf.placeholder(tf.float32, [None, 2])
    v = tf.get_variable("v", [2], initializer=tf.ones_initializer())
    y = tf.reduce_sum(x * v, axis=1)
    sess = session_of(graph)
    sess.run(tf.global_variables_initializer())
    np.testing.assert_allclose(sess.run(y, {x: [[1.0, 2.0], [3.0, -4.0]]}), [3.0, -1.0])


def test_build_info_reports_the_tf_version():
    info = build_info()
    assert isinstance(info, dict)
    assert info["tensorflow"] == tf_compat.TF_VERSION == tensorflow.__version__
    assert "onednn" in info and "cuda_build" in info


def test_lane_runs_the_tensorflow_it_claims():
    """./run_tests.sh sets GAS_EXPECT_TF_MAJOR per lane, so a mix-up of venvs fails here."""
    expected = os.environ.get("GAS_EXPECT_TF_MAJOR")
    if not expected:
        pytest.skip("GAS_EXPECT_TF_MAJOR not set (not run through ./run_tests.sh)")
    assert tensorflow.__version__.split(".")[0] == expected, tensorflow.__version__

"""Everything that differs between TensorFlow 1.15 and TensorFlow 2.x lives here.

The rest of the code imports ``tf`` from this module and uses only the TF1 graph API
(``tensorflow.compat.v1``), so the same code runs on TF 1.15 (the paper's stack) and on
TF 2.x's ``compat.v1`` (for GPUs that CUDA 10 cannot drive).
"""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as _tf  # noqa: E402

tf = _tf.compat.v1
# Before disable_v2_behavior(): on TF 2.x it logs a deprecation WARNING (for
# disable_resource_variables) on every import otherwise.
tf.logging.set_verbosity(tf.logging.ERROR)
if hasattr(tf, "disable_v2_behavior") and _tf.__version__.startswith("2"):
    tf.disable_v2_behavior()

TF_VERSION = _tf.__version__


def make_session(graph, threads=0):
    """A session on ``graph``; ``threads`` > 0 fixes intra-op parallelism (0: TF default)."""
    config = tf.ConfigProto(
        intra_op_parallelism_threads=threads,
        inter_op_parallelism_threads=1 if threads else 0,
        allow_soft_placement=True)
    config.gpu_options.allow_growth = True
    return tf.Session(graph=graph, config=config)


def build_info():
    """Facts about the TF build for manifests: version, oneDNN, CUDA."""
    info = {"tensorflow": TF_VERSION, "onednn": None}
    try:
        from tensorflow.python.framework import test_util  # pylint: disable=g-import-not-at-top
        info["onednn"] = bool(test_util.IsMklEnabled())
    except Exception:  # pragma: no cover - varies by build
        pass
    try:
        info["cuda_build"] = bool(_tf.test.is_built_with_cuda())
    except Exception:  # pragma: no cover
        info["cuda_build"] = None
    return info


def gpu_visible():
    """True when TensorFlow can place ops on a GPU in this process."""
    from tensorflow.python.client import device_lib  # pylint: disable=g-import-not-at-top
    return any(d.device_type == "GPU" for d in device_lib.list_local_devices())

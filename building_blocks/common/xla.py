"""XLA JIT compilation of a network's ops (issue 14): the ops built inside ``jit_scope``
(forward and, through ``tf.gradients``, backward) are compiled by XLA into fused kernels
instead of running op by op through oneDNN. Graph mode and one ``session.run`` per step are
unchanged; the numbers move by float rounding only (XLA fuses and reorders elementwise work),
so a table is tied to the setting it ran with (each cell's saved config, ``xla_generators``).

Only the image generators are offered: compiled LeNet-5 teachers and students were not
deterministic run to run on the 2-core CPU (two 20-step runs of the same seed differed),
which the project does not allow; compiled generators were.
"""
import contextlib

from building_blocks.common.tf_compat import tf


@contextlib.contextmanager
def jit_scope(enabled):
    """Marks the ops built inside for XLA compilation when ``enabled``; a no-op otherwise.
    Gradients of the marked ops are compiled with them (one cluster per network call)."""
    if not enabled:
        yield
        return
    with tf.xla.experimental.jit_scope(compile_ops=True, separate_compiled_gradients=False):
        yield

"""Op seeds keyed by stable names.

TF1 gives a random op without an explicit seed the op seed ``graph._last_id``: its position in
graph construction, so adding any op before it changes its stream (and every number after).
Every random op of this project takes ``op_seed(name)`` instead, a stable hash of a name that
says what the op draws (``generator_3/conv1/w``, ``generator_step/latent``); with the cell seed
as the graph-level seed (``tf.set_random_seed``), TF's pair (cell seed, op seed) then depends
only on the cell seed and the name.
"""
import zlib

from building_blocks.common.tf_compat import tf

_MAX = 2 ** 31 - 1


def op_seed(name):
    """A stable op seed in [1, 2^31 − 1] for ``name`` (CRC-32: independent of PYTHONHASHSEED,
    of the process and of graph construction order)."""
    return zlib.crc32(name.encode("utf-8")) % _MAX + 1


def variable_seed(name):
    """``op_seed`` of variable ``name`` under the current variable scope (its full name)."""
    scope = tf.get_variable_scope().name
    return op_seed(scope + "/" + name if scope else name)


def scoped_seed(name):
    """``op_seed`` of ``name`` under the current name scope (e.g. 'generator_step/latent')."""
    scope = tf.get_default_graph().get_name_scope()
    return op_seed(scope + "/" + name if scope else name)


def draw_noise(shape, distribution, name):
    """U(−1, 1) (``distribution="uniform"``) or N(0, 1) (``"normal"``) noise of ``shape``,
    drawn in the graph with the op seed of ``name`` in the current name scope."""
    seed = scoped_seed(name)
    if distribution == "uniform":
        return tf.random_uniform(shape, -1.0, 1.0, seed=seed, name=name)
    if distribution == "normal":
        return tf.random_normal(shape, seed=seed, name=name)
    raise ValueError("unknown noise distribution %r (expected 'uniform' or 'normal')"
                     % distribution)

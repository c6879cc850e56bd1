"""Where a training step's time goes (issue 14): TF's per-node timings (``RunMetadata`` with a
full trace), summed over a few steps into op families, as milliseconds per step and shares.

The session runs ops one at a time (inter-op parallelism 1, ``make_session``), so the node
times add up to the step's wall time less the framework's overhead between ops.
"""
import collections

from building_blocks.common.tf_compat import tf

# (family, test on (op type, node name)), first match wins. oneDNN builds rename ops
# (_MklFusedConv2D, _MklConv2DBackpropFilter, ...), so types are matched by substring.
FAMILIES = (
    ("conv backprop filter", lambda t, n: "Conv2DBackpropFilter" in t),
    ("conv backprop input", lambda t, n: "Conv2DBackpropInput" in t),
    ("conv forward (+bias)", lambda t, n: "Conv2D" in t or t in ("BiasAdd", "_MklFusedConv2D")),
    ("batch norm (fused or moments, grads)",
     lambda t, n: "moments" in n or "batchnorm" in n or "FusedBatchNorm" in t),
    ("upsample ×2 (+grad)", lambda t, n: "ResizeNearestNeighbor" in t),
    ("oneDNN layout conversion", lambda t, n: t in ("_MklToTf", "_MklInputConversion")
     or n.startswith(("Mkl2Tf", "MklInputConversion"))),
    ("matmul (fc layers)", lambda t, n: "MatMul" in t),
    ("optimizer (Adam)", lambda t, n: "Adam" in t),
    ("XLA cluster", lambda t, n: t in ("_XlaRun", "_XlaCompile", "XlaLaunch")),
)
OTHER = "other (activations, pooling, losses)"


def family_of(op_type, node_name):
    for family, test in FAMILIES:
        if test(op_type, node_name):
            return family
    return OTHER


def profile_step(sess, fetch, steps=3, warmup=2):
    """{family: ms per step} over ``steps`` traced runs of ``fetch`` (after ``warmup``)."""
    for _ in range(warmup):
        sess.run(fetch)
    totals = collections.Counter()
    for _ in range(steps):
        metadata = tf.RunMetadata()
        sess.run(fetch, options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE),
                 run_metadata=metadata)
        # oneDNN builds report each kernel twice (under two device names): count the first.
        for node in metadata.step_stats.dev_stats[0].node_stats:
            name = node.node_name.split(":")[0]
            try:
                op_type = sess.graph.get_operation_by_name(name).type
            except KeyError:  # nodes the runtime adds (layout conversions, _SOURCE)
                op_type = node.node_name.split(":")[-1]
            totals[family_of(op_type, name)] += node.all_end_rel_micros / 1e3 / steps
    return dict(totals)


def format_profile(label, wall_ms, families):
    """Lines of a profile table: label, then family / ms / share, largest first."""
    total = sum(families.values()) or 1.0
    lines = ["PROFILE %s: %.1f ms per step, %.1f ms in ops" % (label, wall_ms, total)]
    for family, ms in sorted(families.items(), key=lambda kv: -kv[1]):
        lines.append("PROFILE   %-40s %8.1f ms %5.1f%%" % (family, ms, 100.0 * ms / total))
    return lines

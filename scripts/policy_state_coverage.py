"""Where a data-free policy student learns, against where it acts (issue 18 diagnosis).

Trains one quick Table 6 cell's distiller (GAS or DAFL, ``--set`` overrides allowed), then
compares, in the teacher's normalised observation space, the generators' samples with the
states of the teacher's own rollouts: mean |x|, the fraction of coordinates at the
normaliser's clip (±5), and the student's KL(teacher ‖ student) on each. Prints one JSON.

    python scripts/policy_state_coverage.py --env halfcheetah --method gas --seed 0
"""
import argparse
import json
import sys
import os

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from building_blocks.common import checkpoint  # noqa: E402
from building_blocks.common.config import apply_overrides  # noqa: E402
from building_blocks.common.tf_compat import make_session, tf  # noqa: E402
from building_blocks.distill import action_distributions  # noqa: E402
from building_blocks.distill.loop import new_loop_state, train_rounds  # noqa: E402
from building_blocks.rl import envs, policies, policy_runner  # noqa: E402
from reproduce.core import methods  # noqa: E402
from reproduce.rl import distill_configs  # noqa: E402
from quiet_loop import Quiet  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--env", default="halfcheetah")
    parser.add_argument("--method", default="gas")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--teacher", default="results/quick/teachers/rl/halfcheetah.npz")
    parser.add_argument("--set", action="append", default=[])
    parser.add_argument("--real_transitions", type=int, default=8000)
    args = parser.parse_args()
    config = apply_overrides(distill_configs.policy_distill_config(
        args.method, args.env, "quick", args.seed), args.set + ["eval_every=0"])
    spec = envs.env_spec(args.env)
    family = action_distributions.family_for(spec.action_kind)
    g = policy_runner.build_policy_graph(config, methods.distiller_class(args.method, "policy"),
                                         spec, policies.make_policy, {}, None, None, 1e9)
    graph = g.graph
    graph._unsafe_unfinalize()  # pylint: disable=protected-access
    with graph.as_default():
        raw = tf.placeholder(tf.float32, (None, spec.obs_shape[0]))
        normalised = g.teacher.normalize(raw)
        x = tf.placeholder(tf.float32, (None, spec.obs_shape[0]))
        kl = family.kl(g.teacher(x, training=False), g.student(x, training=False))
        generated = tf.concat(g.distiller.bank.sample(512), 0)
    with make_session(graph, 1) as sess:
        sess.run(g.init)
        checkpoint.load_network(sess, g.teacher, args.teacher)
        sess.run(g.copy_normaliser)
        state = new_loop_state(config)
        train_rounds(sess, config, g.distiller, state, lambda: {}, Quiet(), Quiet(), Quiet(),
                     0.0)
        real_raw, _ = policy_runner.collect_rollouts(sess, g.teacher_actor, args.env,
                                                     args.real_transitions, 8, 1000 + args.seed)
        real = sess.run(normalised, {raw: real_raw})
        fake = sess.run(generated)
        out = {"env": args.env, "method": args.method, "seed": args.seed, "overrides": args.set,
               "student_steps": state["step"]}
        for name, states in (("real", real), ("generated", fake)):
            out[name] = {
                "mean_abs": float(np.mean(np.abs(states))),
                "fraction_at_clip": float(np.mean(np.abs(states) >= 4.999)),
                "student_kl_mean": float(np.mean(sess.run(kl, {x: states}))),
                "student_kl_median": float(np.median(sess.run(kl, {x: states})))}
    print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    main()

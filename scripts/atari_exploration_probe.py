"""Does an ALE teacher in training ever see a reward, and could it (issue 19, Enduro diagnosis)?

Reads a teacher's resume file (``train_teacher`` writes it after each checkpoint) and prints one
JSON object:

- ``resume``: updates, transitions, and the reward normaliser's count / mean / var (var exactly
  0 means every training reward so far was 0);
- ``scripted``: one training env (life-loss episodes, clipped rewards, as the actors play) per
  fixed policy, ``--steps`` agent steps each: every single action held throughout, and uniform
  random actions; the summed reward and the first step with a non-zero reward;
- ``policy``: the teacher's mean action probabilities on the frames of the uniform-random and
  the hold-``--probe_action`` runs, with the summed mass of each action group of the game
  (``ACTION_GROUPS``: in Enduro FIRE accelerates and DOWN brakes);
- ``teacher_plays``: the teacher itself for ``--steps`` steps in a training env, sampling and
  argmax.

    python scripts/atari_exploration_probe.py --env enduro --steps 3000
"""
import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from building_blocks.common.tf_compat import make_session, tf  # noqa: E402
from building_blocks.rl import envs, policies  # noqa: E402

# Enduro's minimal action set: NOOP FIRE RIGHT LEFT DOWN DOWNRIGHT DOWNLEFT RIGHTFIRE LEFTFIRE.
ACTION_GROUPS = {"enduro": {"accelerate": [1, 7, 8], "brake": [4, 5, 6], "coast": [0, 2, 3]}}


def play(env, act, steps):
    """Summed reward, first rewarded step, episodes ended, and the frames seen."""
    obs, total, first, ended, frames = env.reset(), 0.0, None, 0, []
    for t in range(steps):
        frames.append(obs)
        obs, reward, done, _ = env.step(act(obs))
        total += reward
        if reward != 0 and first is None:
            first = t
        if done:
            ended += 1
            obs = env.reset()
    return {"reward": total, "first_reward_step": first, "episodes_ended": ended}, frames


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--env", default="enduro")
    parser.add_argument("--resume", default=None,
                        help="default: results/quick/teachers/rl/<env>.npz.resume.npz")
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=100)
    parser.add_argument("--probe_action", type=int, default=1)
    args = parser.parse_args()
    path = args.resume or "results/quick/teachers/rl/%s.npz.resume.npz" % args.env
    if not os.path.exists(path):
        sys.exit("atari_exploration_probe: no resume file %s; a finished teacher has none. "
                 "Write one from git (results/variants/enduro_exploration/README.md says how) "
                 "and pass it with --resume." % path)
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files}
    saved = json.loads(str(arrays.pop("state_json")))
    normaliser = saved.get("normalizer") or {}
    out = {"env": args.env, "resume": {
        "path": path, "updates": saved["version"], "transitions": saved["transitions"],
        "reward_normaliser": {k: normaliser.get(k) for k in ("count", "mean", "var")}},
        "steps": args.steps, "seed": args.seed}

    spec = envs.env_spec(args.env)
    options = envs.training_options(args.env)
    graph = tf.Graph()
    with graph.as_default():
        policy = policies.make_policy(args.env, "teacher", spec=spec)
        raw = tf.placeholder(spec.obs_dtype, (None,) + tuple(spec.obs_shape))
        probs = tf.nn.softmax(policy(policy.normalize(raw)).logits)
    with make_session(graph, 1) as sess:
        for variable in policy.variables:
            variable.load(arrays["var/" + variable.op.name], sess)

        def teacher(deterministic, rng):
            def act(obs):
                p = sess.run(probs, {raw: obs[None]})[0].astype(np.float64)
                if deterministic:
                    return int(np.argmax(p))
                return int(rng.choice(len(p), p=p / p.sum()))
            return act

        rng = np.random.RandomState(args.seed)
        runs = [("random", lambda obs: rng.randint(spec.action_dim))]
        runs += [("hold_%d" % a, lambda obs, a=a: a) for a in range(spec.action_dim)]
        out["scripted"], frames = {}, {}
        for name, act in runs:
            env = envs.make_env(args.env, args.seed, **options)
            out["scripted"][name], frames[name] = play(env, act, args.steps)
            env.close()
        out["policy"] = {}
        groups = ACTION_GROUPS.get(args.env, {})
        for name in ("random", "hold_%d" % args.probe_action):
            mean = sess.run(probs, {raw: np.array(frames[name])}).mean(0)
            out["policy"]["on_" + name] = {
                "mean_probs": [round(float(p), 4) for p in mean],
                **{g: round(float(mean[idx].sum()), 4) for g, idx in groups.items()}}
        out["teacher_plays"] = {}
        for name, deterministic in (("sample", False), ("argmax", True)):
            env = envs.make_env(args.env, args.seed, **options)
            out["teacher_plays"][name] = play(env, teacher(deterministic, rng), args.steps)[0]
            env.close()
    print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    main()

"""The runner of one policy-distillation cell: graph, session, teacher loading, the teacher's
rollouts (Student KD), Algorithm 1's loop (``loop.train_rounds``, shared with images) and
the student's evaluation in the real environment."""
import collections
import io
import os
import time

import numpy as np

from building_blocks.common import checkpoint
from building_blocks.distill import action_distributions
from building_blocks.rl import acting, envs, policies
from building_blocks.common.io_utils import atomic_write_bytes
from building_blocks.common.progress import Progress, Scalars
from building_blocks.distill.loop import PartialRun, start_loop_state, train_rounds
from building_blocks.common.tf_compat import make_session, tf


class Actor(object):
    """In-graph acting: raw observations [N, *obs_shape] → actions, with the policy's own
    normaliser. ``deterministic``: the mode (argmax / mean), else a sample."""

    def __init__(self, policy, family, spec, deterministic):
        self.raw_obs = tf.placeholder(spec.obs_dtype, (None,) + tuple(spec.obs_shape),
                                      name="raw_obs")
        out = policy(policy.normalize(self.raw_obs), training=False)
        self.action = family.mode(out) if deterministic else family.sample(out)

    def act(self, sess, obs):
        return sess.run(self.action, {self.raw_obs: obs})


def collect_rollouts(sess, actor, task, transitions, num_envs, seed):
    """Raw observations [transitions, *obs_shape] seen while ``actor`` (the teacher) acts in
    ``num_envs`` auto-resetting envs; also the returns of the episodes that ended."""
    vec = envs.make_vec_env(task, num_envs, seed)
    obs = vec.reset()
    buffer = np.zeros((transitions,) + obs.shape[1:], obs.dtype)
    returns, filled = [], 0
    while filled < transitions:
        take = min(num_envs, transitions - filled)
        buffer[filled:filled + take] = obs[:take]
        filled += take
        obs, _, _, infos = vec.step(actor.act(sess, obs))
        returns += [info["episode"]["r"] for info in infos if "episode" in info]
    vec.close()
    return buffer, returns


def evaluate(sess, actor, task, episodes, seed, max_frames=0):
    """Returns and lengths of ``episodes`` full episodes in the real env (acting.play_episodes).
    ``max_frames`` > 0: Atari games end after that many emulator frames."""
    vec = envs.make_vec_env(task, episodes, seed,
                            **({"max_frames": max_frames} if max_frames else {}))
    return acting.play_episodes(vec, lambda obs: actor.act(sess, obs), episodes)


def rollout_pipeline(holder, batch_size, seed, dtype, shape):
    """tf.data batches of rows of ``holder['obs']`` (filled after the session starts), each
    epoch in a fresh seeded permutation; a Python generator keeps the buffer out of the graph."""
    def batches():
        rng = np.random.RandomState(seed)
        data = holder["obs"]
        while True:
            order = rng.permutation(len(data))
            for start in range(0, len(data) - batch_size + 1, batch_size):
                yield data[order[start:start + batch_size]]
    dataset = tf.data.Dataset.from_generator(batches, tf.as_dtype(dtype),
                                             tf.TensorShape((batch_size,) + tuple(shape)))
    return tf.data.make_one_shot_iterator(dataset.prefetch(2)).get_next()


def copy_normaliser_op(teacher, student):
    """Assigns the teacher's observation statistics (obs_rms/*) to the student's, so both
    see the same normalised inputs (a no-op for Atari policies, which have none)."""
    teacher_vars = {teacher.relative_name(v): v for v in teacher.variables}
    assigns = [tf.assign(v, teacher_vars[student.relative_name(v)]) for v in student.variables
               if student.relative_name(v).startswith("obs_rms/")]
    return tf.group(*assigns, name="copy_obs_normaliser")


def save_samples(sess, sample_frames, teacher_actor, config, path):
    """Figure 4's frames: generated ones, and real ones from a short teacher rollout (the
    simulator is used only for this picture), both in [0, 1]."""
    generated = sess.run(sample_frames)
    real, _ = collect_rollouts(sess, teacher_actor, config.task, 400, 1, config.seed)
    real = real[np.linspace(50, len(real) - 1, len(generated)).astype(int)] / 255.0
    os.makedirs(os.path.dirname(path), exist_ok=True)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, real=real.astype(np.float32),
                        generated=generated.astype(np.float32))
    atomic_write_bytes(path, buffer.getvalue())


PolicyGraph = collections.namedtuple("PolicyGraph", [
    "graph", "teacher", "student", "teacher_actor", "student_actor", "distiller",
    "copy_normaliser", "sample_frames", "init", "partial"])


def build_policy_graph(config, distiller_cls, spec, make_policy, holder, samples_path,
                       partial_dir, checkpoint_every_s):
    """The cell's graph, built once: teacher and student policies, their actors, the distiller
    and (Figure 4, frames only) the generator-sample op. ``holder['obs']``: Student KD's
    rollout observations, fed to its input pipeline once collected."""
    family = action_distributions.family_for(spec.action_kind)
    graph = tf.Graph()
    with graph.as_default():
        tf.set_random_seed(config.seed)
        teacher = make_policy(config.task, "teacher", trainable=False)
        student = make_policy(config.task, "student", student_width=config.student_width)
        teacher_actor = Actor(teacher, family, spec, deterministic=False)
        student_actor = Actor(student, family, spec, config.eval_deterministic)
        train_inputs = None
        if config.method == "student_kd":
            raw = rollout_pipeline(holder, config.batch_size, config.seed, spec.obs_dtype,
                                   spec.obs_shape)
            train_inputs = teacher.normalize(raw)
        distiller = distiller_cls(config, teacher, student, spec.obs_shape, train_inputs, family)
        copy_normaliser = copy_normaliser_op(teacher, student)
        sample_frames = None
        if samples_path and distiller.has_generators and len(spec.obs_shape) == 3:
            # Figure 4: 8 generated frames (one per generator for GAS's 8).
            k = len(distiller.bank)
            with tf.name_scope("generator_samples"):
                sample_frames = tf.concat(distiller.bank.sample(8 if 8 % k == 0 else k), 0)
        init = tf.global_variables_initializer()
        partial = PartialRun(partial_dir, checkpoint_every_s)
    graph.finalize()
    return PolicyGraph(graph, teacher, student, teacher_actor, student_actor, distiller,
                       copy_normaliser, sample_frames, init, partial)


def _collect_student_kd_inputs(sess, g, config, holder, log):
    """Student KD: the teacher's own rollouts, observations into ``holder['obs']``."""
    t0 = time.time()
    holder["obs"], rollout_returns = collect_rollouts(
        sess, g.teacher_actor, config.task, config.rollout_transitions, config.rollout_envs,
        config.seed)
    log("collected %d teacher transitions (%d episodes ended, mean return %s) in %.0fs"
        % (len(holder["obs"]), len(rollout_returns),
           "%.2f" % np.mean(rollout_returns) if rollout_returns else "n/a", time.time() - t0))
    return dict(rollout_transitions=len(holder["obs"]), rollout_episode_returns=rollout_returns,
                rollout_s=time.time() - t0)


def distill_policy(config, distiller_cls, teacher_path, threads=0, log=print, summary_dir=None,
                   partial_dir=None, checkpoint_every_s=600.0, make_policy=None,
                   samples_path=None):
    """Distils the teacher at ``teacher_path`` into a student of ``config.task`` with
    ``distiller_cls`` (``config.method``'s policy distiller: reproduce/core/methods.py);
    returns the cell's result dict (student returns in the real env)."""
    config.validate()
    spec = envs.env_spec(config.task)
    holder = {}
    g = build_policy_graph(config, distiller_cls, spec, make_policy or policies.make_policy,
                           holder, samples_path, partial_dir, checkpoint_every_s)
    start = time.time()
    scalars = Scalars(summary_dir)
    result = {}
    with make_session(g.graph, threads) as sess:
        sess.run(g.init)
        teacher_meta = checkpoint.load_network(sess, g.teacher, teacher_path)
        sess.run(g.copy_normaliser)
        if config.method == "student_kd":
            result.update(_collect_student_kd_inputs(sess, g, config, holder, log))
        state = start_loop_state(sess, config, g.partial, log)
        eval_seed = 100 + config.seed  # env seeds (100 + s) * 10007 + i: disjoint from rollouts

        def run_eval():
            returns, lengths = evaluate(sess, g.student_actor, config.task,
                                        config.eval_episodes, eval_seed, config.eval_max_frames)
            run_eval.last = (returns, lengths)
            return {"return_mean": float(np.mean(returns))}
        progress = Progress("%s %s seed %d" % (config.method, config.task, config.seed),
                            config.student_steps, log, config.log_every_s)
        train_rounds(sess, config, g.distiller, state, run_eval, progress, scalars, g.partial,
                     start)
        progress.update(state["step"], "done", force=True)
        if g.sample_frames is not None:
            save_samples(sess, g.sample_frames, g.teacher_actor, config, samples_path)
    scalars.close()
    returns, lengths = run_eval.last
    result.update({
        "return_mean": float(np.mean(returns)), "return_std": float(np.std(returns)),
        "episodes": returns, "episode_lengths": lengths, "eval_episodes": len(returns),
        "eval_deterministic": config.eval_deterministic,
        "eval_max_frames": config.eval_max_frames or None,
        "teacher_checkpoint": teacher_path,
        "teacher_checkpoint_sha256": teacher_meta.get("sha256"),
        "teacher_metadata": teacher_meta,
        "student_architecture": policies.describe_architecture(config.task, "student",
                                                               config.student_width),
        "student_steps": state["step"], "generator_steps": state["generator_steps"],
        "reinits": state["reinits"], "history": state["history"],
        "resumed_from_step": state["resumed_from_step"],
        "wall_s": state["wall_s_before"] + time.time() - start, "eval_s": state["eval_s"],
    })
    return result

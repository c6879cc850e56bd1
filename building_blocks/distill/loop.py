"""Algorithm 1's loop, shared by image and policy distillation (``train_rounds``), its state,
and the mid-cell checkpoint a cell resumes from (``PartialRun``)."""
import json
import os
import shutil
import time

from building_blocks.common import checkpoint
from building_blocks.common.divergence import STUDENT_TERM, check_finite
from building_blocks.common.io_utils import atomic_write_json
from building_blocks.common.tf_compat import tf


class PartialRun(object):
    """Mid-cell checkpoints so a long cell resumes after an interruption.

    Every ``every_s`` seconds, at a round boundary, all variables (student, generators and
    their optimizers) are saved with a tf.train.Saver, then a JSON of the loop state that
    names that checkpoint is written atomically. Restoring gives the same weights and
    schedule position; TF's random streams and the tf.data shuffle restart, so a resumed
    cell is a valid run but not bit-identical to an uninterrupted one.
    """

    def __init__(self, directory, every_s):
        self.directory, self.every_s = directory, every_s
        self.saver = tf.train.Saver(max_to_keep=2) if directory else None
        self._last = time.time()

    @property
    def state_path(self):
        return os.path.join(self.directory, "state.json")

    def restore(self, sess):
        if not self.directory or not os.path.exists(self.state_path):
            return None
        try:
            with open(self.state_path) as f:
                state = json.load(f)
            self.saver.restore(sess, os.path.join(self.directory, state["checkpoint"]))
        except Exception as e:  # corrupt JSON or checkpoint files: many error types
            raise checkpoint.CheckpointError(
                "cannot resume from the partial checkpoint in %s (%s). Delete that folder to "
                "restart this cell from scratch." % (self.directory, str(e).splitlines()[0]))
        return state

    def maybe_save(self, sess, state, force=False):
        if not self.directory or (not force and time.time() - self._last < self.every_s):
            return
        os.makedirs(self.directory, exist_ok=True)
        prefix = self.saver.save(sess, os.path.join(self.directory, "model"),
                                 global_step=state["step"], write_meta_graph=False)
        atomic_write_json(self.state_path, dict(state, checkpoint=os.path.basename(prefix)))
        self._last = time.time()



def clear_partial(directory):
    """Removes a finished cell's mid-cell checkpoints."""
    if directory and os.path.isdir(directory):
        shutil.rmtree(directory)


def new_loop_state(config):
    """The position of Algorithm 1's loop (saved in partial checkpoints)."""
    return {"step": 0, "next_reinit": config.reinit_every, "reinits": 0,
            "generator_steps": 0, "history": [], "eval_s": 0.0, "wall_s_before": 0.0,
            "resumed_from_step": []}


def start_loop_state(sess, config, partial, log):
    """A fresh loop state, or the one of the partial checkpoint (variables restored)."""
    state = new_loop_state(config)
    restored = partial.restore(sess)
    if restored:
        state = restored
        state["resumed_from_step"].append(state["step"])
        state["wall_s_before"] = state.get("wall_s", 0.0)
        log("resuming from the partial checkpoint at student step %d" % state["step"])
    return state


def train_rounds(sess, config, distiller, state, evaluate, progress, scalars, partial, start):
    """Algorithm 1's loop, shared by image and policy distillation: rounds of N_s student
    updates, then (generator methods) re-initialise the generators every ``reinit_every``
    student updates and run N_g generator updates. A distiller with a ``joint_train_op``
    (DAFL as released) updates student and generator in each student step instead, and has
    no separate generator updates. ``evaluate()`` returns a dict of metrics, called every
    ``eval_every`` student updates and at the end; ``state`` is updated in place. A NaN or
    infinite loss term raises ``divergence.Diverged`` naming the step and the term.
    """
    joint = distiller.joint_train_op is not None
    step_fetches = {"train": distiller.student_train_op, "student_loss": distiller.student_loss}
    if joint:
        step_fetches = dict(distiller.generator_fetches, train=distiller.joint_train_op,
                            student_loss=distiller.student_loss)
    generator_fetches = dict(distiller.generator_fetches, train=distiller.generator_train_op)
    last = {}
    progress.start_from(state["step"])  # a resumed cell: ETA from this sitting's rate
    while state["step"] < config.student_steps:
        for _ in range(min(config.student_steps_per_round,
                           config.student_steps - state["step"])):
            fetched = sess.run(step_fetches)
            student_loss = fetched.pop("student_loss")
            if joint:
                last = fetched
                state["generator_steps"] += 1
            state["step"] += 1
            step = state["step"]
            check_finite(step, _loss_terms(fetched, student_loss))
            if ((config.eval_every and step % config.eval_every == 0)  # 0: at the end only
                    or step == config.student_steps):
                t0 = time.time()
                metrics = evaluate()
                state["eval_s"] += time.time() - t0
                state["history"].append(dict(
                    metrics, step=step, student_loss=float(student_loss),
                    wall_s=state["wall_s_before"] + time.time() - start))
                scalars.write(step, dict(
                    {"student/distill_loss": student_loss},
                    **dict({"student/" + k: v for k, v in metrics.items()},
                           **{"generator/" + k: v for k, v in last.items() if k != "train"})))
            progress.update(step, "student KL %.4f %s" % (student_loss, _fmt(last)))
        if distiller.has_generators and state["step"] < config.student_steps:
            if config.reinit_every and state["step"] >= state["next_reinit"]:
                sess.run(distiller.reinit_op)  # Algorithm 1: if e mod R_g = 0
                state["reinits"] += 1
                state["next_reinit"] += config.reinit_every
            for _ in range(0 if joint else config.generator_steps_per_round):
                last = sess.run(generator_fetches)
                state["generator_steps"] += 1
                check_finite(state["step"], _loss_terms(last))
        state["wall_s"] = state["wall_s_before"] + time.time() - start
        if state["step"] < config.student_steps:
            partial.maybe_save(sess, state)
    return state


def _loss_terms(fetched, student_loss=None):
    """The fetched loss scalars by the names ``Diverged`` reports (train ops left out)."""
    terms = {"generator " + k: v for k, v in fetched.items() if k != "train"}
    if student_loss is not None:
        terms[STUDENT_TERM] = student_loss
    return terms


def _fmt(fetched):
    return " ".join("%s %.4f" % (k, v) for k, v in sorted(fetched.items())
                    if k != "train" and v is not None)

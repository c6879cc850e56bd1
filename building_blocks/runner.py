"""The runner: owns the graph, session, initialisation, teacher loading, the training loop,
evaluation and progress logging for one cell. Graph-building lives in the distillers and
networks; here each training step is one ``session.run``.
"""
import json
import os
import shutil
import time

import numpy as np

from building_blocks import checkpoint
from building_blocks import data as data_lib
from building_blocks import nets
from building_blocks import resnet
from building_blocks.distiller import make_optimizer, real_data_pipeline, weight_decay_penalty
from building_blocks.divergence import STUDENT_TERM, check_finite
from building_blocks.io_utils import atomic_write_json
from building_blocks.progress import Progress, Scalars
from building_blocks.tf_compat import make_session, tf

INPUT_SHAPE = (32, 32, 1)


ARCHITECTURES = {"cifar10": ("ResNet-34", "ResNet-18")}
DIGIT_ARCHITECTURES = ("LeNet-5", "LeNet-5-Half")


def architecture_name(task, role):
    pair = ARCHITECTURES.get(task, DIGIT_ARCHITECTURES)
    return pair[0] if role == "teacher" else pair[1]


def make_classifier(role, num_classes=10, dropout=0.0, trainable=True, task=None):
    """The task's teacher or student: LeNet-5 / LeNet-5-Half on digits (B.1.1), ResNet-34 /
    ResNet-18 on CIFAR-10 (B.1.2)."""
    if task in ARCHITECTURES:
        depth = 34 if role == "teacher" else 18
        return resnet.ResNet(role, depth=depth, channels=3, num_classes=num_classes,
                             trainable=trainable)
    width = 1.0 if role == "teacher" else 0.5
    return nets.LeNet5(role, width=width, channels=INPUT_SHAPE[-1], num_classes=num_classes,
                       dropout=dropout, trainable=trainable)


class Evaluator(object):
    """Test-set accuracy of a classifier; images are fed in uint8 batches (not a hot path).
    ``test_examples`` > 0 evaluates on that prefix of the test set (CPU profiles of CIFAR-10)."""

    def __init__(self, network, dataset, test_examples=0):
        self.dataset = dataset
        self.count = min(test_examples or len(dataset.test.labels), len(dataset.test.labels))
        raw_shape = list(dataset.test.images.shape[1:])
        self.batch_size = 2000 if len(raw_shape) == 2 else 500  # ResNet activations are large
        self.images = tf.placeholder(tf.uint8, [None] + raw_shape, name="eval_images")
        inputs = data_lib.to_network_input(self.images, dataset.mean, dataset.std)
        self.predictions = tf.argmax(network(inputs, training=False).logits, axis=-1)

    def accuracy(self, sess, batch_size=None):
        split = self.dataset.test
        batch_size = batch_size or self.batch_size
        correct = 0
        for start in range(0, self.count, batch_size):
            end = min(start + batch_size, self.count)
            preds = sess.run(self.predictions, {self.images: split.images[start:end]})
            correct += int(np.sum(preds == split.labels[start:end]))
        return 100.0 * correct / self.count


def _teacher_optimizer(config, steps_per_epoch):
    """B.1.1: Adam (constant lr). CIFAR-10 (DAFL's teacher-train.py): SGD momentum 0.9 with
    the lr multiplied by ``lr_decay_factor`` at each of ``lr_boundaries_epochs``."""
    step = tf.Variable(0, trainable=False, dtype=tf.int64, name="teacher_global_step")
    learning_rate = config.learning_rate
    if config.lr_boundaries_epochs:
        epochs = [int(e) for e in config.lr_boundaries_epochs.split(",")]
        values = [config.learning_rate * config.lr_decay_factor ** i
                  for i in range(len(epochs) + 1)]
        learning_rate = tf.train.piecewise_constant(
            step, [tf.constant(e * steps_per_epoch, tf.int64) for e in epochs], values)
    return make_optimizer(config.optimizer, learning_rate), step


def train_teacher(config, dataset, out_path, threads=0, log=print, summary_dir=None):
    """Trains LeNet-5 with Adam and dropout (B.1.1), keeping the best test-accuracy weights."""
    images = dataset.train.images
    if config.train_examples:
        images = images[:config.train_examples]
        labels = dataset.train.labels[:config.train_examples]
    else:
        labels = dataset.train.labels
    steps_per_epoch = len(images) // config.batch_size
    graph = tf.Graph()
    with graph.as_default():
        tf.set_random_seed(config.seed)
        teacher = make_classifier("teacher", dataset.num_classes, dropout=config.dropout,
                                  task=config.task)
        pipeline = tf.data.Dataset.from_tensor_slices((images, labels))
        pipeline = pipeline.shuffle(len(images), seed=config.seed).repeat()
        augment = data_lib.train_augmentation(dataset)
        if augment is not None:
            pipeline = pipeline.map(lambda x, y: (augment(x), y))
        pipeline = pipeline.batch(config.batch_size, drop_remainder=True).prefetch(2)
        batch_images, batch_labels = tf.data.make_one_shot_iterator(pipeline).get_next()
        logits = teacher(data_lib.to_network_input(batch_images, dataset.mean, dataset.std),
                         training=True).logits
        batch_norm_updates = resnet.take_update_ops(teacher)
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=batch_labels, logits=logits))
        optimizer, global_step = _teacher_optimizer(config, steps_per_epoch)
        with tf.control_dependencies(batch_norm_updates):
            train_op = optimizer.minimize(
                loss + weight_decay_penalty(teacher.trainable_variables, config.weight_decay),
                var_list=teacher.trainable_variables, global_step=global_step)
        evaluator = Evaluator(teacher, dataset, config.test_examples)
        init = tf.global_variables_initializer()
    graph.finalize()
    start = time.time()
    history, best = [], None
    progress = Progress("teacher %s" % config.task, config.epochs * steps_per_epoch, log)
    scalars = Scalars(summary_dir)
    with make_session(graph, threads) as sess:
        sess.run(init)
        for epoch in range(1, config.epochs + 1):
            for i in range(steps_per_epoch):
                _, loss_value = sess.run([train_op, loss])
                progress.update((epoch - 1) * steps_per_epoch + i + 1, "loss %.4f" % loss_value)
            accuracy = evaluator.accuracy(sess)
            history.append({"epoch": epoch, "test_accuracy": accuracy, "wall_s": time.time() - start})
            log("teacher %s epoch %d/%d test accuracy %.2f%%" % (config.task, epoch, config.epochs,
                                                                 accuracy))
            scalars.write(epoch * steps_per_epoch, {"teacher/test_accuracy": accuracy,
                                                    "teacher/train_loss": loss_value})
            if best is None or accuracy > best:
                best = accuracy
                checkpoint.save_network(sess, teacher, out_path, {
                    "task": config.task, "epoch": epoch, "test_accuracy": accuracy,
                    "test_examples": evaluator.count,
                    "architecture": architecture_name(config.task, "teacher")})
    scalars.close()
    return {"test_accuracy": best, "history": history, "wall_s": time.time() - start,
            "checkpoint": out_path}


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


def distill(config, distiller_cls, dataset, teacher_path, threads=0, log=print,
            summary_dir=None, partial_dir=None, checkpoint_every_s=600.0):
    """Runs Algorithm 1's loop for any distiller: student rounds, re-inits, generator rounds."""
    config.validate()
    graph = tf.Graph()
    with graph.as_default():
        tf.set_random_seed(config.seed)
        teacher = make_classifier("teacher", dataset.num_classes, trainable=False,
                                  task=config.task)
        student = make_classifier("student", dataset.num_classes, task=config.task)
        train_inputs = None
        if config.method == "student_kd":
            train_inputs = real_data_pipeline(
                dataset.train.images, config.batch_size, config.seed,
                lambda x: data_lib.to_network_input(x, dataset.mean, dataset.std),
                data_lib.train_augmentation(dataset))
        distiller = distiller_cls(config, teacher, student, data_lib.network_input_shape(dataset),
                                  train_inputs)
        evaluator = Evaluator(student, dataset, config.test_examples)
        teacher_evaluator = Evaluator(teacher, dataset, config.test_examples)
        sample_ops = _generator_sample_ops(distiller, teacher)
        init = tf.global_variables_initializer()
        partial = PartialRun(partial_dir, checkpoint_every_s)
    graph.finalize()

    start = time.time()
    progress = Progress("%s %s seed %d" % (config.method, config.task, config.seed),
                        config.student_steps, log, config.log_every_s)
    scalars = Scalars(summary_dir)
    with make_session(graph, threads) as sess:
        sess.run(init)
        teacher_meta = checkpoint.load_network(sess, teacher, teacher_path)
        teacher_accuracy = teacher_evaluator.accuracy(sess)
        state = start_loop_state(sess, config, partial, log)
        evaluate = lambda: {"test_accuracy": evaluator.accuracy(sess)}  # noqa: E731
        train_rounds(sess, config, distiller, state, evaluate, progress, scalars, partial, start)
        progress.update(state["step"], "done", force=True)
        samples = _generator_samples(sess, sample_ops, dataset)
    scalars.close()
    history = state["history"]
    return {
        "_samples": samples,
        "test_examples": evaluator.count,
        "test_accuracy": history[-1]["test_accuracy"],
        "best_test_accuracy": max(h["test_accuracy"] for h in history),
        "teacher_test_accuracy": teacher_accuracy,
        "teacher_checkpoint_sha256": teacher_meta.get("sha256"),
        "student_steps": state["step"], "generator_steps": state["generator_steps"],
        "reinits": state["reinits"], "history": history,
        "resumed_from_step": state["resumed_from_step"],
        "wall_s": state["wall_s_before"] + time.time() - start, "eval_s": state["eval_s"],
    }


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


SAMPLES_PER_CELL = 256


def _generator_sample_ops(distiller, teacher):
    """Ops drawing a few samples of each generator with the teacher's class (Figure 4)."""
    if not distiller.has_generators:
        return None
    k = len(distiller.bank)
    per_generator = max(1, SAMPLES_PER_CELL // k)
    with tf.name_scope("generator_samples"):
        images = tf.concat(distiller.bank.sample(per_generator * k), axis=0)
    probs = tf.nn.softmax(teacher(images, training=False).logits)
    return {"images": images, "teacher_class": tf.argmax(probs, axis=-1),
            "teacher_confidence": tf.reduce_max(probs, axis=-1),
            "generator": tf.constant(np.repeat(np.arange(k), per_generator))}


def _generator_samples(sess, sample_ops, dataset):
    """The samples as display-ready uint8 images (normalisation undone), or None."""
    if sample_ops is None:
        return None
    values = sess.run(sample_ops)
    values["images"] = data_lib.from_network_input(values["images"], dataset.mean, dataset.std)
    return values


def _loss_terms(fetched, student_loss=None):
    """The fetched loss scalars by the names ``Diverged`` reports (train ops left out)."""
    terms = {"generator " + k: v for k, v in fetched.items() if k != "train"}
    if student_loss is not None:
        terms[STUDENT_TERM] = student_loss
    return terms


def _fmt(fetched):
    return " ".join("%s %.4f" % (k, v) for k, v in sorted(fetched.items())
                    if k != "train" and v is not None)

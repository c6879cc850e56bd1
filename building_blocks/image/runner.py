"""The image runner: the LeNet-5 / ResNet classifiers of a task, the teacher's training
(B.1.1), and one distillation cell: graph, session, initialisation, teacher loading,
evaluation on the test set and progress, around Algorithm 1's loop (loop.py). Graph-building
lives in the distillers and networks; here each training step is one ``session.run``.
"""
import time

import numpy as np

from building_blocks.common import checkpoint
from building_blocks.image import data as data_lib
from building_blocks.image import lenet
from building_blocks.image import resnet
from building_blocks.distill.distiller import (make_optimizer, real_data_pipeline,
                                               weight_decay_penalty)
from building_blocks.distill.loop import PartialRun, start_loop_state, train_rounds
from building_blocks.common.network import take_update_ops
from building_blocks.common.progress import Progress, Scalars
from building_blocks.common.tf_compat import make_session, tf

INPUT_SHAPE = (32, 32, 1)


ARCHITECTURES = {"cifar10": ("ResNet-34", "ResNet-18")}
DIGIT_ARCHITECTURES = ("LeNet-5", "LeNet-5-Half")


def architecture_name(task, role):
    pair = ARCHITECTURES.get(task, DIGIT_ARCHITECTURES)
    return pair[0] if role == "teacher" else pair[1]


def make_classifier(role, num_classes=10, dropout=0.0, trainable=True, task=None,
                    features_layer="conv3", dropout_layers="fc1"):
    """The task's teacher or student: LeNet-5 / LeNet-5-Half on digits (B.1.1), ResNet-34 /
    ResNet-18 on CIFAR-10 (B.1.2). ``features_layer``: LeNet-5's h_t of Eq. 3;
    ``dropout_layers``: where LeNet-5's training dropout sits (both ignored by ResNets)."""
    if task in ARCHITECTURES:
        depth = 34 if role == "teacher" else 18
        return resnet.ResNet(role, depth=depth, channels=3, num_classes=num_classes,
                             trainable=trainable)
    width = 1.0 if role == "teacher" else 0.5
    return lenet.LeNet5(role, width=width, channels=INPUT_SHAPE[-1], num_classes=num_classes,
                       dropout=dropout, trainable=trainable, features_layer=features_layer,
                       dropout_layers=dropout_layers)


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
                                  task=config.task, dropout_layers=config.dropout_layers)
        pipeline = tf.data.Dataset.from_tensor_slices((images, labels))
        pipeline = pipeline.shuffle(len(images), seed=config.seed).repeat()
        augment = data_lib.train_augmentation(dataset)
        if augment is not None:
            pipeline = pipeline.map(lambda x, y: (augment(x), y))
        pipeline = pipeline.batch(config.batch_size, drop_remainder=True).prefetch(2)
        batch_images, batch_labels = tf.data.make_one_shot_iterator(pipeline).get_next()
        logits = teacher(data_lib.to_network_input(batch_images, dataset.mean, dataset.std),
                         training=True).logits
        batch_norm_updates = take_update_ops(teacher)
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


def distill(config, distiller_cls, dataset, teacher_path, threads=0, log=print,
            summary_dir=None, partial_dir=None, checkpoint_every_s=600.0):
    """Runs Algorithm 1's loop for any distiller: student rounds, re-inits, generator rounds."""
    config.validate()
    graph = tf.Graph()
    with graph.as_default():
        tf.set_random_seed(config.seed)
        teacher = make_classifier("teacher", dataset.num_classes, trainable=False,
                                  task=config.task, features_layer=config.activation_layer)
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

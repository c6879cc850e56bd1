"""Which classes a data-free image student misses, and whether it fits its own training
inputs (issue 20 diagnosis of the Fashion-MNIST gap).

Trains one quick Table 1 cell's distiller (GAS or DAFL, ``--set`` overrides allowed) with
Algorithm 1's loop; at every evaluation prints one JSON line with:
- ``test_accuracy`` and ``per_class`` accuracy on the real test set;
- ``confusion``: for the classes named by ``--confusion_classes``, where the student puts
  that class's real test images (counts over the 10 classes);
- ``generated_agreement``: the fraction of fresh generator samples on which the student's
  argmax equals the teacher's, overall and per teacher class, with the teacher's class counts.
``--frozen_steps N`` then trains the student N more updates on the generators as they are
(no generator update, no re-init): does the student close the gap on a distribution that
stops moving? ``generator_tanh_saturated``: the percentage of the generators' output tanh
values beyond ±0.99 (binary images). ``generated_teacher_max_prob``, ``generated_kl`` and
``generated_agreement_where_sure``: the teacher's mean top probability on those samples,
Eq. 1's KL there, and the agreement on the samples the teacher puts at ≥ 0.9
(``--generated_per_generator`` 16 draws them in training's batches of 16 per generator).
``--student_width 1.0`` gives the student the teacher's LeNet-5 width (the paper's student is
LeNet-5-Half, 0.5): is the gap the student's capacity?

    python scripts/image_class_diagnostic.py --task fashion_mnist --method gas --seed 100
"""
import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from building_blocks.common import checkpoint  # noqa: E402
from building_blocks.common.config import apply_overrides  # noqa: E402
from building_blocks.common.tf_compat import make_session, tf  # noqa: E402
from building_blocks.distill.kd import distillation_loss  # noqa: E402
from building_blocks.distill.loop import new_loop_state, train_rounds  # noqa: E402
from building_blocks.image import data as data_lib, lenet  # noqa: E402
from building_blocks.image.runner import make_classifier  # noqa: E402
from reproduce.core import methods  # noqa: E402
from reproduce.table1 import configs  # noqa: E402
from quiet_loop import Quiet  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--task", default="fashion_mnist")
    parser.add_argument("--method", default="gas")
    parser.add_argument("--seed", type=int, default=100)
    parser.add_argument("--teacher", default=None,
                        help="default: results/quick/teachers/<task>.npz")
    parser.add_argument("--set", action="append", default=[])
    parser.add_argument("--frozen_steps", type=int, default=0)
    parser.add_argument("--confusion_classes", default="1,2,4")
    parser.add_argument("--generated_batches", type=int, default=8)
    parser.add_argument("--generated_per_generator", type=int, default=256,
                        help="samples per generator per evaluation batch (training: "
                             "batch_size / n_generators; the generators' batch norm uses "
                             "the batch's statistics)")
    parser.add_argument("--student_width", type=float, default=None,
                        help="LeNet-5 width of the student (default: the task's student)")
    args = parser.parse_args()
    teacher_path = args.teacher or os.path.join("results", "quick", "teachers",
                                                args.task + ".npz")
    config = apply_overrides(configs.distill_config(args.method, args.task, "quick", args.seed),
                             args.set).validate()
    dataset = data_lib.load_idx_task(args.task)
    test_x = data_lib.to_network_input(dataset.test.images, dataset.mean, dataset.std)
    test_y = dataset.test.labels
    graph = tf.Graph()
    with graph.as_default():
        tf.set_random_seed(config.seed)
        teacher = make_classifier("teacher", dataset.num_classes, trainable=False, task=args.task)
        if args.student_width is None:
            student = make_classifier("student", dataset.num_classes, task=args.task)
        else:
            student = lenet.LeNet5("student", width=args.student_width,
                                   channels=test_x.shape[-1], num_classes=dataset.num_classes)
        distiller = methods.distiller_class(args.method, "image")(
            config, teacher, student, data_lib.network_input_shape(dataset), None)
        x = tf.placeholder(tf.float32, (None,) + test_x.shape[1:])
        student_class = tf.argmax(student(x).logits, -1)
        n_ops = len(graph.get_operations())
        generated = tf.concat(distiller.bank.sample(args.generated_per_generator), axis=0)
        # the generators' output tanh on these samples: how many pixels saturate (|t| > 0.99)
        tanhs = [op.outputs[0] for op in graph.get_operations()[n_ops:] if op.type == "Tanh"]
        saturated = tf.reduce_mean(tf.concat(
            [tf.reshape(tf.cast(tf.abs(t) > 0.99, tf.float32), [-1]) for t in tanhs], 0)
            ) if tanhs else tf.constant(float("nan"))
        teacher_logits, student_logits = teacher(generated).logits, student(generated).logits
        generated_classes = (tf.argmax(teacher_logits, -1), tf.argmax(student_logits, -1))
        # how sure the teacher is on the student's training inputs, and Eq. 1's KL there
        generated_fit = (tf.reduce_max(tf.nn.softmax(teacher_logits), -1),
                         distillation_loss(teacher_logits, student_logits))
        init = tf.global_variables_initializer()
    graph.finalize()
    watched = [int(c) for c in args.confusion_classes.split(",") if c]
    start = time.time()
    with make_session(graph, 1) as sess:
        sess.run(init)
        checkpoint.load_network(sess, teacher, teacher_path)
        state = new_loop_state(config)

        def evaluate(phase="algorithm_1"):
            preds = np.concatenate([sess.run(student_class, {x: test_x[i:i + 1000]})
                                    for i in range(0, len(test_x), 1000)])
            runs = [sess.run((generated_classes, saturated, generated_fit))
                    for _ in range(args.generated_batches)]
            t_cls, s_cls = map(np.concatenate, zip(*[r[0] for r in runs]))
            t_max, kl = map(np.concatenate, zip(*[r[2] for r in runs]))
            sure = t_max >= 0.9
            k = dataset.num_classes
            line = {
                "phase": phase, "step": state["step"], "wall_s": round(time.time() - start),
                "test_accuracy": round(100 * float((preds == test_y).mean()), 2),
                "per_class": [round(100 * float((preds[test_y == c] == c).mean()), 1)
                              for c in range(k)],
                "confusion": {str(c): np.bincount(preds[test_y == c], minlength=k).tolist()
                              for c in watched},
                "generated_agreement": round(100 * float((t_cls == s_cls).mean()), 1),
                "generated_agreement_per_class": [
                    round(100 * float((s_cls[t_cls == c] == c).mean()), 1)
                    if (t_cls == c).any() else None for c in range(k)],
                "generated_teacher_classes": np.bincount(t_cls, minlength=k).tolist(),
                "generator_tanh_saturated": round(100 * float(np.mean([r[1] for r in runs])), 1),
                "generated_teacher_max_prob": round(float(t_max.mean()), 3),
                "generated_teacher_sure_fraction": round(100 * float(sure.mean()), 1),
                "generated_agreement_where_sure": round(
                    100 * float((t_cls[sure] == s_cls[sure]).mean()), 1) if sure.any() else None,
                "generated_kl": round(float(kl.mean()), 4),
            }
            print(json.dumps(line), flush=True)
            return {"test_accuracy": line["test_accuracy"]}

        train_rounds(sess, config, distiller, state, evaluate, Quiet(), Quiet(), Quiet(),
                     start)
        for i in range(args.frozen_steps):
            sess.run(distiller.student_train_op)
            state["step"] += 1
            if (i + 1) % config.eval_every == 0 or i + 1 == args.frozen_steps:
                evaluate("frozen_generators")


if __name__ == "__main__":
    main()

"""Configs (profiles, overrides), checkpoints and table aggregation."""
import csv
import io
import os

import numpy as np
import pytest

from building_blocks.common import checkpoint
from building_blocks.common.config import ConfigError, apply_overrides
from building_blocks.image.runner import make_classifier
from building_blocks.common.tf_compat import tf
from reproduce.core import paper_reference, tables
from reproduce.table1 import configs, manifest
from reproduce.table1 import tables as table1_tables


def test_paper_profile_matches_appendix_b11():
    gas = configs.distill_config("gas", "mnist", "paper", 0)
    assert (gas.batch_size, gas.n_generators) == (512, 8)  # 8 × 64 slices of 512
    assert (gas.student_steps_per_round, gas.generator_steps_per_round) == (100, 20)
    assert (gas.generator_lr, gas.student_lr, gas.latent_dim) == (0.01, 1e-3, 100)
    assert gas.latent_distribution == "uniform" and gas.gamma > 0
    assert gas.reinit_every == 4000
    assert configs.distill_config("gas", "fashion_mnist", "paper", 0).reinit_every == 120000
    dafl = configs.distill_config("dafl", "mnist", "paper", 0)
    assert (dafl.n_generators, dafl.gamma, dafl.reinit_every) == (1, 0.0, 0)
    teacher = configs.teacher_config("mnist", "paper")
    assert (teacher.learning_rate, teacher.dropout) == (7e-4, 0.2)


@pytest.mark.parametrize("method", configs.METHODS)
def test_profiles_change_only_sizes_and_step_counts(method):
    size_fields = {"student_steps", "batch_size", "reinit_every", "eval_every", "log_every_s",
                   "student_steps_per_round", "generator_steps_per_round"}
    paper = configs.distill_config(method, "mnist", "paper", 0)
    for profile in ("quick", "smoke"):
        other = configs.distill_config(method, "mnist", profile, 0)
        differing = {k for k in paper.__dataclass_fields__
                     if getattr(paper, k) != getattr(other, k)}
        # quick's learning rates follow its written rules (reproduce/table1/configs.py): one student
        # lr for all methods; generator lr 0.01 for generator batches of 64 or fewer.
        lr_fields = {"student_lr", "generator_lr"} if profile == "quick" else set()
        assert differing <= size_fields | lr_fields, differing
        if profile == "quick":
            assert other.student_lr == configs._QUICK_STUDENT_LR  # pylint: disable=protected-access
            if other.generator_steps_per_round:
                assert other.batch_size // other.n_generators <= 64
                assert other.generator_lr == 0.01
        assert (other.generator_steps_per_round * paper.student_steps_per_round ==
                paper.generator_steps_per_round * other.student_steps_per_round)  # same ratio


def test_paper_and_quick_schedules_pass_the_profile_check(monkeypatch):
    assert configs.check_profile("paper") == []
    assert configs.check_profile("quick") == []
    # A broken quick schedule is reported: 4:1 rounds, no re-init, a long first round.
    monkeypatch.setitem(configs._GAS_ROUNDS, "quick", (400, 100))  # pylint: disable=protected-access
    monkeypatch.setitem(configs._REINIT_EVERY, "quick", {"mnist": 0, "fashion_mnist": 0})  # noqa
    problems = " ".join(configs.check_profile("quick"))
    assert "not 5:1" in problems and "no re-init" in problems and "first round" in problems
    monkeypatch.setitem(configs._BATCH, "quick", 64)  # pylint: disable=protected-access
    assert "fewer than the 10 classes" in " ".join(configs.check_profile("quick"))


def test_shared_batch_is_dafls_one_to_one_update_only():
    dafl = configs.distill_config("dafl", "mnist", "quick", 0)
    assert dafl.shared_batch and dafl.validate()
    gas = configs.distill_config("gas", "mnist", "quick", 0)
    with pytest.raises(ConfigError, match="student_steps_per_round=1"):
        apply_overrides(gas, ["shared_batch=true"]).validate()
    with pytest.raises(ConfigError, match="gamma=0"):
        apply_overrides(gas, ["shared_batch=true", "student_steps_per_round=1",
                              "generator_steps_per_round=1"]).validate()


def test_distill_temperature_must_be_positive():
    gas = configs.distill_config("gas", "mnist", "quick", 0)
    assert gas.distill_temperature == 1.0
    assert apply_overrides(gas, ["distill_temperature=4"]).validate().distill_temperature == 4.0
    with pytest.raises(ConfigError, match="distill_temperature must be positive"):
        apply_overrides(gas, ["distill_temperature=0"]).validate()


def test_confidence_term_and_activation_layer_are_checked():
    gas = configs.distill_config("gas", "mnist", "quick", 0)
    assert (gas.confidence_term, gas.activation_layer) == ("one_hot", "conv3")  # DAFL's
    changed = apply_overrides(gas, ["confidence_term=entropy", "activation_layer=fc1"])
    assert changed.validate().activation_layer == "fc1"
    with pytest.raises(ConfigError, match="confidence_term must be 'one_hot' or 'entropy'"):
        apply_overrides(gas, ["confidence_term=onehot"]).validate()
    with pytest.raises(ConfigError, match="activation_layer must be 'conv3' or 'fc1'"):
        apply_overrides(gas, ["activation_layer=fc2"]).validate()
    with pytest.raises(ConfigError, match="latent_distribution must be 'uniform' or 'normal'"):
        apply_overrides(gas, ["latent_distribution=gaussian"]).validate()
    with pytest.raises(ConfigError, match="CIFAR-10 ResNet"):
        apply_overrides(configs.distill_config("gas", "cifar10", "smoke", 0),
                        ["activation_layer=fc1"]).validate()


def test_teacher_dropout_layers_are_checked():
    teacher = configs.teacher_config("fashion_mnist", "quick")
    assert teacher.dropout_layers == "fc1"
    assert apply_overrides(teacher, ["dropout_layers=all"]).validate().dropout_layers == "all"
    with pytest.raises(ConfigError, match="dropout_layers must be 'fc1' or 'all'"):
        apply_overrides(teacher, ["dropout_layers=conv"]).validate()


def test_overrides_are_parsed_by_type_never_evaluated():
    config = configs.distill_config("gas", "mnist", "smoke", 0)
    changed = apply_overrides(config, ["student_lr=0.0001", "n_generators=1", "gamma=0",
                                       "generator_batch_norm=false"])
    assert changed.student_lr == 1e-4 and changed.n_generators == 1
    assert changed.gamma == 0.0 and changed.generator_batch_norm is False
    with pytest.raises(ConfigError, match="unknown config key 'nope'"):
        apply_overrides(config, ["nope=1"])
    with pytest.raises(ConfigError, match="expected a int"):
        apply_overrides(config, ["n_generators=__import__('os')"])
    with pytest.raises(ConfigError, match="key=value"):
        apply_overrides(config, ["gamma"])


def test_unknown_profile_task_method_and_negative_seed():
    with pytest.raises(ConfigError, match="unknown --profile 'fast'"):
        configs.distill_config("gas", "mnist", "fast", 0)
    with pytest.raises(ConfigError, match="unknown --task 'svhn'"):
        configs.distill_config("gas", "svhn", "paper", 0)
    with pytest.raises(ConfigError, match="unknown --method 'zskd'"):
        configs.distill_config("zskd", "mnist", "paper", 0)
    with pytest.raises(ConfigError, match="seed"):
        configs.distill_config("gas", "mnist", "paper", -1)


def test_checkpoint_round_trip_and_corruption(tmp_path):
    path = str(tmp_path / "teacher.npz")
    graph = tf.Graph()
    with graph.as_default():
        net = make_classifier("teacher")
        tf.train.AdamOptimizer().minimize(tf.reduce_sum(net(tf.ones([1, 32, 32, 1])).logits))
        init = tf.global_variables_initializer()
    with tf.Session(graph=graph) as sess:
        sess.run(init)
        expected = sess.run(net.variables)
        checkpoint.save_network(sess, net, path, {"test_accuracy": 1.0})
    assert len(np.load(path).files) == len(net.variables)  # no optimizer slots saved
    graph = tf.Graph()
    with graph.as_default():
        net2 = make_classifier("teacher", trainable=False)
        init = tf.global_variables_initializer()
    with tf.Session(graph=graph) as sess:
        sess.run(init)
        assert checkpoint.load_network(sess, net2, path)["test_accuracy"] == 1.0
        for a, b in zip(expected, sess.run(net2.variables)):
            np.testing.assert_array_equal(a, b)
        with open(path, "r+b") as f:
            f.truncate(1000)
        with pytest.raises(checkpoint.CheckpointError, match="corrupt checkpoint .*teacher.npz"):
            checkpoint.load_network(sess, net2, path)
    with pytest.raises(checkpoint.CheckpointError, match="missing checkpoint"):
        checkpoint.read_metadata(str(tmp_path / "none.npz"))


def test_mean_std_uses_sample_std():
    mean, std = tables.mean_std([1.0, 2.0, 3.0])
    assert mean == 2.0 and std == pytest.approx(1.0)
    assert tables.mean_std([5.0]) == (5.0, None)


def _record(method, task, seed, accuracy):
    return {"method": method, "task": task, "seed": seed, "test_accuracy": accuracy,
            "kind": "teacher" if method == "teacher" else "distill"}


def test_table1_rows_put_paper_values_beside_ours():
    records = [_record("gas", "mnist", s, a) for s, a in enumerate([97.0, 98.0, 99.0])]
    records.append(_record("teacher", "mnist", 0, 99.1))
    rows = table1_tables.table1_rows(records, "quick", paper_reference.load_paper_reference())
    text = tables.rows_to_csv(rows)
    parsed = list(csv.DictReader(io.StringIO(text)))
    assert list(parsed[0].keys()) == list(tables.COLUMNS)
    gas = [r for r in parsed if r["method"] == "gas" and r["task"] == "mnist"][0]
    assert (gas["mean"], gas["std"], gas["n"]) == ("98.00", "1.000", "3")
    assert (gas["paper_mean"], gas["paper_std"]) == ("98.79", "0.075")
    cifar = [r for r in parsed if r["task"] == "cifar10"]
    assert len(cifar) == 5 and all(r["n"] == "0" and "not run" in r["note"] for r in cifar)
    assert len(parsed) == 15


def test_manifest_budget_says_whether_methods_got_equal_student_updates():
    def record(task, method, steps, wall_s, generator_steps=0):
        return dict(kind="distill", task=task, method=method, student_steps=steps,
                    generator_steps=generator_steps, wall_s=wall_s)
    records = [record("mnist", "dafl", 1600, 100.0, 1600),
               record("mnist", "dafl", 1600, 120.0, 1600),
               record("mnist", "gas", 1600, 200.0, 320),
               record("fashion_mnist", "dafl", 1600, 90.0, 1600),
               record("fashion_mnist", "gas", 800, 90.0, 160),
               dict(kind="teacher", task="mnist", method="teacher", wall_s=5.0)]
    budget = manifest.budget(records)
    assert budget["mnist"]["equal_student_updates"] is True
    assert budget["fashion_mnist"]["equal_student_updates"] is False
    assert budget["mnist"]["methods"]["dafl"] == {
        "cells": 2, "student_steps": [1600], "generator_steps": [1600], "mean_wall_s": 110.0}
    assert budget["mnist"]["methods"]["gas"]["generator_steps"] == [320]
    assert "teacher" not in budget["mnist"]["methods"]


def test_missing_reference_row_is_an_error():
    reference = paper_reference.load_paper_reference()
    del reference[("table1", "dafl", "mnist")]
    with pytest.raises(paper_reference.ReferenceError, match="dafl / mnist"):
        table1_tables.table1_rows([], "quick", reference)


def test_family_registry_names_unknown_families_and_orders_teachers_first(tmp_path):
    from reproduce.grid import grid, registry
    with pytest.raises(ConfigError, match="table9"):
        registry.get(["table1", "table9"])
    requested = registry.get(["table1", "table1"])
    teachers, students = grid.collect_cells(requested, "smoke", (0,), str(tmp_path), None)
    assert [c.name for c in teachers] == ["mnist/teacher", "fashion_mnist/teacher"]
    assert len(students) == len({c.name for c in students}) == 8
    assert all(c.needs in {t.name for t in teachers} for c in students)
    assert all(c.result_path.startswith(str(tmp_path)) for c in teachers + students)


def test_table7_draws_a_figure4_panel_for_each_game_with_gas_frames(tmp_path):
    """Figure 4: real frames beside GAS samples, one panel per game whose GAS cell saved
    frames (here low-dimensional Pong only); the others are named as not drawn."""
    from reproduce.rl import figures as rl_figures, tables as rl_tables
    results = str(tmp_path)
    path = rl_figures.samples_path(results, "quick", "pong_lowdim", "gas", 0)
    os.makedirs(os.path.dirname(path))
    frames = np.random.RandomState(0).uniform(size=(8, 48, 48, 2)).astype(np.float32)
    np.savez(path, real=frames, generated=frames[::-1])
    lines = []
    rl_tables.write_rl_table("table7", results, "quick", log=lines.append)
    figures = os.path.join(results, "figures")
    assert os.path.getsize(os.path.join(figures, "fig4_samples_pong_lowdim.png")) > 1000
    assert not os.path.exists(os.path.join(figures, "fig4_samples_pong.png"))
    assert any("no GAS samples for pong yet" in line for line in lines), lines
    from reproduce.grid import grid, registry
    summary = grid.outputs_line(registry.get(["table7"])[0], results)
    written, missing = summary.split("; not written: ")
    assert "fig4_samples_pong_lowdim.png" in written and "table7.csv" in written, summary
    assert "fig4_samples_pong.png" in missing and "fig4_samples_pong.png" not in written, summary


def test_policy_table_note_names_the_student_updates_its_cells_ran(tmp_path):
    """A Table 6/7 row whose seeds ran under different schedules says so in its note."""
    from reproduce.rl import tables as rl_tables
    records = [{"method": "gas", "task": "cartpole", "seed": s, "kind": "rl_distill",
                "status": "ok", "return_mean": 100.0 + s, "eval_episodes": 5,
                "eval_deterministic": True, "student_steps": steps}
               for s, steps in ((0, 4000), (1, 2000), (2, 4000))]
    row = [r for r in rl_tables.rl_rows("table6", str(tmp_path), "smoke", records,
                                        paper_reference.load_paper_reference())
           if (r["method"], r["task"]) == ("gas", "cartpole")][0]
    assert row["note"] == ("5 episodes per seed (deterministic), 2000/4000 student updates; "
                           "std across seeds")

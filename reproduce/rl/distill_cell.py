"""One policy-distillation cell (a method × task × seed of Tables 6-7) run in this process,
and where its artefacts live:

    <results>/<profile>/teachers/rl/<task>.npz(.json)        PPO teacher (RL interface contract)
    <results>/<profile>/cells/rl/<task>/<method>/seed<S>.json  student cell result

The JSON is written atomically when the cell finishes (the resume rule), with the fields of
``cells.cell_record`` (command, config, git sha, packages, wall time) plus the student's returns.
"""
import os
import time

from building_blocks.common import checkpoint
from building_blocks.rl import policy_runner
from building_blocks.common.config import apply_overrides, describe
from building_blocks.common.divergence import Diverged
from building_blocks.common.io_utils import atomic_write_json
from building_blocks.common.progress import format_duration
from building_blocks.distill.loop import clear_partial
from reproduce.core import cells, diverged, methods
from reproduce.rl import distill_configs, teacher_cell

RL_KIND = "rl_distill"


rl_teacher_path = teacher_cell.rl_teacher_path  # <results>/<profile>/teachers/rl/<task>.npz


def rl_cell_name(task, method, seed):
    return "rl/%s/%s/seed%d" % (task, method, seed)


def rl_result_path(results_dir, profile, task, method, seed):
    return os.path.join(cells.profile_dir(results_dir, profile), "cells",
                        rl_cell_name(task, method, seed) + ".json")


def _dir(results_dir, profile, kind, task, method, seed):
    return os.path.join(cells.profile_dir(results_dir, profile), kind,
                        rl_cell_name(task, method, seed))


def run_rl_distill(method, task, profile, seed, results_dir, threads=0, overrides=(), log=print,
                   teacher_checkpoint=None):
    config = apply_overrides(distill_configs.policy_distill_config(method, task, profile, seed),
                             overrides)
    config.validate()
    teacher = teacher_checkpoint or rl_teacher_path(results_dir, profile, task)
    if not os.path.exists(teacher):
        raise checkpoint.CheckpointError(
            "no teacher for %s: %s is missing. Train it with `python -m reproduce train_teacher "
            "--env %s --profile %s`, or pass --teacher_checkpoint." % (task, teacher, task,
                                                                       profile))
    teacher_meta = checkpoint.verify(teacher)  # fail early on a missing or corrupt teacher
    # Printed once every input is checked, so a bad one ends in its error line alone.
    log(describe(config))
    started = time.time()
    partial = _dir(results_dir, profile, "partial", task, method, seed)
    cell = cells.Cell(RL_KIND, task, method, seed)
    result_file = rl_result_path(results_dir, profile, task, method, seed)
    try:
        result = policy_runner.distill_policy(
            config, methods.distiller_class(method, "policy"), teacher, threads, log,
            _dir(results_dir, profile, "tensorboard", task, method, seed),
            partial, float(os.environ.get("GAS_CHECKPOINT_EVERY_S", "600")),
            samples_path=result_file[:-len(".json")] + "_samples.npz")
    except Diverged as error:
        record = cells.diverged_record(cell, profile, config, overrides, teacher_meta, started)
        record["cell"] = rl_cell_name(task, method, seed)
        raise diverged.finish(record, error, result_file, partial)
    record = cells.cell_record(cell, profile, config, result, started)
    record["cell"] = rl_cell_name(task, method, seed)
    record["overrides"] = list(overrides)
    atomic_write_json(result_file, record)
    clear_partial(partial)
    log("%s: student return %.2f ± %.2f over %d episodes in %s" % (
        record["cell"], result["return_mean"], result["return_std"], result["eval_episodes"],
        format_duration(result["wall_s"])))
    return record

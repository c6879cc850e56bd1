"""The RL teacher cell: one PPO teacher per task and profile, and where its artefacts live:

    <results>/<profile>/teachers/rl/<task>.npz(.json)        policy weights + obs normaliser
    <results>/<profile>/teachers/rl/<task>.curve.csv / .png  learning curve
    <results>/<profile>/cells/rl/<task>/teacher.json          cell record (provenance)

The teacher .npz and the cell JSON are written atomically at the end; a rerun with both
present skips the cell (the resume rule). While it trains, ``<task>.npz.resume.npz`` beside
the teacher holds its resumable state (building_blocks/rl/teacher_runner.py): a rerun after kill -9, a reboot or the
end of a sitting continues from it, and it is deleted once the teacher and its record exist.
"""
import os
import sys
import time

from building_blocks.common.config import apply_overrides, describe
from building_blocks.common.io_utils import atomic_write_json
from building_blocks.common.progress import format_duration
from reproduce.core import cells, provenance, run_folders
from reproduce.rl import teacher_configs

# The environment factory (the RL interface contract); actor processes import it by name.
DEFAULT_ENV_MODULE = "building_blocks.rl.envs"


def rl_teacher_path(results_dir, profile, task):
    return os.path.join(cells.profile_dir(results_dir, profile), "teachers", "rl", task + ".npz")


def rl_curve_paths(results_dir, profile, task):
    base = os.path.join(cells.profile_dir(results_dir, profile), "teachers", "rl", task)
    return base + ".curve.csv", base + ".curve.png"


def rl_teacher_cell(task):
    return cells.Cell("rl_teacher", task, "teacher", teacher_configs.RL_TEACHER_SEED)


def rl_result_path(results_dir, profile, task):
    return os.path.join(cells.profile_dir(results_dir, profile), "cells", "rl", task,
                        "teacher.json")


def run_rl_teacher(task, profile, results_dir, seed=None, threads=0, overrides=(), log=print,
                   env_module=DEFAULT_ENV_MODULE, force=False):
    """Trains (or, if finished, skips) the PPO teacher of ``task``; returns its record."""
    import importlib  # pylint: disable=g-import-not-at-top
    import json  # pylint: disable=g-import-not-at-top
    from building_blocks.rl.teacher_runner import resume_path, train_ppo_teacher  # pylint: disable=g-import-not-at-top
    seed = teacher_configs.RL_TEACHER_SEED if seed is None else seed
    config = apply_overrides(teacher_configs.ppo_config(task, profile, seed), overrides).validate()
    out_path = rl_teacher_path(results_dir, profile, task)
    record_path = rl_result_path(results_dir, profile, task)
    if not force and os.path.exists(out_path) and os.path.exists(record_path):
        with open(record_path) as f:
            record = json.load(f)
        log("rl teacher %s (%s) already trained: %s (eval return %.1f); delete it to retrain"
            % (task, profile, out_path, record.get("eval_return_mean", float("nan"))))
        return record
    if force and os.path.exists(resume_path(out_path)):
        os.remove(resume_path(out_path))  # retraining starts over
    envs = importlib.import_module(env_module)
    spec = envs.env_spec(task)  # ConfigError naming the valid tasks
    log(describe(config))
    started = time.time()
    curve_csv, curve_png = rl_curve_paths(results_dir, profile, task)
    sitting_info = {"git_sha": provenance.git_sha(), "command": provenance.portable_command(
        [os.path.basename(sys.executable), "-m", "reproduce"] + sys.argv[1:]),
                    "cpu_model": provenance.cpu_model(),
                    "learner_omp_threads": os.environ.get("OMP_NUM_THREADS")}
    result = train_ppo_teacher(config, spec, env_module, out_path, curve_csv, curve_png,
                               threads, log, sitting_info)
    cell = cells.Cell("rl_teacher", task, "teacher", seed)
    record = cells.cell_record(cell, profile, config, result, started)
    record["cell"] = "rl/%s/teacher" % task
    record["overrides"] = list(overrides)
    # teacher_configs.learner_omp_threads:
    record["learner_omp_threads"] = os.environ.get("OMP_NUM_THREADS")
    record["teacher_file"] = os.path.relpath(out_path, results_dir)
    record["curve_csv"] = os.path.relpath(curve_csv, results_dir)
    atomic_write_json(record_path, record)
    if os.path.exists(resume_path(out_path)):
        os.remove(resume_path(out_path))
    log("rl teacher %s: eval return %.1f ± %.1f (%d episodes) in %s -> %s" % (
        task, result["eval_return_mean"], result["eval_return_std"], result["eval_episodes"],
        format_duration(result["wall_s"]), run_folders.display(out_path)))
    return record

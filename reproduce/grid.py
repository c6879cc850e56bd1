"""The experiment grid: every cell of a table family run as its own subprocess (a fresh graph
and session each, crash-isolated), finished cells skipped, progress and ETA printed, then the
tables and manifest written."""
import concurrent.futures
import os
import subprocess
import sys
import threading
import time

from building_blocks import data as data_lib
from building_blocks.io_utils import atomic_write_json
from building_blocks.runner import format_duration
from reproduce import cells, configs, provenance, tables

FAMILIES = ("table1",)


class GridError(Exception):
    """Some cells failed; the finished ones are kept."""


def table1_cells(profile, seeds):
    teachers = [cells.teacher_cell(task) for task in configs.IMAGE_TASKS]
    # Most expensive first so parallel jobs finish together.
    order = ("dafl", "gas", "student_kd", "noise_kd")
    students = [cells.distill_cell(task, method, seed)
                for method in order for task in configs.IMAGE_TASKS for seed in seeds]
    return teachers, students


def estimated_cost(cell, profile):
    """Relative cost units (≈ generator-step equivalents) used for the ETA."""
    if cell.kind == "teacher":
        config = configs.teacher_config(cell.task, profile)
        return 0.05 * config.epochs * 235
    config = configs.distill_config(cell.method, cell.task, profile, cell.seed)
    rounds = config.student_steps / float(config.student_steps_per_round)
    generator_steps = rounds * config.generator_steps_per_round
    student_unit = 0.25 if config.method in ("dafl", "gas") else 0.03
    return config.student_steps * student_unit + generator_steps


def _cell_command(cell, flags):
    command = [sys.executable, "-m", "reproduce",
               "train_teacher" if cell.kind == "teacher" else "distill",
               "--task", cell.task, "--profile", flags["profile"],
               "--results_dir", flags["results_dir"], "--threads", str(flags["threads"])]
    if flags.get("data_dir"):
        command += ["--data_dir", flags["data_dir"]]
    if cell.kind == "distill":
        command += ["--method", cell.method, "--seed", str(cell.seed)]
    return command


class _Tracker(object):
    def __init__(self, total_cost, total_cells, log):
        self.total_cost, self.total_cells, self.log = total_cost, total_cells, log
        self.done_cost, self.done_cells, self.start = 0.0, 0, time.time()
        self.lock = threading.Lock()

    def finished(self, name, cost, seconds, ok):
        with self.lock:
            self.done_cost += cost
            self.done_cells += 1
            elapsed = time.time() - self.start
            eta = elapsed / max(self.done_cost, 1e-9) * (self.total_cost - self.done_cost)
            self.log("[%d/%d] %s %s in %s | elapsed %s, ETA %s" % (
                self.done_cells, self.total_cells, name, "done" if ok else "FAILED",
                format_duration(seconds), format_duration(elapsed), format_duration(eta)))


def _run_cell(cell, flags, tracker, profile):
    name = cells.cell_name(cell)
    log_file = cells.log_path(flags["results_dir"], profile, cell)
    os.makedirs(os.path.dirname(log_file), exist_ok=True)
    start = time.time()
    with open(log_file, "w") as out:
        code = subprocess.call(_cell_command(cell, flags), stdout=out, stderr=subprocess.STDOUT,
                               env=dict(os.environ, PYTHONHASHSEED="0",
                                        OMP_NUM_THREADS=str(flags["threads"])))
    ok = code == 0 and os.path.exists(cells.result_path(flags["results_dir"], profile, cell))
    tracker.finished(name, estimated_cost(cell, profile), time.time() - start, ok)
    if not ok:
        with open(log_file) as f:
            tail = f.read().strip().splitlines()[-1:] or ["(empty log)"]
        tracker.log("    %s failed (exit %d): %s — full log: %s" % (name, code, tail[0], log_file))
    return ok


def run_all(profile, only, jobs, results_dir, data_dir=None, seeds=None, threads=0, log=print):
    """Runs the requested table families; returns the table rows. Raises GridError if a cell
    failed (after writing tables for every finished cell)."""
    unknown = [family for family in only if family not in FAMILIES]
    if unknown:
        raise GridError("unknown --only %s; available now: %s" % (",".join(unknown),
                                                                  ", ".join(FAMILIES)))
    seeds = tuple(seeds) if seeds else configs.SEEDS[profile]
    jobs = max(1, jobs)
    threads = threads or max(1, (os.cpu_count() or 1) // jobs)
    results_dir = os.path.abspath(results_dir)
    for task in configs.IMAGE_TASKS:  # fail fast, before hours of work, on bad data
        data_lib.load_image_task(task, data_dir)
    flags = {"profile": profile, "results_dir": results_dir, "data_dir": data_dir,
             "threads": threads}
    teachers, students = table1_cells(profile, seeds)
    todo = [c for c in teachers + students
            if not os.path.exists(cells.result_path(results_dir, profile, c))]
    skipped = len(teachers) + len(students) - len(todo)
    log("run_all: profile %s, seeds %s, %d cells to run (%d already finished, skipped), "
        "%d job(s) × %d thread(s); logs in %s" % (
            profile, list(seeds), len(todo), skipped, jobs, threads,
            os.path.join(cells.profile_dir(results_dir, profile), "logs")))
    tracker = _Tracker(sum(estimated_cost(c, profile) for c in todo), len(todo), log)
    start = time.time()
    failed = []
    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        teacher_ok = {}
        for cell, future in [(c, pool.submit(_run_cell, c, flags, tracker, profile))
                             for c in teachers if c in todo]:
            teacher_ok[cell.task] = future.result()
            if not teacher_ok[cell.task]:
                failed.append(cells.cell_name(cell))
        runnable = [c for c in students if c in todo and teacher_ok.get(c.task, True)]
        failed += [cells.cell_name(c) for c in students if c in todo and c not in runnable]
        futures = {pool.submit(_run_cell, c, flags, tracker, profile): c for c in runnable}
        for future in concurrent.futures.as_completed(futures):
            if not future.result():
                failed.append(cells.cell_name(futures[future]))
    run_info = {
        "command": " ".join(["./run_all.sh"] + sys.argv[2:]), "profile": profile,
        "profile_choice": os.environ.get("GAS_PROFILE_CHOICE", "--profile %s" % profile),
        "only": list(only), "jobs": jobs, "threads_per_job": threads, "seeds": list(seeds),
        "cells_run": len(todo), "cells_skipped": skipped, "failed": failed,
        "wall_s": round(time.time() - start, 1), "finished": time.time(),
    }
    run_info.update(provenance.environment())
    atomic_write_json(os.path.join(cells.profile_dir(results_dir, profile), "run_all.json"), run_info)
    rows = tables.write_table1(results_dir, profile, run_info)
    from reproduce import check, report  # pylint: disable=g-import-not-at-top
    check.run_check(results_dir, log=log)
    report.write_report(results_dir, log)
    log("run_all: wrote %s (wall %s)" % (os.path.join(results_dir, "table1.csv"),
                                         format_duration(run_info["wall_s"])))
    if failed:
        raise GridError("%d cell(s) failed: %s. Finished cells are kept; rerun the same command "
                        "to retry only the missing ones." % (len(failed), ", ".join(failed)))
    return rows

"""The experiment grid: every cell of the requested families (``reproduce.core.families``) run as
its own subprocess (a fresh graph and session each, crash-isolated), finished cells skipped,
progress and ETA printed, then each family's tables and figures and the manifest written.

Teachers run first; a student cell starts once the cell it ``needs`` has finished (and is
reported failed, not run, if that teacher failed). The executor that runs one cell's command
is pluggable (``BACKENDS``): the default is a local thread pool of subprocesses.
"""
import concurrent.futures
import json
import fnmatch
import os
import subprocess
import sys
import threading
import time

from building_blocks.common.io_utils import atomic_write_json, remove_stale_temp_files
from building_blocks.common.progress import format_duration
from reproduce.core import cells, diverged, families, provenance, run_folders
from reproduce.grid import node_files, registry
from reproduce.table1 import configs


class GridError(Exception):
    """Some cells failed, or the request is invalid; finished cells are kept."""


def cell_command(cell, flags):
    """The full command line of one GridCell."""
    command = [sys.executable, "-m", "reproduce"] + list(cell.args) + [
        "--profile", flags["profile"], "--results_dir", flags["results_dir"],
        "--threads", str(flags["threads"])]
    if flags.get("data_dir"):
        command += ["--data_dir", flags["data_dir"]]
    return command


def cell_env(flags):
    return dict(os.environ, PYTHONHASHSEED="0", OMP_NUM_THREADS=str(flags["threads"]))


def run_local(command, log_file, env, cell=None):
    """Runs one cell's command here; returns its exit code. A cell that resumes from its
    mid-cell checkpoint (a teacher from its resume file) appends to the log of the invocation
    that wrote it, after a marker line, so the log of a cell run over several sittings is whole;
    any other run starts its log afresh. (``cell``, the GridCell, also serves executors that
    move its files, ray_backend.RayExecutor.)"""
    profile_dir = os.path.dirname(os.path.dirname(log_file))  # <results>/<profile>/logs/x.log
    resumes = (cell is not None and os.path.exists(log_file) and node_files.has_checkpoint(
        os.path.dirname(profile_dir), os.path.basename(profile_dir), cell.name))
    with open(log_file, "a" if resumes else "w") as out:
        if resumes:
            out.write("\n--- run_all %s: %s resumes from its checkpoint; above, the log of "
                      "its earlier invocation ---\n" % (
                          time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()), cell.name))
            out.flush()
        return subprocess.call(command, stdout=out, stderr=subprocess.STDOUT, env=env)


class Tracker(object):
    """Progress of the grid: '[done/total] cell outcome in T | elapsed, ETA'.

    ETA = the cost left × the seconds one job spent per cost unit on the cells finished so far
    ÷ the jobs running in parallel. Measured per cell (its own duration), not from the grid's
    wall clock, so cells still in flight do not inflate it and a cheap cell finishing early
    does not deflate it (issue 15: the wall-clock rate swung from 42 min to 1 h 23 min to
    6 min in five minutes)."""

    def __init__(self, total_cost, total_cells, log, jobs=1):
        self.total_cost, self.total_cells, self.log = total_cost, total_cells, log
        self.jobs = max(1, jobs)
        self.done_cost, self.done_cells, self.start = 0.0, 0, time.time()
        self.cell_seconds = 0.0
        self.lock = threading.Lock()

    def eta(self):
        if self.done_cost <= 0:
            return 0.0
        return (self.cell_seconds / self.done_cost * max(self.total_cost - self.done_cost, 0.0)
                / self.jobs)

    def finished(self, name, cost, seconds, outcome):
        """``outcome``: "done", "DIVERGED" or "FAILED"."""
        with self.lock:
            self.done_cost += cost
            self.done_cells += 1
            self.cell_seconds += seconds
            elapsed = time.time() - self.start
            eta = self.eta()
            self.log("[%d/%d] %s %s in %s | elapsed %s, ETA %s" % (
                self.done_cells, self.total_cells, name, outcome,
                format_duration(seconds), format_duration(elapsed), format_duration(eta)))


def _log_file(flags, cell):
    return os.path.join(families.family_log_dir(flags["results_dir"], flags["profile"]),
                        cell.name.replace("/", "_") + ".log")


def _run_cell(cell, flags, tracker, execute):
    log_file = _log_file(flags, cell)
    os.makedirs(os.path.dirname(log_file), exist_ok=True)
    start = time.time()
    code = execute(cell_command(cell, flags), log_file, cell_env(flags), cell)
    # A diverged cell finished: its JSON records the divergence and is not rerun (needs_run),
    # but it has no result, so it is reported apart from "done" and from a failure.
    is_diverged = (code == diverged.EXIT_CODE
                   and diverged.read_status(cell.result_path) == diverged.STATUS)
    ok = (code == 0 and os.path.exists(cell.result_path)) or is_diverged
    tracker.finished(cell.name, cell.cost, time.time() - start,
                     "DIVERGED" if is_diverged else "done" if ok else "FAILED")
    if not ok or is_diverged:
        tail = ["(empty log)"]
        if os.path.exists(log_file):
            with open(log_file) as f:
                tail = f.read().strip().splitlines()[-1:] or tail
        tracker.log("    %s %s (exit %s): %s — full log: %s" % (
            cell.name, "diverged" if is_diverged else "failed", code, tail[0], log_file))
    return ok


def is_stale(cell):
    """True for a finished student whose recorded teacher SHA-256 differs from the SHA-256 of
    its teacher checkpoint now (the teacher was retrained since): it must be rerun, so that
    students of an old teacher are never mixed with a new one. Unknown either way: not stale."""
    teacher = getattr(cell, "teacher_checkpoint", None)
    if not teacher or not os.path.exists(cell.result_path) or not os.path.exists(teacher + ".json"):
        return False
    try:
        with open(cell.result_path) as f:
            recorded = json.load(f).get("teacher_checkpoint_sha256")
        with open(teacher + ".json") as f:
            current = json.load(f).get("sha256")
    except ValueError:
        return False
    return bool(recorded and current and recorded != current)


def needs_run(cell):
    """Not finished, or finished from a teacher that has changed since (``is_stale``)."""
    return not os.path.exists(cell.result_path) or is_stale(cell)


def forget_teachers(teachers, log):
    """--retrain_teachers: removes the teachers' cell JSONs so they train again (an interrupted
    retraining is then retried by a rerun); their students become stale if the new weights
    differ (``is_stale``)."""
    for cell in teachers:
        if os.path.exists(cell.result_path):
            os.unlink(cell.result_path)
            log("    %s: retraining (--retrain_teachers)" % cell.name)


def collect_cells(requested, profile, seeds, results_dir, data_dir):
    """(teachers, students) of all requested families, each cell once, in order."""
    teachers, students, seen = [], [], set()
    for family in requested:
        family_teachers, family_students = family.cells(profile, seeds, results_dir, data_dir)
        for target, group in ((teachers, family_teachers), (students, family_students)):
            for cell in group:
                if cell.name not in seen:
                    seen.add(cell.name)
                    target.append(cell)
    return teachers, students


def select_cells(teachers, students, patterns):
    """Keeps the cells whose names match one of the fnmatch ``patterns`` (e.g. "mnist/gas/*"),
    plus the teachers the kept students need; GridError if a pattern matches nothing."""
    if not patterns:
        return teachers, students
    names = [c.name for c in teachers + students]
    unmatched = [p for p in patterns if not fnmatch.filter(names, p)]
    if unmatched:
        raise GridError("--cells %s matches no cell; cell names look like %s"
                        % (",".join(unmatched), ", ".join(names[:3] + names[-1:])))
    kept = [c for c in students if any(fnmatch.fnmatchcase(c.name, p) for p in patterns)]
    needed = {c.needs for c in kept}
    return ([c for c in teachers
             if c.name in needed or any(fnmatch.fnmatchcase(c.name, p) for p in patterns)], kept)


def execute_cells(teachers, students, flags, jobs, log, execute=run_local):
    """Runs the cells (teachers first); returns the names of the cells that failed."""
    teacher_todo = {c.name for c in teachers if needs_run(c)}
    todo = [c for c in teachers if c.name in teacher_todo] + [
        c for c in students if needs_run(c) or c.needs in teacher_todo]  # estimate, for the ETA
    tracker = Tracker(sum(c.cost for c in todo), len(todo), log, jobs)
    failed, ok_by_name = [], {}
    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        for cell, future in [(c, pool.submit(_run_cell, c, flags, tracker, execute))
                             for c in teachers if c in todo]:
            ok_by_name[cell.name] = future.result()
            if not ok_by_name[cell.name]:
                failed.append(cell.name)
        # Now that teachers are final: which students are unfinished or stale.
        estimate = [c for c in todo if c in students]
        todo = [c for c in todo if c in teachers] + [c for c in students if needs_run(c)]
        stale = [c.name for c in students if is_stale(c)]
        if stale:
            log("    %d student cell(s) stale (their teacher changed since they ran), rerun: %s"
                % (len(stale), ", ".join(stale)))
        with tracker.lock:
            extra = [c for c in todo if c in students and c not in estimate]
            dropped = [c for c in estimate if c not in todo]
            tracker.total_cost += sum(c.cost for c in extra) - sum(c.cost for c in dropped)
            tracker.total_cells += len(extra) - len(dropped)
        runnable = [c for c in students
                    if c in todo and (c.needs is None or ok_by_name.get(c.needs, True))]
        for cell in students:
            if cell in todo and cell not in runnable:
                log("    %s not run: %s failed" % (cell.name, cell.needs))
                failed.append(cell.name)
        futures = {pool.submit(_run_cell, c, flags, tracker, execute): c for c in runnable}
        for future in concurrent.futures.as_completed(futures):
            if not future.result():
                failed.append(futures[future].name)
    return failed


BACKENDS = ("local", "ray")


_INVOCATION_SUMMARY = ("command", "git_sha", "finished", "wall_s", "cells_run", "cells_skipped",
                       "failed", "diverged", "jobs", "threads_per_job", "log", "why")


def with_earlier_invocations(record_path, run_info):
    """``run_info`` plus ``earlier_invocations``: those of the record at ``record_path`` (if
    any) and a summary of that record itself, when it ran cells."""
    earlier = []
    if os.path.exists(record_path):
        try:
            with open(record_path) as f:
                previous = json.load(f)
        except (OSError, ValueError):
            previous = {}
        earlier = list(previous.get("earlier_invocations") or [])
        if previous.get("cells_run"):
            earlier.append({k: previous[k] for k in _INVOCATION_SUMMARY if k in previous})
    return dict(run_info, earlier_invocations=earlier) if earlier else dict(run_info)


def _plan(requested, profile, seeds, results_dir, data_dir, retrain_teachers, cell_patterns,
          log, reuse_reference_teachers=False):
    """(teachers, students, todo) of the requested families after --cells,
    --retrain_teachers and --reuse_reference_teachers; each family's preflight first (fail
    fast on bad data)."""
    runnable = []
    for family in requested:
        why = family.unavailable()
        if why:
            log("run_all: %s not run: %s" % (family.name, why))
        else:
            runnable.append(family)
    for family in runnable:
        family.preflight(data_dir)
    teachers, students = collect_cells(runnable, profile, seeds, results_dir, data_dir)
    teachers, students = select_cells(teachers, students, cell_patterns)
    if retrain_teachers:
        forget_teachers(teachers, log)
    elif reuse_reference_teachers:
        run_folders.reuse_reference_teachers(teachers, students, results_dir, log)
    return teachers, students, [c for c in teachers + students if needs_run(c)]


def _execute(backend, teachers, students, todo, flags, jobs, threads, ray_address,
             gpus_per_cell, log):
    """Runs the cells on the local pool or Ray; returns the names of the failed ones and what
    the run record says of the backend (Ray: its nodes, and the cells it started more than
    once because a node or worker was lost). A local Ray instance is not started when
    ``todo`` is empty; a given ``ray_address`` is still connected to, so a wrong one is
    reported even then."""
    skip_ray = backend == "ray" and not todo and not ray_address
    if skip_ray:
        log("ray: every cell already finished; Ray not started")
    if backend != "ray" or skip_ray:
        return execute_cells(teachers, students, flags, jobs, log), {}
    from reproduce.grid import ray_backend  # pylint: disable=g-import-not-at-top
    return ray_backend.run_cells(execute_cells, teachers, students, flags, jobs * threads,
                                 ray_address, gpus_per_cell, log)


def _write_run_records(results_dir, profile, requested, run_info):
    """run_all.json, and the same record per family set (with a summary of the invocations
    before it: a resumed or extended run), so one family's run does not hide another's."""
    profile_dir = cells.profile_dir(results_dir, profile)
    atomic_write_json(os.path.join(profile_dir, "run_all.json"), run_info)
    family_record = os.path.join(profile_dir, "run_all_%s.json"
                                 % "+".join(f.name for f in requested))
    atomic_write_json(family_record, with_earlier_invocations(family_record, run_info))


def outputs_line(family, results_dir):
    """The summary of one family's outputs, naming only what is on disk: a figure whose cells
    have not run (e.g. Figure 4 of a game without GAS cells) is listed as not written."""
    paths = [os.path.join(results_dir, o) for o in family.outputs]
    written = [run_folders.display(p) for p in paths if os.path.exists(p)]
    missing = [run_folders.display(p) for p in paths if not os.path.exists(p)]
    return "run_all: %s -> %s%s" % (family.name, ", ".join(written) or "nothing",
                                    "; not written: %s" % ", ".join(missing) if missing else "")


def _write_outputs(requested, results_dir, profile, run_info, log):
    """Every family's tables and figures, the archival check and the report."""
    for family in requested:
        family.write_outputs(results_dir, profile, run_info, log)
        log(outputs_line(family, results_dir))
    from reproduce.verdicts import check, report  # pylint: disable=g-import-not-at-top
    try:
        check.run_check(results_dir, log=log)
    except check.CheckError as e:  # e.g. only fig2 (no paper numbers) in a fresh folder
        log("run_all: archival check skipped: %s" % e)
    report.write_report(results_dir, log)


def _say_folder(results_dir, log):
    if run_folders.is_reference(results_dir):
        log("run_all: writing into the shipped reference %s (named by --results_dir)"
            % run_folders.display(results_dir))
    else:
        log("run_all: results go to %s; the shipped reference in %s is not written. Rerun the "
            "same command to resume this folder's unfinished cells." % (
                run_folders.display(results_dir),
                run_folders.display(run_folders.REFERENCE_DIR)))


def run_all(profile, only, jobs, results_dir, data_dir=None, seeds=None, threads=0, log=print,
            retrain_teachers=False, backend="local", ray_address=None, gpus_per_cell=0,
            cell_patterns=None, reuse_reference_teachers=False):
    """Runs the requested families; raises GridError if a cell failed (after writing the
    outputs of every finished cell).

    ``backend``: ``local`` (a pool of ``jobs`` subprocesses here) or ``ray`` (one Ray task per
    cell asking for ``threads`` CPUs and ``gpus_per_cell`` GPUs, on the cluster at
    ``ray_address``, else on a local Ray instance; see reproduce/grid/ray_backend.py).
    ``retrain_teachers``: train the families' teachers anew even if present; students of a
    teacher whose weights change are rerun.
    ``cell_patterns``: run only the cells matching these (fnmatch) and the teachers they need.
    ``reuse_reference_teachers``: copy the shipped reference's finished teachers of this
    profile into ``results_dir`` first (``run_folders``)."""
    _check_flags(backend, ray_address, retrain_teachers, reuse_reference_teachers)
    requested = registry.get(only)
    seeds = tuple(seeds) if seeds else None
    jobs = max(1, jobs)
    threads = (threads or configs.CELL_THREADS.get(profile)
               or max(1, (os.cpu_count() or 1) // jobs))
    results_dir = os.path.abspath(results_dir)
    _say_folder(results_dir, log)
    teachers, students, todo = _plan(requested, profile, seeds, results_dir, data_dir,
                                     retrain_teachers, cell_patterns, log,
                                     reuse_reference_teachers)
    all_cells = teachers + students
    log("run_all: profile %s, families %s, seeds %s, %d cells to run (%d already finished, "
        "skipped), %d job(s) × %d thread(s); logs in %s" % (
            profile, ",".join(f.name for f in requested),
            list(seeds) if seeds else "the profile's", len(todo), len(all_cells) - len(todo),
            jobs, threads, run_folders.display(families.family_log_dir(results_dir, profile))))
    _remove_unfinished_writes(results_dir, profile, log)
    start = time.time()
    flags = {"profile": profile, "results_dir": results_dir, "data_dir": data_dir,
             "threads": threads}
    failed, backend_info = _execute(backend, teachers, students, todo, flags, jobs, threads,
                                    ray_address, gpus_per_cell, log)
    diverged_cells = [c.name for c in all_cells
                      if diverged.read_status(c.result_path) == diverged.STATUS]
    run_info = {
        "command": provenance.portable_command(["./run_all.sh"] + sys.argv[2:]),
        "profile": profile,
        "profile_choice": os.environ.get("GAS_PROFILE_CHOICE", "--profile %s" % profile),
        "only": [f.name for f in requested], "jobs": jobs, "threads_per_job": threads,
        "backend": backend, **backend_info,
        "seeds": list(seeds) if seeds else "profile default",
        "cells_run": len(todo), "cells_skipped": len(all_cells) - len(todo), "failed": failed,
        "diverged": diverged_cells,
        "retrain_teachers": bool(retrain_teachers),
        "reuse_reference_teachers": bool(reuse_reference_teachers),
        "wall_s": round(time.time() - start, 1), "finished": time.time(),
    }
    run_info.update(provenance.environment())
    _write_run_records(results_dir, profile, requested, run_info)
    _write_outputs(requested, results_dir, profile, run_info, log)
    log("run_all: done (wall %s)" % format_duration(run_info["wall_s"]))
    _say_diverged_and_failed(diverged_cells, failed, log)


def _check_flags(backend, ray_address, retrain_teachers, reuse_reference_teachers):
    """GridError for a flag combination run_all cannot honour."""
    if backend not in BACKENDS:
        raise GridError("unknown --backend %r; choose one of %s" % (backend, ", ".join(BACKENDS)))
    if ray_address and backend != "ray":
        raise GridError("--ray_address needs --backend ray")
    if retrain_teachers and reuse_reference_teachers:
        raise GridError("--retrain_teachers and --reuse_reference_teachers contradict each "
                        "other; give one")


def _remove_unfinished_writes(results_dir, profile, log):
    """Deletes the temporary files an interrupted atomic write left behind."""
    stale = (remove_stale_temp_files(cells.profile_dir(results_dir, profile))
             + remove_stale_temp_files(results_dir, recursive=False)
             + remove_stale_temp_files(os.path.join(results_dir, "figures")))
    if stale:
        log("run_all: removed %d unfinished temporary file(s) left by an interrupted write"
            % stale)


def _say_diverged_and_failed(diverged_cells, failed, log):
    if diverged_cells:
        log("run_all: %d cell(s) diverged (a loss became NaN or infinite; recorded without a "
            "result, left out of the tables' means and named in their notes): %s. Their logs "
            "name the step and the loss term; delete a cell's JSON to have run_all rerun it."
            % (len(diverged_cells), ", ".join(diverged_cells)))
    if failed:
        raise GridError("%d cell(s) failed: %s. Finished cells are kept; rerun the same command "
                        "to retry only the missing ones." % (len(failed), ", ".join(failed)))

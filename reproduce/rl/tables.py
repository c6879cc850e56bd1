"""Tables 6 and 7 (policy distillation) in table1.csv's long format, from the finished
``rl_distill`` cells and the teachers' own evaluation (their checkpoint metadata).

columns: method,task,mean,std,n,paper_mean,paper_std,profile,note
- students: mean over seeds of each seed's mean evaluation return; std across seeds (ddof 1);
  n seeds with a result; note gives the evaluation episodes per seed, the cells' student
  updates, and names the seeds whose training diverged (left out of mean and std);
- teacher: the mean return of the teacher's own evaluation, std across its episodes, n its
  episodes (read from <results>/<profile>/teachers/rl/<task>.npz.json).
"""
import collections
import json
import os

from building_blocks.common.io_utils import atomic_write_json, atomic_write_text
from building_blocks.rl import envs
from reproduce.core import diverged, paper_reference, provenance, tables
from reproduce.rl import distill_cell, distill_configs

RL_TABLES = collections.OrderedDict([
    ("table6", distill_configs.VECTOR_TASKS), ("table7", distill_configs.ALE_TASKS)])
METHODS = ("teacher",) + distill_configs.RL_METHODS
# Figure 4 shows Pong and Enduro; the quick profile's first ALE teacher is low-dimensional Pong
# (Section 4's 2×48×48), whose GAS frames get a panel of their own.
FIGURE4_GAMES = ("pong", "enduro", "pong_lowdim")
NO_TEACHER = "not run: no teacher (train with python -m reproduce train_teacher --env %s)"


def _first(meta, *keys):
    for key in keys:
        if meta.get(key) is not None:
            return meta[key]
    return None


def teacher_summary(results_dir, profile, task):
    """(mean, std, episodes) of the teacher's own evaluation, or None without a teacher."""
    path = distill_cell.rl_teacher_path(results_dir, profile, task) + ".json"
    if not os.path.exists(path):
        return None
    with open(path) as f:
        meta = json.load(f)
    returns = _first(meta, "eval_returns", "episode_returns")
    mean = _first(meta, "eval_return_mean", "return_mean")
    std = _first(meta, "eval_return_std", "return_std")
    episodes = _first(meta, "eval_episodes", "episodes")
    if isinstance(episodes, list):
        returns, episodes = episodes, len(episodes)
    if returns:
        mean, std = tables.mean_std([float(r) for r in returns])
        episodes = len(returns)
    return mean, std, episodes


def rl_rows(table, results_dir, profile, records, reference):
    """Rows of ``table`` from the students' records (finished ones averaged, diverged ones
    named in the note) and the teachers' own evaluation."""
    by_key, stopped = tables.split_diverged(records)
    no_teacher_note = ("not run: " + envs.stack_missing()) if envs.stack_missing() else None
    rows = []
    for task in RL_TABLES[table]:
        teacher = teacher_summary(results_dir, profile, task)
        for method in METHODS:
            key = (table, method, task)
            if key not in reference:
                raise paper_reference.ReferenceError(
                    "%s has no row for %s / %s / %s; restore it from the paper."
                    % (paper_reference.PAPER_REFERENCE, *key))
            paper_mean, paper_std = reference[key]
            mean = std = None
            n, note = 0, ""
            if method == "teacher" and teacher is not None:
                mean, std, n = teacher[0], teacher[1], teacher[2] or 1
                note = "teacher's own evaluation (%s episodes; std across episodes)" % n
            elif method != "teacher" and by_key.get((method, task)):
                cells = by_key[(method, task)]
                mean, std = tables.mean_std([c["return_mean"] for c in cells])
                n = len(cells)
                episodes = sorted({c["eval_episodes"] for c in cells})
                # The cells' student updates, so a row run under an earlier schedule shows it.
                updates = sorted({c["student_steps"] for c in cells if "student_steps" in c})
                note = "%s episodes per seed (%s)%s; std across seeds" % (
                    "/".join(str(e) for e in episodes),
                    "deterministic" if cells[0].get("eval_deterministic") else "sampled",
                    ", %s student updates" % "/".join(str(u) for u in updates) if updates else "")
            elif teacher is None:
                note = no_teacher_note or NO_TEACHER % task
            elif not stopped.get((method, task)):
                note = "not run"
            if method != "teacher":
                note = diverged.with_note(note, stopped.get((method, task), []))
            rows.append(collections.OrderedDict([
                ("method", method), ("task", task), ("mean", tables.fmt(mean)),
                ("std", tables.fmt(std, 3)), ("n", str(n)), ("paper_mean", paper_mean),
                ("paper_std", paper_std), ("profile", profile), ("note", note)]))
    return rows


def write_rl_table(table, results_dir, profile, run_info=None, log=print):
    """Writes <results>/<table>.csv and .md, the table's figures and manifest_<table>.json."""
    records, stopped = [[r for r in tables.load_cell_records(
        results_dir, profile, kinds=(distill_cell.RL_KIND,), statuses=(status,))
        if r["task"] in RL_TABLES[table]] for status in ("ok", diverged.STATUS)]
    rows = rl_rows(table, results_dir, profile, records + stopped,
                   paper_reference.load_paper_reference())
    atomic_write_text(os.path.join(results_dir, table + ".csv"), tables.rows_to_csv(rows))
    atomic_write_text(os.path.join(results_dir, table + ".md"), tables.rows_to_markdown(rows))
    from reproduce.rl import figures  # pylint: disable=g-import-not-at-top
    figures_dir = os.path.join(results_dir, "figures")
    if table == "table6":
        figures.plot_relative_scores(rows, paper_reference.load_paper_reference(),
                                     os.path.join(figures_dir, "fig3_relative_scores.png"))
    else:
        for game in FIGURE4_GAMES:
            path = figures.plot_samples(results_dir, profile, game, figures_dir)
            if path is None:
                log("%s: no GAS samples for %s yet, figure 4 panel not drawn" % (table, game))
    teacher_records = [r for r in tables.load_cell_records(results_dir, profile,
                                                           kinds=("rl_teacher",))
                       if r["task"] in RL_TABLES[table]]
    atomic_write_json(os.path.join(results_dir, "manifest_%s.json" % table), {
        "profile": profile, "run_all": run_info,
        "run_all_by_family": tables.run_all_records(results_dir, profile),
        "teachers": [{
            "cell": r["cell"], "command": r["command"], "seed": r["seed"],
            "git_sha": r["git_sha"], "packages": r["packages"], "wall_s": round(r["wall_s"], 1),
            "eval_return_mean": r.get("eval_return_mean"),
            "eval_return_std": r.get("eval_return_std"), "episodes": r.get("eval_episodes"),
            "transitions": r.get("transitions"), "teacher_file": r.get("teacher_file"),
            **provenance.machine_fields(r),
        } for r in teacher_records],
        "std": "students: sample std across seeds (ddof=1); teacher: across its episodes",
        "tables_written_by": provenance.environment(),
        "cells": [{
            "cell": r["cell"], "command": r["command"], "seed": r["seed"],
            "git_sha": r["git_sha"], "packages": r["packages"], "wall_s": round(r["wall_s"], 1),
            "return_mean": r["return_mean"], "episodes": r["episodes"],
            "teacher_checkpoint_sha256": r["teacher_checkpoint_sha256"],
            **provenance.machine_fields(r),
            "result_file": os.path.relpath(distill_cell.rl_result_path(
                results_dir, profile, r["task"], r["method"], r["seed"]), results_dir),
        } for r in records],
        "total_cell_wall_s": round(sum(r["wall_s"] for r in records), 1),
    })
    return rows

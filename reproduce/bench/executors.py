"""`python -m reproduce bench --bench_grid_cells N`: throughput of the grid's executors, the
local process pool (grid.run_local) against Ray tasks (ray_backend.RayExecutor) on this
machine. Each "cell" is a trivial subprocess (``python -c pass``) with its log file, so the
figures are the executors' own overhead per cell, not training time; Ray's start-up is
reported separately.
"""
import concurrent.futures
import os
import shutil
import sys
import tempfile
import time

from reproduce.grid import grid, ray_backend


def _run(execute, n_cells, jobs, log_dir):
    command = [sys.executable, "-c", "pass"]
    env = dict(os.environ)
    start = time.time()
    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        codes = list(pool.map(lambda i: execute(command, os.path.join(log_dir, "%d.log" % i),
                                                env), range(n_cells)))
    wall = time.time() - start
    assert codes == [0] * n_cells, codes
    return wall


def main(n_cells, jobs, log=print):
    log_dir = tempfile.mkdtemp(prefix="gas-bench-grid-")
    try:
        _run(grid.run_local, min(4, n_cells), jobs, log_dir)  # warm the page cache
        local = _run(grid.run_local, n_cells, jobs, log_dir)
        started = time.time()
        with ray_backend.RayExecutor(None, 1, 0, local_cpus=jobs, log=log) as executor:
            ray_start = time.time() - started
            _run(executor, min(4, n_cells), jobs, log_dir)  # Ray starts its workers lazily
            on_ray = _run(executor, n_cells, executor.max_in_flight(), log_dir)
    finally:
        shutil.rmtree(log_dir, ignore_errors=True)
    for name, wall in (("local", local), ("ray", on_ray)):
        log("RESULT kind=grid backend=%s cells=%d jobs=%d wall_s=%.2f cells_per_s=%.1f "
            "ms_per_cell=%.0f" % (name, n_cells, jobs, wall, n_cells / wall,
                                  1e3 * wall * jobs / n_cells))
    log("RESULT kind=grid ray_init_s=%.1f ray_over_local_per_cell=%.2f"
        % (ray_start, on_ray / local))
    return {"local_s": local, "ray_s": on_ray, "ray_init_s": ray_start}


def actors_main(tasks, log=print, num_workers=None, envs_per_worker=32, seconds=8.0):
    """Env steps/s of the PPO actors, worker processes (ProcessActors) against Ray actors
    (RayActors on a local Ray instance), same tasks, workers and envs per worker."""
    from reproduce.bench import ppo  # pylint: disable=g-import-not-at-top
    from reproduce.rl import teacher_cell  # pylint: disable=g-import-not-at-top
    num_workers = num_workers or min(2, os.cpu_count() or 1)
    results = {}
    for task in tasks:
        rates = {}
        for kind in ("process", "ray"):
            rates[kind] = ppo.actor_steps_per_s(
                teacher_cell.DEFAULT_ENV_MODULE, task, envs_per_worker * num_workers, num_workers,
                seconds=seconds, backend_kind=kind)
        results[task] = rates
        log("RESULT kind=actors task=%s workers=%d envs_per_worker=%d process_steps_per_s=%.0f "
            "ray_steps_per_s=%.0f ray_over_process=%.2f" % (
                task, num_workers, envs_per_worker, rates["process"], rates["ray"],
                rates["ray"] / rates["process"]))
    return results

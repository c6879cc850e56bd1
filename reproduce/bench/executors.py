"""`python -m reproduce bench --bench_grid_cells N`: throughput of the grid's executors, the
local process pool (grid.run_local) against Ray tasks (ray_backend.RayExecutor) on this
machine: a local Ray instance, and clusters of one and of two nodes started with
``ray start`` (local_cluster). Each "cell" is a trivial subprocess (``python -c pass``) with its log file, so the
figures are the executors' own overhead per cell, not training time; Ray's start-up is
reported separately.
"""
import concurrent.futures
import os
import shutil
import sys
import tempfile
import time

from reproduce.grid import grid, local_cluster, ray_backend


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


def _through_ray(address, n_cells, jobs, log_dir, log):
    """(seconds for ``n_cells`` cells, seconds to connect) through Ray at ``address`` (None:
    a local instance started here)."""
    started = time.time()
    with ray_backend.RayExecutor(address, 1, 0, local_cpus=jobs, log=log, results_dir=log_dir,
                                 profile="bench") as executor:
        connect = time.time() - started
        _run(executor, min(4, n_cells), jobs, log_dir)  # Ray starts its workers lazily
        return _run(executor, n_cells, executor.max_in_flight(), log_dir), connect


def main(n_cells, jobs, log=print):
    """Local pool, a local Ray instance, and clusters started with ``ray start`` of one node
    (``jobs`` CPUs) and of two nodes (the CPUs split between a head and a worker node)."""
    log_dir = tempfile.mkdtemp(prefix="gas-bench-grid-")
    walls = {}
    try:
        _run(grid.run_local, min(4, n_cells), jobs, log_dir)  # warm the page cache
        walls["local"] = _run(grid.run_local, n_cells, jobs, log_dir)
        walls["ray"], ray_start = _through_ray(None, n_cells, jobs, log_dir, log)
        for nodes in (1, 2):
            head = jobs - (nodes - 1) * max(1, jobs // nodes)
            workers = [{"cpus": max(1, jobs // nodes)}] * (nodes - 1)
            with local_cluster.LocalCluster(head_cpus=max(1, head), workers=workers) as cluster:
                walls["ray_%d_node%s" % (nodes, "s" * (nodes > 1))], _ = _through_ray(
                    cluster.address, n_cells, jobs, log_dir, log)
    finally:
        shutil.rmtree(log_dir, ignore_errors=True)
    for name, wall in walls.items():
        log("RESULT kind=grid backend=%s cells=%d jobs=%d wall_s=%.2f cells_per_s=%.1f "
            "ms_per_cell=%.0f" % (name, n_cells, jobs, wall, n_cells / wall,
                                  1e3 * wall * jobs / n_cells))
    log("RESULT kind=grid ray_init_s=%.1f ray_over_local_per_cell=%.2f "
        "two_nodes_over_one_node=%.2f" % (ray_start, walls["ray"] / walls["local"],
                                          walls["ray_2_nodes"] / walls["ray_1_node"]))
    return dict(walls, ray_init_s=ray_start)


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

"""gas-repro command line.

    python -m reproduce train_teacher --task mnist --profile quick
    python -m reproduce distill --method gas --task mnist --seed 0 --profile quick
    python -m reproduce distill --method gas --env cartpole --seed 0 --profile quick
    python -m reproduce run_all --profile quick --only table1 --jobs 2
    python -m reproduce run_all --profile quick --backend ray [--ray_address HOST:PORT]
    python -m reproduce tables --profile quick [--only table1]
    python -m reproduce check [--require 0.5] [--results_dir results]
    python -m reproduce report [--results_dir results]

Every command reads and writes runs/<profile>/ unless given --results_dir; results/ is the
shipped reference (reproduce/core/run_folders.py).
    python -m reproduce bench [--torch_python PATH] [--bench_envs cartpole,halfcheetah]
    python -m reproduce env_info --env humanoid --seed 0 --steps 1000
    python -m reproduce fetch_data [--tasks mnist,fashion_mnist,cifar10,kmnist] [--data_mirror URL]
    python -m reproduce train_teacher --env cartpole --profile quick --seed 0   # PPO teacher
    python -m reproduce bench --bench_rl cartpole,halfcheetah [--batch_sizes=]
    python -m reproduce bench [--torch_python PATH] [--bench_profile] [--bench_cell_updates 400]
    python -m reproduce fig2_teacher --k 3 --profile quick
    python -m reproduce fig2_distill --k 3 --method dafl_reinit --seed 0 --profile quick
"""
import os
import sys

from absl import app, flags

COMMANDS = ("train_teacher", "distill", "run_all", "tables", "check", "report", "bench",
            "env_info", "fetch_data",
            "fig2_teacher", "fig2_distill")

FLAGS = flags.FLAGS
flags.DEFINE_enum("profile", None, ["paper", "quick", "smoke"],
                  "paper: the paper's schedule; quick: ~1 h per table family on 2 CPU cores; "
                  "smoke: tiny schedules for tests (a cell takes seconds to minutes, the whole "
                  "grid about 16 min with --jobs 2 on 2 cores). Default: paper when TensorFlow "
                  "sees a GPU, else quick.")
flags.DEFINE_string("task", None, "Image task (mnist, fashion_mnist, ...; see "
                    "reproduce/table1/configs.py).")
flags.DEFINE_enum("method", None, ["student_kd", "noise_kd", "dafl", "gas", "dafl_reinit"],
                  "Distillation method (dafl_reinit: Figure 2 only).")
flags.DEFINE_integer("seed", 0, "Seed of the cell (graph, data order, environment).",
                     lower_bound=0)
flags.DEFINE_string("data_dir", None, "Dataset folder (default: $GAS_DATA_DIR, else "
                    "../shared/data).")
flags.DEFINE_string("results_dir", None, "Results folder (default: runs/<profile> in the repo, "
                    "a user's own run; rerunning a command resumes it). results/ holds the "
                    "shipped reference and is written only when named here (--results_dir "
                    "results), as the maintainers do.")
flags.DEFINE_integer("threads", 0, "Intra-op threads per process (0: TF default).",
                     lower_bound=0)
flags.DEFINE_integer("jobs", 1, "Cells run in parallel by run_all.", lower_bound=1)
flags.DEFINE_list("only", None, "Families run by run_all (default: all; see "
                  "reproduce/grid/registry.py), e.g. --only table1,fig2.")
flags.DEFINE_list("seeds", None, "Seeds for run_all (default: the profile's).")
flags.DEFINE_multi_string("set", [], "Config override key=value (repeatable), e.g. "
                          "--set student_lr=0.0001 --set gamma=0.")
flags.DEFINE_string("teacher_checkpoint", None, "Teacher .npz for distill (default: the "
                    "profile's trained teacher).")
flags.DEFINE_string("torch_python", None, "bench: a Python with torch to run "
                    "../shared/bench/peer_step_torch.py in the same session.")
flags.DEFINE_list("batch_sizes", ["64", "512"], "bench: batch sizes.")
flags.DEFINE_integer("bench_iters", 20, "bench: timed steps per measurement.", lower_bound=1)
flags.DEFINE_bool("bench_profile", False, "bench: also print each step's time per op family "
                  "(TF RunMetadata traces; reproduce/bench/op_profile.py).")
flags.DEFINE_integer("bench_cell_updates", 0, "bench: also run quick seed-0 MNIST DAFL and GAS "
                     "cells for this many student updates (even, >= 4; 0: skip), with fused and "
                     "with moments batch norm in the generators, and print seconds per 100 "
                     "updates.", lower_bound=0)
flags.DEFINE_enum("backend", "local", ["local", "ray"], "run_all: where cells run: local "
                  "(--jobs subprocesses here) or ray (one Ray task per cell; see "
                  "reproduce/grid/ray_backend.py).")
flags.DEFINE_string("ray_address", None, "run_all --backend ray: the Ray head's host:port "
                    "(default: start a local Ray instance).")
flags.DEFINE_float("gpus_per_cell", 0.0, "run_all --backend ray: GPUs each cell asks Ray for.",
                   lower_bound=0.0)
flags.DEFINE_list("cells", None, "run_all: only the cells whose names match one of these "
                  "patterns (fnmatch), plus the teachers they need, e.g. --cells 'mnist/gas/*'.")
flags.DEFINE_bool("bench_convs", False, "bench: instead of the training steps, time the DAFL "
                  "generator's convolutions alone, here and (with --torch_python) in PyTorch, "
                  "at --batch_sizes (reproduce/bench/conv_share.py); a full bench with "
                  "--torch_python runs this too.")
flags.DEFINE_integer("bench_grid_cells", 0, "bench: instead of the training steps, time this "
                     "many trivial cells through the local and the Ray grid executors.",
                     lower_bound=0)
flags.DEFINE_list("bench_ray_actors", [], "bench: instead of the training steps, env steps/s "
                  "of the PPO actors as worker processes vs Ray actors, for these RL tasks.")
flags.DEFINE_string("env", None, "RL task: cartpole, mountaincar, halfcheetah, humanoid, "
                    "humanoid_standup, pong, breakout, seaquest, enduro, pong_lowdim.")
flags.DEFINE_integer("steps", 1000, "env_info: steps of the seeded fixed action sequence.",
                     lower_bound=0)
flags.DEFINE_list("tasks", ["mnist", "fashion_mnist"], "fetch_data: datasets to download "
                  "(mnist, fashion_mnist, cifar10, kmnist).")
flags.DEFINE_multi_string("data_mirror", [], "fetch_data / run_all: base URL of a mirror of the "
                          "data folder's layout (<url>/mnist/train-images-idx3-ubyte.gz, ...), "
                          "tried before the publishers; repeatable; also $GAS_DATA_MIRRORS.")
flags.DEFINE_list("bench_envs", [], "bench: RL tasks whose env steps/s to measure (raw "
                  "single env and make_vec_env), e.g. cartpole,halfcheetah.")
flags.DEFINE_list("bench_rl", [], "bench: RL tasks whose actor env steps/s (worker processes "
                  "vs the raw simulator) and learner updates/s to measure.")
flags.DEFINE_integer("k", None, "fig2_teacher/fig2_distill: exemplars per class (1-5 MNIST "
                     "digits; 6-10 add Kuzushiji-MNIST symbols).", lower_bound=1)
flags.DEFINE_bool("reuse_reference_teachers", False, "run_all: start the run folder with "
                  "copies of the shipped reference's finished teachers of the same profile "
                  "(results/<profile>/teachers), so only the students are reproduced.")
flags.DEFINE_bool("retrain_teachers", False, "run_all: train the requested families' teachers "
                  "anew even if present (shipped); students of a changed teacher are rerun.")
flags.DEFINE_float("require", None, "check: minimum fraction of comparable cells within 2 sigma "
                   "of the paper; exit non-zero below it.", lower_bound=0.0, upper_bound=1.0)


USAGE_ERROR = 2  # the exit code of every refused input (a diverged cell: diverged.EXIT_CODE)


def _log(message):
    print(message, flush=True)


def _fail(message):
    """One 'error: ...' line on stderr and exit USAGE_ERROR."""
    print("error: %s" % message, file=sys.stderr)
    sys.exit(USAGE_ERROR)


def _seeds():
    if not FLAGS.seeds:
        return None
    try:
        seeds = [int(s) for s in FLAGS.seeds]
    except ValueError:
        _fail("--seeds must be a comma-separated list of integers, got %s"
              % ",".join(FLAGS.seeds))
    if any(s < 0 for s in seeds):
        _fail("--seeds must be >= 0")
    return seeds


def _require(*names):
    missing = [n for n in names if getattr(FLAGS, n) is None]
    if missing:
        _fail("%s needs --%s" % (sys.argv[1], " --".join(missing)))


def _parse_flags(argv):
    """absl's parser, but a bad flag gives one line `error: ...` on stderr and exit 2."""
    try:
        return FLAGS(argv)
    except flags.Error as e:
        _fail("%s (python -m reproduce --helpshort lists the flags)" % " ".join(str(e).split()))


def _check_writable(path, create):
    """ConfigError naming --results_dir when ``path`` cannot be written (a probe file is made
    and removed; permission bits alone do not tell, e.g. for root)."""
    import tempfile
    from building_blocks.common.config import ConfigError
    if not create and not os.path.isdir(path):
        return
    try:
        os.makedirs(path, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=path, prefix=".write-probe.", suffix=".tmp")
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise ConfigError("cannot write to --results_dir %s (%s); point it at a writable folder"
                          % (path, e.strerror or e))


# ------------------------------------------------------------------ command handlers
# Each takes the results folder; flags come from FLAGS. Imports are inside, so that `--help`
# and flag errors answer without loading TensorFlow.
def _train_teacher(results_dir):
    if FLAGS.env:
        from reproduce.rl import teacher_cell
        teacher_cell.run_rl_teacher(FLAGS.env, FLAGS.profile, results_dir, FLAGS.seed,
                                    FLAGS.threads, FLAGS.set, _log)
        return
    _require("task")
    from reproduce.table1 import image_cells
    image_cells.run_teacher(FLAGS.task, FLAGS.profile, results_dir, FLAGS.data_dir,
                            FLAGS.threads, FLAGS.set, _log)


def _distill(results_dir):
    if FLAGS.env:  # policy distillation (Tables 6-7)
        _require("method")
        from reproduce.rl import distill_cell
        distill_cell.run_rl_distill(FLAGS.method, FLAGS.env, FLAGS.profile, FLAGS.seed,
                                    results_dir, FLAGS.threads, FLAGS.set, _log,
                                    FLAGS.teacher_checkpoint)
        return
    _require("task", "method")
    from reproduce.table1 import image_cells
    image_cells.run_distill(FLAGS.method, FLAGS.task, FLAGS.profile, FLAGS.seed, results_dir,
                            FLAGS.data_dir, FLAGS.threads, FLAGS.set, _log,
                            FLAGS.teacher_checkpoint)


def _run_all(results_dir):
    from building_blocks.image import fetch
    from reproduce.grid import grid, registry
    if FLAGS.data_mirror:  # the families' preflight fetches missing data from these first
        os.environ[fetch.MIRRORS_ENV] = ",".join(
            FLAGS.data_mirror + [os.environ.get(fetch.MIRRORS_ENV, "")]).strip(",")
    grid.run_all(FLAGS.profile, FLAGS.only or list(registry.REGISTRY), FLAGS.jobs, results_dir,
                 FLAGS.data_dir, _seeds(), FLAGS.threads, _log, FLAGS.retrain_teachers,
                 backend=FLAGS.backend, ray_address=FLAGS.ray_address,
                 gpus_per_cell=FLAGS.gpus_per_cell, cell_patterns=FLAGS.cells,
                 reuse_reference_teachers=FLAGS.reuse_reference_teachers)


def _fig2_teacher(results_dir):
    _require("k")
    from reproduce.fig2 import fig2
    fig2.run_teacher(FLAGS.k, FLAGS.profile, results_dir, FLAGS.data_dir, FLAGS.threads,
                     FLAGS.set, _log)


def _fig2_distill(results_dir):
    _require("k", "method")
    from reproduce.fig2 import fig2
    fig2.run_distill(FLAGS.method, FLAGS.k, FLAGS.profile, FLAGS.seed, results_dir,
                     FLAGS.data_dir, FLAGS.threads, FLAGS.set, _log)


def _tables(results_dir):
    from reproduce.grid import registry
    for family in registry.get(FLAGS.only or list(registry.REGISTRY)):
        family.write_outputs(results_dir, FLAGS.profile, None, _log)
        _log("tables: %s -> %s" % (family.name, ", ".join(family.outputs)))


def _check(results_dir):
    from reproduce.verdicts import check
    check.run_check(results_dir, FLAGS.require, _log)


def _report(results_dir):
    from reproduce.verdicts import report
    report.write_report(results_dir, _log)


def _bench(results_dir):  # pylint: disable=unused-argument
    if FLAGS.bench_grid_cells or FLAGS.bench_ray_actors:
        from reproduce.bench import executors
        if FLAGS.bench_grid_cells:
            executors.main(FLAGS.bench_grid_cells, FLAGS.jobs, _log)
        if FLAGS.bench_ray_actors:
            executors.actors_main(FLAGS.bench_ray_actors, _log)
        return
    from reproduce.bench import conv_share, distill_steps
    threads = FLAGS.threads or 2
    if not FLAGS.bench_convs:
        distill_steps.main(FLAGS.batch_sizes, FLAGS.bench_iters, threads,
                           FLAGS.torch_python, _log, FLAGS.bench_profile, FLAGS.bench_cell_updates)
    if FLAGS.bench_convs or FLAGS.torch_python:
        conv_share.main(distill_steps.check_batch_sizes(FLAGS.batch_sizes), FLAGS.bench_iters,
                        threads, FLAGS.torch_python, _log)
    if FLAGS.bench_convs:
        return
    if FLAGS.bench_rl:
        from reproduce.bench import ppo
        ppo.main(FLAGS.bench_rl, _log)
    if FLAGS.bench_envs:
        from reproduce.bench import envs
        envs.main(FLAGS.bench_envs, _log)


def _env_info(results_dir):  # pylint: disable=unused-argument
    _require("env")
    from reproduce.core import env_info
    env_info.main(FLAGS.env, FLAGS.seed, FLAGS.steps)


def _fetch_data(results_dir):  # pylint: disable=unused-argument
    from building_blocks.image import fetch
    mirrors = fetch.user_mirrors(FLAGS.data_mirror)
    for task in FLAGS.tasks:
        got = fetch.fetch_task(task, FLAGS.data_dir, mirrors, _log)
        _log("fetch_data: %s: %s" % (task, "%d file(s) downloaded" % got if got
                                     else "all files present and checked"))


HANDLERS = {"train_teacher": _train_teacher, "distill": _distill, "run_all": _run_all,
            "fig2_teacher": _fig2_teacher, "fig2_distill": _fig2_distill, "tables": _tables,
            "check": _check, "report": _report, "bench": _bench, "env_info": _env_info,
            "fetch_data": _fetch_data}
NO_RESULTS = ("bench", "env_info", "fetch_data")  # read and write no results folder
NO_PROFILE = NO_RESULTS  # check and report take one only to find the default runs/<profile>
CREATES_RESULTS = ("train_teacher", "distill", "run_all")  # may make --results_dir


def _set_omp_threads(command):
    """OMP_NUM_THREADS before TensorFlow loads (oneDNN/OpenMP read it then)."""
    if FLAGS.threads:
        os.environ.setdefault("OMP_NUM_THREADS", str(FLAGS.threads))
    if command == "train_teacher" and FLAGS.env:
        from reproduce.rl import teacher_configs  # TF-free
        threads = teacher_configs.learner_omp_threads(FLAGS.env, FLAGS.profile or "quick",
                                                      FLAGS.set,
                                                      FLAGS.threads or os.cpu_count() or 1)
        if threads:
            os.environ["OMP_NUM_THREADS"] = str(threads)


def _resolve_env():
    """--env accepts a task name or its gym id (env_info prints both)."""
    if not FLAGS.env:
        return
    from building_blocks.common.config import ConfigError
    from building_blocks.rl.envs.specs import resolve_task
    try:
        FLAGS.env = resolve_task(FLAGS.env)
    except ConfigError as e:
        _fail(e)


def _default_profile(command):
    if FLAGS.profile is None and command not in NO_PROFILE:
        from building_blocks.common.tf_compat import gpu_visible
        FLAGS.profile = "paper" if gpu_visible() else "quick"
        _log("profile: %s (default: %s)" % (FLAGS.profile, "TensorFlow sees a GPU"
                                            if FLAGS.profile == "paper" else "no GPU visible"))
        os.environ["GAS_PROFILE_CHOICE"] = "default (%s)" % FLAGS.profile


def main(argv):
    if len(argv) != 2 or argv[1] not in COMMANDS:
        _fail("unknown command %s; usage: python -m reproduce {%s} [flags]"
              % (" ".join(argv[1:]) or "(none)", "|".join(COMMANDS)))
    command = argv[1]
    from reproduce.core import provenance
    provenance.git_sha()  # the commit of the code this process loads, whenever it records it
    _resolve_env()
    _set_omp_threads(command)
    from building_blocks.common.checkpoint import CheckpointError
    from building_blocks.common.config import ConfigError
    from building_blocks.image.data import DataError
    from reproduce.core import diverged, paper_reference, run_folders, tables
    from reproduce.grid import grid
    from reproduce.verdicts import check
    if not (command in ("check", "report") and FLAGS.results_dir):
        _default_profile(command)
    results_dir = FLAGS.results_dir or (None if command in NO_RESULTS else
                                        run_folders.default_results_dir(FLAGS.profile))
    try:
        if command not in NO_RESULTS:
            _check_writable(results_dir, create=command in CREATES_RESULTS)
        HANDLERS[command](results_dir)
    except (DataError, CheckpointError, ConfigError, grid.GridError,
            paper_reference.ReferenceError, check.CheckError, tables.ResultsError) as e:
        _fail(e)
    except diverged.CellDiverged as e:  # a finished run without a result (run_all tells apart)
        print("error: %s" % e, file=sys.stderr)
        sys.exit(diverged.EXIT_CODE)


if __name__ == "__main__":
    app.run(main, flags_parser=_parse_flags)

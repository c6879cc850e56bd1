"""Bad-input catalogue: every user-facing entry point (train_teacher, distill, run_all,
tables, bench, and the flags they share) fed its bad inputs. Each case must exit non-zero
with one line `error: ...` on stderr (no traceback) that names the culprit (the file, flag or
name), and must leave a finished results tree byte-for-byte unchanged.
"""
import collections
import gzip
import hashlib
import os
import shutil
import subprocess
import sys

import pytest

from building_blocks.image.data import resolve_data_dir
from tests.conftest import REPO

pytestmark = pytest.mark.skipif(
    not os.path.isdir(os.path.join(resolve_data_dir(), "mnist")) and not os.environ.get("CI"),
    reason="no MNIST under the data directory (set GAS_DATA_DIR)")

# GAS_NO_FETCH: run_all must not try the network for a deliberately missing file here.
ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONHASHSEED="0", MPLBACKEND="Agg",
           GAS_NO_FETCH="1")
for _name in ("GAS_TEST_PAUSE_WRITE", "GAS_PAPER_REFERENCE", "RAY_ADDRESS"):
    ENV.pop(_name, None)
DATA = resolve_data_dir()
SMOKE = ["--profile", "smoke"]
TEACHER = ["train_teacher", "--task", "mnist"] + SMOKE
DISTILL = ["distill", "--method", "noise_kd", "--task", "mnist"] + SMOKE
RUN_ALL_ANY_SEEDS = ["run_all", "--only", "table1", "--cells", "mnist/noise_kd/*"] + SMOKE
RUN_ALL = RUN_ALL_ANY_SEEDS + ["--seeds", "0"]
TABLES = ["tables"] + SMOKE
RL_TEACHER = ["train_teacher", "--env", "cartpole"] + SMOKE


class Context(object):
    """What a case's setup may use: ``tmp`` (a fresh folder), ``finished`` (the finished
    results tree every case gets as --results_dir unless it passes its own), ``env``."""

    def __init__(self, tmp, finished):
        self.tmp, self.finished, self.env = str(tmp), finished, {}

    def data_dir(self, broken_file=None, how=None):
        """A data folder of links to the real files, with ``broken_file`` (mnist/...) broken."""
        root = os.path.join(self.tmp, "data")
        for folder in ("mnist", "fashion-mnist"):
            os.makedirs(os.path.join(root, folder))
            for name in os.listdir(os.path.join(DATA, folder)):
                os.symlink(os.path.join(DATA, folder, name), os.path.join(root, folder, name))
        if broken_file:
            path = os.path.join(root, broken_file)
            os.unlink(path)
            source = os.path.join(DATA, broken_file)
            if how == "truncated_gz":
                with open(source, "rb") as f:
                    data = f.read()
                with open(path, "wb") as f:
                    f.write(data[:len(data) // 2])
            elif how == "wrong_checksum":  # a valid IDX file whose content differs by one byte
                with gzip.open(source) as f:
                    data = bytearray(f.read())
                data[-1] = (data[-1] + 1) % 10
                with open(path[:-len(".gz")], "wb") as f:
                    f.write(bytes(data))
        return root

    def teacher_copy(self, how):
        source = os.path.join(self.finished, "smoke", "teachers", "mnist.npz")
        path = os.path.join(self.tmp, "teacher.npz")
        shutil.copy(source, path)
        shutil.copy(source + ".json", path + ".json")
        if how == "truncated":
            with open(path, "rb") as f:
                data = f.read()
            with open(path, "wb") as f:
                f.write(data[:len(data) // 3])
        elif how == "bad_metadata":
            with open(path + ".json", "w") as f:
                f.write('{"sha256": ')
        return path

    def reference(self, how):
        with open(os.path.join(REPO, "reproduce", "paper_reference.csv")) as f:
            lines = f.read().splitlines(True)
        if how == "missing_row":
            lines = [l for l in lines if not l.startswith("table1,gas,mnist,")]
            assert len(lines) > 2
        elif how == "missing_column":
            lines = [",".join(l.split(",")[1:]) for l in lines]
        path = os.path.join(self.tmp, "paper_reference_%s.csv" % how)
        with open(path, "w") as f:
            f.writelines(lines)
        self.env["GAS_PAPER_REFERENCE"] = path
        return path

    def results_under_a_file(self):
        blocker = os.path.join(self.tmp, "a_file")
        with open(blocker, "w") as f:
            f.write("not a folder\n")
        return os.path.join(blocker, "results")

    def read_only_results(self):
        path = os.path.join(self.tmp, "read_only")
        os.makedirs(path)
        os.chmod(path, 0o500)
        return path

    def corrupt_cell_copy(self):
        path = os.path.join(self.tmp, "copy")
        shutil.copytree(self.finished, path)
        with open(os.path.join(path, "smoke", "cells", "mnist", "noise_kd", "seed0.json"),
                  "w") as f:
            f.write('{"status": "ok", ')
        return path


def _data(broken, how=None):
    return lambda c: c.data_dir(broken, how)


Case = collections.namedtuple("Case", ["name", "argv", "setup", "culprit"])
# argv: "{X}" is replaced by setup(context) and "{tmp}" by the case's folder; --results_dir
# is the finished tree unless the argv gives one. culprit: text the error line must contain
# ("{X}" = setup's value).
CASES = [
    # datasets: missing, corrupt, wrong checksum, for each command that reads them
    Case("missing_idx_teacher", TEACHER + ["--data_dir", "{X}"],
         _data("mnist/train-images-idx3-ubyte.gz"), "train-images-idx3-ubyte"),
    Case("missing_idx_run_all", RUN_ALL + ["--data_dir", "{X}"],
         _data("mnist/t10k-labels-idx1-ubyte.gz"), "t10k-labels-idx1-ubyte"),
    Case("missing_idx_distill", DISTILL + ["--data_dir", "{X}"],
         _data("mnist/t10k-images-idx3-ubyte.gz"), "t10k-images-idx3-ubyte"),
    Case("missing_data_dir", TEACHER + ["--data_dir", "{tmp}/nowhere"], None, "nowhere"),
    Case("corrupt_gz_teacher", TEACHER + ["--data_dir", "{X}"],
         _data("mnist/t10k-images-idx3-ubyte.gz", "truncated_gz"), "t10k-images-idx3-ubyte.gz"),
    Case("corrupt_gz_run_all", RUN_ALL + ["--data_dir", "{X}"],
         _data("fashion-mnist/train-labels-idx1-ubyte.gz", "truncated_gz"),
         "fashion-mnist/train-labels-idx1-ubyte.gz"),
    Case("wrong_checksum_teacher", TEACHER + ["--data_dir", "{X}"],
         _data("mnist/train-labels-idx1-ubyte.gz", "wrong_checksum"), "train-labels-idx1-ubyte"),
    Case("wrong_checksum_distill", DISTILL + ["--data_dir", "{X}"],
         _data("mnist/t10k-labels-idx1-ubyte.gz", "wrong_checksum"), "t10k-labels-idx1-ubyte"),
    # unknown names
    Case("unknown_method", ["distill", "--method", "zskd", "--task", "mnist"] + SMOKE, None,
         "--method"),
    Case("unknown_task_distill", ["distill", "--method", "gas", "--task", "svhn"] + SMOKE, None,
         "svhn"),
    Case("unknown_task_teacher", ["train_teacher", "--task", "svhn"] + SMOKE, None, "svhn"),
    Case("unknown_profile", ["train_teacher", "--task", "mnist", "--profile", "fast"], None,
         "--profile"),
    Case("unknown_only", ["run_all", "--only", "table9"] + SMOKE, None, "table9"),
    Case("unknown_backend", RUN_ALL + ["--backend", "spark"], None, "--backend"),
    Case("unknown_cells", ["run_all", "--cells", "mnist/zskd/*"] + SMOKE, None, "mnist/zskd/*"),
    Case("unknown_command", ["frobnicate"], None, "frobnicate"),
    Case("fetch_unknown_task", ["fetch_data", "--tasks", "svhn", "--data_dir", "{tmp}/d"], None,
         "svhn"),
    Case("unknown_set_key", DISTILL + ["--set", "student_stepz=3"], None, "student_stepz"),
    Case("set_without_value", DISTILL + ["--set", "student_steps"], None, "student_steps"),
    Case("missing_method", ["distill", "--task", "mnist"] + SMOKE, None, "--method"),
    # seeds and step counts
    Case("negative_seed", DISTILL + ["--seed", "-1"], None, "--seed"),
    Case("non_integer_seed", DISTILL + ["--seed", "1.5"], None, "--seed"),
    Case("negative_seeds", RUN_ALL_ANY_SEEDS + ["--seeds", "0,-1"], None, "--seeds"),
    Case("non_integer_seeds", RUN_ALL_ANY_SEEDS + ["--seeds", "0,x"], None, "--seeds"),
    Case("non_integer_steps", DISTILL + ["--set", "student_steps=2.5"], None, "student_steps"),
    Case("negative_steps", DISTILL + ["--set", "student_steps=-30"], None, "student_steps"),
    Case("zero_teacher_epochs", TEACHER + ["--set", "epochs=0"], None, "epochs"),
    Case("non_integer_epochs", TEACHER + ["--set", "epochs=one"], None, "epochs"),
    Case("zero_jobs", RUN_ALL + ["--jobs", "0"], None, "--jobs"),
    Case("non_integer_jobs", RUN_ALL + ["--jobs", "two"], None, "--jobs"),
    Case("negative_threads", DISTILL + ["--threads", "-2"], None, "--threads"),
    Case("zero_bench_iters", ["bench", "--bench_iters", "0"], None, "--bench_iters"),
    Case("non_integer_batch_sizes", ["bench", "--batch_sizes", "64,x"], None, "--batch_sizes"),
    Case("odd_bench_cell_updates", ["bench", "--bench_cell_updates", "5"], None,
         "--bench_cell_updates"),
    Case("non_boolean_xla_generators", DISTILL + ["--set", "xla_generators=maybe"], None,
         "xla_generators"),
    Case("negative_gpus_per_cell", RUN_ALL + ["--backend", "ray", "--gpus_per_cell", "-1"], None,
         "--gpus_per_cell"),
    # checkpoints
    Case("truncated_teacher", DISTILL + ["--teacher_checkpoint", "{X}"],
         lambda c: c.teacher_copy("truncated"), "{X}"),
    Case("corrupt_teacher_metadata", DISTILL + ["--teacher_checkpoint", "{X}"],
         lambda c: c.teacher_copy("bad_metadata"), "{X}.json"),
    Case("missing_teacher", DISTILL + ["--teacher_checkpoint", "{tmp}/none.npz"], None,
         "none.npz"),
    # a learning rate that makes training diverge: the cell is recorded as diverged (in its
    # own --results_dir, so the finished tree stays as it is) and the error names the term
    Case("diverging_learning_rate", DISTILL + [
        "--set", "student_lr=nan", "--teacher_checkpoint", "{X}", "--results_dir",
        "{tmp}/diverged"], lambda c: c.teacher_copy("intact"), "student KL"),
    # results folder not writable; a corrupt finished cell
    Case("results_under_a_file_teacher", TEACHER + ["--results_dir", "{X}"],
         lambda c: c.results_under_a_file(), "{X}"),
    Case("results_under_a_file_run_all", RUN_ALL + ["--results_dir", "{X}"],
         lambda c: c.results_under_a_file(), "{X}"),
    Case("results_read_only", TEACHER + ["--results_dir", "{X}"],
         lambda c: c.read_only_results(), "{X}"),
    Case("corrupt_cell_json_tables", TABLES + ["--results_dir", "{X}"],
         lambda c: c.corrupt_cell_copy(), "noise_kd/seed0.json"),
    # paper reference file
    Case("reference_missing_row_tables", TABLES, lambda c: c.reference("missing_row"), "{X}"),
    Case("reference_missing_row_run_all", RUN_ALL, lambda c: c.reference("missing_row"), "{X}"),
    Case("reference_missing_column", TABLES, lambda c: c.reference("missing_column"), "{X}"),
    Case("reference_missing_file", TABLES,
         lambda c: c.env.update(GAS_PAPER_REFERENCE=os.path.join(c.tmp, "gone.csv")),
         "gone.csv"),
    # RL entry points (--env)
    Case("unknown_env_teacher", ["train_teacher", "--env", "pacman"] + SMOKE, None, "pacman"),
    Case("unknown_env_info", ["env_info", "--env", "pacman"], None, "pacman"),
    Case("ambiguous_gym_id", ["env_info", "--env", "PongNoFrameskip-v4"], None,
         "pong_lowdim"),
    Case("negative_env_info_steps", ["env_info", "--env", "cartpole", "--steps", "-5"], None,
         "--steps"),
    Case("non_integer_rl_steps", RL_TEACHER + ["--set", "total_transitions=1.5"], None,
         "total_transitions"),
    Case("negative_rl_steps", RL_TEACHER + ["--set", "total_transitions=-8"], None,
         "total_transitions"),
    Case("unknown_actor_backend", RL_TEACHER + ["--set", "actor_backend=spark"], None,
         "actor_backend"),
    Case("retrain_and_reuse_reference_teachers",
         RUN_ALL + ["--retrain_teachers", "--reuse_reference_teachers"], None,
         "--reuse_reference_teachers"),
    # Ray
    Case("ray_address_without_ray_backend", RUN_ALL + ["--ray_address", "127.0.0.1:1"], None,
         "--ray_address"),
    Case("unreachable_ray_address", RUN_ALL + ["--backend", "ray", "--ray_address",
                                               "127.0.0.1:1"], None, "127.0.0.1:1"),
]
# Cases whose inputs are all valid: the cell starts (printing its resolved config), then stops.
RUNS_BEFORE_FAILING = ("diverging_learning_rate",)


def tree_digest(root):
    digest = hashlib.sha256()
    for directory, dirs, names in sorted(os.walk(root)):
        dirs.sort()
        for name in sorted(names):
            path = os.path.join(directory, name)
            digest.update(os.path.relpath(path, root).encode())
            with open(path, "rb") as f:
                digest.update(f.read())
    return digest.hexdigest()


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    results = str(tmp_path_factory.mktemp("finished"))
    completed = subprocess.run(
        [sys.executable, "-m", "reproduce"] + RUN_ALL + ["--results_dir", results,
                                                         "--threads", "2"],
        cwd=REPO, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert completed.returncode == 0, completed.stdout.decode()[-3000:]
    return results, tree_digest(results)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_gives_one_line_error_naming_the_culprit(case, finished, tmp_path):
    results, digest = finished
    if case.name == "results_read_only" and os.geteuid() == 0:
        pytest.skip("running as root: permission bits do not stop writes (the "
                    "results_under_a_file cases cover an unwritable --results_dir)")
    context = Context(tmp_path, results)
    value = case.setup(context) if case.setup else ""
    argv = [a.replace("{X}", value or "").replace("{tmp}", str(tmp_path)) for a in case.argv]
    if "--results_dir" not in argv:
        argv += ["--results_dir", results]
    completed = subprocess.run([sys.executable, "-m", "reproduce"] + argv, cwd=REPO,
                               env=dict(ENV, **context.env), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, timeout=120)
    err = completed.stderr.decode()
    lines = [l for l in err.splitlines() if l.strip()]
    # one exit code for every refused input (issue 15: they mixed 1 and 2); 3 = diverged
    expected = 3 if case.name in RUNS_BEFORE_FAILING else 2
    assert completed.returncode == expected, (argv, completed.returncode,
                                              completed.stdout.decode()[-2000:])
    assert "Traceback" not in err, err[-3000:]
    assert lines and lines[-1].startswith("error: "), err[-3000:]
    assert sum(l.startswith("error") for l in lines) == 1, err[-3000:]
    culprit = case.culprit.replace("{X}", value or "")
    assert culprit in lines[-1], (culprit, lines[-1])
    if case.name not in RUNS_BEFORE_FAILING:  # refused before the 30-line resolved config
        assert '"seed":' not in completed.stdout.decode(), completed.stdout.decode()[-2000:]
    assert tree_digest(results) == digest, "a bad input changed the finished results"


def test_the_catalogue_covers_every_entry_point():
    commands = {c.argv[0] for c in CASES}
    assert {"train_teacher", "distill", "run_all", "tables", "bench", "env_info"} <= commands
    assert len(CASES) >= 40

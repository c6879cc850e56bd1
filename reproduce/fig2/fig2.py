"""Figure 2, the input-modes study (Section 4, "Input Modes Effect on Distillation"):
configs per profile, its cells (teachers per k, students per method × k × seed) and its
outputs (results/fig2_input_modes.csv, results/figures/fig2_input_modes.png).

Teachers (LeNet-5, Adam 0.0007) classify "even" vs "odd" with k exemplars per class
(building_blocks.image.input_modes); students are LeNet-5-Half. Methods, all with Table 2's
settings (generator Adam 0.01, DCGAN without batch norm; student Adam 0.001):
- ``dafl``: one generator, L_G (Eq. 3), no re-initialisation;
- ``dafl_reinit``: the same plus GAS's periodic re-initialisation;
- ``gas``: 8 concurrent generators, the adaptive loss (Eq. 4, γ = 0.4) and re-initialisation.
All three use Algorithm 1's schedule, so they differ only in those three ingredients.
"""
import collections
import csv
import os
import time

from building_blocks.common import checkpoint
from building_blocks.common.config import (ConfigError, DistillConfig, TeacherConfig,
                                           apply_overrides, describe)
from building_blocks.common.io_utils import atomic_write_json, atomic_write_text
from building_blocks.image import data as data_lib
from building_blocks.image import image_tasks, input_modes, kmnist, runner
from reproduce.core import cells, diverged
from reproduce.core.provenance import portable_path
from reproduce.core.families import Family, GridCell
from reproduce.table1 import configs, image_cells

NAME = "fig2"
CSV_FILE = "fig2_input_modes.csv"
FIGURE_FILE = os.path.join("figures", "fig2_input_modes.png")
METHODS = ("dafl", "dafl_reinit", "gas")
KS = tuple(range(1, input_modes.MAX_K + 1))
COLUMNS = ("method", "k", "task", "mean", "std", "n", "profile", "note")
# The paper gives Figure 2 only as a plot; its claim in words (Section 4):
PAPER_CLAIM = ("Section 4: \"DAFL's performance drops significantly past 2 digits per class, "
               "while reinitializations and GAS is more robust to increases in exemplars per "
               "class.\" (Figure 2 gives no numbers in the text.)")

# Table 2: teacher Adam 0.0007 (TeacherConfig's default learning rate, B.1.1's value).
# CHOICE: epochs as for Table 1's MNIST teacher (paper 30); quick 3 (binary tasks converge
# fast); smoke 1 epoch of 2,048 images.
_TEACHER_EPOCHS = {"paper": 30, "quick": 3, "smoke": 1}
# Schedules. CHOICE (the paper gives none for Figure 2): paper = Table 1's MNIST schedule
# (24,000 student updates, batch 512 = 8 × 64, re-init every 4,000, 100:20 rounds).
# quick: Table 1's quick rules (``configs.schedule_problems``, run by ``check_schedule``):
# equal student updates for the three methods, 5:1 rounds of 25:5, one re-init (at 500) so
# that each generator lifetime gets 100 updates, a first round of 2.5% of the run; batch 32
# (4 samples per GAS generator, two classes) keeps the 45 cells at about 50 min on 2 cores.
_SCHEDULE = {  # student_steps, batch, (N_s, N_g), reinit_every, eval_every
    "paper": (24000, 512, (100, 20), 4000, 1000),
    "quick": (1000, 32, (25, 5), 500, 100),
    "smoke": (10, 8, (5, 1), 5, 5),
}


def _check(profile, k=None, method=None):
    if profile not in configs.PROFILES:
        raise ConfigError("unknown --profile %r; choose one of %s"
                          % (profile, ", ".join(configs.PROFILES)))
    if k is not None and k not in KS:
        raise ConfigError("--k must be in 1..%d (exemplars per class), got %r"
                          % (input_modes.MAX_K, k))
    if method is not None and method not in METHODS:
        raise ConfigError("unknown --method %r for fig2; choose one of %s"
                          % (method, ", ".join(METHODS)))


def teacher_config(k, profile):
    _check(profile, k)
    return TeacherConfig(task=input_modes.task_name(k), epochs=_TEACHER_EPOCHS[profile],
                         learning_rate=7e-4,  # Table 2
                         train_examples=2048 if profile == "smoke" else 0,
                         seed=configs.TEACHER_SEED)


def generator_output_map(mean, std):
    """(scale, shift) taking tanh's [−1, 1] to pixels [0, 1], normalised: ((t+1)/2 − m)/s."""
    return 0.5 / std, (0.5 - mean) / std


def distill_config(method, k, profile, seed):
    """One Figure 2 cell (Table 2's optimisers; GAS's Algorithm 1 schedule for all three)."""
    _check(profile, k, method)
    if seed < 0:
        raise ConfigError("seed must be >= 0, got %d" % seed)
    steps, batch, rounds, reinit_every, eval_every = _SCHEDULE[profile]
    scale, shift = generator_output_map(data_lib.IMAGE_TASKS["mnist"].mean,
                                        data_lib.IMAGE_TASKS["mnist"].std)
    is_gas = method == "gas"
    return DistillConfig(
        method=method, task=input_modes.task_name(k), seed=seed, student_steps=steps,
        batch_size=batch, student_lr=1e-3,            # Table 2: student Adam 0.001
        generator_lr=0.01,                             # Table 2: generator Adam 0.01
        generator_batch_norm=False,                    # Table 2: DCGAN without batch norm
        generator_output_scale=scale, generator_output_shift=shift,
        n_generators=8 if is_gas else 1,               # B.1.1: 8 concurrent generators
        student_steps_per_round=rounds[0], generator_steps_per_round=rounds[1],
        reinit_every=0 if method == "dafl" else reinit_every,
        gamma=0.4 if is_gas else 0.0,                  # CHOICE: B.1.2's γ (none given here)
        latent_distribution="uniform",                 # B.1.1: z ~ U(−1, 1)
        eval_every=eval_every, log_every_s=30.0 if profile != "smoke" else 5.0)


def check_schedule(profile):
    """``configs.schedule_problems`` for each method's Figure 2 schedule (two classes; the
    ``dafl`` row has no re-init by design). Empty for ``paper`` and ``quick``."""
    problems = []
    for method in METHODS:
        problems += configs.schedule_problems(
            distill_config(method, 1, profile, 0), 2, "%s fig2 %s" % (profile, method),
            reinit=method != "dafl")
    return problems


def load_task(k, data_dir=None):
    """The even/odd Dataset for k; KMNIST is loaded only for k > 5."""
    mnist = image_tasks.load_image_task("mnist", data_dir)
    extra = kmnist.load_kmnist(data_dir) if k > input_modes.MAX_MNIST_K else None
    return input_modes.even_odd_task(k, mnist, extra)


def teacher_cell(k):
    return image_cells.teacher_cell(input_modes.task_name(k))


def distill_cell(k, method, seed):
    return image_cells.distill_cell(input_modes.task_name(k), method, seed)


def _teacher_sha(path):
    try:
        return checkpoint.read_metadata(path).get("sha256")
    except checkpoint.CheckpointError:
        return None


def run_teacher(k, profile, results_dir, data_dir=None, threads=0, overrides=(), log=print):
    config = apply_overrides(teacher_config(k, profile), overrides)
    config.validate()
    dataset = load_task(k, data_dir)
    # Printed once every input is checked, so a bad one ends in its error line alone.
    log(describe(config))
    log("fig2 k=%d: %d training / %d test images, labels even=0 odd=1, exemplars %s"
        % (k, len(dataset.train.labels), len(dataset.test.labels), input_modes.exemplars(k)))
    started = time.time()
    cell = teacher_cell(k)
    path = image_cells.teacher_path(results_dir, profile, cell.task)
    result = runner.train_teacher(config, dataset, path, threads, log,
                                  cells.summary_dir(results_dir, profile, cell))
    record = cells.cell_record(cell, profile, config, result, started)
    record.update(family=NAME, k=k, checkpoint=os.path.relpath(path, results_dir),
                  teacher_checkpoint_sha256=_teacher_sha(path),
                  train_examples=len(dataset.train.labels),
                  test_examples=len(dataset.test.labels))
    atomic_write_json(cells.result_path(results_dir, profile, cell), record)
    log("fig2 teacher k=%d: best test accuracy %.2f%%" % (k, result["test_accuracy"]))
    return record


def run_distill(method, k, profile, seed, results_dir, data_dir=None, threads=0, overrides=(),
                log=print):
    config = apply_overrides(distill_config(method, k, profile, seed), overrides)
    config.validate()
    path = image_cells.teacher_path(results_dir, profile, input_modes.task_name(k))
    teacher_meta = checkpoint.verify(path)  # fail early and clearly if missing or corrupt
    dataset = load_task(k, data_dir)
    # Printed once every input is checked, so a bad one ends in its error line alone.
    log(describe(config))
    return image_cells.distill_image_cell(distill_cell(k, method, seed), profile, config,
                                          overrides, dataset, path, teacher_meta, results_dir,
                                          threads, log, {"family": NAME, "k": k}, label="fig2 ")


# ------------------------------------------------------------------------------ the family
def available_ks(data_dir):
    """k = 1..5 always; 6..10 when the KMNIST files are present."""
    top = input_modes.MAX_K if kmnist.is_available(data_dir) else input_modes.MAX_MNIST_K
    return tuple(k for k in KS if k <= top)


class Fig2(Family):
    """Figure 2: student accuracy vs exemplars per class, DAFL / DAFL + re-init / GAS."""

    name = NAME
    outputs = (CSV_FILE, FIGURE_FILE)

    def preflight(self, data_dir):
        from building_blocks.image import fetch  # pylint: disable=g-import-not-at-top
        fetch.ensure(["mnist"], data_dir)  # fetched if missing; KMNIST (k >= 6) only by hand
        image_tasks.load_image_task("mnist", data_dir)
        if kmnist.is_available(data_dir):
            kmnist.load_kmnist(data_dir)  # present but corrupt: stop now, naming the file

    def cells(self, profile, seeds, results_dir, data_dir):
        seeds = seeds or configs.SEEDS[profile]
        ks = available_ks(data_dir)
        teachers = []
        for k in ks:
            config = teacher_config(k, profile)
            cell = teacher_cell(k)
            examples = config.train_examples or 12000 * k
            teachers.append(GridCell(cells.cell_name(cell), ["fig2_teacher", "--k", str(k)],
                                     cells.result_path(results_dir, profile, cell),
                                     0.05 * config.epochs * examples / 256.0, None))
        students = []
        for method in ("gas", "dafl_reinit", "dafl"):
            for k in reversed(ks):  # larger tasks evaluate longer: start them first
                for seed in seeds:
                    config = distill_config(method, k, profile, seed)
                    cell = distill_cell(k, method, seed)
                    rounds = config.student_steps / float(config.student_steps_per_round)
                    cost = (config.student_steps * 0.25 * config.batch_size / 64.0
                            + rounds * config.generator_steps_per_round * config.batch_size / 64.0)
                    students.append(GridCell(
                        cells.cell_name(cell),
                        ["fig2_distill", "--k", str(k), "--method", method, "--seed", str(seed)],
                        cells.result_path(results_dir, profile, cell), cost + 5.0,
                        cells.cell_name(teacher_cell(k)),
                        image_cells.teacher_path(results_dir, profile, cell.task)))
        return teachers, students

    def write_outputs(self, results_dir, profile, run_info=None, log=print):
        return write_outputs(results_dir, profile, run_info, log)


# ----------------------------------------------------------------------------- outputs
def _is_fig2(record):
    return record.get("task", "").startswith("evenodd_k")


def fig2_rows(records, profile, kmnist_present):
    from reproduce.core import tables  # pylint: disable=g-import-not-at-top
    finished, stopped = tables.split_diverged([r for r in records if _is_fig2(r)])
    rows = []
    for method in ("teacher",) + METHODS:
        for k in KS:
            task = input_modes.task_name(k)
            values = [r["test_accuracy"] for r in finished.get((method, task), [])]
            note = ""
            if values:
                mean, std = tables.mean_std(values)
                if method == "teacher":
                    note = "one teacher (seed %d)" % configs.TEACHER_SEED
            else:
                mean = std = None
                if k > input_modes.MAX_MNIST_K and not kmnist_present:
                    note = "not run: data missing (%s)" % kmnist.missing_message(
                        show_path=portable_path)  # no machine's path in a committed table
                elif not stopped.get((method, task)):
                    note = "not run"
            note = diverged.with_note(note, stopped.get((method, task), []))
            rows.append(collections.OrderedDict([
                ("method", method), ("k", str(k)), ("task", task),
                ("mean", tables.fmt(mean)), ("std", tables.fmt(std, 3)),
                ("n", str(len(values))), ("profile", profile), ("note", note)]))
    return rows


def write_outputs(results_dir, profile, run_info=None, log=print, data_dir=None):
    """results/fig2_input_modes.csv and .png, and the manifest over all cells of the profile."""
    from reproduce.core import tables  # pylint: disable=g-import-not-at-top
    from reproduce.table1 import manifest  # pylint: disable=g-import-not-at-top
    records = tables.load_cell_records(results_dir, profile)
    rows = fig2_rows(records + tables.load_cell_records(results_dir, profile,
                                                        statuses=(diverged.STATUS,)),
                     profile, kmnist.is_available(data_dir))
    atomic_write_text(os.path.join(results_dir, CSV_FILE), tables.rows_to_csv(rows, COLUMNS))
    from reproduce.fig2 import figures  # pylint: disable=g-import-not-at-top
    figures.plot_fig2(rows, os.path.join(results_dir, FIGURE_FILE))
    manifest.write_manifest(results_dir, profile, records, run_info)
    return rows


def read_rows(results_dir):
    path = os.path.join(results_dir, CSV_FILE)
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return list(csv.DictReader(f))


def report_section(results_dir):
    """Markdown lines for REPORT.md: the CSV as a method × k table beside the paper's claim."""
    rows = read_rows(results_dir)
    if not rows:
        return []
    ks = list(collections.OrderedDict.fromkeys(r["k"] for r in rows))
    methods = list(collections.OrderedDict.fromkeys(r["method"] for r in rows))
    by_key = {(r["method"], r["k"]): r for r in rows}
    lines = ["### Figure 2: input modes, test accuracy (%) vs exemplars per class k", "",
             "Paper (qualitative only): %s" % PAPER_CLAIM, "",
             "Ours (%s profile; mean ± std across seeds, n): k = 1..5 are MNIST digits per class; "
             "k = 6..10 add Kuzushiji-MNIST symbols." % rows[0]["profile"], "",
             "| method | " + " | ".join("k=%s" % k for k in ks) + " |",
             "|---" * (len(ks) + 1) + "|"]
    for method in methods:
        cells_ = []
        for k in ks:
            row = by_key.get((method, k))
            if row is not None and not row["mean"] and diverged.NOTE_MARK in row["note"]:
                cells_.append("diverged")  # every seed diverged: no result (see the CSV)
            elif row is None or not row["mean"]:
                cells_.append("not run" + (": data missing" if row and "data missing"
                                           in row["note"] else ""))
            else:
                cells_.append("%s%s (n=%s%s)" % (
                    row["mean"], (" ± " + row["std"]) if row["std"] else "", row["n"],
                    diverged.count_suffix(row["note"])))
        lines.append("| %s | %s |" % (method, " | ".join(cells_)))
    lines.append("")
    if os.path.exists(os.path.join(results_dir, FIGURE_FILE)):
        lines += ["![Figure 2, input modes](%s)" % FIGURE_FILE, ""]
    return lines

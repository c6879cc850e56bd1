"""Table 1 as a grid family: the image teachers, then Student KD, KD on noise, DAFL and GAS
per task and seed; its outputs are Table 1's CSV/markdown, figure and calibration."""
import os

from reproduce.core import cells
from reproduce.core.families import Family, GridCell
from reproduce.table1 import configs, image_cells


def _image_teacher(results_dir, profile, task):
    cell = image_cells.teacher_cell(task)
    config = configs.teacher_config(task, profile)
    return GridCell(cells.cell_name(cell), ["train_teacher", "--task", task],
                    cells.result_path(results_dir, profile, cell),
                    0.05 * config.epochs * 235, None)


# Cost units of an image distillation cell, for the grid's ETA only (one unit ≈ 0.63 s with one
# thread on the 2-core machine). Fitted to the quick Table 1 cells' wall times there
# (results/quick/logs/run_all_table1_invocation*.log): Student KD / KD on noise ~110 s,
# DAFL ~1,300 s, GAS ~1,700-2,100 s. A cell's start (TF import, data, graph) and its
# evaluations cost about as much as a Student KD run's steps; a student step on generated
# images scales with the batch; a generator step with the number of generators.
CELL_OVERHEAD_UNITS = 130.0


def image_student_cost(config):
    rounds = config.student_steps / float(config.student_steps_per_round)
    generator_steps = rounds * config.generator_steps_per_round
    if config.method in ("dafl", "gas"):
        student_unit = 0.25 * config.batch_size / 64.0
    else:
        student_unit = 0.03
    generator_unit = 1.0 + 0.8 * (config.n_generators - 1)
    return (CELL_OVERHEAD_UNITS + config.student_steps * student_unit
            + generator_steps * generator_unit)


def _image_student(results_dir, profile, task, method, seed):
    cell = image_cells.distill_cell(task, method, seed)
    config = configs.distill_config(method, task, profile, seed)
    return GridCell(cells.cell_name(cell),
                    ["distill", "--task", task, "--method", method, "--seed", str(seed)],
                    cells.result_path(results_dir, profile, cell), image_student_cost(config),
                    cells.cell_name(image_cells.teacher_cell(task)),
                    image_cells.teacher_path(results_dir, profile, task))


class Table1(Family):
    """Table 1: Teacher, Student KD, KD on noise, DAFL and GAS on the image tasks."""

    data_dir = None  # set by cells(); None = the default data folder

    name = "table1"
    outputs = ("table1.csv", "table1.md", "figures/table1.png", "calibration.csv",
               "figures/calibration.png")

    data_dir = None

    def preflight(self, data_dir):
        from building_blocks.image import cifar10  # pylint: disable=g-import-not-at-top
        from building_blocks.image import image_tasks  # pylint: disable=g-import-not-at-top
        from reproduce.core import paper_reference  # pylint: disable=g-import-not-at-top
        from reproduce.table1 import tables  # pylint: disable=g-import-not-at-top
        from building_blocks.image import fetch  # pylint: disable=g-import-not-at-top
        # every paper row present:
        tables.table1_rows([], "", paper_reference.load_paper_reference())
        fetch.ensure(configs.IMAGE_TASKS, data_dir)  # MNIST, Fashion-MNIST: fetched if missing
        for task in configs.IMAGE_TASKS:
            image_tasks.load_image_task(task, data_dir)
        # CIFAR-10 is not fetched by run_all (170 MB, and its cells are GPU-scale): absent, its
        # cells are skipped and reported "not run: data missing" (`python -m reproduce
        # fetch_data --tasks cifar10` gets it); present, a corrupt or altered file stops the
        # grid now.
        if cifar10.is_available(data_dir):
            image_tasks.load_image_task("cifar10", data_dir)
        else:
            print("run_all: CIFAR-10 cells skipped. " + cifar10.missing_message(data_dir),
                  flush=True)

    def cells(self, profile, seeds, results_dir, data_dir):
        from building_blocks.image import cifar10  # pylint: disable=g-import-not-at-top
        from reproduce.table1 import cifar10_configs  # pylint: disable=g-import-not-at-top
        self.data_dir = data_dir
        seeds = seeds or configs.SEEDS[profile]
        tasks = configs.IMAGE_TASKS
        if cifar10.is_available(data_dir):
            tasks = tasks + configs.CIFAR_TASKS
        teachers = [_image_teacher(results_dir, profile, task) for task in tasks]
        # Most expensive first so parallel jobs finish together.
        order = ("dafl", "gas", "student_kd", "noise_kd")
        students = [_image_student(results_dir, profile, task, method, seed)
                    for method in order for task in tasks for seed in seeds
                    if task not in configs.CIFAR_TASKS
                    or method in cifar10_configs.METHODS_IN_TABLE1]
        return teachers, students

    def write_outputs(self, results_dir, profile, run_info=None, log=print):
        from reproduce.table1 import calibration, figures  # pylint: disable=g-import-not-at-top
        from reproduce.table1 import tables  # pylint: disable=g-import-not-at-top
        rows = tables.write_table1(results_dir, profile, run_info,
                                   tables.not_run_notes(self.data_dir))
        calibration.write_calibration(results_dir, profile, log)  # time-to-accuracy curves
        # Generator samples per task (issue 4, like the paper's Figure 4), for every task
        # whose DAFL or GAS seed-0 cell saved samples.
        for task in configs.TABLE1_TASKS:
            if any(os.path.exists(figures.sample_file(results_dir, profile, task, method, 0))
                   for method in ("dafl", "gas")):
                log("table1: %s" % figures.plot_samples(task, results_dir, profile,
                                                        self.data_dir))
        return rows

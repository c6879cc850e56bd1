"""Tables 6 and 7 as grid families (``reproduce.core.families``).

Teachers: a task's PPO teacher is used as it is when its .npz exists (shipped under
results/<profile>/teachers/rl/, or trained earlier); otherwise the family schedules a
``train_teacher --env`` cell for the tasks that profile trains (``TEACHER_TASKS``).
Students: one ``distill --env`` cell per method × task × seed for every task with a teacher
(existing or scheduled); the other tasks show "not run: no teacher" in the table.
"""
import os

from building_blocks.rl import envs
from reproduce.core import families
from reproduce.rl import distill_cell, distill_configs, tables, teacher_cell, teacher_configs

# Tasks whose missing teacher a profile trains itself. quick: the CPU-trainable tasks that
# have a quick transition budget (teacher_configs.QUICK_TRANSITIONS); smoke: CartPole and the ALE
# games (4096 transitions, under a minute each on 2 cores), so `--only table7` runs end to end.
TEACHER_TASKS = {"paper": tuple(teacher_configs.TABLE5),
                 "quick": tuple(teacher_configs.QUICK_TRANSITIONS),
                 "smoke": ("cartpole",) + distill_configs.ALE_TASKS}
# Relative cost of a teacher cell (≈ quick-profile seconds on 2 cores) for the ETA.
_TEACHER_COST = {"cartpole": 10.0, "mountaincar": 120.0, "halfcheetah": 700.0,
                 "humanoid": 1900.0, "humanoid_standup": 2600.0}   # measured (README)

# Relative cost units for the ETA (≈ seconds of a quick-profile cell on 2 cores).
_COST = {"student_kd": 20.0, "dafl": 25.0, "gas": 40.0}
# ALE cells: quick pong_lowdim Table 7 cells, 1 thread, --jobs 2 (GAS 1,180-1,270 s, DAFL
# 1,190 s, Student KD 300-620 s; results/manifest_table7.json).
_ALE_COST = {"student_kd": 450.0, "dafl": 1200.0, "gas": 1250.0}


class PolicyTable(families.Family):

    def __init__(self, name, tasks, outputs):
        self.name, self.tasks, self.outputs = name, tasks, outputs

    def unavailable(self):
        return envs.stack_missing()

    def cells(self, profile, seeds, results_dir, data_dir):
        seeds = seeds or distill_configs.RL_SEEDS[profile]
        teachers, needs = [], {}
        for task in self.tasks:
            if os.path.exists(distill_cell.rl_teacher_path(results_dir, profile, task)):
                needs[task] = None
            elif task in TEACHER_TASKS[profile]:
                name = "rl/%s/teacher" % task
                teachers.append(families.GridCell(
                    name, ["train_teacher", "--env", task],
                    teacher_cell.rl_result_path(results_dir, profile, task),
                    _TEACHER_COST.get(task, 600.0), None))
                needs[task] = name
        students = []
        for method in ("gas", "dafl", "student_kd"):  # most expensive first
            for task in self.tasks:
                if task not in needs:
                    continue
                for seed in seeds:
                    students.append(families.GridCell(
                        distill_cell.rl_cell_name(task, method, seed),
                        ["distill", "--env", task, "--method", method, "--seed", str(seed)],
                        distill_cell.rl_result_path(results_dir, profile, task, method, seed),
                        (_ALE_COST if task in distill_configs.ALE_TASKS else _COST)[method],
                        needs[task],
                        # a student of a retrained teacher is stale and rerun (grid.is_stale)
                        distill_cell.rl_teacher_path(results_dir, profile, task)))
        return teachers, students

    def write_outputs(self, results_dir, profile, run_info=None, log=print):
        return tables.write_rl_table(self.name, results_dir, profile, run_info, log)


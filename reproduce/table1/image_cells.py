"""An image cell of the grid (a teacher, or a method × task × seed of Table 1 or Figure 2) run
in this process, and where its artefacts live:

    <results>/<profile>/teachers/<task>.npz(.json)     teacher weights, checksummed
    <results>/<profile>/cells/<task>/teacher.json        teacher cell result
    <results>/<profile>/cells/<task>/<method>/seed<S>.json   distillation cell result
    <results>/<profile>/cells/<task>/<method>/seed<S>.samples.npz   DAFL/GAS generator samples

A cell's JSON is written atomically when it finishes, so it exists only for finished cells:
that is the resume rule. The lifecycle and paths every family shares (``Cell``, the record):
reproduce/core/cells.py.
"""
import io
import os
import time

import numpy as np

from building_blocks.common import checkpoint
from building_blocks.image import data as data_lib
from building_blocks.image import image_tasks
from building_blocks.common import progress
from building_blocks.distill import loop
from building_blocks.image import runner
from building_blocks.common.config import apply_overrides, describe
from building_blocks.common.divergence import Diverged
from building_blocks.common.io_utils import atomic_write_bytes, atomic_write_json
from reproduce.core import diverged, methods
from reproduce.core.cells import (Cell, cell_name, cell_record, diverged_record, partial_dir,
                                  profile_dir, result_path, summary_dir)
from reproduce.table1 import configs


def teacher_cell(task):
    return Cell("teacher", task, "teacher", configs.TEACHER_SEED)


def distill_cell(task, method, seed):
    return Cell("distill", task, method, seed)


def teacher_path(results_dir, profile, task):
    return os.path.join(profile_dir(results_dir, profile), "teachers", task + ".npz")


def write_samples(results_dir, profile, cell, samples, record):
    """Writes a DAFL/GAS cell's generator samples (``runner.distill``'s ``_samples``) beside
    its JSON and names the file in ``record``; nothing for methods without generators."""
    if samples is None:
        return
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **samples)
    atomic_write_bytes(samples_path(results_dir, profile, cell), buffer.getvalue())
    record["samples_file"] = os.path.basename(samples_path(results_dir, profile, cell))


def samples_path(results_dir, profile, cell):
    """Generator samples of a finished DAFL/GAS cell (Figure 4): uint8 images, the teacher's
    class and confidence, the generator index."""
    return result_path(results_dir, profile, cell)[:-len(".json")] + ".samples.npz"


def _data_provenance(task):
    if task == "cifar10":
        from building_blocks.image import cifar10  # pylint: disable=g-import-not-at-top
        if cifar10.checksums_skipped():
            return {"data_checksums": "SKIPPED (%s set: generated test data)" % cifar10.SKIP_ENV}
    return {"data_checksums": "verified"}


def check_teacher_architecture(metadata, task, path):
    """A teacher checkpoint made for another architecture fails with a clear message (the
    name/shape check in checkpoint.load_network would catch it too, less readably)."""
    expected = runner.architecture_name(task, "teacher")
    found = metadata.get("architecture")
    if found is not None and found != expected:
        raise checkpoint.CheckpointError(
            "teacher checkpoint %s holds a %s, but task %s needs a %s teacher. See README "
            "(\"Teacher checkpoints\") for the expected .npz format." % (path, found, task,
                                                                       expected))



def run_teacher(task, profile, results_dir, data_dir=None, threads=0, overrides=(), log=print):
    config = apply_overrides(configs.teacher_config(task, profile), overrides)
    config.validate()
    dataset = image_tasks.load_image_task(task, data_dir)
    # Printed once every input is checked, so a bad one ends in its error line alone.
    log(describe(config))
    started = time.time()
    cell = teacher_cell(task)
    result = runner.train_teacher(config, dataset, teacher_path(results_dir, profile, task),
                                  threads, log, summary_dir(results_dir, profile, cell))
    record = cell_record(cell, profile, config, result, started)
    record.update(_data_provenance(task))
    atomic_write_json(result_path(results_dir, profile, cell), record)
    log("teacher %s: best test accuracy %.2f%% (%s)" % (task, result["test_accuracy"],
                                                        progress.format_duration(result["wall_s"])))
    return record


def run_distill(method, task, profile, seed, results_dir, data_dir=None, threads=0, overrides=(),
                log=print, teacher_checkpoint=None):
    config = apply_overrides(configs.distill_config(method, task, profile, seed), overrides)
    config.validate()
    checkpoint_path = teacher_checkpoint or teacher_path(results_dir, profile, task)
    # Fail early and clearly if the teacher is missing, of another architecture (said before
    # its bytes are checked: the more useful message) or corrupt.
    check_teacher_architecture(checkpoint.read_metadata(checkpoint_path), task, checkpoint_path)
    teacher_meta = checkpoint.verify(checkpoint_path)
    dataset = image_tasks.load_image_task(task, data_dir)
    # Printed once every input is checked, so a bad one ends in its error line alone.
    log(describe(config))
    return distill_image_cell(distill_cell(task, method, seed), profile, config, overrides,
                              dataset, checkpoint_path, teacher_meta, results_dir, threads, log,
                              _data_provenance(task))


def distill_image_cell(cell, profile, config, overrides, dataset, checkpoint_path, teacher_meta,
                       results_dir, threads, log, extra=None, label=""):
    """The lifecycle of one image distillation cell (Table 1 and Figure 2), once its inputs
    are checked: Algorithm 1 through ``runner.distill`` (resuming from its partial
    checkpoint), then the record (``extra`` added) and samples written atomically and the
    partial checkpoint removed; a divergence is recorded as such and raised."""
    started = time.time()
    try:
        result = runner.distill(
            config, methods.distiller_class(config.method, "image"), dataset, checkpoint_path,
            threads, log, summary_dir(results_dir, profile, cell),
            partial_dir(results_dir, profile, cell),
            float(os.environ.get("GAS_CHECKPOINT_EVERY_S", "600")))
    except Diverged as error:
        record = diverged_record(cell, profile, config, overrides, teacher_meta, started)
        record.update(extra or {})
        raise diverged.finish(record, error, result_path(results_dir, profile, cell),
                              partial_dir(results_dir, profile, cell))
    samples = result.pop("_samples", None)
    record = cell_record(cell, profile, config, result, started)
    record["overrides"] = list(overrides)
    record.update(extra or {})
    write_samples(results_dir, profile, cell, samples, record)
    atomic_write_json(result_path(results_dir, profile, cell), record)
    loop.clear_partial(partial_dir(results_dir, profile, cell))
    log("%s%s: student test accuracy %.2f%% (teacher %.2f%%) in %s" % (
        label, cell_name(cell), result["test_accuracy"], result["teacher_test_accuracy"],
        progress.format_duration(result["wall_s"])))
    return record

"""Progress of a long loop, shared by every runner (image teachers and distillation, PPO
teachers, policy distillation): 'label step/total … ETA' lines, durations, and TensorBoard
scalars."""
import time

from building_blocks.common.tf_compat import tf


def format_duration(seconds):
    seconds = int(round(max(seconds, 0)))
    if seconds < 60:
        return "%ds" % seconds
    if seconds < 3600:
        return "%dm%02ds" % divmod(seconds, 60)
    return "%dh%02dm" % (seconds // 3600, (seconds % 3600) // 60)


class Progress(object):
    """Prints 'label step/total … ETA' at most every ``every_s`` seconds. The ETA is the rate
    of this process (steps since ``start_from``, 0 by default) times the steps left, so a
    resumed run does not count the steps of an earlier sitting as done in this one."""

    def __init__(self, label, total, log, every_s=30.0, start_step=0):
        self.label, self.total, self.log, self.every_s = label, total, log, every_s
        self.start_from(start_step)

    def start_from(self, step):
        """A resumed run: the clock (elapsed, ETA) starts now, at ``step``."""
        self.start_step = step
        self.start = self._last = time.time()

    def update(self, step, extra="", force=False):
        now = time.time()
        if not force and now - self._last < self.every_s:
            return
        self._last = now
        elapsed = now - self.start
        eta = elapsed / max(step - self.start_step, 1) * (self.total - step)
        self.log("%s %d/%d (%.0f%%) elapsed %s ETA %s %s" % (
            self.label, step, self.total, 100.0 * step / self.total, format_duration(elapsed),
            format_duration(eta), extra))


class Scalars(object):
    """TensorBoard scalar summaries for one cell (no graph ops: protos written directly)."""

    def __init__(self, logdir):
        self.writer = tf.summary.FileWriter(logdir) if logdir else None

    def write(self, step, values):
        if self.writer is None:
            return
        self.writer.add_summary(tf.Summary(value=[
            tf.Summary.Value(tag=tag, simple_value=float(value))
            for tag, value in sorted(values.items()) if value is not None]), step)

    def close(self):
        if self.writer is not None:
            self.writer.close()


# Table 1's classifiers per task: (teacher, student) architecture names.

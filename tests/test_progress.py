"""Progress lines: the ETA of a resumed run comes from this sitting's rate only."""
from building_blocks.common import progress as progress_lib


class _Clock(object):
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def _eta_line(monkeypatch, start_step):
    clock = _Clock()
    monkeypatch.setattr(progress_lib.time, "time", clock)
    lines = []
    progress = progress_lib.Progress("ppo task", 1000, lines.append, every_s=0.0,
                                     start_step=start_step)
    clock.now += 100.0  # 100 s for 100 steps in this sitting: 1 step/s
    progress.update(start_step + 100)
    return lines[-1]


def test_eta_counts_only_this_sittings_steps(monkeypatch):
    # fresh run: 100 of 1000 steps in 100 s -> 900 s left
    assert "elapsed 1m40s ETA 15m00s" in _eta_line(monkeypatch, 0)
    # resumed at 400: 100 steps in 100 s -> 500 steps left at 1 step/s, not 500 * 100/500
    assert "elapsed 1m40s ETA 8m20s" in _eta_line(monkeypatch, 400)


def test_start_from_restarts_the_clock(monkeypatch):
    clock = _Clock()
    monkeypatch.setattr(progress_lib.time, "time", clock)
    lines = []
    progress = progress_lib.Progress("cell", 1000, lines.append, every_s=0.0)
    clock.now += 500.0  # graph building, restoring a partial run
    progress.start_from(600)
    clock.now += 40.0
    progress.update(640)
    assert "elapsed 40s ETA 6m00s" in lines[-1]

"""Figures of every family: matplotlib on the Agg backend, and the atomic PNG writer."""
import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from building_blocks.common.io_utils import atomic_write_bytes  # noqa: E402


def save_figure(figure, path):
    """Writes a matplotlib figure as PNG atomically (rendered in memory, then one atomic
    write, so no partial or temporary file is ever left at or beside ``path``); closes it."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110)
    plt.close(figure)
    atomic_write_bytes(path, buffer.getvalue())
    return path

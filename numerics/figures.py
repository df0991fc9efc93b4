"""Writing a matplotlib figure atomically: to a temporary file beside the target, then ``os.replace``,
so an interrupted run never leaves a half-written image (used by ``curve``, ``train`` and ``crosscheck``).
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path


def save_figure(fig, path, dpi: int = 110) -> Path:
    """Save ``fig`` to ``path`` (format from the suffix, PNG by default) atomically, then close it."""
    import matplotlib.pyplot as plt
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent if str(path.parent) else ".", suffix=path.suffix or ".png")
    os.close(fd)
    try:
        fig.savefig(tmp, dpi=dpi, format=(path.suffix.lstrip(".") or "png"))
        os.replace(tmp, path)
    finally:
        plt.close(fig)
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path

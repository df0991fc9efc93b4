"""Writing a file atomically: readers see the old content or the new, never a part of it.

The data goes to a temporary file beside the target (same file system), is flushed to disk, given the mode a
new file would get under the current umask, and renamed over the target; on any failure the temporary file
is removed and the target is left as it was.

>>> import tempfile
>>> from pathlib import Path
>>> with tempfile.TemporaryDirectory() as directory:
...     target = Path(directory) / "note.txt"
...     atomic_write_bytes(target, b"new")
...     target.read_bytes(), [p.name for p in Path(directory).iterdir()]
(b'new', ['note.txt'])
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path


def new_file_mode() -> int:
    """The permission bits ``open`` would give a new file under the current umask."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file next to ``path``, then rename it over ``path``."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, new_file_mode())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise

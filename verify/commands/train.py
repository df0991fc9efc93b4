"""TEMPORARY adapter while verify/train_command.py is being edited by a helper; replaced by the command's module."""
from __future__ import annotations

from ..train_command import configure  # noqa: F401
from ..train_command import run as _run


def run(args, invocation) -> int:
    return _run(args)

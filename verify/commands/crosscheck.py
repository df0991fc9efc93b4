"""TEMPORARY adapter while verify/crosscheck_command.py is being edited by a helper; replaced by the command's module."""
from __future__ import annotations

from ..crosscheck_command import configure  # noqa: F401
from ..crosscheck_command import run as _run


def run(args, invocation) -> int:
    return _run(args)

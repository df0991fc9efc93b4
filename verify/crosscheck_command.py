"""``crosscheck`` subcommand (issue "deep"): not implemented yet."""
from __future__ import annotations


def configure(parser) -> None:
    pass


def run(args) -> int:
    from .cli import UsageError
    raise UsageError("crosscheck: not implemented yet")

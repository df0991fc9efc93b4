"""Shared by the command-line tests: run ``verify.cli.main`` in-process and parse its JSON strictly."""
from __future__ import annotations

import contextlib
import io
import json

from verify.cli import main


def run_main(argv) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of ``python -m verify <argv>``, without a subprocess."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(argv)
    return status, out.getvalue(), err.getvalue()


def strict_json(text: str):
    """json.loads that fails on NaN, Infinity and -Infinity (the toolkit promises never to print them)."""
    def refuse(name):
        raise AssertionError(f"{name} in the JSON output")
    return json.loads(text, parse_constant=refuse)

"""What every command shares about its command line: the usage error, the one-line parser, output paths, integers.

A usage problem is reported as exactly one line ``error: <argument>: <problem>`` on stderr with exit status 2,
before anything is written (verify.cli). The library raises errors that name no flag; the command that passed the
value adds the flag (``UsageError(f"--betas: {err}")``).

>>> bounded_int("--seeds", "3", 1, 10)
3
>>> bounded_int("--seeds", "0", 1, 10)
Traceback (most recent call last):
verify.commands.usage.UsageError: --seeds: must be between 1 and 10, got 0
"""
from __future__ import annotations

import argparse
import os
import re
from pathlib import Path


class UsageError(Exception):
    """A problem with the command line; its message is one line naming the argument."""


class OneLineArgumentParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors raise :class:`UsageError` instead of printing usage and exiting."""

    def error(self, message: str):
        raise UsageError(one_line_usage_message(message))


def one_line_usage_message(message: str) -> str:
    """argparse's wording, reshaped to ``<argument>: <problem>`` on one line.

    >>> one_line_usage_message("argument --out: invalid choice: 'x'")
    "--out: invalid choice: 'x'"
    >>> one_line_usage_message("the following arguments are required: --out")
    '--out: required'
    """
    message = " ".join(message.split())
    match = re.fullmatch(r"argument (\S+?): (.*)", message)
    if match:
        flag, problem = match.group(1).split("/")[-1], match.group(2)
        if problem == "expected one argument" and flag.startswith("--"):
            problem += f" (a value that starts with '-' is written {flag}=VALUE)"
        return f"{flag}: {problem}"
    match = re.fullmatch(r"the following arguments are required: (.*)", message)
    if match:
        return f"{match.group(1)}: required"
    match = re.fullmatch(r"unrecognized arguments: (\S+).*", message)
    if match:
        return f"{match.group(1)}: unrecognized argument"
    return message


def one_line(text: str) -> str:
    """Control characters a user typed (a newline inside an argument) shown escaped, so an error stays one line.

    >>> one_line("--grid: expected LO:HI:N, got '1:2\\n'")
    "--grid: expected LO:HI:N, got '1:2\\\\n'"
    """
    return re.sub(r"[\x00-\x1f\x7f]", lambda m: repr(m.group())[1:-1], text)


def bounded_int(flag: str, text, lo: int, hi: int) -> int:
    """``text`` as an integer in [lo, hi], or a UsageError naming ``flag``."""
    try:
        value = int(text)
    except (TypeError, ValueError):
        raise UsageError(f"{flag}: expected an integer, got '{text}'") from None
    if not lo <= value <= hi:
        raise UsageError(f"{flag}: must be between {lo} and {hi}, got {value}")
    return value


# ------------------------------------------------------------------------------------------------ output paths
def output_dir_problem(path: Path | str, file_names: tuple[str, ...] = ()) -> str | None:
    """Why ``path`` cannot serve as an output directory, or None if it can (creating it if needed).

    Nothing is created or written here.

    >>> output_dir_problem(Path(__file__))  # doctest: +ELLIPSIS
    "'...usage.py' exists and is not a directory"
    """
    if str(path) == "":
        return "empty path"
    path = Path(path)
    if path.exists():
        if not path.is_dir():
            return f"'{path}' exists and is not a directory"
        if not os.access(path, os.W_OK | os.X_OK):
            return f"directory '{path}' is not writable"
        for name in file_names:
            if (path / name).is_dir():
                return f"'{path / name}' is a directory, cannot write the file {name} there"
        return None
    ancestor = nearest_existing_ancestor(path)
    if not ancestor.is_dir():
        return f"cannot create '{path}': '{ancestor}' is not a directory"
    if not os.access(ancestor, os.W_OK | os.X_OK):
        return f"cannot create '{path}': '{ancestor}' is not writable"
    return None


def nearest_existing_ancestor(path: Path) -> Path:
    """The closest ancestor of ``path`` (possibly ``.``) that exists (as a file or directory)."""
    current = path
    while not current.exists() and not current.is_symlink():
        parent = current.parent
        if parent == current:
            break
        current = parent
    return current


def prepare_output_dir(path: Path) -> None:
    """Create the directory (with parents); a failure is a usage error on --out."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--out: cannot create '{path}': {exc.strerror or exc}") from None


PLOT_TYPES = ("png", "pdf", "svg", "jpg", "jpeg", "eps", "ps", "tif", "tiff", "webp")


def check_plot_option(path: str) -> None:
    """--plot FILE: refused before any work if it cannot be written or matplotlib cannot write that type."""
    problem = output_file_problem(path)
    if problem:
        raise UsageError(f"--plot: {problem}")
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in PLOT_TYPES:
        raise UsageError(f"--plot: unsupported file type '{suffix or Path(path).name}' "
                         f"(use one of {', '.join(PLOT_TYPES)})")


class plot_errors:
    """Context manager: an OSError while writing the figure becomes ``--plot: cannot write ...``."""

    def __init__(self, path: str):
        self.path = path

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        if isinstance(exc, OSError):
            raise UsageError(f"--plot: cannot write '{self.path}': {exc.strerror or exc}") from None
        return False


def output_file_problem(path: str) -> str | None:
    if str(path) == "":
        return "empty path"
    p = Path(path)
    if p.exists() and p.is_dir():
        return f"'{p}' is a directory"
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        return f"directory '{parent}' does not exist"
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"directory '{parent}' is not writable"
    return None

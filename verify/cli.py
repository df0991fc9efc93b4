"""``betavae-audit``: command-line driver of the audit.

Subcommands are declared as :class:`Command` records in :data:`COMMANDS`; adding one (audit,
curve, optimal-beta, stationary, train, crosscheck, ...) means writing its ``configure`` and
``run`` functions and appending a record. Today there is one:

``derive --out DIR [--no-pdf] [--json]``
    builds the SymPy derivation, writes ``DIR/derivations.tex``, ``DIR/errata.json`` and (when
    pdflatex is available) ``DIR/derivations.pdf``, and prints a summary.

Exit status: 0 on success; 1 when a derivation step does not hold or the PDF failed to compile
(the outputs are written all the same); 2 on a usage error, reported as exactly one line
``error: <argument>: <problem>`` on stderr, before anything is written.

>>> main(["derive", "--frobnicate"])      # doctest: +SKIP
error: --frobnicate: unrecognized argument
2
"""
from __future__ import annotations

import argparse
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from . import __version__

PROG = "betavae-audit"


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


@dataclass(frozen=True)
class Command:
    """A subcommand: its name, one-line help, how to add its arguments, and what it runs."""

    name: str
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


# --------------------------------------------------------------------------------------------
# Output directories
# --------------------------------------------------------------------------------------------

def output_dir_problem(path: Path | str, file_names: tuple[str, ...] = ()) -> str | None:
    """Why ``path`` cannot serve as an output directory, or None if it can (creating it if needed).

    Nothing is created or written here.

    >>> output_dir_problem(Path(__file__))  # doctest: +ELLIPSIS
    "'...cli.py' exists and is not a directory"
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


# --------------------------------------------------------------------------------------------
# derive
# --------------------------------------------------------------------------------------------

def configure_derive(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", metavar="DIR", help="output directory (created if missing); required")
    parser.add_argument("--no-pdf", action="store_true", help="do not compile the PDF")
    parser.add_argument("--json", action="store_true", help="print the summary as one JSON document")


def run_derive(args: argparse.Namespace) -> int:
    from derivations.latex import ERRATA_NAME, PDF_NAME, TEX_NAME

    from .derivation import DERIVATION_PRECISION, derivation_seeds, format_summary, write_derivation
    from .output import current_command, dumps, started_at

    if args.out is None:
        raise UsageError("--out: required")
    problem = output_dir_problem(args.out, (TEX_NAME, ERRATA_NAME, PDF_NAME))
    if problem:
        raise UsageError(f"--out: {problem}")
    out = Path(args.out)
    prepare_output_dir(out)
    try:
        summary = write_derivation(out, pdf=not args.no_pdf, command=tuple(current_command()),
                                   started=started_at()).summary
    except OSError as exc:     # the permission check passed, the file system refused (read-only, /sys, quota)
        raise UsageError(f"--out: cannot write into '{out}': {exc.strerror or exc}") from None
    if args.json:
        print(dumps(summary, seeds=derivation_seeds(), precision=DERIVATION_PRECISION, indent=2))
    else:
        print(format_summary(summary))
    failing = summary["steps"]["failing"]
    if failing:
        print(f"derive: {len(failing)} derivation step(s) do not hold: {', '.join(failing)} "
              f"(outputs written)", file=sys.stderr)
    if summary["pdf"]["error"]:
        print(f"derive: the PDF did not compile: {summary['pdf']['error']}", file=sys.stderr)
    return 0 if summary["ok"] else 1


# --------------------------------------------------------------------------------------------
# Parser and entry point
# --------------------------------------------------------------------------------------------

def _numeric(name):
    def call(args):
        from . import numeric_commands
        return getattr(numeric_commands, f"run_{name}")(args)

    def configure(parser):
        from . import numeric_commands
        getattr(numeric_commands, f"configure_{name}")(parser)
    return configure, call


def _lazy(module_name):
    """configure/run pair of a command implemented in ``verify.<module_name>`` (imported on use)."""
    import importlib

    def configure(parser):
        importlib.import_module(f"verify.{module_name}").configure(parser)

    def call(args):
        return importlib.import_module(f"verify.{module_name}").run(args)
    return configure, call


COMMANDS: tuple[Command, ...] = (
    Command("audit", "check every claim of the paper; write report.md, claims.json, figures and the derivation",
            *_lazy("audit_command")),
    Command("derive", "build the SymPy derivation; write LaTeX, errata JSON and PDF",
            configure_derive, run_derive),
    Command("equations", "the ledger of equations (1)-(61): each a definition, covered by a claim, or compared",
            *_lazy("equations")),
    Command("curve", "quantities at the optimum along a beta grid (Fig. 1); --plot writes the figure",
            *_numeric("curve")),
    Command("stationary", "solve the full stationarity system from random starts; classify by the Hessian",
            *_numeric("stationary")),
    Command("optimal-beta", "the TIE-optimal beta to any number of correct digits (mpmath), exact where A is rational",
            *_numeric("optimal_beta")),
    Command("crosscheck", "train the linear model of Section IV.B with torch and compare it with the closed form",
            *_lazy("crosscheck_command")),
    Command("train", "train the deep beta-VAE of Section V (Fig. 2; --fig3 for Fig. 3) over seeds x betas",
            *_lazy("train_command")),
)


def build_parser(commands: tuple[Command, ...] = COMMANDS) -> OneLineArgumentParser:
    parser = OneLineArgumentParser(prog=PROG, allow_abbrev=False,
                                   description="Symbolic-numeric audit of 'A Closer Look at "
                                               "Disentangling in beta-VAE' (Sikka et al., 2019).")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True,
                                parser_class=OneLineArgumentParser)
    for command in commands:
        child = sub.add_parser(command.name, help=command.help, description=command.help, allow_abbrev=False)
        command.configure(child)
        child.set_defaults(run=command.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one subcommand; returns the exit status (see the module docstring)."""
    from .output import mark_finished, mark_start
    parser = build_parser()
    mark_start(sys.argv[1:] if argv is None else argv)
    try:
        return _run(parser, argv)
    finally:   # a later library call in the same process must not inherit this command line
        mark_finished()


def _run(parser, argv) -> int:
    from .output import NaNInOutput
    try:
        args, extras = parser.parse_known_args(argv)
        if extras:
            raise UsageError(f"{extras[0]}: unrecognized argument")
        return args.run(args)
    except UsageError as exc:
        print(f"error: {one_line(str(exc))}", file=sys.stderr)
        return 2
    except NaNInOutput as exc:   # a bug, reported on one line rather than printed as invalid JSON
        print(f"error: internal: {exc} in the output; nothing was printed (please report this)", file=sys.stderr)
        return 1
    except SystemExit as exc:  # --help and --version exit through argparse
        return exc.code if isinstance(exc.code, int) else 0

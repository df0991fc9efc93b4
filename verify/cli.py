"""``betavae-audit``: the command-line driver; its subcommands are registered in verify.commands.COMMANDS.

``main`` makes the run's :class:`verify.output.Invocation` (command line, start time) once and hands it to the
command. Exit status: whatever the command returns; 2 on a usage error, reported as exactly one line
``error: <argument>: <problem>`` on stderr, before anything is written.

>>> args = build_parser().parse_args(["curve", "--betas", "0.5,2"])
>>> args.betas, args.run.__module__
('0.5,2', 'verify.commands.curve')
"""
from __future__ import annotations

import sys

from . import __version__
from .commands import COMMANDS, Command
from .commands.usage import OneLineArgumentParser, UsageError, one_line

PROG = "betavae-audit"


def build_parser(commands: tuple[Command, ...] = COMMANDS) -> OneLineArgumentParser:
    parser = OneLineArgumentParser(prog=PROG, allow_abbrev=False,
                                   description="Symbolic-numeric audit of 'A Closer Look at "
                                               "Disentangling in beta-VAE' (Sikka et al., 2019).")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True,
                                parser_class=OneLineArgumentParser)
    for command in commands:
        child = sub.add_parser(command.name, help=command.help, description=command.help, allow_abbrev=False)
        module = command.load()
        module.configure(child)
        child.set_defaults(run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one subcommand; returns the exit status (see the module docstring)."""
    from .output import Invocation
    invocation = Invocation(tuple(sys.argv[1:] if argv is None else argv))
    return _run(build_parser(), argv, invocation)


def _run(parser, argv, invocation) -> int:
    from numerics.artifacts import NaNInOutput
    try:
        args, extras = parser.parse_known_args(argv)
        if extras:
            raise UsageError(f"{extras[0]}: unrecognized argument")
        return args.run(args, invocation)
    except UsageError as exc:
        print(f"error: {one_line(str(exc))}", file=sys.stderr)
        return 2
    except NaNInOutput as exc:   # a bug, reported on one line rather than printed as invalid JSON
        print(f"error: internal: {exc} in the output; nothing was printed (please report this)", file=sys.stderr)
        return 1
    except SystemExit as exc:  # --help and --version exit through argparse
        return exc.code if isinstance(exc.code, int) else 0

"""``derive --out DIR [--no-pdf] [--json]``: the SymPy derivation; writes ``DIR/derivations.tex``,
``DIR/errata.json`` and (when pdflatex is available) ``DIR/derivations.pdf``, and prints a summary.

Exit status: 0 on success; 1 when a derivation step does not hold or the PDF failed to compile (the outputs are
written all the same); 2 on a usage error, before anything is written.

>>> import argparse
>>> parser = argparse.ArgumentParser()
>>> configure(parser)
>>> parser.parse_args(["--out", "d", "--no-pdf"]).no_pdf
True
"""
from __future__ import annotations

import sys
from pathlib import Path

from .usage import UsageError, output_dir_problem, prepare_output_dir


def configure(parser) -> None:
    parser.add_argument("--out", metavar="DIR", help="output directory (created if missing); required")
    parser.add_argument("--no-pdf", action="store_true", help="do not compile the PDF")
    parser.add_argument("--json", action="store_true", help="print the summary as one JSON document")


def run(args, invocation) -> int:
    from derivations.latex import ERRATA_NAME, PDF_NAME, TEX_NAME

    from ..derivation import DERIVATION_PRECISION, derivation_seeds, format_summary, write_derivation
    from ..output import command_json

    if args.out is None:
        raise UsageError("--out: required")
    problem = output_dir_problem(args.out, (TEX_NAME, ERRATA_NAME, PDF_NAME))
    if problem:
        raise UsageError(f"--out: {problem}")
    out = Path(args.out)
    prepare_output_dir(out)
    try:
        summary = write_derivation(out, pdf=not args.no_pdf, command=invocation.command,
                                   started=invocation.started).summary
    except OSError as exc:     # the permission check passed, the file system refused (read-only, /sys, quota)
        raise UsageError(f"--out: cannot write into '{out}': {exc.strerror or exc}") from None
    if args.json:
        print(command_json(summary, invocation, seeds=derivation_seeds(), precision=DERIVATION_PRECISION, indent=2))
    else:
        print(format_summary(summary))
    failing = summary["steps"]["failing"]
    if failing:
        print(f"derive: {len(failing)} derivation step(s) do not hold: {', '.join(failing)} "
              f"(outputs written)", file=sys.stderr)
    if summary["pdf"]["error"]:
        print(f"derive: the PDF did not compile: {summary['pdf']['error']}", file=sys.stderr)
    return 0 if summary["ok"] else 1

"""``audit [--out DIR] [--only IDS] [--deep] [--json]``: every claim of the paper, with its verdict.

Writes ``DIR/claims.json``, ``DIR/report.md``, ``DIR/report.html`` (the same records as one self-contained page),
``DIR/equations.json`` (the ledger of ``equations``),
``DIR/figures/*.png`` and ``DIR/derivation/`` (the document of ``derive``). Everything is built in a temporary sibling directory and swapped in at the
end, so re-running into the same DIR replaces the report atomically and an interrupted run leaves the
previous one intact. Exit status: 0 when the audit ran (whatever the verdicts), 1 when a check
crashed (the others still ran and are reported), 2 for bad usage.

>>> _parse_only("prop4, prop1")
['prop4', 'prop1']
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

from .usage import UsageError, output_dir_problem

DEFAULT_OUT = "audit-out"


def configure(parser) -> None:
    parser.add_argument("--out", metavar="DIR", default=DEFAULT_OUT, help=f"output directory (default {DEFAULT_OUT})")
    parser.add_argument("--only", metavar="IDS", help="comma-separated claim ids (default: every claim)")
    parser.add_argument("--deep", action="store_true",
                        help="train the networks with the longer protocols (minutes, not seconds)")
    parser.add_argument("--json", action="store_true", help="print claims.json on stdout instead of the table")
    parser.add_argument("--list", action="store_true", help="list the claim ids and sections, run nothing")


def _parse_only(text):
    from ..catalogue import ids
    if text is None:
        return None
    wanted = [t.strip() for t in text.split(",") if t.strip()]
    if not wanted:
        raise UsageError("--only: expected comma-separated claim ids, got nothing")
    unknown = [t for t in wanted if t not in ids()]
    if unknown:
        raise UsageError(f"--only: unknown claim id '{unknown[0]}' (see --list)")
    return wanted


def _swap_in(tmp: Path, out: Path) -> None:
    """Replace ``out`` by ``tmp`` with two renames (the old report stays whole until the second)."""
    old = None
    if out.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
        os.rmdir(old)
        os.replace(out, old)
    os.replace(tmp, out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def run(args, invocation) -> int:
    from ..catalogue import CLAIMS

    if args.list:
        for c in CLAIMS:
            print(f"{c.id:<32} {c.section}")
        return 0
    only = _parse_only(args.only)
    problem = output_dir_problem(args.out)     # the text, so that '' is refused rather than read as '.'
    out = Path(args.out)
    if problem:
        raise UsageError(f"--out: {problem}")
    if out.exists() and any(out.iterdir()) and not (out / "claims.json").exists():
        raise UsageError(f"--out: '{out}' is a non-empty directory that holds no earlier audit; refusing to replace it")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--out: cannot create '{out.parent}': {exc.strerror or exc}") from None
    # the new report is built beside the old one, so that the final rename stays on one file system
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    except OSError as exc:   # the permission check passed, the file system refused (/proc, read-only mounts)
        raise UsageError(f"--out: cannot write beside '{out}': {exc.strerror or exc}") from None
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)     # mkdtemp's 0700 would otherwise become the report directory's mode
    try:
        return _run_into(args, invocation, only, tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _equation_ledger(ctx):
    """The ledger of equations (1)-(61) from the document the equation claims read; None, with a warning, when the
    document cannot be had: the verdicts stand without it."""
    from ..equations import ledger
    try:
        with ctx.declared(frozenset({"document"})):
            return ledger(ctx.document())
    except Exception as exc:     # noqa: BLE001 - any failure of this view must not lose the audit's verdicts
        print(f"warning: the equation ledger was not written: {type(exc).__name__}: {exc}", file=sys.stderr)
        return None


def _run_into(args, invocation, only, tmp: Path, out: Path) -> int:
    from ..derivation import DerivationJob

    derivation = DerivationJob(tmp / "derivation", invocation.command)
    try:
        return _audit_with(args, invocation, only, tmp, out, derivation)
    finally:   # the worker writes into tmp: it must be done before tmp is swapped in or removed (even on Ctrl-C)
        derivation.close()


def _audit_with(args, invocation, only, tmp: Path, out: Path, derivation) -> int:
    from numerics import artifacts

    from .. import report, report_html
    from ..audit import run_audit
    from ..context import AuditContext
    from ..derivation import DERIVATION_PRECISION, derivation_seeds
    from ..output import command_json

    command = invocation.command
    derivation_dir = tmp / "derivation"
    ctx = AuditContext(figures_dir=tmp / "figures", deep=args.deep, progress=sys.stderr.isatty() and not args.json,
                       document_provider=derivation.document)

    def progress(claim):
        if sys.stderr.isatty():
            print(f"\r\033[Kaudit: {claim.id} ...", end="", file=sys.stderr, flush=True)

    result = run_audit(ctx, only=only, progress=progress, derivation=derivation, command=command)
    if sys.stderr.isatty():
        print("\r\033[K", end="", file=sys.stderr, flush=True)
    for warning in derivation.warnings():
        print(f"warning: the derivation document: {warning}", file=sys.stderr)
    derivation_files = sorted(p.name for p in derivation_dir.glob("*") if p.suffix in (".tex", ".pdf", ".json"))
    ledger_rows = _equation_ledger(ctx)
    if ledger_rows is not None:
        (tmp / "equations.json").write_text(command_json(ledger_rows, invocation, seeds=derivation_seeds(),
                                                  precision=DERIVATION_PRECISION) + "\n", encoding="utf-8")
    (tmp / "claims.json").write_text(report.claims_json(result), encoding="utf-8")
    (tmp / "run.json").write_text(artifacts.dumps(report.run_record(result)) + "\n", encoding="utf-8")
    figures = {name: str(path) for name, path in ctx.figures.items() if Path(path).exists()}
    (tmp / "report.md").write_text(report.report_markdown(result, figures=figures, derivation_files=derivation_files,
                                                          equations=ledger_rows), encoding="utf-8")
    (tmp / "report.html").write_text(report_html.report_html(result, figures=figures,
                                                             derivation_files=derivation_files, equations=ledger_rows),
                                     encoding="utf-8")
    _swap_in(tmp, out)
    if args.json:
        print(report.claims_json(result), end="")
    else:
        print(report.format_table(report.records(result)))
        print(report.summary_line(result))
        written = [out / name for name in ("report.md", "report.html", "claims.json", "run.json", "equations.json",
                                           "figures", "derivation")
                   if (out / name).exists()]
        print("wrote " + ", ".join(str(p) for p in written))
    for r in result.crashed:
        print(f"audit: the check of {r.claim.id} crashed: {r.error}", file=sys.stderr)
    return 1 if result.crashed else 0

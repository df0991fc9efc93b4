"""``betavae-audit derive``: outputs of the real derivation, the summary, exit codes and usage errors.

The real document is built once (``build_document`` is cached within the process) by the
module-scoped fixture :func:`derived`; usage errors are rejected before any build, so the
subprocess tests are fast.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import sympy as sp

from derivations import latex, latex_text
from derivations.comparison import VERDICTS
from derivations.document import Document, build_document
from derivations.steps import Section, prove
from verify import cli

REPO = Path(__file__).resolve().parents[1]
ERRATA_KEYS = {"equation", "title", "printed", "printed_latex", "corrected", "corrected_latex",
               "evidence", "kind", "reading"}


def run_in_process(argv: list[str]) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of ``cli.main(argv)``, usable from module-scoped fixtures."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = cli.main(argv)
    return status, out.getvalue(), err.getvalue()


def run_subprocess(argv: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    return subprocess.run([sys.executable, "-m", "verify", *argv], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def all_files(root: Path) -> list[Path]:
    return sorted(p.relative_to(root) for p in root.rglob("*"))


@pytest.fixture(scope="module")
def derived(tmp_path_factory):
    """``derive --json`` run once into a directory that does not exist yet (two levels deep)."""
    out = tmp_path_factory.mktemp("derive") / "nested" / "out"
    status, stdout, stderr = run_in_process(["derive", "--out", str(out), "--json"])
    return {"status": status, "summary": json.loads(stdout), "stderr": stderr, "out": out,
            "doc": build_document()}


# ----------------------------------------------------------------------------- real document

def test_derive_creates_the_directory_and_writes_its_outputs(derived):
    out = derived["out"]
    assert out.is_dir()
    assert (out / latex.TEX_NAME).is_file() and (out / latex.ERRATA_NAME).is_file()
    names = {p.name for p in out.iterdir()}
    assert names <= {latex.TEX_NAME, latex.ERRATA_NAME, latex.PDF_NAME}, "stray files in the output directory"


def test_exit_status_reflects_the_derivation(derived):
    summary, doc = derived["summary"], derived["doc"]
    failing = [s.key for sec in doc.sections for s in sec.steps if not s.holds]
    assert summary["steps"]["failing"] == failing
    assert summary["ok"] == (not failing and summary["pdf"]["error"] is None)
    assert derived["status"] == (0 if summary["ok"] else 1), derived["stderr"]


def test_json_summary_counts_match_the_document(derived):
    summary, doc = derived["summary"], derived["doc"]
    assert summary["sections"] == len(doc.sections)
    assert summary["steps"]["total"] == sum(len(s.steps) for s in doc.sections)
    assert summary["steps"]["holding"] == sum(st.holds for s in doc.sections for st in s.steps)
    by_verdict = summary["comparisons"]["by_verdict"]
    assert set(VERDICTS) <= set(by_verdict)
    assert sum(by_verdict.values()) == summary["comparisons"]["total"] == len(doc.comparisons)
    assert summary["errata"] == by_verdict["erratum"] == len(doc.errata)
    assert summary["outputs"]["tex"] == str((derived["out"] / latex.TEX_NAME).resolve())


def test_tex_contains_every_section_title_and_comparison_equation(derived):
    tex = (derived["out"] / latex.TEX_NAME).read_text(encoding="ascii")
    doc = derived["doc"]
    assert len(doc.sections) > 0
    for section in doc.sections:
        assert r"\section{%s}" % latex_text.escape_text(section.title) in tex, section.title
    for comparison in doc.comparisons:
        assert r"\subsection{Eq.~(%s)" % latex_text.escape_text(comparison.equation) in tex, comparison.equation
    assert r"\section{Paper vs derivation}" in tex and r"\section{Errata}" in tex


def test_errata_json_lists_exactly_the_errata(derived):
    entries = json.loads((derived["out"] / latex.ERRATA_NAME).read_text(encoding="utf-8"))
    errata = [c for c in derived["doc"].comparisons if c.verdict == "erratum"]
    assert isinstance(entries, list)
    assert len(entries) == len(errata)
    for entry, comparison in zip(entries, errata):
        assert set(entry) == ERRATA_KEYS | {"provenance"}
        assert entry["provenance"]["versions"]["sympy"] == sp.__version__
        assert entry["equation"] == str(comparison.equation)
        assert isinstance(entry["printed"], str) and isinstance(entry["printed_latex"], str)


@pytest.mark.latex
def test_pdf_is_compiled(derived):
    if shutil.which("pdflatex") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but pdflatex is not on PATH: the PDF must be built in CI")
        pytest.skip("pdflatex not on PATH")
    summary = derived["summary"]
    assert summary["pdf"]["compiled"], summary["pdf"]["error"]
    assert summary["pdf"]["engine"] == "pdflatex"
    pdf = derived["out"] / latex.PDF_NAME
    assert summary["outputs"]["pdf"] == str(pdf.resolve())
    assert pdf.read_bytes()[:5] == b"%PDF-"


def test_human_summary_without_pdf(tmp_path, capsys, derived):
    summary = derived["summary"]
    expected_status = 1 if summary["steps"]["failing"] else 0
    # build_document is cached in this process: this second run only renders and writes
    assert cli.main(["derive", "--out", str(tmp_path), "--no-pdf"]) == expected_status
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    steps = summary["steps"]
    assert lines[0] == f"derive: {summary['sections']} sections, {steps['holding']}/{steps['total']} steps hold"
    assert f"errata: {summary['errata']}" in lines
    assert f"wrote {(tmp_path / latex.TEX_NAME).resolve()}" in lines
    assert f"wrote {(tmp_path / latex.ERRATA_NAME).resolve()}" in lines
    assert "PDF not compiled (--no-pdf)" in lines
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([latex.TEX_NAME, latex.ERRATA_NAME])


# ----------------------------------------------------------------------------- failing steps

def failing_document() -> Document:
    a = sp.Symbol("a")
    section = Section("broken", "A broken section")
    section.add(prove("broken.ok", "holds", a + a, 2 * a))
    section.add(prove("broken.claim", "does not hold", a + 1, a))
    return Document((section,), ())


def test_a_failing_step_exits_1_and_still_writes(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("derivations.document.build_document", failing_document)
    monkeypatch.setattr("derivations.document.load_or_build", lambda cache_dir=None: failing_document())
    assert cli.main(["derive", "--out", str(tmp_path), "--no-pdf", "--json"]) == 1
    captured = capsys.readouterr()
    summary = json.loads(captured.out)
    assert summary["ok"] is False and summary["steps"]["failing"] == ["broken.claim"]
    assert "broken.claim" in captured.err and "Traceback" not in captured.err
    assert (tmp_path / latex.TEX_NAME).is_file() and (tmp_path / latex.ERRATA_NAME).is_file()
    assert r"\fails" in (tmp_path / latex.TEX_NAME).read_text()


# ----------------------------------------------------------------------------- usage errors

def assert_one_line_usage_error(status: int, stdout: str, stderr: str, mentions: str) -> None:
    assert status == 2
    assert stdout == ""
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: ")
    assert mentions in lines[0]
    assert "Traceback" not in stderr and "usage:" not in stderr


@pytest.fixture
def sandbox(tmp_path):
    """A directory holding one regular file; tests check that nothing else appears in it."""
    (tmp_path / "afile").write_text("not a directory")
    return tmp_path


BAD_INVOCATIONS = {
    "existing file as --out": (["derive", "--out", "{sandbox}/afile"], "error: --out: "),
    "path under a regular file": (["derive", "--out", "{sandbox}/afile/sub"], "error: --out: "),
    "deep path under a regular file": (["derive", "--out", "{sandbox}/afile/a/b"], "error: --out: "),
    "empty --out": (["derive", "--out", ""], "error: --out: empty path"),
    "missing --out": (["derive"], "error: --out: required"),
    "--out without value": (["derive", "--out"], "error: --out: "),
    "unknown option": (["derive", "--out", "{sandbox}/new", "--frobnicate"], "error: --frobnicate: "),
    "unknown option before --out": (["derive", "--bogus", "--out", "{sandbox}/new"], "error: --bogus: "),
    "abbreviated option": (["derive", "--ou", "{sandbox}/new"], "error: --ou: "),
    "extra positional": (["derive", "--out", "{sandbox}/new", "extra"], "error: extra: "),
    "unknown subcommand": (["frobnicate"], "error: COMMAND: invalid choice"),
    "no subcommand": ([], "error: COMMAND: required"),
}


def expand(argv: list[str], sandbox: Path) -> list[str]:
    return [a.replace("{sandbox}", str(sandbox)) for a in argv]


@pytest.mark.parametrize("case", list(BAD_INVOCATIONS))
def test_usage_errors_in_process(case, sandbox, capsys):
    argv, mentions = BAD_INVOCATIONS[case]
    before = all_files(sandbox)
    status = cli.main(expand(argv, sandbox))
    captured = capsys.readouterr()
    assert_one_line_usage_error(status, captured.out, captured.err, mentions)
    assert all_files(sandbox) == before, "a usage error must not write anything"


@pytest.mark.parametrize("case", ["existing file as --out", "path under a regular file", "unknown option",
                                  "unknown subcommand", "empty --out"])
def test_usage_errors_in_a_subprocess(case, sandbox):
    argv, mentions = BAD_INVOCATIONS[case]
    before = all_files(sandbox)
    done = run_subprocess(expand(argv, sandbox), cwd=sandbox)
    assert_one_line_usage_error(done.returncode, done.stdout, done.stderr, mentions)
    assert all_files(sandbox) == before, "a usage error must not write anything"


def test_unwritable_directory_is_a_usage_error(sandbox, capsys, monkeypatch):
    # Running as root, permission bits do not stop writes: simulate what os.access reports
    # for a read-only directory.
    target = sandbox / "readonly"
    target.mkdir()
    before = all_files(sandbox)
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if Path(p) == target else real_access(p, mode))
    status = cli.main(["derive", "--out", str(target)])
    captured = capsys.readouterr()
    assert_one_line_usage_error(status, captured.out, captured.err, "error: --out: directory")
    assert "not writable" in captured.err
    status = cli.main(["derive", "--out", str(target / "child")])
    captured = capsys.readouterr()
    assert_one_line_usage_error(status, captured.out, captured.err, "error: --out: cannot create")
    assert all_files(sandbox) == before


def test_output_file_name_taken_by_a_directory_is_a_usage_error(sandbox, capsys):
    (sandbox / "out" / latex.TEX_NAME).mkdir(parents=True)
    before = all_files(sandbox)
    status = cli.main(["derive", "--out", str(sandbox / "out")])
    captured = capsys.readouterr()
    assert_one_line_usage_error(status, captured.out, captured.err, "is a directory")
    assert all_files(sandbox) == before


def test_version_and_help_exit_0(capsys):
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == "betavae-audit 0.1.0"
    assert cli.main(["derive", "--help"]) == 0
    assert "--out DIR" in capsys.readouterr().out


def test_parser_is_built_from_the_command_registry(monkeypatch):
    import types
    noop = types.ModuleType("noop_command")
    noop.configure = lambda parser: parser.add_argument("--level", type=int, default=0)
    noop.run = lambda args, invocation: 40 + args.level + len(invocation.command)
    monkeypatch.setitem(sys.modules, "noop_command", noop)
    parser = cli.build_parser(cli.COMMANDS + (cli.Command("noop", "does nothing", "noop_command"),))
    args = parser.parse_args(["noop", "--level", "1"])
    from verify.output import Invocation
    assert args.run(args, Invocation(("noop", "--level", "1"))) == 44


@pytest.mark.latex
def test_a_pdf_that_fails_to_compile_exits_1(tmp_path, capsys, monkeypatch):
    if shutil.which("pdflatex") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but pdflatex is not on PATH")
        pytest.skip("pdflatex not on PATH")
    monkeypatch.setattr("derivations.document.build_document", lambda: Document((), ()))
    monkeypatch.setattr("derivations.document.load_or_build", lambda cache_dir=None: Document((), ()))
    monkeypatch.setattr(latex, "render", lambda doc, provenance=None: "\\documentclass{article}\\begin{document}"
                                                     "\\undefinedmacro\\end{document}\n")
    assert cli.main(["derive", "--out", str(tmp_path)]) == 1
    captured = capsys.readouterr()
    assert "PDF FAILED to compile: ! Undefined control sequence" in captured.out
    assert captured.err.startswith("derive: the PDF did not compile")

"""LaTeX rendering, errata JSON and atomic writing (derivations.latex and its parts), on a small synthetic document.

The synthetic document holds what the real one may hold: a failing step, long sums, an expression
too large to print, explicit matrices, matrix expressions, comparisons whose forms are tuples,
strings or None, and text full of TeX specials and Unicode from the paper's extraction.
The real document is exercised in test_cli_derive.py.
"""
from __future__ import annotations

import json
import os
import re
import shutil

import pytest
import sympy as sp

from derivations import atomic_file, latex, latex_engine
from derivations.errata_json import errata_json
from derivations.latex_document import render
from derivations.latex_math import LINE_CHARS, MAX_OPS_TO_PRINT, operation_count, typeset
from derivations.latex_text import escape_text, escape_tt, tt_block
from derivations.comparison import Comparison
from derivations.document import Document
from derivations.steps import Section, prove
from derivations.symbols import D, W_mu, b_mu, beta, x

# Every non-ASCII character of the paper's text, plus a few that are not in it.
PAPER_UNICODE = "β−µθΣφσ∗∂κ∼∈≡‖η∣×δε≤∑’∫—∏–·π‘→∞√ μ é ﬁ ² ₁ ⁻¹ \u00a0 \u200b 😀 ✓"
TEX_SPECIALS = "\\{}_%&#$^~<>|\""
ERRATA_KEYS = {"equation", "title", "printed", "printed_latex", "corrected", "corrected_latex",
               "evidence", "kind", "reading"}


def require_pdflatex() -> str:
    """pdflatex's path; without it the test skips, except under CI=true where it fails."""
    engine = shutil.which("pdflatex")
    if engine:
        return engine
    if os.environ.get("CI") == "true":
        pytest.fail("CI=true but pdflatex is not on PATH: the LaTeX test must run in CI")
    pytest.skip("pdflatex not on PATH")


def synthetic_document() -> Document:
    a, b = sp.symbols("a b")
    section = Section("synthetic", "Synthetic 100% β_1 & {σ²} #1 ~ $x$ ^ \\ section",
                      "Intro with TeX specials " + TEX_SPECIALS + "\n\nand the paper's Unicode " + PAPER_UNICODE)
    section.add(prove("syn.ok", "square of a sum (P^T M)", (a + 1) ** 2, a ** 2 + 2 * a + 1, "symbolic",
                      equation="12", note="a note with_underscore and 50%"))
    section.add(prove("syn.fails", "a claim that does not hold", a + 1, a, "symbolic"))
    section.add(prove("syn.title", "a title with long formula tokens: entry (i,i) = -d_i*beta*(d_i^2+beta-lambda_i)/"
                      "(d_i^2+beta)^2,others=0,and(lambda-beta-beta*log(lambda/beta))/2=0", a, a,
                      "concrete N=2, k=2, Q = 3-4-5 rotation, key tie.structure.01.++.--.+-.-+.++.--.+-.-+"))
    long_sum = sp.Add(*[sp.Symbol(f"x_{i}") * sp.exp(sp.Symbol(f"y_{i}")) for i in range(40)])
    section.add(prove("syn.long", "a long sum", long_sum, long_sum, "symbolic"))
    section.add(prove("syn.exp", "exponential of a long sum", sp.exp(long_sum / 2), sp.exp(long_sum / 2), "symbolic"))
    huge = sp.Add(*[sp.Symbol(f"h_{i}") ** (i + 2) for i in range(1200)])
    section.add(prove("syn.huge", "an expression too large to print", huge, huge, "symbolic"))
    section.add(prove("syn.matexpr", "matrix expression", D * W_mu, D * W_mu, "general N, k"))
    M = sp.Matrix(2, 2, lambda i, j: sp.Symbol(f"m_{i}{j}") * (a + b) / (1 + a * b))
    section.add(prove("syn.matrix", "explicit matrix", M, M, "concrete N=2"))
    comparisons = (
        Comparison("23.3", "confirmed form", "KL = 1/2 [tr(Σ) + µ^T µ − k] " + TEX_SPECIALS + " " + PAPER_UNICODE,
                   "reading with β and " + TEX_SPECIALS, D * W_mu * x + b_mu, D * W_mu * x + b_mu,
                   "confirmed", "identical; residual 0"),
        Comparison("42", "scalar erratum", "printed 2β/σ\n[bracket on a new line]\n\nafter a blank line",
                   "reading", 2 * beta / a, beta / a, "erratum", "difference beta/a; at beta=a=1: 2 vs 1",
                   corrected=beta / a, kind="sign/scale"),
        Comparison("7", "tuple erratum", "text", "reading", (a, sp.Matrix([[a, b]])), [a, b], "erratum",
                   "evidence", corrected=None, kind="wrong expression"),
        Comparison("8", "string and None forms", "", "", "a printed form given as text_with_underscore", None,
                   "equivalent-condition", ""),
        Comparison("9", "huge form", "text", "reading", huge, long_sum, "confirmed-up-to-constant", "drops a constant"),
        Comparison("10", "verdict outside the vocabulary", "text", "reading", a, a, "conditional", "ev"),
    )
    return Document((section,), comparisons)


@pytest.fixture(scope="module")
def document() -> Document:
    return synthetic_document()


@pytest.fixture(scope="module")
def tex(document) -> str:
    return render(document)


# ----------------------------------------------------------------------------- escaping

@pytest.mark.parametrize("char", list(TEX_SPECIALS))
def test_every_tex_special_is_escaped(char):
    assert escape_text(f"a{char}b") != f"a{char}b"
    assert escape_text(f"a{char}b").isascii()
    if char not in "<>|\"":  # the typewriter font has these four glyphs in their ASCII slots
        assert escape_tt(f"a{char}b") == f"a{{\\char{ord(char)}}}b"


def test_unicode_from_the_paper_becomes_ascii_latex():
    out = escape_text(PAPER_UNICODE)
    assert out.isascii()
    assert r"\beta" in out and r"\sigma" in out and r"\mu" in out and r"\times" in out
    assert "[U+1F600]" in out  # no ASCII equivalent: written as its code point


def test_typewriter_block_keeps_lines_and_tolerates_blank_lines():
    block = tt_block("first_line\n\n[second]")
    assert block.count(r"\\\relax") == 2
    assert r"\mbox{}" in block and "{\\char95}" in block


# ----------------------------------------------------------------------------- expressions

def test_long_sum_is_broken_into_lines():
    long_sum = sp.Add(*sp.symbols("z0:80"))
    shown = typeset(long_sum)
    assert len(shown.lines) > 3
    assert all(len(line) <= LINE_CHARS for line in shown.lines)


def test_large_expression_is_replaced_by_its_operation_count(document, tex):
    huge_step = next(s for s in document.sections[0].steps if s.key == "syn.huge")
    ops = operation_count(huge_step.lhs)
    assert ops > MAX_OPS_TO_PRINT
    assert f"{ops} and {ops} operations, shown in the source" in tex
    assert "h_{1199}" not in tex


def test_operation_count_of_containers():
    a = sp.Symbol("a")
    assert operation_count(None) == 0
    assert operation_count("text") == 0
    assert operation_count([a + 1, (a * 2, sp.Matrix([[a - 1]]))]) == 3


# ----------------------------------------------------------------------------- document

def test_render_is_standalone_ascii(tex):
    assert tex.startswith(r"\documentclass")
    assert tex.rstrip().endswith(r"\end{document}")
    assert tex.isascii()


def test_render_has_every_section_step_and_comparison(document, tex):
    for section in document.sections:
        assert escape_text(section.title) in tex
        for step in section.steps:
            assert escape_text(step.title, breakable=True) in tex
            assert escape_tt(step.key) in tex
    for comparison in document.comparisons:
        assert f"Eq.~({escape_text(comparison.equation)})" in tex


def stephead_lines(tex: str) -> dict[str, str]:
    """Step number -> its \\stephead line."""
    return {line.split("}")[0][len(r"\stephead{"):]: line
            for line in tex.splitlines() if line.startswith(r"\stephead{")}


def test_step_verdicts_come_from_holds(document, tex):
    heads = stephead_lines(tex)
    steps = document.sections[0].steps
    assert len(heads) == len(steps)
    for number, step in enumerate(steps, start=1):
        head = heads[f"1.{number}"]
        assert head.endswith(r"{\holds}" if step.holds else r"{\fails}"), head
    assert heads["1.2"] == r"\stephead{1.2}{a claim that does not hold}{\fails}"
    assert r"\stephead{1.1}{square of a sum (P\ensuremath{^\wedge}T M)" in tex
    summary_row = next(line for line in tex.splitlines() if r"\hyperref[sec:1]" in line)
    assert summary_row.endswith(r"& %d/%d & \fails \\" % (len(steps) - 1, len(steps)))


def test_errata_section_lists_only_errata(document, tex):
    errata_part = tex[tex.index(r"\section{Errata}"):]
    assert errata_part.count(r"\subsection*{") == 2
    assert "scalar erratum" in errata_part and "tuple erratum" in errata_part
    assert "confirmed form" not in errata_part


def test_render_without_comparisons():
    tex = render(Document(synthetic_document().sections, ()))
    assert "No comparisons between printed and derived equations were recorded" in tex
    assert "No comparison has the verdict" in tex


# ----------------------------------------------------------------------------- errata JSON

def test_errata_json_has_one_entry_per_erratum_with_all_keys(document):
    entries = errata_json(document)
    assert len(entries) == sum(c.verdict == "erratum" for c in document.comparisons) == 2
    for entry in entries:
        assert set(entry) == ERRATA_KEYS
    scalar, tuple_ = entries
    assert scalar["equation"] == "42" and scalar["printed"] == "2*beta/a" and scalar["corrected"] == "beta/a"
    assert scalar["printed_latex"] == r"\frac{2 \beta}{a}"
    assert tuple_["corrected"] is None and tuple_["corrected_latex"] is None
    json.dumps(entries)  # serialisable



def test_provenance_is_stamped_on_every_erratum_and_stated_once_in_the_document(tmp_path, document):
    record = {"versions": {"sympy": "1.0", "numpy": "2.0"}, "precision": {"derivation": "exact"}}
    result = latex.write(document, tmp_path, compile_pdf=False, provenance=record)
    entries = json.loads(result.errata.read_text(encoding="utf-8"))
    assert entries == errata_json(document, record)
    assert len(entries) == 2 and all(entry["provenance"] == record for entry in entries)
    assert result.tex.read_text(encoding="ascii").count("Built with sympy 1.0; arithmetic: derivation exact.") == 1


# ----------------------------------------------------------------------------- writing

def test_write_without_pdf_is_atomic_and_removes_a_stale_pdf(tmp_path, document):
    out = tmp_path / "new" / "dir"
    out.mkdir(parents=True)
    (out / latex.PDF_NAME).write_bytes(b"%PDF stale")
    result = latex.write(document, out, compile_pdf=False)
    assert sorted(p.name for p in out.iterdir()) == [latex.TEX_NAME, latex.ERRATA_NAME]
    assert result.pdf is None and not result.compiled and result.engine is None
    assert result.tex.read_text(encoding="ascii") == render(document)
    assert json.loads(result.errata.read_text(encoding="utf-8")) == errata_json(document)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new"]


def test_write_requiring_a_missing_engine_writes_nothing(tmp_path, document, monkeypatch):
    monkeypatch.setattr(latex_engine, "find_engine", lambda: None)
    with pytest.raises(latex.EngineMissing):
        latex.write(document, tmp_path / "out", compile_pdf=True)
    assert not (tmp_path / "out").exists()


def test_failed_atomic_write_leaves_no_temporary_file(tmp_path, monkeypatch):
    target = tmp_path / "file.txt"
    target.write_text("old")

    def broken_replace(src, dst):
        raise OSError("simulated")
    monkeypatch.setattr(atomic_file.os, "replace", broken_replace)
    with pytest.raises(OSError):
        atomic_file.atomic_write_bytes(target, b"new")
    assert [p.name for p in tmp_path.iterdir()] == ["file.txt"]
    assert target.read_text() == "old"


@pytest.mark.latex
def test_synthetic_document_compiles_with_vector_fonts_only(tmp_path, document):
    require_pdflatex()
    result = latex.write(document, tmp_path, compile_pdf=True)
    assert result.compiled, result.first_error or result.log[-3000:]
    assert result.engine == "pdflatex"
    assert result.pdf == tmp_path / latex.PDF_NAME
    assert result.pdf.read_bytes().startswith(b"%PDF")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([latex.TEX_NAME, latex.ERRATA_NAME, latex.PDF_NAME])
    assert "mktexpk" not in result.log, "a font had to be generated as a bitmap"
    assert worst_overfull_points(result.log) < 20, "a line sticks out of the text block"


def worst_overfull_points(log: str) -> float:
    """The widest 'Overfull \\hbox (N pt too wide)' of a TeX log (0 if none)."""
    widths = [float(w) for w in re.findall(r"Overfull \\hbox \(([0-9.]+)pt too wide\)", log)]
    return max(widths, default=0.0)


@pytest.mark.latex
def test_a_tex_error_is_reported_and_leaves_no_pdf(tmp_path, document, monkeypatch):
    require_pdflatex()
    (tmp_path / latex.PDF_NAME).write_bytes(b"%PDF stale")
    monkeypatch.setattr(latex, "render", lambda doc, provenance=None: "\\documentclass{article}\\begin{document}"
                                                     "\\undefinedmacro\\end{document}\n")
    result = latex.write(document, tmp_path)
    assert not result.compiled and result.pdf is None and result.engine == "pdflatex"
    assert result.first_error.startswith("! Undefined control sequence")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([latex.TEX_NAME, latex.ERRATA_NAME])

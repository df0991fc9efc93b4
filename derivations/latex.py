"""Typeset the derivation document as standalone LaTeX, list its errata as JSON, write both.

Three entry points:

* :func:`render` -- the whole :class:`~derivations.document.Document` as one LaTeX source
  (article class, packages from Debian's texlive-latex-base/-recommended/-fonts-recommended only);
* :func:`errata_json` -- one plain dictionary per comparison whose verdict is ``erratum``;
* :func:`write` -- ``derivations.tex`` and ``errata.json`` written atomically into a directory,
  plus ``derivations.pdf`` when a TeX engine is available (compiled in a temporary directory).

Every text field is escaped with :func:`escape_text` (prose) or :func:`escape_tt` (typewriter
transcriptions). Both produce pure ASCII: Greek letters and mathematical symbols from the paper's
text become LaTeX commands, and any other non-ASCII character is reduced to its ASCII base letter
or written as ``[U+XXXX]``, so pdflatex never meets a character it cannot typeset.

>>> escape_text("beta_1 = 50% & more")
'beta\\\\_1 = 50\\\\% \\\\& more'
>>> escape_text("β") == r"\\texorpdfstring{\\ensuremath{\\beta}}{beta}"
True
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import sympy as sp

TEX_NAME = "derivations.tex"
PDF_NAME = "derivations.pdf"
ERRATA_NAME = "errata.json"
ENGINE = "pdflatex"

#: an expression is typeset when its LaTeX is at most this long; otherwise only its size is given
MAX_LATEX_CHARS = 1500
#: above this many operations the LaTeX is not even generated (it could not fit the limit above)
MAX_OPS_TO_PRINT = 1000
#: a sum whose LaTeX is longer than this is broken into lines of about this length
LINE_CHARS = 150
ENGINE_TIMEOUT_SECONDS = 300

PAPER_CITATION = ("H. Sikka, W. Zhong, J. Yin, C. Pehlevan, ``A Closer Look at Disentangling in "
                  r"$\beta$-VAE'', 53rd Asilomar Conference on Signals, Systems, and Computers (2019), "
                  "pp.~888--895; arXiv:1912.05127")

# --------------------------------------------------------------------------------------------
# Escaping
# --------------------------------------------------------------------------------------------

#: non-ASCII characters typeset as mathematics: character -> (LaTeX math, ASCII for PDF bookmarks)
MATH_CHARACTERS = {
    "α": (r"\alpha", "alpha"), "β": (r"\beta", "beta"), "γ": (r"\gamma", "gamma"),
    "δ": (r"\delta", "delta"), "ε": (r"\varepsilon", "epsilon"), "ϵ": (r"\epsilon", "epsilon"),
    "ζ": (r"\zeta", "zeta"), "η": (r"\eta", "eta"), "θ": (r"\theta", "theta"),
    "ϑ": (r"\vartheta", "theta"), "ι": (r"\iota", "iota"), "κ": (r"\kappa", "kappa"),
    "λ": (r"\lambda", "lambda"), "µ": (r"\mu", "mu"), "μ": (r"\mu", "mu"), "ν": (r"\nu", "nu"),
    "ξ": (r"\xi", "xi"), "π": (r"\pi", "pi"), "ρ": (r"\rho", "rho"), "σ": (r"\sigma", "sigma"),
    "ς": (r"\varsigma", "sigma"), "τ": (r"\tau", "tau"), "υ": (r"\upsilon", "upsilon"),
    "φ": (r"\phi", "phi"), "ϕ": (r"\phi", "phi"), "χ": (r"\chi", "chi"), "ψ": (r"\psi", "psi"),
    "ω": (r"\omega", "omega"), "Γ": (r"\Gamma", "Gamma"), "Δ": (r"\Delta", "Delta"),
    "Θ": (r"\Theta", "Theta"), "Λ": (r"\Lambda", "Lambda"), "Ξ": (r"\Xi", "Xi"),
    "Π": (r"\Pi", "Pi"), "Σ": (r"\Sigma", "Sigma"), "Υ": (r"\Upsilon", "Upsilon"),
    "Φ": (r"\Phi", "Phi"), "Ψ": (r"\Psi", "Psi"), "Ω": (r"\Omega", "Omega"),
    "∂": (r"\partial", "d"), "∼": (r"\sim", "~"), "∈": (r"\in", " in "), "∉": (r"\notin", " not in "),
    "≡": (r"\equiv", "=="), "‖": (r"\Vert", "||"), "∣": (r"\mid", "|"), "×": (r"\times", "x"),
    "≤": (r"\leq", "<="), "≥": (r"\geq", ">="), "≠": (r"\neq", "!="), "≈": (r"\approx", "~"),
    "∑": (r"\sum", "sum"), "∏": (r"\prod", "prod"), "∫": (r"\int", "int"), "→": (r"\to", "->"),
    "←": (r"\leftarrow", "<-"), "⇒": (r"\Rightarrow", "=>"), "⇔": (r"\Leftrightarrow", "<=>"),
    "↦": (r"\mapsto", "|->"), "∞": (r"\infty", "inf"), "√": (r"\surd", "sqrt"), "·": (r"\cdot", "."),
    "⋅": (r"\cdot", "."), "±": (r"\pm", "+-"), "∓": (r"\mp", "-+"), "∝": (r"\propto", "~"),
    "⊤": (r"\top", "T"), "′": (r"\prime", "'"), "∇": (r"\nabla", "nabla"), "∀": (r"\forall", "for all"),
    "∃": (r"\exists", "exists"), "⊗": (r"\otimes", "(x)"), "⊙": (r"\odot", "(.)"), "∘": (r"\circ", "o"),
    "∩": (r"\cap", "cap"), "∪": (r"\cup", "cup"), "⊂": (r"\subset", "subset"), "⊆": (r"\subseteq", "subseteq"),
    "∅": (r"\emptyset", "{}"), "ℓ": (r"\ell", "l"), "ℝ": (r"\mathbb{R}", "R"), "∥": (r"\parallel", "||"),
    "⟨": (r"\langle", "<"), "⟩": (r"\rangle", ">"), "°": (r"^{\circ}", "deg"), "ᵀ": (r"^{T}", "^T"),
    "²": (r"^{2}", "^2"), "³": (r"^{3}", "^3"), "¹": (r"^{1}", "^1"), "⁰": (r"^{0}", "^0"),
    "⁻": (r"^{-}", "^-"), "⁺": (r"^{+}", "^+"), "½": (r"\tfrac{1}{2}", "1/2"),
    "<": ("<", "<"), ">": (">", ">"), "|": ("|", "|"),
}
#: non-ASCII characters with a plain ASCII equivalent (used in both prose and typewriter)
ASCII_EQUIVALENTS = {
    "−": "-", "‐": "-", "‑": "-", "‒": "-", "∗": "*", "’": "'", "‘": "`", "“": "``", "”": "''",
    "„": ",,", "…": "...", "\u00a0": " ", "\u2009": " ", "\u202f": " ", "\u200b": "", "\ufeff": "",
    "ﬁ": "fi", "ﬂ": "fl", "ﬀ": "ff", "ﬃ": "ffi", "ﬄ": "ffl",
}
#: dashes: en and em dash in prose, a plain hyphen in typewriter text
DASHES = {"–": ("--", "-"), "—": ("---", "--")}
#: ASCII characters special to TeX, in prose (roman font, OT1 encoding)
TEXT_SPECIALS = {
    "\\": r"\ensuremath{\backslash}", "{": r"\{", "}": r"\}", "_": r"\_", "%": r"\%", "&": r"\&",
    "#": r"\#", "$": r"\ensuremath{\$}", "^": r"\ensuremath{^\wedge}", "~": r"\ensuremath{\sim}", '"': "''",
}
#: ASCII characters special to TeX, in typewriter text: cmtt holds every ASCII glyph in its own slot
TT_SPECIALS = {c: rf"{{\char{ord(c)}}}" for c in "\\{}_%&#$^~"}
#: a line may break after these characters in typewriter text and long tokens
BREAK_AFTER = set(",;=+*/)]")
#: in typewriter text (keys such as ``tie.structure.01.++``) also after dots and hyphens
TT_BREAK_AFTER = BREAK_AFTER | set(".-")
#: curly quotes become straight ones in typewriter text
TT_QUOTES = {"‘": "'", "’": "'", "“": '"', "”": '"', "„": '"'}
SUBSCRIPT_DIGITS = {chr(0x2080 + d): str(d) for d in range(10)}
SUPERSCRIPT_DIGITS = {"⁴": "4", "⁵": "5", "⁶": "6", "⁷": "7", "⁸": "8", "⁹": "9"}


def _math(latex: str, ascii_text: str) -> str:
    return rf"\texorpdfstring{{\ensuremath{{{latex}}}}}{{{ascii_text}}}"


def _escape_char(ch: str, typewriter: bool) -> str:
    """One character as ASCII LaTeX (prose or typewriter)."""
    specials = TT_SPECIALS if typewriter else TEXT_SPECIALS
    if ch in specials:
        return specials[ch]
    if ch in "<>|":
        return ch if typewriter else _math(*MATH_CHARACTERS[ch])
    if ch in ("\n", "\r", "\t", "\f", "\v"):
        return " "
    if " " <= ch <= "~":
        return ch
    if ch in DASHES:
        return DASHES[ch][1 if typewriter else 0]
    if typewriter and ch in TT_QUOTES:
        return TT_QUOTES[ch]
    if ch in ASCII_EQUIVALENTS:
        return "".join(_escape_char(c, typewriter) for c in ASCII_EQUIVALENTS[ch])
    if ch in MATH_CHARACTERS:
        return _math(*MATH_CHARACTERS[ch])
    if ch in SUBSCRIPT_DIGITS:
        return _math("_{%s}" % SUBSCRIPT_DIGITS[ch], SUBSCRIPT_DIGITS[ch])
    if ch in SUPERSCRIPT_DIGITS:
        return _math("^{%s}" % SUPERSCRIPT_DIGITS[ch], SUPERSCRIPT_DIGITS[ch])
    if unicodedata.category(ch).startswith("C"):
        return ""  # control and format characters carry no text
    base = "".join(c for c in unicodedata.normalize("NFKD", ch) if " " <= c <= "~")
    if base:
        return "".join(_escape_char(c, typewriter) for c in base)
    return f"[U+{ord(ch):04X}]"


def escape_text(text: object, breakable: bool = False) -> str:
    """Prose for LaTeX: TeX specials escaped, newlines folded, non-ASCII mapped to ASCII LaTeX.

    ``breakable`` allows line breaks after ``, ; = + * / ) ]`` so that long formula-like tokens
    in body text do not stick out of the margin (not for section titles: PDF bookmarks).

    >>> escape_text("a_b {c} 100%")
    'a\\\\_b \\\\{c\\\\} 100\\\\%'
    >>> escape_text("(a+b)", breakable=True)
    '(a+\\\\allowbreak{}b)\\\\allowbreak{}'
    """
    return _escape(text, typewriter=False, breaks=BREAK_AFTER if breakable else frozenset())


def _escape(text: object, typewriter: bool, breaks) -> str:
    pieces = []
    for ch in str(text):
        pieces.append(_escape_char(ch, typewriter))
        if ch in breaks:
            pieces.append(r"\allowbreak{}")
    return "".join(pieces)


def escape_paragraphs(text: object) -> str:
    """Like :func:`escape_text`, but blank lines stay paragraph breaks (for body text, not arguments)."""
    paragraphs = [p for p in _split_paragraphs(str(text)) if p.strip()]
    return "\n\n".join(escape_text(" ".join(p.split()), breakable=True) for p in paragraphs)


def _split_paragraphs(text: str) -> list[str]:
    out, current = [], []
    for line in text.splitlines():
        if line.strip():
            current.append(line)
        elif current:
            out.append("\n".join(current))
            current = []
    if current:
        out.append("\n".join(current))
    return out


def escape_tt(text: object) -> str:
    """One line of typewriter text: specials as ``{\\char N}``, line breaks allowed after punctuation.

    >>> escape_tt("a_b=c")
    'a{\\\\char95}b=\\\\allowbreak{}c'
    """
    return _escape(text, typewriter=True, breaks=TT_BREAK_AFTER)


def tt_block(text: object) -> str:
    """A multi-line transcription in typewriter type, its line structure kept."""
    lines = str(text).splitlines() or [""]
    body = "\\\\\\relax\n".join(escape_tt(line) if line.strip() else r"\mbox{}" for line in lines)
    return "\\begin{transcription}\n" + body + "\n\\end{transcription}"


# --------------------------------------------------------------------------------------------
# Expressions
# --------------------------------------------------------------------------------------------

def operation_count(obj) -> int:
    """SymPy's operation count, summed over matrices, tuples and lists (0 for strings and None).

    >>> operation_count((sp.Symbol('a') + 1, sp.Matrix([[2 * sp.Symbol('b')]])))
    2
    """
    if obj is None or isinstance(obj, str):
        return 0
    if isinstance(obj, (tuple, list)):
        return sum(operation_count(o) for o in obj)
    try:
        if isinstance(obj, sp.MatrixBase):
            return sum(int(sp.count_ops(e)) for e in obj)
        return int(sp.count_ops(obj))
    except Exception:  # an object SymPy cannot measure: count it as one opaque operation
        return 1


def to_latex(obj) -> str:
    """LaTeX (math mode) for an expression, matrix, tuple or list; strings become upright text.

    >>> to_latex(sp.Symbol('beta') ** 2)
    '\\\\beta^{2}'
    >>> to_latex("see (23)")
    '\\\\text{see (23)}'
    """
    if obj is None:
        return r"\text{(none)}"
    if isinstance(obj, str):
        return r"\text{%s}" % escape_text(obj)
    try:
        return sp.latex(obj)
    except Exception:
        return r"\text{%s}" % escape_text(str(obj))


def to_plain(obj) -> str | None:
    """Readable text for an expression (``str``, not ``srepr``); None stays None."""
    if obj is None:
        return None
    return obj if isinstance(obj, str) else str(obj)


@dataclass(frozen=True)
class Typeset:
    """One side of an equation: its LaTeX lines, or (when too large) only its size."""

    lines: tuple[str, ...]
    operations: int

    @property
    def shown(self) -> bool:
        return bool(self.lines)


def typeset(obj, limit: int = MAX_LATEX_CHARS) -> Typeset:
    """Split ``obj`` into display lines, or record only its operation count when it is too large.

    >>> a, b = sp.symbols('a b')
    >>> typeset(a + b).lines
    ('a + b',)
    >>> typeset(sp.Add(*sp.symbols('x0:400'))).lines
    ()
    """
    ops = operation_count(obj)
    if ops > MAX_OPS_TO_PRINT:
        return Typeset((), ops)
    latex = to_latex(obj)
    if len(latex) > limit:
        return Typeset((), ops)
    if len(latex) <= LINE_CHARS:
        return Typeset((latex,), ops)
    return Typeset(tuple(break_lines(obj)), ops)


def break_lines(obj, width: int = LINE_CHARS) -> list[str]:
    """LaTeX lines of about ``width`` characters for a long expression.

    Sums break between terms (each continuation line starts with its sign); a product with a long
    factor, an exponential or a power of a sum breaks inside ``\\Bigl( ... \\Bigr)``. Anything else
    stays one line (the display is then scaled to the page width).

    >>> x = sp.symbols('x0:30')
    >>> lines = break_lines(sp.exp(sp.Add(*x)), width=40)
    >>> lines[0].startswith(r"\\exp\\Bigl(") and lines[-1].endswith(r"\\Bigr)") and len(lines) > 3
    True
    """
    latex = to_latex(obj)
    if len(latex) <= width or isinstance(obj, (str, tuple, list)):
        return [latex]
    if isinstance(obj, (sp.Add, sp.MatAdd)):
        return _break_sum(obj, width)
    if isinstance(obj, sp.exp):
        return _wrap(r"\exp\Bigl(", break_lines(obj.args[0], width), r"\Bigr)")
    if isinstance(obj, sp.Pow) and isinstance(obj.base, sp.Add) and obj.exp.is_positive:
        return _wrap(r"\Bigl(", break_lines(obj.base, width), r"\Bigr)^{%s}" % to_latex(obj.exp))
    if isinstance(obj, sp.Mul):
        return _break_product(obj, width) or [latex]
    return [latex]


def _wrap(opening: str, lines: list[str], closing: str) -> list[str]:
    lines = list(lines)
    lines[0] = opening + " " + lines[0]
    lines[-1] = lines[-1] + " " + closing
    return lines


def _break_product(obj: sp.Mul, width: int) -> list[str]:
    """``rest * big`` with the longest factor broken over lines, the others in front of it."""
    big = max(obj.args, key=lambda f: len(to_latex(f)))
    if not isinstance(big, (sp.Add, sp.exp, sp.Pow)):
        return []
    inner = break_lines(big, width)
    if len(inner) < 2:
        return []
    others = list(obj.args)
    others.remove(big)
    rest = sp.Mul(*others)
    prefix = "" if rest == 1 else "-" if rest == -1 else to_latex(rest)
    if isinstance(big, sp.Add):
        return _wrap(prefix + r"\Bigl(", inner, r"\Bigr)")
    return _wrap(prefix, inner, "") if prefix else inner


def _summands(obj) -> list:
    if isinstance(obj, sp.Add):
        return list(obj.as_ordered_terms())
    return list(obj.args)


def _signed_term(term) -> tuple[str, object]:
    """('+', term) or ('-', -term), following the sign SymPy prints in front of the term."""
    if to_latex(term).lstrip().startswith("-"):
        return "-", -term
    return "+", term


def _break_sum(obj, width: int) -> list[str]:
    """A long sum as lines of about ``width`` characters, each continuation starting with its sign."""
    lines, current = [], ""
    for index, term in enumerate(_summands(obj)):
        sign, body = _signed_term(term)
        pieces = break_lines(body, width)
        lead = ("- " if sign == "-" else "") if index == 0 else sign + " "
        pieces[0] = lead + pieces[0]
        for piece in pieces:
            if current and len(current) + len(piece) + 1 > width:
                lines.append(current)
                current = piece
            else:
                current = f"{current} {piece}".strip()
        if len(pieces) > 1:  # a broken term ends its own line
            lines.append(current)
            current = ""
    if current:
        lines.append(current)
    return lines


def _omitted(side: Typeset, where: str) -> str:
    return r"\text{\small\itshape [expression of %d operations, shown in the source (%s)]}" % (
        side.operations, escape_text(where))


def equation_block(lhs, rhs, where: str = "") -> str:
    """``lhs = rhs`` as a display scaled down to the line width if needed; ``rhs`` None: ``lhs`` alone.

    Sides too large to print are replaced by a note giving their operation count and ``where``.
    """
    left = typeset(lhs)
    right = typeset(rhs) if rhs is not None else None
    if not left.shown and (right is None or not right.shown):
        sizes = f"{left.operations}" + ("" if right is None else f" and {right.operations}")
        return (r"\par\noindent{\small\itshape Expression%s of %s operations, shown in the source (%s).}\par"
                % ("" if right is None else "s", sizes, escape_text(where)))
    left_lines = list(left.lines) if left.shown else [_omitted(left, where)]
    rows = _aligned_rows(left_lines, None if right is None else
                         (list(right.lines) if right.shown else [_omitted(right, where)]))
    return ("\\begin{fitdisplay}\n\\begin{aligned}\n" + " \\\\\n".join(rows) +
            "\n\\end{aligned}\n\\end{fitdisplay}")


def _aligned_rows(left: list[str], right: list[str] | None) -> list[str]:
    rows = [("& " if i == 0 else r"&\quad ") + line for i, line in enumerate(left)]
    if right is None:
        return rows
    if len(left) == 1:
        rows = [left[0] + " &= " + right[0]]
    else:
        rows.append("&= " + right[0])
    rows += [r"&\quad " + line for line in right[1:]]
    return rows


# --------------------------------------------------------------------------------------------
# Document
# --------------------------------------------------------------------------------------------

PREAMBLE = r"""\documentclass[11pt,a4paper]{article}
\usepackage[margin=2.2cm]{geometry}
\usepackage{amsmath,amssymb}
\usepackage{graphicx}
\usepackage{longtable,booktabs}
\usepackage[table]{xcolor}
\usepackage[colorlinks=true,linkcolor=blue!50!black,urlcolor=blue!50!black,
            pdftitle={Derivation audit: A Closer Look at Disentangling in beta-VAE},
            pdfauthor={betavae-audit}]{hyperref}
\setlength{\parindent}{0pt}
\setlength{\parskip}{0.45\baselineskip}
\emergencystretch=3em
\definecolor{holdscolor}{rgb}{0.0,0.45,0.1}
\definecolor{failscolor}{rgb}{0.75,0.0,0.0}
\definecolor{equivcolor}{rgb}{0.0,0.3,0.6}
\newcommand{\holds}{\textcolor{holdscolor}{\textbf{holds}}}
\newcommand{\fails}{\textcolor{failscolor}{\textbf{FAILS}}}
\newcommand{\verdict}[2]{\textcolor{#1}{\textbf{#2}}}
\newcommand{\stephead}[3]{\par\medskip\noindent\textbf{#1\quad #2}%
  {\unskip\nobreak\hfil\penalty50\hskip2em\hbox{}\nobreak\hfil #3\parfillskip=0pt\finalhyphendemerits=0\par}%
  \nopagebreak}
\newsavebox{\fitbox}
\newenvironment{fitdisplay}{\par\smallskip\noindent\begin{lrbox}{\fitbox}$\displaystyle}%
  {$\end{lrbox}\hfill\resizebox{\ifdim\wd\fitbox>\linewidth\linewidth\else\wd\fitbox\fi}{!}{\usebox{\fitbox}}%
   \hfill\null\par\smallskip}
\newenvironment{transcription}{\par\begin{flushleft}\small\ttfamily}{\end{flushleft}}
\newcommand{\facts}[1]{{\small #1}}
\newcommand{\field}[1]{\par\noindent\textbf{#1:}\enspace}
"""


def _verdict_mark(verdict: str) -> str:
    colors = {"confirmed": "holdscolor", "confirmed-up-to-constant": "holdscolor",
              "equivalent-condition": "equivcolor", "conditional": "equivcolor", "erratum": "failscolor"}
    return r"\verdict{%s}{%s}" % (colors.get(verdict, "black"), escape_text(verdict))


def _step_mark(holds: bool) -> str:
    return r"\holds" if holds else r"\fails"


def _equation_label(number: str | None) -> str:
    return f"eq.~({escape_text(number)})" if number else ""


def title_page() -> str:
    return "\n".join([
        r"\title{Derivation audit of\\ ``A Closer Look at Disentangling in $\beta$-VAE''}",
        r"\author{Generated by \texttt{betavae-audit derive}}",
        r"\date{}",
        r"\begin{document}",
        r"\maketitle",
        r"\begin{abstract}\noindent",
        "This document is generated from the SymPy derivation in the package \\texttt{derivations}. "
        "It re-derives the equations of " + PAPER_CITATION + ", and compares each printed equation "
        "with the derived one.",
        r"\end{abstract}",
    ])


def how_to_read() -> str:
    return "\n".join([
        r"\section*{How to read this document}",
        "Each numbered section below is one part of the derivation. Every step states a claim "
        r"$\mathrm{lhs} = \mathrm{rhs}$ and is followed by the method used to check it: "
        r"\emph{general $N$, $k$} means the identity was proved for symbolic dimensions with matrix "
        r"expressions; \emph{concrete $N$, $k$} means it was checked for those sizes with every "
        "matrix entry an independent symbol. SymPy computed the residual "
        r"$\mathrm{lhs} - \mathrm{rhs}$ and simplified it; the step is marked \holds{} when the residual "
        r"vanished and \fails{} otherwise. Nothing is marked by hand.",
        "",
        "Expressions are typeset when their \\LaTeX{} form has at most %d characters; larger ones are "
        "replaced by their operation count and the key of the step, under which they can be found in "
        "the source. Wide displays are scaled down to fit the page." % MAX_LATEX_CHARS,
        "",
        r"The section \emph{Paper vs derivation} sets each printed equation (as transcribed from the "
        "paper's text, with the reading chosen) against the derived form. Its verdict is one of "
        r"\emph{confirmed} (identical), \emph{confirmed-up-to-constant} (differs by a parameter-"
        r"independent additive term the paper drops), \emph{equivalent-condition} (a stationarity "
        r"condition with the same zero set), \emph{conditional} (equal once a stated condition holds, "
        r"e.g.\ $b_\mu = 0$ at the optimum) or \emph{erratum} (a mismatch, listed again under "
        r"\emph{Errata} with the corrected form; an erratum's kind says whether it matters, e.g.\ a "
        r"derivative printed with the wrong factor leaves the condition $0 = \partial L/\partial\theta$ intact).",
    ])


def summary_table(doc) -> str:
    """Sections with steps holding / total."""
    rows = [r"\begin{longtable}{@{}r p{0.68\linewidth} r l@{}}", r"\toprule",
            r"& Section & Steps & Result \\", r"\midrule", r"\endhead"]
    for number, section in enumerate(doc.sections, start=1):
        holding = sum(1 for s in section.steps if s.holds)
        rows.append(r"%d & \hyperref[sec:%d]{%s} & %d/%d & %s \\" % (
            number, number, escape_text(section.title), holding, len(section.steps),
            _step_mark(section.holds)))
    total = sum(len(s.steps) for s in doc.sections)
    holding = sum(1 for sec in doc.sections for s in sec.steps if s.holds)
    rows += [r"\midrule", r"& All sections & %d/%d & %s \\" % (holding, total, _step_mark(holding == total)),
             r"\bottomrule", r"\end{longtable}"]
    return "\n".join(rows)


def render_step(step, number: str) -> str:
    parts = [r"\stephead{%s}{%s}{%s}" % (number, escape_text(step.title, breakable=True), _step_mark(step.holds)),
             equation_block(step.lhs, step.rhs, f"step {step.key}")]
    facts = [r"Method: %s." % escape_text(step.method or "not stated", breakable=True)]
    if step.equation:
        facts.append(r"Paper %s." % _equation_label(step.equation))
    facts.append(r"Key: \texttt{%s}." % escape_tt(step.key))
    parts.append(r"\facts{%s}" % " ".join(facts))
    if step.note:
        parts.append(r"\par{\small %s}" % escape_paragraphs(step.note))
    return "\n".join(parts)


def render_section(section, number: int) -> str:
    parts = [r"\section{%s}\label{sec:%d}" % (escape_text(section.title), number)]
    if section.intro:
        parts.append(escape_paragraphs(section.intro))
    holding = sum(1 for s in section.steps if s.holds)
    parts.append(r"\facts{%d of %d steps hold.}" % (holding, len(section.steps)))
    parts += [render_step(step, f"{number}.{i}") for i, step in enumerate(section.steps, start=1)]
    return "\n\n".join(parts)


def comparison_table(comparisons) -> str:
    rows = [r"\begin{longtable}{@{}l p{0.55\linewidth} l@{}}", r"\toprule",
            r"Eq. & Title & Verdict \\", r"\midrule", r"\endhead"]
    for index, c in enumerate(comparisons, start=1):
        rows.append(r"(%s) & \hyperref[cmp:%d]{%s} & %s \\" % (
            escape_text(c.equation), index, escape_text(c.title), _verdict_mark(c.verdict)))
    rows += [r"\bottomrule", r"\end{longtable}"]
    return "\n".join(rows)


def form_block(obj, where: str) -> str:
    """A printed, derived or corrected form: prose for strings, one display per element of a sequence."""
    if obj is None:
        return r"\emph{(none)}"
    if isinstance(obj, str):
        return escape_paragraphs(obj) or r"\emph{(empty)}"
    if isinstance(obj, (tuple, list)):
        if not obj:
            return r"\emph{(empty)}"
        whole = typeset(obj)
        if len(whole.lines) == 1:
            return equation_block(obj, None, where)
        return "\n".join(r"\par\noindent{\small part %d of %d:}%s" % (
            i, len(obj), equation_block(o, None, f"{where}, part {i}")) for i, o in enumerate(obj, start=1))
    return equation_block(obj, None, where)


def _labelled(label: str, body: str) -> str:
    """A labelled field of a comparison: the label in bold, the body after it (or below, for displays)."""
    return r"\field{%s} %s" % (label, body)


def render_comparison(c, index: int) -> str:
    where = f"comparison of eq. ({c.equation})"
    items = [
        _labelled("Printed text", tt_block(c.printed_text) if c.printed_text else r"\emph{(none)}"),
        _labelled("Reading", escape_paragraphs(c.reading) or r"\emph{(none)}"),
        _labelled("Printed", form_block(c.printed, where)),
        _labelled("Derived", form_block(c.derived, where)),
        _labelled("Verdict", _verdict_mark(c.verdict) + (r" (%s)" % escape_text(c.kind) if c.kind else "")),
        _labelled("Evidence", escape_paragraphs(c.evidence) or r"\emph{(none)}"),
    ]
    return "\n".join([
        r"\subsection{Eq.~(%s): %s}\label{cmp:%d}" % (escape_text(c.equation), escape_text(c.title), index),
        *items])


def render_comparisons(doc) -> str:
    parts = [r"\section{Paper vs derivation}\label{sec:comparisons}"]
    if not doc.comparisons:
        parts.append("No comparisons between printed and derived equations were recorded in this build.")
        return "\n\n".join(parts)
    counts = verdict_counts(doc)
    parts.append("%d comparisons: %s." % (len(doc.comparisons), ", ".join(
        f"{n} {escape_text(v)}" for v, n in counts.items() if n)))
    parts.append(comparison_table(doc.comparisons))
    parts += [render_comparison(c, i) for i, c in enumerate(doc.comparisons, start=1)]
    return "\n\n".join(parts)


def render_erratum(c, index: int) -> str:
    where = f"erratum in eq. ({c.equation})"
    items = [
        _labelled("Printed", form_block(c.printed, where)),
        _labelled("Corrected", form_block(c.corrected, where)),
        _labelled("Kind", escape_text(c.kind) or r"\emph{(not given)}"),
        _labelled("Evidence", escape_paragraphs(c.evidence) or r"\emph{(none)}"),
    ]
    return "\n".join([
        r"\subsection*{Eq.~(%s): %s}" % (escape_text(c.equation), escape_text(c.title)),
        r"\facts{Full comparison: section \ref{cmp:%d}.}" % index,
        *items])


def render_errata(doc) -> str:
    parts = [r"\section{Errata}\label{sec:errata}"]
    indexed = [(i, c) for i, c in enumerate(doc.comparisons, start=1) if c.verdict == "erratum"]
    if not indexed:
        parts.append("No comparison has the verdict \\emph{erratum}.")
        return "\n\n".join(parts)
    parts.append("%d printed equations disagree with the derivation." % len(indexed))
    parts += [render_erratum(c, i) for i, c in indexed]
    return "\n\n".join(parts)


def verdict_counts(doc) -> dict[str, int]:
    """Comparisons per verdict: the known verdicts first (zero included), then any others seen."""
    from .comparison import VERDICTS
    counts = {v: 0 for v in VERDICTS}
    for c in doc.comparisons:
        counts[c.verdict] = counts.get(c.verdict, 0) + 1
    return counts


def provenance_paragraph(provenance: dict | None) -> str:
    """Which toolkit and library versions built the document (no wall time: the source stays reproducible)."""
    if not provenance:
        return ""
    versions = ", ".join(f"{name} {version}" for name, version in provenance.get("versions", {}).items()
                         if version and name in ("betavae-audit", "python", "sympy"))
    return (r"\par\noindent{\small Built with %s; arithmetic: %s.}"
            % (escape_text(versions),
               escape_text(", ".join(f"{k} {v}" for k, v in provenance.get("precision", {}).items()))))


def render(doc, provenance: dict | None = None) -> str:
    """The whole document as a standalone LaTeX source (ASCII only); ``provenance`` (a record of
    ``numerics.provenance``, passed in by the caller) adds one line saying what built it.

    >>> from derivations.document import Document
    >>> tex = render(Document((), ()))
    >>> tex.startswith(r"\\documentclass") and tex.rstrip().endswith(r"\\end{document}")
    True
    """
    body = [PREAMBLE, title_page(), provenance_paragraph(provenance), how_to_read(), r"\section*{Summary}",
            summary_table(doc)]
    body += [render_section(section, n) for n, section in enumerate(doc.sections, start=1)]
    body += [render_comparisons(doc), render_errata(doc), r"\end{document}"]
    return "\n\n".join(body) + "\n"


# --------------------------------------------------------------------------------------------
# Errata as JSON
# --------------------------------------------------------------------------------------------

def errata_json(doc) -> list[dict]:
    """One dictionary per erratum; ``printed``/``corrected`` are ``str(expr)`` (None when absent).

    Keys: equation, title, printed, printed_latex, corrected, corrected_latex, evidence, kind, reading.
    """
    return [{
        "equation": str(c.equation),
        "title": c.title,
        "printed": to_plain(c.printed),
        "printed_latex": None if c.printed is None else to_latex(c.printed),
        "corrected": to_plain(c.corrected),
        "corrected_latex": None if c.corrected is None else to_latex(c.corrected),
        "evidence": c.evidence,
        "kind": c.kind,
        "reading": c.reading,
    } for c in doc.comparisons if c.verdict == "erratum"]


# --------------------------------------------------------------------------------------------
# Writing and compiling
# --------------------------------------------------------------------------------------------

class EngineMissing(RuntimeError):
    """A PDF was required but no TeX engine is on PATH."""


@dataclass(frozen=True)
class WriteResult:
    tex: Path
    pdf: Path | None
    errata: Path
    compiled: bool
    engine: str | None
    log: str

    @property
    def first_error(self) -> str:
        """The first ``!`` error line of the TeX log ('' if none)."""
        return next((line for line in self.log.splitlines() if line.startswith("!")), "")


def find_engine() -> str | None:
    return shutil.which(ENGINE)


def _file_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file next to ``path``, then rename it over ``path``."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, _file_mode())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def compile_pdf_bytes(tex: str, engine: str) -> tuple[bytes | None, str]:
    """Run the engine (twice, a third time if asked to rerun) in a temporary directory.

    Returns (PDF bytes or None, the log of the last run). Nothing outside the temporary
    directory is written: the TeX user cache (TEXMFVAR) is pointed into it as well.
    """
    with tempfile.TemporaryDirectory(prefix="betavae-latex-") as workdir:
        work = Path(workdir)
        (work / TEX_NAME).write_text(tex, encoding="ascii")
        env = dict(os.environ, TEXMFVAR=str(work / "texmf-var"), max_print_line="10000")
        command = [engine, "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape", TEX_NAME]
        log = ""
        for run in range(3):
            try:
                done = subprocess.run(command, cwd=work, env=env, stdin=subprocess.DEVNULL,
                                      capture_output=True, timeout=ENGINE_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                return None, log + f"\n! {engine} timed out after {ENGINE_TIMEOUT_SECONDS} s"
            log = done.stdout.decode("utf-8", "replace") + done.stderr.decode("utf-8", "replace")
            if done.returncode != 0:
                return None, log
            if run >= 1 and "Rerun to get" not in log:
                break
        pdf = work / PDF_NAME
        return (pdf.read_bytes() if pdf.exists() else None), log


def write(doc, out_dir: Path, compile_pdf: bool | None = None, provenance: dict | None = None) -> WriteResult:
    """Write derivations.tex and errata.json into ``out_dir`` (created if missing), and the PDF.

    ``provenance``: a record (toolkit and library versions, command, precision) stamped on each
    errata entry and stated once in the document.

    ``compile_pdf``: True requires the engine (:class:`EngineMissing` is raised before anything is
    written), False skips it, None compiles when the engine is on PATH. A derivations.pdf left in
    ``out_dir`` by an earlier run is removed when no new one is produced, so the directory never
    holds a PDF of another build.
    """
    out_dir = Path(out_dir)
    engine = find_engine() if compile_pdf is not False else None
    if compile_pdf and engine is None:
        raise EngineMissing(f"{ENGINE} not found on PATH")
    tex = render(doc, provenance)
    entries = errata_json(doc)
    if provenance:
        entries = [{**entry, "provenance": provenance} for entry in entries]
    errata = json.dumps(entries, indent=2, ensure_ascii=False) + "\n"
    out_dir.mkdir(parents=True, exist_ok=True)
    tex_path, errata_path, pdf_path = out_dir / TEX_NAME, out_dir / ERRATA_NAME, out_dir / PDF_NAME
    atomic_write_bytes(tex_path, tex.encode("ascii"))
    atomic_write_bytes(errata_path, errata.encode("utf-8"))
    pdf_bytes, log = (None, "") if engine is None else compile_pdf_bytes(tex, engine)
    if pdf_bytes is not None:
        atomic_write_bytes(pdf_path, pdf_bytes)
    elif pdf_path.exists():
        pdf_path.unlink()
        log += f"\nremoved {pdf_path} from an earlier build"
    return WriteResult(tex=tex_path, pdf=pdf_path if pdf_bytes is not None else None, errata=errata_path,
                       compiled=pdf_bytes is not None, engine=ENGINE if engine else None, log=log)

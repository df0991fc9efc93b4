"""SymPy expressions as LaTeX display lines: typeset when small enough, broken into lines when long.

An expression is typeset when its LaTeX has at most :data:`MAX_LATEX_CHARS` characters; otherwise only its
operation count is given (:class:`Typeset` with no lines), so that the document stays readable and compiles.
Long sums, exponentials and products are broken into lines of about :data:`LINE_CHARS` characters, and
:func:`equation_block` sets ``lhs = rhs`` as one display scaled to the line width.

>>> a, b = sp.symbols('a b')
>>> print(equation_block(a + b, 2 * a))
\\begin{fitdisplay}
\\begin{aligned}
a + b &= 2 a
\\end{aligned}
\\end{fitdisplay}
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from .latex_text import escape_text

#: an expression is typeset when its LaTeX is at most this long; otherwise only its size is given
MAX_LATEX_CHARS = 1500
#: above this many operations the LaTeX is not even generated (it could not fit the limit above)
MAX_OPS_TO_PRINT = 1000
#: a sum whose LaTeX is longer than this is broken into lines of about this length
LINE_CHARS = 150


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


def equation_block(lhs, rhs, where: str = "", relation: str = "=") -> str:
    """``lhs = rhs`` (or another ``relation``: ``>=``, ``>``, ``<=``, ``<``) as a display scaled down to the line width if needed; ``rhs`` None: ``lhs`` alone.

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
                         (list(right.lines) if right.shown else [_omitted(right, where)]), _RELATION_TEX[relation])
    return ("\\begin{fitdisplay}\n\\begin{aligned}\n" + " \\\\\n".join(rows) +
            "\n\\end{aligned}\n\\end{fitdisplay}")


_RELATION_TEX = {"=": "=", ">=": r"\geq", ">": ">", "<=": r"\leq", "<": "<"}


def _aligned_rows(left: list[str], right: list[str] | None, relation: str = "=") -> list[str]:
    rows = [("& " if i == 0 else r"&\quad ") + line for i, line in enumerate(left)]
    if right is None:
        return rows
    if len(left) == 1:
        rows = [left[0] + f" &{relation} " + right[0]]
    else:
        rows.append(f"&{relation} " + right[0])
    rows += [r"&\quad " + line for line in right[1:]]
    return rows

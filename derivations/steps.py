"""Proof records: each derivation step states ``lhs = rhs`` and how it was checked.

A :class:`ProofStep` is only created through :func:`prove`, which computes the
residual ``lhs - rhs`` with SymPy and records whether it vanished. Nothing is
asserted by hand: a step that does not hold is recorded as not holding, and the
test suite fails on it.

>>> import sympy as sp
>>> a = sp.Symbol('a')
>>> s = prove('demo', 'square of a sum', (a + 1)**2, a**2 + 2*a + 1)
>>> s.holds
True
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import sympy as sp
from sympy.polys.fields import sfield

GENERAL = "general N, k (matrix expressions)"
INDEX = "general N, k (index calculus)"


def concrete_method(n: int, kk: int) -> str:
    return f"concrete N={n}, k={kk}, symbolic entries"


@dataclass(frozen=True)
class ProofStep:
    key: str
    title: str
    lhs: sp.Basic
    rhs: sp.Basic
    method: str
    holds: bool
    residual: sp.Basic
    equation: str | None = None
    note: str = ""
    relation: str = "="          # "=" for identities; ">=", ">", "<=", "<" for a decided inequality lhs REL rhs
    certificate: str = ""        # how an inequality was decided, kept verbatim in the document (z3, root isolation)

    def __post_init__(self):
        if self.relation not in RELATIONS:
            raise ValueError(f"step {self.key}: relation must be one of {RELATIONS}, got {self.relation!r}")
        if self.relation != "=" and not self.certificate:
            raise ValueError(f"step {self.key}: an inequality needs the certificate that decided it")


RELATIONS = ("=", ">=", ">", "<=", "<")


def decided(key: str, title: str, lhs, rhs, relation: str, holds: bool, certificate: str, method: str, *,
            equation: str | None = None, note: str = "") -> ProofStep:
    """Record the inequality ``lhs relation rhs`` (under the assumptions stated in ``title``/``note``) as decided by a
    procedure outside SymPy's simplifier: ``holds`` is that procedure's answer, ``certificate`` its evidence
    (e.g. z3's ``unsat`` for the negation, or the isolated real roots of a polynomial and its signs between them).
    The residual is lhs - rhs, unsimplified.

    >>> x = sp.Symbol('x', positive=True)
    >>> decided('demo-ineq', 'x + 1/x >= 2 for x > 0', x + 1/x, 2, ">=", True, "(x-1)^2/x >= 0", "hand").relation
    '>='
    """
    if not isinstance(holds, bool):
        raise TypeError(f"step {key}: holds must be a bool")
    return ProofStep(key=key, title=title, lhs=sp.sympify(lhs), rhs=sp.sympify(rhs), method=method, holds=holds,
                     residual=sp.sympify(lhs) - sp.sympify(rhs), equation=equation, note=note, relation=relation,
                     certificate=certificate)


def _is_zero_scalar(expr, simplifier) -> bool:
    expr = sp.sympify(expr)
    if expr == 0:
        return True
    return simplifier(expr) == 0


def residual_of(lhs, rhs, simplifier: Callable = None):
    """The simplified difference lhs - rhs (a scalar, an explicit matrix or a MatrixExpr)."""
    simplifier = simplifier or _default_simplify
    lhs, rhs = sp.sympify(lhs), sp.sympify(rhs)
    if isinstance(lhs, sp.MatrixBase) or isinstance(rhs, sp.MatrixBase):
        diff = sp.Matrix(lhs) - sp.Matrix(rhs)
        return diff.applyfunc(simplifier)
    if isinstance(lhs, sp.MatrixExpr) or isinstance(rhs, sp.MatrixExpr):
        diff = (lhs - rhs).expand().doit()
        return diff
    return simplifier(lhs - rhs)


def is_zero(residual) -> bool:
    if isinstance(residual, sp.MatrixBase):
        return all(e == 0 for e in residual)
    if isinstance(residual, sp.MatrixExpr):
        return residual.is_ZeroMatrix or residual == 0
    return residual == 0


def rational_simplify(expr):
    """Exact normal form of a rational function (sparse polynomial field arithmetic, fast)."""
    expr = sp.sympify(expr)
    if expr == 0:
        return expr
    _, element = sfield(expr)
    return element.as_expr()


def inv(M: sp.Matrix) -> sp.Matrix:
    """Inverse of an explicit symbolic matrix as adjugate / det (far faster than simplifying LU)."""
    return M.adjugate() / sp.expand(M.det())


def _default_simplify(expr):
    expr = sp.sympify(expr)
    out = sp.expand(expr)
    if out == 0:
        return out
    out = sp.cancel(sp.together(out))
    if out == 0:
        return out
    return sp.simplify(out)


def record(key: str, title: str, lhs, rhs, residual, method: str = "", *, equation: str | None = None,
           note: str = "") -> ProofStep:
    """Record a claim whose residual was computed by a specialised routine (e.g. log-densities)."""
    return ProofStep(key=key, title=title, lhs=sp.sympify(lhs), rhs=sp.sympify(rhs), method=method,
                holds=is_zero(residual), residual=residual, equation=equation, note=note)


def prove(key: str, title: str, lhs, rhs, method: str = "", *, equation: str | None = None,
          note: str = "", simplifier: Callable = None) -> ProofStep:
    """Record the claim lhs = rhs together with the residual SymPy computed for it."""
    res = residual_of(lhs, rhs, simplifier)
    return ProofStep(key=key, title=title, lhs=sp.sympify(lhs), rhs=sp.sympify(rhs),
                method=method, holds=is_zero(res), residual=res, equation=equation, note=note)


@dataclass
class Section:
    """A titled group of steps, with prose, in the order the derivation takes them."""

    key: str
    title: str
    intro: str = ""
    steps: list[ProofStep] = field(default_factory=list)

    def add(self, step: ProofStep) -> ProofStep:
        self.steps.append(step)
        return step

    @property
    def holds(self) -> bool:
        return all(s.holds for s in self.steps)

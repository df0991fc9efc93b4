"""Fig. 1B for the paper's problem, proved: the aligned TIE has a finite optimal beta* > 1, and the equally optimal
representative z -> -z of the aligned solution has a TIE that never increases.

The paper's A (N = 128, k = 2, A_ij = (1 + delta_ij)/2) has the exact Gram matrix A^T A = [[131/4, 65/2], [65/2, 131/4]]:
not diagonal, so by the orthogonal-columns theorem at k = 2 (sections ``orthogonal``, ``orthogonal.k2``) TIE strictly
decreases on (0, 1] and again just after beta = 1, so its infimum is below TIE(1). Its eigenvalues are a = 261/4 and
1/4 with eigenvectors (1, +-1)/sqrt(2), so every alignment has overlaps |c_j| = 1/sqrt(2); per unit TIE(1) = a (1 - c)
(``orthogonal.at-one.value``) and the collapsed value is a - log(1 + a)/2 (``orthogonal.unit.collapsed``), so

    plateau - TIE(1) = sum_j a_j c_j - log((1 + a_1)(1 + a_2))/2 >= 131/(2 sqrt 2) - ((1 + a_1)(1 + a_2) - 1)/2 > 0

(log y <= y - 1, section ``lemma-g``; the last inequality by z3). TIE is constant for beta >= lambda_max = 265/4 and
continuous, so its minimum is attained at a finite beta* in (1, 265/4), and TIE rises from it to the plateau: it is not
monotone. The representative with every sign flipped has c_j = -1/sqrt(2) <= 0 on every unit, and a unit's slope
(beta c sqrt(a/(1 + a - beta)) - 1)/(2 beta) is then negative on its active branch (z3) and zero when collapsed: that
representative's TIE never increases.

>>> all(s.holds for s in fig1_tie_section().steps)
True
"""
from __future__ import annotations

from functools import lru_cache

import sympy as sp
import z3

from .smt_entail import entailment_step
from .steps import Section, decided, prove
from .theorem_orthogonal import unit_slope, unit_tie

N_PAPER, K_PAPER = 128, 2
Z3 = "z3 nonlinear real arithmetic, all reals"


def paper_gram() -> sp.Matrix:
    """A^T A for A_ij = (1 + delta_ij)/2, N = 128, k = 2, exactly (SymPy Rationals)."""
    A = sp.Matrix(N_PAPER, K_PAPER, lambda i, j: sp.Rational(1 + (i == j), 2))
    return A.T * A


@lru_cache(maxsize=None)
def fig1_tie_section() -> Section:
    sec = Section("fig1-tie", "Fig. 1B for the paper's problem: a finite optimal beta* > 1, and a representative whose "
                  "TIE never increases", __doc__.split("\n\n>>>")[0].split("\n\n", 1)[1])
    M = paper_gram()
    sec.add(prove("fig1-tie.gram", "the paper's A^T A (N = 128, k = 2), exactly", M,
                  sp.Matrix([[sp.Rational(131, 4), sp.Rational(65, 2)], [sp.Rational(65, 2), sp.Rational(131, 4)]]),
                  "exact rational arithmetic (SymPy)"))
    off = M[0, 1]
    sec.add(decided("fig1-tie.not-diagonal", "its off-diagonal entry is positive: the columns are not orthogonal, so "
                    "beta* > 1 by the theorem at k = 2", off, 0, ">", bool(off > 0),
                    f"the exact rational {off} is positive", "exact rational arithmetic (SymPy)"))
    a1, a2 = sp.Rational(261, 4), sp.Rational(1, 4)
    for key, a_, v in (("top", a1, sp.Matrix([1, 1]) / sp.sqrt(2)), ("low", a2, sp.Matrix([1, -1]) / sp.sqrt(2))):
        sec.add(prove(f"fig1-tie.eigen.{key}", f"A^T A v = {a_} v for the unit vector v = {list(v)}: overlaps "
                      "|c_j| = 1/sqrt(2) for every alignment", M * v, a_ * v, "exact (SymPy)"))
    c = 1 / sp.sqrt(2)
    gap = (a1 * c + a2 * c) - sp.log((1 + a1) * (1 + a2)) / 2
    per_unit = sum(unit_tie(a_, c, (1 + a_) * 2) - unit_tie(a_, c, sp.Integer(1)) for a_ in (a1, a2))
    sec.add(prove("fig1-tie.plateau-minus-one", "plateau - TIE(1) = sum_j a_j c_j - log((1 + a_1)(1 + a_2))/2 (per-unit "
                  "values at beta = 1 and collapsed)", per_unit, gap, "exact (SymPy), per unit",
                  simplifier=lambda e: sp.simplify(sp.expand_log(e, force=True))))
    y = (1 + a1) * (1 + a2)
    zs = z3.Real("s")
    sec.add(entailment_step("fig1-tie.plateau-above-one", "131/(2 sqrt 2) > ((1 + a_1)(1 + a_2) - 1)/2 >= "
                            "log((1 + a_1)(1 + a_2))/2 (log y <= y - 1, section lemma-g): TIE(1) < plateau",
                            (a1 + a2) * c, (y - 1) / 2, ">", [zs > 0, zs * zs == 2],
                            (a1 + a2) / zs > z3.RealVal(str(y - 1)) / 2, method=Z3,
                            note="s stands for sqrt(2); with TIE(1) below the plateau and TIE constant beyond "
                                 "lambda_max = 265/4, the minimum is attained at a finite beta* < 265/4 and TIE rises "
                                 "from it: not monotone"))
    # the representative z -> -z of the aligned solution: every overlap negative
    a, beta, cs = sp.Symbol("a", positive=True), sp.Symbol("beta", positive=True), sp.Symbol("c", real=True)
    v_ = sp.Symbol("v", positive=True)
    act = (1 + a) / (1 + v_)
    sec.add(prove("fig1-tie.signed.slope", "active unit with a signed overlap c (any sign): dg/dbeta = "
                  "(beta c sqrt(a/(1 + a - beta)) - 1)/(2 beta)", sp.diff(unit_tie(a, cs, act), v_) / sp.diff(act, v_),
                  unit_slope(a, cs, act), "per unit, a > 0, c real, beta = (1 + a)/(1 + v), v > 0 (SymPy)"))
    za, zc, zb, zt = z3.Reals("a c beta t")
    sec.add(entailment_step("fig1-tie.flipped.falling", "c <= 0 (every sign flipped): the active unit's slope "
                            "numerator beta c t - 1 < 0, t = sqrt(a/(1 + a - beta)) >= 0",
                            beta * cs * sp.Symbol("t", nonnegative=True) - 1, 0, "<",
                            [za > 0, zb > 0, zb < 1 + za, zc <= 0, zt >= 0, zt * zt * (1 + za - zb) == za],
                            zb * zc * zt - 1 < 0, method=Z3,
                            note="collapsed units are constant (orthogonal.unit.collapsed): that representative's TIE "
                                 "never increases, from its value near beta = 0 down to the plateau"))
    return sec


def section_builders() -> dict:
    """This module's section, for :func:`derivations.document.section_builders`."""
    return {"fig1-tie": fig1_tie_section}

"""Beyond the paper: the TIE-optimal beta is 1 exactly when the columns of A are orthogonal, and > 1 otherwise.

Setting (the gauge-aligned TIE of :mod:`derivations.closed_form`, ``tie_closed_form``, section ``tie``). A != 0 is
N x k, M = A^T A = Q diag(a) Q^T with Q an orthonormal eigenbasis, lambda_j = 1 + a_j. For a permutation pi (a
*branch*; the signs follow Q) and c_j = |Q[pi_j, j]| the TIE at the beta-VAE optimum is the sum of per-unit terms

    g(a, c, beta) = a - log(1 + a)/2 + (1/2) log max((1 + a)/beta, 1) - c sqrt(a (1 + a - beta)^+),

and TIE_Q(beta) = min_pi sum_j g(a_j, c_j, beta), a lower envelope of finitely many continuous branches, constant
for beta >= lambda_max. The audit's TIE (:mod:`numerics.tie_envelope`) computes Q from the exact Gram matrix; for an
exactly diagonal M it is the standard basis up to order and sign (tests/test_theorem_orthogonal.py checks this).

The statement (:data:`THEOREM`) and its proof (:data:`PROOF`, whose per-unit facts are the steps of
:func:`orthogonal_section`, the rest elementary analysis) open the section in the derivation document;
:func:`orthogonal_k2_section` proves the premise and the linear algebra for k = 2 with every Gram matrix.

>>> sec = orthogonal_section()
>>> sec.holds, sec.steps[0].key
(True, 'orthogonal.unit.derivative')
"""
from __future__ import annotations

import itertools
from functools import lru_cache

import sympy as sp
import z3

from .closed_form import mode_kl, mode_tie_weight, signed_permutations, tie_at_relabelling, tie_structured
from .smt_entail import counterexample_step, entailment_step
from .steps import Section, prove, rational_simplify

a = sp.Symbol("a", positive=True)                # eigenvalue of A^T A (a = 0: its own steps)
c = sp.Symbol("c", nonnegative=True)             # |Q[pi_j, j]|, the unit's overlap with its source
beta = sp.Symbol("beta", positive=True)
v = sp.Symbol("v", positive=True)                # active regime: beta = (1 + a)/(1 + v)
u = sp.Symbol("u", positive=True)

SETTING = (
    "Setting. A != 0 is N x k (k <= N), M = A^T A = Q diag(a) Q^T with Q an orthonormal eigenbasis, lambda_j = 1 + a_j. "
    "At the beta-VAE optimum with the latents relabelled by a permutation pi (a branch; signs matching Q's), TIE is "
    "sum_j g(a_j, c_j, beta) with c_j = |Q[pi_j, j]| and g(a, c, beta) = a - log(1 + a)/2 + (1/2) log max((1 + a)/beta, 1) "
    "- c sqrt(a (1 + a - beta)^+) (section tie; for k = 2 and every Q also section orthogonal.k2). The gauge-aligned "
    "TIE_Q(beta) is the minimum over pi, a lower envelope of finitely many continuous branches, constant for beta >= "
    "lambda_max. The audit (numerics.tie_envelope) computes Q from the exact Gram matrix: for an exactly diagonal M "
    "that is the standard basis (checked by the tests). With a repeated eigenvalue the optimum set also contains every rotation of "
    "Q within the eigenspace (equally optimal); the theorem is stated for a fixed Q and for the best Q. ")
THEOREM = (
    "Theorem. (i) For every Q every minimiser of TIE_Q is >= 1. (ii) If the columns q_j of Q with a_j > 0 are, up to "
    "sign, standard basis vectors (possible iff M is diagonal, i.e. the columns of A are orthogonal, zero columns "
    "included; the audit's Q whenever M is diagonal), then TIE_Q(1) = 0 < TIE_Q(beta) for every beta != 1: beta* = 1, "
    "unique. (iii) Otherwise, in particular for every Q when M is not diagonal, the right derivative of TIE_Q at 1 is "
    "negative and every minimiser is > 1. (iv) Minimising TIE also over the eigenbases (the whole optimum set), "
    "beta* = 1 iff M is diagonal. Caveat: at a repeated eigenvalue beta* depends on the eigenbasis (M = 4 I_2 with "
    "the basis at 45 degrees: beta* = (sqrt(41) - 1)/4) and is not continuous in A (A^T A = 4 [[1, e], [e, 1]] has "
    "that basis for every e != 0). ")
PROOF = (
    "Proof. On 0 < beta < 1 + a, dg/dbeta = (beta c sqrt(a/(1 + a - beta)) - 1)/(2 beta) (unit.derivative); a unit "
    "is constant beyond its threshold (unit.collapsed). (i) For beta < 1 every unit is active (lambda_j >= 1 > beta) "
    "and beta c sqrt(a/(1 + a - beta)) < 1 (below-one, zero-unit.below; the sign comes from beta^2 a - (1 + a - beta) "
    "= (beta - 1)(a beta + a + 1), unit.factor), so every branch, hence their minimum, strictly decreases on (0, 1]. "
    "(ii) A branch at beta = 1 is worth sum_j a_j (1 - c_j) (at-one.value), 0 when c_j = 1 wherever a_j > 0. Every "
    "branch is >= F(beta) = sum_j g(a_j, 1, beta) (bound, with c_j <= 1 from unit-vector), and g(a, 1, .) decreases "
    "on (0, 1], increases on [1, 1 + a] (above-one) and is constant beyond, with g(a, 1, 1) = 0: F >= 0, and F > 0 "
    "off beta = 1 since some a_j > 0 (A != 0). (iii) For beta slightly above 1 the units with a_j = 0 are collapsed "
    "and contribute 0 (zero-unit), the others are active, so a branch's right derivative at 1 is (1/2) sum_{a_j > 0} "
    "(c_j - 1) (at-one.derivative). Branches not optimal at 1 stay above the envelope near 1 (continuity), so the "
    "envelope's right derivative is the minimum of these over the branches optimal at 1. It is 0 only if such a "
    "branch has c_j = 1 for every j with a_j > 0, i.e. q_j = +-e_{pi_j} (unit-vector), and then M = sum_{a_j > 0} "
    "a_j q_j q_j^T is diagonal (diagonal). So outside (ii), TIE_Q(1 + e) < TIE_Q(1) for small e > 0, and by (i) every "
    "minimiser (one exists: TIE_Q is continuous and constant beyond lambda_max) lies above 1. (iv) The eigenbases form "
    "a compact set on which TIE is continuous: the minimum over Q at each beta is attained, so it strictly decreases "
    "on (0, 1] by (i); at beta = 1 it is attained by some Q_0, and if M is not diagonal Q_0 has a negative right "
    "derivative, so the minimum over Q drops just above 1. Assumed: the optimum set is the one of section tie "
    "(signed permutations; rotations within an eigenspace). Machine-checked: the per-unit facts below (SymPy, z3); "
    "in prose: the envelope and compactness arguments.")

UNIT = "per unit, a > 0, 0 <= c, beta > 0 (SymPy)"
Z3 = "z3 nonlinear real arithmetic, all reals"


def unit_tie(a_, c_, beta_):
    """g(a, c, beta): one unit's share of the aligned TIE at the optimum (``closed_form.tie_closed_form``)."""
    return a_ - sp.log(1 + a_) / 2 + mode_kl(1 + a_, beta_) - c_ * mode_tie_weight(a_, beta_)


def unit_slope(a_, c_, beta_):
    """dg/dbeta on the active regime beta < 1 + a: (beta c sqrt(a/(1 + a - beta)) - 1)/(2 beta)."""
    return (beta_ * c_ * sp.sqrt(a_ / (1 + a_ - beta_)) - 1) / (2 * beta_)


@lru_cache(maxsize=None)
def orthogonal_section() -> Section:
    """Per-unit facts of the theorem, for every k (see the module docstring for how they combine)."""
    sec = Section("orthogonal", "Beyond: beta* = 1 exactly when the columns of A are orthogonal (any k)",
                  SETTING + THEOREM + PROOF)
    act = (1 + a) / (1 + v)            # the active regime 0 < beta < 1 + a, covered once by v > 0
    g = unit_tie(a, c, act)
    sec.add(prove("orthogonal.unit.derivative", "active unit: dg/dbeta = (beta c sqrt(a/(1 + a - beta)) - 1)/(2 beta)",
                  sp.diff(g, v) / sp.diff(act, v), unit_slope(a, c, act), UNIT + ", beta = (1 + a)/(1 + v), v > 0",
                  note="a = 0: g = log max(1/beta, 1)/2, the same formula with sqrt(a) = 0"))
    sec.add(prove("orthogonal.unit.collapsed", "collapsed unit (beta >= 1 + a): g = a - log(1 + a)/2, constant",
                  unit_tie(a, c, (1 + a) * (1 + u)), a - sp.log(1 + a) / 2, UNIT + ", beta = (1 + a)(1 + u), u > 0"))
    sec.add(prove("orthogonal.unit.factor", "beta^2 a - (1 + a - beta) = (beta - 1)(a beta + a + 1): the slope's sign "
                  "is the sign of beta - 1 when c = 1", beta ** 2 * a - (1 + a - beta), (beta - 1) * (a * beta + a + 1),
                  "polynomial identity (SymPy)"))
    za, zc, zb, zt, zw = z3.Reals("a c beta t w")
    root = [zt >= 0, zt * zt * (1 + za - zb) == za]                  # t = sqrt(a/(1 + a - beta))
    sec.add(entailment_step("orthogonal.below-one", "for a >= 0, 0 <= c <= 1, 0 < beta < 1: beta c sqrt(a/(1 + a - beta)) "
                            "< 1, so every unit's slope, hence every branch's, is negative below beta = 1",
                            beta * c * sp.sqrt(a / (1 + a - beta)), 1, "<",
                            [za >= 0, zc >= 0, zc <= 1, zb > 0, zb < 1, *root], zb * zc * zt < 1, method=Z3))
    sec.add(entailment_step("orthogonal.above-one", "for a > 0, 1 < beta < 1 + a: beta sqrt(a/(1 + a - beta)) > 1, so "
                            "g(a, 1, beta) increases between 1 and its threshold",
                            beta * sp.sqrt(a / (1 + a - beta)), 1, ">", [za > 0, zb > 1, zb < 1 + za, *root], zb * zt > 1,
                            method=Z3))
    one = sp.Integer(1)
    sec.add(prove("orthogonal.at-one.value", "at beta = 1 a unit is worth g(a, c, 1) = a (1 - c): zero iff c = 1 or a = 0",
                  unit_tie(a, c, one), a * (1 - c), UNIT))
    sec.add(prove("orthogonal.at-one.derivative", "right derivative at beta = 1 of an active unit (a > 0): (c - 1)/2",
                  unit_slope(a, c, one), (c - 1) / 2, UNIT))
    sec.add(prove("orthogonal.zero-unit", "a unit with a = 0 contributes nothing for beta >= 1 (collapsed at beta = 1)",
                  unit_tie(sp.Integer(0), c, 1 + u), 0, "per unit, a = 0, beta = 1 + u, u > 0 (SymPy)"))
    sec.add(prove("orthogonal.zero-unit.below", "a unit with a = 0 below beta = 1: g = (1/2) log(1/beta), slope -1/(2 beta)",
                  sp.diff(unit_tie(sp.Integer(0), c, 1 / (1 + v)), v) / sp.diff(1 / (1 + v), v),
                  unit_slope(sp.Integer(0), c, 1 / (1 + v)), "per unit, a = 0, beta = 1/(1 + v), v > 0 (SymPy)"))
    sec.add(entailment_step("orthogonal.bound", "every branch lies above the all-aligned TIE F: -c w >= -w for "
                            "0 <= c <= 1 and the weight w = sqrt(a (1 + a - beta)^+) >= 0",
                            -c * mode_tie_weight(a, beta), -mode_tie_weight(a, beta), ">=",
                            [zc >= 0, zc <= 1, zw >= 0], -zc * zw >= -zw, method=Z3))
    for kk in (2, 3, 4, 5):
        x = z3.Reals(" ".join(f"x{i}" for i in range(kk)))
        xs = sp.symbols(f"x0:{kk}", real=True)
        sec.add(entailment_step(f"orthogonal.unit-vector.k{kk}", f"a unit vector of R^{kk}: |x_0| <= 1, and |x_0| = 1 only "
                                "if every other entry is 0 (so c_j <= 1, and c_j = 1 iff q_j = +-e_{pi_j})",
                                xs[0] ** 2, 1, "<=", [sum(xi * xi for xi in x) == 1],
                                z3.And(x[0] * x[0] <= 1, z3.Implies(x[0] * x[0] == 1, z3.And(*[xi == 0 for xi in x[1:]]))),
                                method=Z3, note="general k: x_0^2 = 1 - sum_{m > 0} x_m^2"))
    sec.add(_diagonal_step(3))
    return sec


def _diagonal_step(kk: int):
    """If every eigenvector is a signed standard basis vector, M = Q diag(a) Q^T is diagonal: all 2^k k! cases."""
    al = sp.symbols(f"a1:{kk + 1}", nonnegative=True)
    nonzero, cases = 0, 0
    for perm in itertools.permutations(range(kk)):
        for signs in itertools.product((1, -1), repeat=kk):
            Qm = sp.zeros(kk, kk)
            for j in range(kk):
                Qm[perm[j], j] = signs[j]
            Mm = Qm * sp.diag(*al) * Qm.T
            nonzero += sum(1 for i in range(kk) for m in range(kk) if i != m and sp.expand(Mm[i, m]) != 0)
            cases += 1
    return prove("orthogonal.diagonal", f"q_j = +-e_(pi_j) for every unit makes M = Q diag(a) Q^T diagonal: the number "
                 f"of non-zero off-diagonal entries over all {cases} signed permutations Q (k = {kk}) is 0",
                 sp.Integer(nonzero), 0, f"concrete k = {kk}, symbolic eigenvalues (SymPy)",
                 note="general k: M = sum_j a_j q_j q_j^T = sum_j a_j e_(pi_j) e_(pi_j)^T; units with a_j = 0 may have "
                      "any q_j")


@lru_cache(maxsize=None)
def orthogonal_k2_section() -> Section:
    """k = 2 in full generality: A^T A = [[p, r], [r, q]], p, q >= 0, pq >= r^2 (r = 0, p = q and rank 1 included)."""
    sec = Section("orthogonal.k2", "Beyond: the orthogonal-columns theorem at k = 2, every Gram matrix",
                  "For M = [[p, r], [r, q]] (p, q >= 0, pq >= r^2) the eigenvalues are (p + q +- s)/2 with s = "
                  "sqrt((p - q)^2 + 4 r^2). If r != 0 both are simple, the top one is positive, and no unit eigenvector "
                  "of either is a signed standard basis vector: every branch has c < 1 on the top unit, so TIE's right "
                  "derivative at 1 is negative and beta* > 1 (rank 1, pq = r^2, included: the second eigenvalue is 0 and "
                  "does not count). If r = 0 and p != q the eigenvectors are standard: TIE(1) = 0, beta* = 1. If r = 0 "
                  "and p = q > 0 every unit vector is an eigenvector: the standard basis (the audit's, and the best) gives "
                  "beta* = 1, a rotated one beta* > 1. The premise, TIE as a sum of per-unit terms, is checked from eq. "
                  "(25) for every rotation Q and every relabelling (orthogonal.k2.tie.*).")
    p, q = sp.symbols("p q", nonnegative=True)
    rr = sp.Symbol("r", real=True)
    t = sp.Symbol("t")
    s = sp.sqrt((p - q) ** 2 + 4 * rr ** 2)
    charpoly = t ** 2 - (p + q) * t + p * q - rr ** 2
    for name, sign in (("top", 1), ("low", -1)):
        sec.add(prove(f"orthogonal.k2.eigenvalue.{name}", f"(p + q {'+' if sign > 0 else '-'} s)/2 is a root of "
                      "det(t I - M)", charpoly.subs(t, (p + q + sign * s) / 2), 0,
                      "symbolic p, q, r (SymPy)", simplifier=sp.expand))
    sec.add(prove("orthogonal.k2.rank-one", "pq = r^2 (rank 1): the low eigenvalue is 0",
                  (p + q - sp.sqrt((p - q) ** 2 + 4 * p * q)) / 2, 0, "symbolic p, q >= 0 (SymPy)",
                  simplifier=_factor_radicands))
    _tie_every_basis(sec)
    zp, zq, zr, zs, zx, zy, zl = z3.Reals("p q r s x y a")
    gram = [zp >= 0, zq >= 0, zp * zq >= zr * zr]
    eigvec = [zx * zx + zy * zy == 1, zp * zx + zr * zy == zl * zx, zr * zx + zq * zy == zl * zy]
    disc = [zs >= 0, zs * zs == (zp - zq) ** 2 + 4 * zr * zr]
    x, y = sp.symbols("x y", real=True)
    sec.add(entailment_step("orthogonal.k2.top", "r != 0: the top eigenvalue (p + q + s)/2 is positive and its unit "
                            "eigenvector (x, y) has x^2 < 1 and y^2 < 1 (no branch aligns the top unit)",
                            sp.Max(x ** 2, y ** 2), 1, "<", [*gram, zr != 0, *disc, zl == (zp + zq + zs) / 2, *eigvec],
                            z3.And(zl > 0, zx * zx < 1, zy * zy < 1), method=Z3))
    sec.add(entailment_step("orthogonal.k2.low", "r != 0: the unit eigenvector (x, y) of the low eigenvalue (p + q - s)/2 "
                            "has x^2 < 1 and y^2 < 1 (matters when that eigenvalue is positive)",
                            sp.Max(x ** 2, y ** 2), 1, "<", [*gram, zr != 0, *disc, zl == (zp + zq - zs) / 2, *eigvec],
                            z3.And(zx * zx < 1, zy * zy < 1), method=Z3))
    sec.add(entailment_step("orthogonal.k2.diagonal", "r = 0, p != q: every unit eigenvector is +-e_1 or +-e_2 (c = 1 on "
                            "the matching branch, TIE(1) = 0)", sp.Max(x ** 2, y ** 2), 1, ">=",
                            [*gram, zr == 0, zp != zq, *eigvec], z3.Or(zx * zx == 1, zy * zy == 1), method=Z3))
    sec.add(counterexample_step("orthogonal.k2.repeated", "r = 0, p = q > 0: some unit eigenvector is not standard (z3 "
                                "finds one): the optimum set contains rotated bases, and the theorem's beta* = 1 needs the "
                                "standard one", [*gram, zr == 0, zp == zq, zp > 0, *eigvec],
                                z3.Or(zx * zx == 1, zy * zy == 1), x ** 2, 1, "<", method=Z3))
    return sec


def _tie_every_basis(sec: Section) -> None:
    """The premise at k = 2 for every eigenbasis: eq. (25) with (27), latents relabelled by each signed permutation,
    equals the structured form of ``closed_form.tie_structured`` for Q = [[c, -s], [s, c]], s = sqrt(1 - c^2) (every
    rotation with s >= 0; the other half-turn and the reflections flip columns of Q, i.e. the signs, all checked)."""
    kk = 2
    cq = sp.Symbol("c", real=True)
    Q = sp.Matrix([[cq, -sp.sqrt(1 - cq ** 2)], [sp.sqrt(1 - cq ** 2), cq]])
    sig = sp.symbols("sigma1:3", positive=True)
    ws = sp.symbols("w1:3", real=True)
    ss = sp.symbols("s1:3", positive=True)
    A = sp.diag(*sig) * Q.T                       # N = k = 2 in the left singular basis, as in section tie
    Einv = sp.simplify(A.T * A + sp.eye(kk))
    Fm = sp.simplify(Einv.adjugate() * A.T / sp.factor(Einv.det()))
    Sx = sp.simplify(A * A.T + sp.eye(kk))
    for perm, signs, tag in signed_permutations(kk):
        val = tie_at_relabelling(Einv, Fm, Sx, perm, signs, ws, ss)
        sec.add(prove(f"orthogonal.k2.tie.{tag}", f"TIE (eqs. 25, 27), latents relabelled by perm {perm}, signs "
                      f"{signs}, for every rotation Q = [[c, -sqrt(1 - c^2)], [sqrt(1 - c^2), c]] = structured form",
                      val, tie_structured([x ** 2 for x in sig], Q, perm, signs, ss, ws),
                      "concrete N = k = 2; c, singular values, encoder w, s symbolic (SymPy)", equation="25",
                      simplifier=_log_rational_simplify,
                      note="with the per-unit optimum values (section tie, tie.optimum.*) this is the branch "
                           "formula sum_j g(a_j, signs_j Q[perm_j, j], beta) for every 2 x 2 Gram matrix"))


def _log_rational_simplify(e):
    e = sp.expand(e).replace(sp.log, lambda arg: sp.log(sp.factor(arg)))
    return rational_simplify(sp.expand_log(e, force=True))


def _factor_radicands(e):
    """Simplify after factoring every square root's radicand: sqrt((p - q)^2 + 4 p q) = sqrt((p + q)^2) = p + q."""
    e = sp.sympify(e).replace(lambda x: x.is_Pow and x.exp == sp.S.Half, lambda x: sp.sqrt(sp.factor(x.base)))
    return sp.simplify(e)


def section_builders() -> dict:
    """This module's sections, in order, for :func:`derivations.document.section_builders`."""
    return {"orthogonal": orthogonal_section, "orthogonal.k2": orthogonal_k2_section}

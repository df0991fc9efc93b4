"""Exact algebraic characterisation of the TIE-optimal beta for a rational mixing matrix (SymPy only).

With M = A^T A (rational, k x k), p(t) = det(t I - M), its eigenvalues a_j (roots of p, algebraic),
lambda_j = 1 + a_j, and the squared eigenvector entries written without eigenvectors,

    Q[i, j]^2 = R_i(a_j) / p'(a_j),     R_i(t) = det(t I - M with row and column i deleted)

(the adjugate formula; valid when p is square-free), the gauge-aligned TIE on a branch (permutation pi)
in a regime (active units S, those with lambda_j > beta) has the derivative

    dTIE/dbeta = ( sum_{j in S} beta c_j sqrt(a_j / (lambda_j - beta)) - |S| ) / (2 beta),   c_j = |Q[pi_j, j]|.

beta* is therefore one of:

* smooth:    |S| = beta sum_j u_j  with  u_j^2 (1 + a_j - beta) p'(a_j) = a_j R_{pi_j}(a_j),  u_j >= 0;
* threshold: beta = 1 + a_j, a root of p(beta - 1);
* crossing:  sum_j (y_j - y'_j) = 0  with  y_j^2 p'(a_j) = R_{pi_j}(a_j) a_j (1 + a_j - beta)  (and y'_j for pi').

The radicals u_j (y_j) are removed by resultants, then each a_j by a resultant with its minimal
polynomial (or substituted when rational). The result is a polynomial in beta with rational coefficients
that vanishes at beta* (together with spurious roots from the other sign choices and other conjugates);
it is factored over Q and the irreducible factor with a real root at ``beta_hint`` is returned, with an
isolating interval and the root as a ``CRootOf``. Which case applies is decided at ``beta_hint``
(typically the high-precision value from ``numerics.optimal_beta``): this module never decides which
local minimum is global, it characterises the given one exactly.

>>> import sympy as sp
>>> A = 2 * sp.eye(2) + sp.Rational(73, 100) * sp.ones(2, 2)          # Fig. 3: A_ij = 2 delta_ij + 0.73
>>> r = exact_optimal_beta(A, "1.3694083965152250728234471005885623076179088111515")
>>> r.kind, r.polynomial.degree()
('smooth', 6)
>>> r.polynomial.as_expr()
397165041*beta**6 + 802829918*beta**5 - 39080795615*beta**4 + 290033889184*beta**3 - 543674066896*beta**2 - 932481626240*beta + 1682624065600
>>> sp.N(r.root, 50)
1.3694083965152250728234471005885623076179088111515
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from fractions import Fraction

import sympy as sp

beta = sp.Symbol("beta", positive=True)
_t = sp.Symbol("t")
MAX_ENUMERATE_K = 6


@dataclass(frozen=True)
class ExactBetaResult:
    polynomial: sp.Poly               # irreducible over Q, primitive integer coefficients, in beta
    interval: tuple                   # (lo, hi) Rationals isolating the root; contains beta_hint
    kind: str                         # "smooth" or "kink"
    kink_type: str | None             # "threshold" or "crossing" for kinks
    index: int                        # beta* is the index-th real root of polynomial, ascending
    equation: str                     # the radical equation solved (before clearing the radicals)
    active_units: tuple               # units j with lambda_j > beta*
    permutation: tuple                # branch pi at beta* (latent j compared with source pi_j)
    eliminated_degree: int            # degree of the polynomial before factoring over Q
    charpoly: sp.Poly                 # det(t I - A^T A)

    @property
    def root(self) -> sp.CRootOf:
        """The exact beta* as a CRootOf. Built on demand: for the huge coefficients of a float matrix's binary values
        SymPy's root preprocessing factors integers and can take minutes (the interval above needs none of it)."""
        return sp.CRootOf(self.polynomial.as_expr(), self.index)


def _rational(x):
    if isinstance(x, sp.Float):
        raise ValueError(f"entry {x} is a SymPy Float; pass exact Rationals (or decimal strings)")
    if isinstance(x, bool):
        raise ValueError("mixing matrix entries must be numbers")
    if isinstance(x, Fraction):
        return sp.Rational(x.numerator, x.denominator)
    if isinstance(x, float):
        if x != x or x in (float("inf"), float("-inf")):
            raise ValueError(f"non-finite entry {x}")
        return sp.Rational(x)          # the exact binary value
    try:
        r = sp.Rational(x) if isinstance(x, (str, int)) else sp.sympify(x)
    except (TypeError, ValueError, sp.SympifyError):
        raise ValueError(f"cannot read {x!r} as an exact rational") from None
    if not r.is_Rational:
        raise ValueError(f"entry {x!r} is not rational")
    return r


def rational_matrix(A) -> sp.Matrix:
    """A as a SymPy Matrix of Rationals (accepts Rationals, ints, Fractions, decimal strings)."""
    rows = A.tolist() if hasattr(A, "tolist") else [list(r) for r in A]
    if not rows or not rows[0] or any(len(r) != len(rows[0]) for r in rows):
        raise ValueError("mixing matrix must be a non-empty N x k array")
    M = sp.Matrix([[_rational(x) for x in r] for r in rows])
    if M.shape[1] > M.shape[0]:
        raise ValueError(f"mixing matrix must be N x k with k <= N, got shape {M.shape}")
    if M.is_zero_matrix:
        raise ValueError("mixing matrix is zero")
    return M


def _count_digits(s: str) -> int:
    mant = s.strip().lower().split("e")[0].lstrip("+-").replace(".", "").lstrip("0")
    return max(len(mant), 1)


class _Problem:
    def __init__(self, A, prec: int):
        self.A = rational_matrix(A)
        self.M = self.A.T * self.A
        self.k = self.M.shape[0]
        self.prec = prec
        self.p = sp.Poly((_t * sp.eye(self.k) - self.M).det(), _t)
        if sp.degree(sp.gcd(self.p, self.p.diff(_t)), _t) > 0:
            raise ValueError("A^T A has a repeated eigenvalue: the alignment (and the eigenvector formula) "
                             "is not identifiable")
        self.dp = self.p.diff(_t)
        # eigenvalues, descending, each with its minimal polynomial
        eig = []
        for f, _ in sp.factor_list(self.p)[1]:
            f = sp.Poly(f, _t)
            for value, exact in _real_roots(f, prec):
                eig.append((value, exact, f))
        eig.sort(key=lambda e: -e[0])
        if len(eig) != self.k:
            raise ValueError("A^T A has non-real eigenvalues (impossible for real A)")
        self.a_num = [e[0] for e in eig]
        self.a_exact = [e[1] for e in eig]
        self.minpoly = [e[2] for e in eig]
        self.R = []
        for i in range(self.k):
            idx = [m for m in range(self.k) if m != i]
            sub = self.M.extract(idx, idx) if idx else sp.zeros(0, 0)
            self.R.append(sp.Poly((_t * sp.eye(self.k - 1) - sub).det() if idx else sp.Integer(1), _t))
        # squared eigenvector entries Q[i, j]^2 (numeric)
        self.q2 = [[sp.N(self.eval_at_root(self.R[i], j) / self.eval_at_root(self.dp, j), prec)
                    for j in range(self.k)] for i in range(self.k)]

    def eval_at_root(self, poly: sp.Poly, j):
        """poly(a_j): exact where a_j is rational, else at the working precision."""
        a = self.a_exact[j] if self.a_exact[j] is not None else self.a_num[j]
        return poly.eval(a)

    def zero_entry(self, i, j) -> bool:
        """Q[i, j] = 0 exactly: R_i(a_j) = 0, i.e. the minimal polynomial of a_j divides R_i."""
        return self.R[i].rem(self.minpoly[j]).is_zero

    def overlap(self, perm, b, act):
        return sum(sp.sqrt(max(self.q2[perm[j]][j], 0)) * sp.sqrt(self.a_num[j] * (1 + self.a_num[j] - b))
                   for j in act)


def _real_roots(f: sp.Poly, prec: int):
    """The real roots of an irreducible f, ascending, as (value at ``prec`` digits, exact Rational or None).

    Isolating intervals (SymPy's continued-fraction isolation, refined by bisection) rather than ``real_roots``,
    whose preprocessing factors the coefficients' integers: minutes for the 100-bit-plus coefficients of a float
    matrix's binary values.
    """
    if f.degree() == 1:
        c1, c0 = f.all_coeffs()
        r = sp.Rational(-c0, c1)
        return [(sp.Float(r, prec), r)]
    eps = sp.Rational(1, 10 ** (prec + 5))
    out = []
    for (lo, hi), _ in f.intervals():
        lo, hi = f.refine_root(lo, hi, eps=eps)
        out.append((sp.Float((sp.Rational(lo) + sp.Rational(hi)) / 2, prec), None))
    return out


MAX_DEGREE_BOUND = 16      # product over units of 2^(radicals) x deg(minimal polynomial of a_j)
MAX_RADICALS = 4           # square roots carrying beta (k = 4, all units active, takes ~10 minutes: refused)


def _eliminate(E, unit_relations, prob: _Problem, max_radicals=MAX_RADICALS):
    """Resultant elimination: for each unit, its radicals (symbol, relation), then its eigenvalue a_j.

    Every k = 2 problem is within the limits (at most 2 radicals, bound 16); k = 3 with rational eigenvalues
    too; larger problems are refused (ValueError) rather than left running for minutes or hours.
    """
    bound, radicals = 1, 0
    for j, rels, _ in unit_relations:
        bound *= 2 ** len(rels) * prob.minpoly[j].degree()
        radicals += len(rels)
    if bound > MAX_DEGREE_BOUND or radicals > max_radicals:
        raise ValueError(f"elimination too large ({radicals} radicals, degree bound {bound}; limits "
                         f"{max_radicals} and {MAX_DEGREE_BOUND}): not attempted")
    for j, rels, a_sym in unit_relations:
        for sym, rel in rels:
            E = sp.resultant(sp.expand(E), sp.expand(rel), sym)
            E = sp.factor_terms(sp.expand(E))
        f = prob.minpoly[j]
        if f.degree() == 1:
            E = E.subs(a_sym, prob.a_exact[j])     # rational: _real_roots gave it exactly
        else:
            E = sp.resultant(sp.expand(E), f.as_expr().subs(_t, a_sym), a_sym)
        E = sp.expand(E)
    return sp.Poly(E, beta)


def stationary_polynomial(A, perm, active, prob: _Problem | None = None):
    """Polynomial in beta vanishing at the stationary point of branch `perm` with active units `active`."""
    prob = prob or _Problem(A, 30)
    E = beta * sum(sp.Symbol(f"u{j}") for j in active) - len(active)
    rels = []
    for j in active:
        u, a = sp.Symbol(f"u{j}"), sp.Symbol(f"a{j}")
        if prob.zero_entry(perm[j], j) or prob.a_exact[j] == 0:
            E = E.subs(u, 0)
            continue
        rel = u ** 2 * (1 + a - beta) * prob.dp.as_expr().subs(_t, a) - a * prob.R[perm[j]].as_expr().subs(_t, a)
        rels.append((j, [(u, rel)], a))
    eq = (f"{len(active)} = beta * (" + " + ".join(
        f"|Q[{perm[j]},{j}]| sqrt(a_{j} / (1 + a_{j} - beta))" for j in active) + ")")
    return _eliminate(E, rels, prob, max_radicals=3), eq


def crossing_polynomial(A, perm1, perm2, active, prob: _Problem | None = None):
    """Polynomial in beta vanishing where branches perm1 and perm2 have equal TIE (active units `active`)."""
    prob = prob or _Problem(A, 30)
    E = sp.Integer(0)
    rels = []
    for j in active:
        if perm1[j] == perm2[j]:
            continue
        y1, y2, a = sp.Symbol(f"y{j}"), sp.Symbol(f"z{j}"), sp.Symbol(f"a{j}")
        E += y1 - y2
        r = []
        for y, perm in ((y1, perm1), (y2, perm2)):
            if prob.zero_entry(perm[j], j) or prob.a_exact[j] == 0:
                E = E.subs(y, 0)
            else:
                r.append((y, y ** 2 * prob.dp.as_expr().subs(_t, a)
                          - prob.R[perm[j]].as_expr().subs(_t, a) * a * (1 + a - beta)))
        rels.append((j, r, a))
    if E == 0:
        raise ValueError("the two branches coincide on the active units: no crossing")
    eq = " + ".join(f"(|Q[{perm1[j]},{j}]| - |Q[{perm2[j]},{j}]|) sqrt(a_{j} (1 + a_{j} - beta))"
                    for j in active if perm1[j] != perm2[j]) + " = 0"
    return _eliminate(E, rels, prob), eq


def threshold_polynomial(prob: _Problem, j):
    return sp.Poly(prob.minpoly[j].as_expr().subs(_t, beta - 1), beta)


def _select_root(P: sp.Poly, hint: sp.Rational, hint_f, prec: int, n: int):
    """Irreducible factor of P with a real root at the hint; (factor, index, interval)."""
    if P.is_zero:
        raise ValueError("elimination produced the zero polynomial (degenerate problem)")
    best = None
    for f, _ in P.factor_list()[1]:
        f = sp.Poly(f, beta)
        if f.degree() < 1:
            continue
        for i, (r, _) in enumerate(_real_roots(f, prec)):
            d = abs(r - hint_f)
            if best is None or d < best[0]:
                best = (d, f, i)
    if best is None:
        raise ValueError("the derived polynomial has no real root")
    d, f, i = best
    if d > sp.Float(10, prec) ** (-(n - 5)) * (1 + abs(hint_f)):
        raise ValueError(f"beta_hint is not a root of the derived polynomial (closest root is {d} away): "
                         "the hint is not a minimum of the kind detected, or it has too few digits")
    f = sp.Poly(sp.Poly(f, beta).primitive()[1], beta)
    if f.LC() < 0:
        f = -f
    intervals = f.intervals()
    lo, hi = intervals[i][0]
    lo, hi = f.refine_root(lo, hi, eps=sp.Rational(1, 10 ** max(n - 5, 1)))
    lo, hi = min(lo, hint), max(hi, hint)
    if f.count_roots(lo, hi) != 1:
        raise ValueError("could not find an isolating interval containing beta_hint")
    return f, i, (sp.Rational(lo), sp.Rational(hi))


def exact_optimal_beta(A_rational, beta_hint: str) -> ExactBetaResult:
    """Exact algebraic beta* (minimal polynomial, isolating interval, CRootOf) for a rational mixing matrix.

    beta_hint: beta* as a decimal string (e.g. ``numerics.optimal_beta(A).beta_star``), with enough digits to
    separate the candidate roots (20 or more is plenty for the paper's problems).
    """
    if not isinstance(beta_hint, str):
        raise ValueError("beta_hint must be a decimal string")
    try:
        hint = sp.Rational(beta_hint.strip())
    except (TypeError, ValueError):
        raise ValueError(f"beta_hint {beta_hint!r} is not a decimal number") from None
    if hint <= 0:
        raise ValueError("beta_hint must be positive")
    n = _count_digits(beta_hint)
    if n < 8:
        raise ValueError("beta_hint needs at least 8 significant digits")
    prec = n + 25
    prob = _Problem(A_rational, prec)
    if prob.k > MAX_ENUMERATE_K:
        raise ValueError(f"k = {prob.k} > {MAX_ENUMERATE_K}: the branch enumeration and elimination are not attempted")
    hint_f = sp.Float(beta_hint.strip(), prec)
    tol = sp.Float(10, prec) ** (-(n - 5))
    k = prob.k
    # a collapse threshold?
    for j in range(k):
        if abs(1 + prob.a_num[j] - hint_f) <= tol * (1 + abs(hint_f)):
            P = threshold_polynomial(prob, j)
            f, i, iv = _select_root(P, hint, hint_f, prec, n)
            act = tuple(m for m in range(k) if 1 + prob.a_num[m] > hint_f + tol * (1 + abs(hint_f)))
            return ExactBetaResult(polynomial=f, interval=iv, kind="kink", kink_type="threshold",
                                   index=i, equation=f"beta = 1 + a_{j}, a_{j} a root of {prob.minpoly[j].as_expr()}",
                                   active_units=act, permutation=(), eliminated_degree=P.degree(), charpoly=prob.p)
    act = tuple(j for j in range(k) if 1 + prob.a_num[j] > hint_f)
    if not act:
        raise ValueError("beta_hint is above every collapse threshold: TIE is constant there")
    perms = list(itertools.permutations(range(k)))
    vals = [(prob.overlap(p, hint_f, act), p) for p in perms]
    top, perm = max(vals, key=lambda v: v[0])
    key = tuple(prob.q2[perm[j]][j] for j in act)
    rivals = [p for v, p in vals
              if abs(top - v) <= tol * (1 + abs(top))
              and any(abs(prob.q2[p[j]][j] - key[i]) > tol for i, j in enumerate(act))]
    if rivals:
        P, eq = crossing_polynomial(None, perm, rivals[0], act, prob)
        kind, kink_type = "kink", "crossing"
    else:
        P, eq = stationary_polynomial(None, perm, act, prob)
        kind, kink_type = "smooth", None
    f, i, iv = _select_root(P, hint, hint_f, prec, n)
    return ExactBetaResult(polynomial=f, interval=iv, kind=kind, kink_type=kink_type,
                           index=i, equation=eq, active_units=act, permutation=tuple(perm),
                           eliminated_degree=P.degree(), charpoly=prob.p)


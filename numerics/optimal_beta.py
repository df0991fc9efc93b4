"""The beta that minimises the gauge-aligned TIE at the beta-VAE optimum, to many certified digits.

At the closed-form optimum (:mod:`derivations.closed_form`, :mod:`numerics.optimum`), with
A^T A = Q diag(a) Q^T, lambda_j = 1 + a_j and w_j(beta) = sqrt(a_j (lambda_j - beta)^+),

    TIE(beta) = sum_j a_j - 1/2 sum_j log lambda_j + 1/2 sum_j log max(lambda_j / beta, 1)
                - max_pi sum_j w_j(beta) |Q[pi_j, j]|.

For a fixed permutation pi (a *branch*) and a fixed set of active units S = {j : lambda_j > beta}
(a *regime*: beta between two consecutive collapse thresholds), TIE is smooth, with

    dTIE/dbeta = h(beta) / (2 beta),   h(beta) = sum_{j in S} ( beta c_j sqrt(a_j) / sqrt(lambda_j - beta) - 1 ),

c_j = |Q[pi_j, j]|. h is strictly increasing on the regime (each beta / sqrt(lambda_j - beta) is), so
every branch has at most one stationary point per regime, and it is a minimum of that branch.
The TIE curve is the lower envelope of the branches. Its possible minimisers are therefore:

* a branch's stationary point where that branch is optimal ("smooth");
* a collapse threshold beta = lambda_j where the left derivative is negative and the right one is
  not ("kink"). When the collapsing unit carries weight (c_j a_j > 0) the left derivative is +inf,
  so a threshold can only be a minimum when that weight vanishes (e.g. a_j = 0 and every other
  column of A orthogonal: TIE = 0 at beta = 1);
* a branch crossing is never a minimum: the envelope of maxima of smooth overlaps bends the other
  way (the derivative of TIE jumps down). Crossings are located and reported all the same.

Method (numpy/scipy/mpmath only, no SymPy): A is read exactly (floats at their binary value,
strings and fractions as rationals), M = A^T A is formed in rationals (integer dot products), its rank
is decided exactly, and so are repeated eigenvalues for k <= EXACT_CHARPOLY_MAX_K (gcd of the
characteristic polynomial and its derivative; numerically at 60 digits beyond); a_j and Q come from
``mpmath.eigsy`` at the working precision. An entry of Q below 10^(-3/4 x working digits) counts as 0. For k <= ENUMERATE_MAX_K every permutation is a candidate branch; for larger k the
candidates are the permutations that ``linear_sum_assignment`` finds optimal on a dense grid of beta
(a branch optimal only between two grid points can be missed). Stationary points are found by
safeguarded Newton on h with the analytic derivative, crossings by bracketing on the difference of two
branches. The whole computation runs twice, at ``digits + 20`` and ``digits + 40`` decimal digits,
and only digits on which both runs agree are returned; if fewer than ``digits`` agree it is retried at
higher precision and then refused (``PrecisionError``).

MIE at the optimum is >= 0 (an average KL divergence) and vanishes at beta = 1 (the model posterior
is exact) and for every beta >= lambda_max (every unit collapsed, q(z|x) = p(z) = the model
posterior); it is positive elsewhere, so ``mie_optimal_beta`` is 1.

>>> import numpy as np
>>> r = optimal_beta(0.5 * (np.ones((128, 2)) + np.eye(128, 2)), digits=20)   # the paper's problem
>>> r.beta_star, r.kind
('1.1369043710460202305', 'smooth')
>>> r.local_minima[1].beta, r.local_minima[1].active_units      # one unit collapsed: 261 b^2 + 8 b = 530
('1.4097659817027081732', (0,))
>>> r.mie_optimal_beta
'1'
"""
from __future__ import annotations

import itertools
import math
import numbers
import operator
import time
import warnings
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

import mpmath
import numpy as np
from scipy.optimize import linear_sum_assignment

MIN_DIGITS, MAX_DIGITS = 1, 1000
ENUMERATE_MAX_K = 4          # enumerate all k! permutations up to this k; grid + assignment beyond
GRID_POINTS = 1500           # float grid points per regime (crossings, candidate branches for large k)
_EXTRA = (20, 40)            # working precisions: digits + 20 and digits + 40 decimal digits
_RETRIES = 2


class PrecisionError(RuntimeError):
    """Fewer than the requested digits could be confirmed by the two working precisions."""


# ---------------------------------------------------------------- result types
@dataclass(frozen=True)
class Alignment:
    """Best signed permutation at beta*: latent j is compared with source ``permutation[j]``.

    ``signs`` are relative to the eigenvector signs chosen here (Q's columns are defined up to sign).
    ``tied_permutations`` lists every permutation with the same maximal overlap (to working precision);
    ``unique`` is False when there is more than one: the TIE value is well defined, the labelling is not.
    """

    permutation: tuple[int, ...]
    signs: tuple[int, ...]
    unique: bool
    tied_permutations: tuple[tuple[int, ...], ...]
    collapsed_units: tuple[int, ...]
    overlaps: tuple[str, ...]            # |Q[permutation_j, j]| (12 digits)


@dataclass(frozen=True)
class LocalMinimum:
    beta: str
    tie: str
    kind: str                            # "smooth" or "kink"
    detail: str
    permutation: tuple[int, ...]
    active_units: tuple[int, ...]


@dataclass(frozen=True)
class Kink:
    beta: str
    type: str                            # "threshold" or "crossing"
    left_derivative: str                 # dTIE/dbeta from the left ("inf" when infinite)
    right_derivative: str
    local_minimum: bool
    detail: str


@dataclass(frozen=True)
class OptimalBetaResult:
    beta_star: str                       # `digits` significant digits, all confirmed
    tie_star: str
    kind: str                            # "smooth" or "kink"
    detail: str
    alignment: Alignment
    local_minima: tuple[LocalMinimum, ...]
    kinks: tuple[Kink, ...]
    collapse_thresholds: tuple[str, ...]  # distinct lambda_j = 1 + a_j, ascending
    eigenvalues: tuple[str, ...]          # a_j, descending
    active_units: tuple[int, ...]         # units with lambda_j > beta*
    tie_plateau: str                      # TIE for every beta >= lambda_max
    mie_optimal_beta: str
    mie_minimisers: str
    mie_at_beta_star: str
    digits: int
    working_dps: tuple[int, int]
    precision_bits: tuple[int, int]
    confirmed_digits: int
    warnings: tuple[str, ...]
    seconds: float


# ---------------------------------------------------------------- exact input
def _to_fraction(x) -> Fraction:
    if isinstance(x, Fraction):
        return Fraction(int(x.numerator), int(x.denominator))
    if isinstance(x, (bool, np.bool_)):
        raise ValueError("mixing matrix entries must be numbers, got a bool")
    if isinstance(x, (int, np.integer)):
        return Fraction(int(x))
    if isinstance(x, (float, np.floating)):
        if not math.isfinite(float(x)):
            raise ValueError(f"mixing matrix has a non-finite entry: {x!r}")
        return Fraction(float(x))
    if isinstance(x, str):
        try:
            return Fraction(x.strip())
        except (ValueError, ZeroDivisionError):
            raise ValueError(f"mixing matrix entry {x!r} is not a finite rational literal") from None
    if isinstance(x, Decimal):
        if not x.is_finite():
            raise ValueError(f"mixing matrix has a non-finite entry: {x!r}")
        return Fraction(x)
    if isinstance(x, mpmath.mpf) or type(x).__name__ == "mpf":
        if not mpmath.isfinite(x):
            raise ValueError(f"mixing matrix has a non-finite entry: {x!r}")
        man, exp = x.man_exp
        return Fraction(int(man)) * (Fraction(2) ** int(exp))
    if isinstance(x, (complex, np.complexfloating)) or type(x).__name__ == "mpc":
        raise ValueError(f"mixing matrix must be real, got {x!r}")
    if isinstance(x, numbers.Rational):
        return Fraction(int(x.numerator), int(x.denominator))
    try:                                   # e.g. sympy.Rational / Integer (str gives p/q)
        return Fraction(str(x))
    except (ValueError, ZeroDivisionError):
        raise ValueError(f"cannot read mixing matrix entry {x!r} as an exact rational") from None


def exact_matrix(A) -> tuple[tuple[Fraction, ...], ...]:
    """A (numpy array, nested list of numbers / Fractions / strings, or mpmath matrix) as exact rationals."""
    if isinstance(A, mpmath.matrix) or type(A).__name__ == "matrix" and hasattr(A, "rows") and hasattr(A, "cols"):
        rows = [[A[i, j] for j in range(A.cols)] for i in range(A.rows)]
    else:
        arr = np.asarray(A, dtype=object) if not isinstance(A, np.ndarray) else A
        if arr.ndim != 2:
            raise ValueError(f"mixing matrix must be 2-D (N x k), got {arr.ndim}-D")
        rows = arr.tolist()
    if not rows or not rows[0]:
        raise ValueError("mixing matrix is empty")
    k = len(rows[0])
    if any(len(r) != k for r in rows):
        raise ValueError("mixing matrix rows have different lengths")
    N = len(rows)
    if k > N:
        raise ValueError(f"mixing matrix must be N x k with k <= N, got shape ({N}, {k})")
    out = tuple(tuple(_to_fraction(x) for x in r) for r in rows)
    if all(x == 0 for r in out for x in r):
        raise ValueError("mixing matrix is zero: TIE is constant for beta >= 1, no unique minimiser")
    return out


def _gram(A) -> list[list[Fraction]]:
    """A^T A exactly: each column over a common denominator, then integer dot products."""
    k = len(A[0])
    cols, dens = [], []
    for j in range(k):
        col = [r[j] for r in A]
        D = math.lcm(*(x.denominator for x in col))
        cols.append([x.numerator * (D // x.denominator) for x in col])
        dens.append(D)
    M = [[Fraction(0)] * k for _ in range(k)]
    for i in range(k):
        for j in range(i, k):
            M[i][j] = M[j][i] = Fraction(sum(map(operator.mul, cols[i], cols[j])), dens[i] * dens[j])
    return M


def _charpoly(M) -> list[Fraction]:
    """det(t I - M), coefficients highest degree first (Faddeev-LeVerrier, exact)."""
    k = len(M)
    coeffs = [Fraction(1)]
    Mk = [[Fraction(0)] * k for _ in range(k)]
    c = Fraction(1)
    for m in range(1, k + 1):
        Mk = [[sum((M[i][l] * Mk[l][j] for l in range(k)), Fraction(0)) + (c if i == j else 0) for j in range(k)]
              for i in range(k)]
        AM = [[sum((M[i][l] * Mk[l][j] for l in range(k)), Fraction(0)) for j in range(k)] for i in range(k)]
        c = -sum((AM[i][i] for i in range(k)), Fraction(0)) / m
        coeffs.append(c)
    return coeffs


def _poly_rem(p, q):
    p = list(p)
    while len(p) >= len(q) and any(p):
        f = p[0] / q[0]
        for i in range(len(q)):
            p[i] -= f * q[i]
        p.pop(0)
    while p and p[0] == 0:
        p.pop(0)
    return p


def _poly_gcd_degree(p, q) -> int:
    while q:
        p, q = q, _poly_rem(p, q)
    return len(p) - 1


def _rank(M) -> int:
    M = [list(r) for r in M]
    rank, rows, cols = 0, len(M), len(M[0])
    for c in range(cols):
        piv = next((r for r in range(rank, rows) if M[r][c] != 0), None)
        if piv is None:
            continue
        M[rank], M[piv] = M[piv], M[rank]
        for r in range(rows):
            if r != rank and M[r][c] != 0:
                f = M[r][c] / M[rank][c]
                M[r] = [x - f * y for x, y in zip(M[r], M[rank])]
        rank += 1
    return rank


@dataclass(frozen=True)
class _Exact:
    A: tuple
    M: list
    k: int
    rank: int
    repeated: bool


EXACT_CHARPOLY_MAX_K = 10    # beyond this, repeated eigenvalues are detected numerically (charpoly too costly)


def _float_gram(A: np.ndarray) -> list[list[Fraction]]:
    """Exact A^T A for a float array without per-entry Fractions: A = m 2^e with integer m (np.frexp)."""
    if not np.all(np.isfinite(A)):
        raise ValueError("mixing matrix has a non-finite entry (NaN or inf)")
    if A.ndim != 2 or A.shape[0] == 0 or A.shape[1] == 0:
        raise ValueError(f"mixing matrix must be a non-empty 2-D (N x k) array, got shape {A.shape}")
    N, k = A.shape
    if k > N:
        raise ValueError(f"mixing matrix must be N x k with k <= N, got shape ({N}, {k})")
    if not np.any(A):
        raise ValueError("mixing matrix is zero: TIE is constant for beta >= 1, no unique minimiser")
    m, e = np.frexp(A)
    mi = (m * 2.0 ** 53).astype(np.int64)
    ei = e.astype(np.int64) - 53
    cols, shifts = [], []
    for j in range(k):
        nz = mi[:, j] != 0
        emin = int(ei[nz, j].min()) if np.any(nz) else 0
        sh = np.where(nz, ei[:, j] - emin, 0)
        cols.append([int(a) << int(b) for a, b in zip(mi[:, j].tolist(), sh.tolist())])
        shifts.append(emin)
    M = [[Fraction(0)] * k for _ in range(k)]
    for i in range(k):
        for j in range(i, k):
            M[i][j] = M[j][i] = Fraction(sum(map(operator.mul, cols[i], cols[j]))) * Fraction(2) ** (shifts[i] + shifts[j])
    return M


def _exact_problem(A) -> _Exact:
    if isinstance(A, np.ndarray) and A.dtype.kind == "f":
        M = _float_gram(A)
        Ae = None
    else:
        if isinstance(A, np.ndarray) and A.dtype.kind == "c":
            raise ValueError("mixing matrix must be real")
        Ae = exact_matrix(A)
        M = _gram(Ae)
    k = len(M)
    repeated = None
    if k <= EXACT_CHARPOLY_MAX_K:
        p = _charpoly(M)
        dp = [c * (len(p) - 1 - i) for i, c in enumerate(p[:-1])]
        repeated = k > 1 and _poly_gcd_degree(p, dp) > 0
    return _Exact(A=Ae, M=M, k=k, rank=_rank(M), repeated=repeated)


# ---------------------------------------------------------------- one solve at one precision
def _fmt(ctx, x, digits: int) -> str:
    if ctx.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x == 0:
        return "0"
    s = ctx.nstr(x, digits, strip_zeros=False, min_fixed=-ctx.inf, max_fixed=ctx.inf)
    return s[:-1] if s.endswith(".") else s


class _Solver:
    """Everything at one working precision (a private mpmath context, so global mp.dps is untouched)."""

    def __init__(self, ex: _Exact, dps: int):
        self.ex, self.k = ex, ex.k
        ctx = self.ctx = mpmath.MPContext()
        ctx.dps = dps
        self.dps = dps
        k = self.k
        Mm = ctx.matrix([[ctx.mpf(x.numerator) / x.denominator for x in row] for row in ex.M])
        E, Q = ctx.eigsy(Mm)
        order = sorted(range(k), key=lambda i: -E[i])
        a = [E[i] for i in order]
        nzero = k - ex.rank                      # exactly known number of zero eigenvalues
        for i in range(k - nzero, k):
            a[i] = ctx.zero
        a = [max(x, ctx.zero) for x in a]
        self.a = a
        self.lam = [1 + x for x in a]
        self.Q = [[Q[i, order[j]] for j in range(k)] for i in range(k)]
        self.zero_tol = ctx.mpf(10) ** (-(3 * dps) // 4)
        self.tol = ctx.mpf(10) ** (-(dps - 10))
        self.absQ = [[(abs(x) if abs(x) > self.zero_tol else ctx.zero) for x in row] for row in self.Q]
        self.sqa = [ctx.sqrt(x) for x in a]
        self.S0 = ctx.fsum(a) - ctx.fsum(ctx.log(x) for x in self.lam) / 2
        scale = max(self.lam)
        # distinct thresholds (clusters of equal lambda), ascending
        th = []
        for x in sorted(self.lam):
            if th and abs(x - th[-1]) <= self.tol * scale:
                continue
            th.append(x)
        self.thresholds = th
        self.perms = list(itertools.permutations(range(k))) if k <= ENUMERATE_MAX_K else None

    # -- branch functions (c: per-unit coefficients |Q[pi_j, j]|)
    def coeffs(self, perm):
        return [self.absQ[perm[j]][j] for j in range(self.k)]

    def active(self, beta):
        return [j for j in range(self.k) if self.lam[j] - beta > self.tol * self.lam[j]]

    def weight(self, j, beta):
        d = self.lam[j] - beta
        return self.ctx.sqrt(self.a[j] * d) if d > 0 else self.ctx.zero

    def overlap(self, perm, beta, act=None):
        act = self.active(beta) if act is None else act
        return self.ctx.fsum(self.absQ[perm[j]][j] * self.weight(j, beta) for j in act)

    def tie_branch(self, perm, beta, act=None):
        ctx = self.ctx
        act = self.active(beta) if act is None else act
        return self.S0 + ctx.fsum(ctx.log(self.lam[j] / beta) for j in act) / 2 - self.overlap(perm, beta, act)

    def h(self, c, beta, act):
        """2 beta dTIE/dbeta on a branch (inf when a weighted unit collapses exactly at beta)."""
        ctx = self.ctx
        out = ctx.zero
        for j in act:
            coef = c[j] * self.sqa[j]
            if coef == 0:
                out -= 1
                continue
            d = self.lam[j] - beta
            if d <= 0:
                return ctx.inf
            out += beta * coef / ctx.sqrt(d) - 1
        return out

    def dh(self, c, beta, act):
        ctx = self.ctx
        out = ctx.zero
        for j in act:
            coef = c[j] * self.sqa[j]
            if coef == 0:
                continue
            d = self.lam[j] - beta
            out += coef * (1 / ctx.sqrt(d) + beta / (2 * d * ctx.sqrt(d)))
        return out

    def best(self, beta):
        """(maximal overlap, all permutations attaining it to working precision) at beta."""
        act = self.active(beta)
        if self.perms is not None:
            vals = [(self.overlap(p, beta, act), p) for p in self.perms]
        else:
            w = np.array([float(self.weight(j, beta)) for j in range(self.k)])
            score = np.array([[float(x) for x in row] for row in self.absQ]) * w[None, :]
            rows, cols = linear_sum_assignment(score.T, maximize=True)
            perm = [0] * self.k
            for r, c in zip(rows, cols):
                perm[r] = int(c)
            vals = [(self.overlap(tuple(perm), beta, act), tuple(perm))]
        top = max(v for v, _ in vals)
        scale = max(abs(top), 1)
        tied = tuple(p for v, p in vals if top - v <= self.tol * scale * 10)
        return top, tied

    def tie(self, beta):
        top, _ = self.best(beta)
        act = self.active(beta)
        return self.S0 + self.ctx.fsum(self.ctx.log(self.lam[j] / beta) for j in act) / 2 - top

    def mie(self, beta):
        ctx = self.ctx
        out = ctx.zero
        for l in self.lam:
            if l > beta:
                g = 1 + l - beta
                out += (beta - ctx.log(g) - l / g + ctx.log(l / beta)) / 2
        return out

    def key(self, perm, act):
        return tuple(self.absQ[perm[j]][j] for j in act)

    def same_key(self, k1, k2):
        return all(abs(x - y) <= self.tol * 10 for x, y in zip(k1, k2))

    # -- derivative of TIE along a branch, one-sided at a threshold L
    def derivative(self, c, beta, act_left_of_beta=None):
        """dTIE/dbeta on a branch; with `act_left_of_beta` the left limit at beta = threshold."""
        ctx = self.ctx
        act = self.active(beta) if act_left_of_beta is None else act_left_of_beta
        out = ctx.zero
        for j in act:
            d = self.lam[j] - beta
            if d <= self.tol * self.lam[j]:          # collapsing exactly at beta (left limit)
                if c[j] * self.sqa[j] > self.zero_tol:
                    return ctx.inf
                out -= 1 / (2 * beta)
            else:
                out += -1 / (2 * beta) + c[j] * self.sqa[j] / (2 * ctx.sqrt(d))
        return out

    # -- root finders
    def newton_root(self, c, lo, hi, act):
        """Unique root of the increasing function h on (lo, hi): safeguarded Newton."""
        ctx = self.ctx
        x = (lo + hi) / 2
        eps = ctx.mpf(10) ** (-(self.dps - 2))
        for _ in range(40 * self.dps):
            hx = self.h(c, x, act)
            if hx > 0:
                hi = x
            else:
                lo = x
            if hi - lo <= eps * hi:
                return (lo + hi) / 2
            step = hx / self.dh(c, x, act)
            xn = x - step
            if not (lo < xn < hi) or abs(step) > (hi - lo) / 2:
                xn = (lo + hi) / 2
            elif abs(step) <= eps * abs(x):
                return xn
            x = xn
        raise RuntimeError("Newton iteration on dTIE/dbeta did not converge")

    def bracket_root(self, f, lo, hi):
        """A root of f on [lo, hi] with f(lo) f(hi) < 0 (Illinois method with bisection fallback)."""
        ctx = self.ctx
        flo, fhi = f(lo), f(hi)
        eps = ctx.mpf(10) ** (-(self.dps - 2))
        side = 0
        for _ in range(40 * self.dps):
            if hi - lo <= eps * abs(hi):
                break
            x = (lo * fhi - hi * flo) / (fhi - flo) if fhi != flo else (lo + hi) / 2
            if not (lo < x < hi):
                x = (lo + hi) / 2
            fx = f(x)
            if fx == 0:
                return x
            if (fx > 0) == (fhi > 0):
                hi, fhi = x, fx
                if side == 1:
                    flo /= 2
                side = 1
            else:
                lo, flo = x, fx
                if side == -1:
                    fhi /= 2
                side = -1
        return (lo + hi) / 2

    # -- the regime / branch analysis
    def regimes(self):
        out, lo = [], self.ctx.zero
        for L in self.thresholds:
            out.append((lo, L))
            lo = L
        return out

    def candidate_branches(self, lo, hi, act, grid_best):
        if self.perms is not None:
            perms = self.perms
        else:
            perms = sorted(set(grid_best))
        keys, out = [], []
        for p in perms:
            kk = self.key(p, act)
            if not any(self.same_key(kk, q) for q in keys):
                keys.append(kk)
                out.append(p)
        return out

    def float_prefilter(self, perm, lo, hi, act) -> bool:
        """Cheap float screen: False only if the branch has no stationary point in (lo, hi) at which it is
        within a generous margin (1e-7 relative) of the best branch. Always True for k <= 2."""
        if self.k <= 2:
            return True
        a = np.array([float(x) for x in self.a])
        lam = 1 + a
        absQ = np.array([[float(x) for x in row] for row in self.absQ])
        c = absQ[list(perm), np.arange(self.k)]
        act = np.array(act)
        coef = c[act] * np.sqrt(a[act])
        if not np.any(coef > 0):
            return False
        lo_f, hi_f = float(lo), float(hi)

        def h(b):
            d = lam[act] - b
            with np.errstate(divide="ignore", invalid="ignore"):
                t = np.where(coef > 0, b * coef / np.sqrt(np.maximum(d, 0)), 0.0)
            return float(np.sum(t - 1))
        x0, x1 = lo_f, hi_f
        if h(x1 * (1 - 1e-15) if x1 > 0 else x1) <= 0:
            return True            # root (if any) within rounding of the threshold: leave it to mpmath
        for _ in range(200):       # bisection (h is increasing)
            xm = 0.5 * (x0 + x1)
            if h(xm) > 0:
                x1 = xm
            else:
                x0 = xm
        b = 0.5 * (x0 + x1)
        w = np.sqrt(a * np.maximum(lam - b, 0))
        mine = float(np.sum(c * w))
        if self.perms is not None:
            P = np.array(self.perms)
            top = float(np.max((absQ[P, np.arange(self.k)[None, :]] * w[None, :]).sum(axis=1)))
        else:
            rows, cols = linear_sum_assignment((absQ * w[None, :]).T, maximize=True)
            top = float((absQ * w[None, :]).T[rows, cols].sum())
        return top - mine <= 1e-7 * (1 + abs(top))

    def float_grid(self, lo, hi):
        lo_f, hi_f = float(lo), float(hi)
        s = (np.arange(GRID_POINTS) + 0.5) / GRID_POINTS
        return lo_f + (hi_f - lo_f) * 0.5 * (1 - np.cos(np.pi * s))

    def grid_best_perms(self, grid):
        a = np.array([float(x) for x in self.a])
        lam = 1 + a
        absQ = np.array([[float(x) for x in row] for row in self.absQ])
        W = np.sqrt(a[None, :] * np.maximum(lam[None, :] - grid[:, None], 0))
        if self.perms is not None:
            P = np.array(self.perms)
            C = absQ[P, np.arange(self.k)[None, :]]
            O = W @ C.T
            return [self.perms[i] for i in np.argmax(O, axis=1)]
        out = []
        for w in W:
            rows, cols = linear_sum_assignment((absQ * w[None, :]).T, maximize=True)
            perm = [0] * self.k
            for r, c in zip(rows, cols):
                perm[r] = int(c)
            out.append(tuple(perm))
        return out

    def solve(self):
        ctx = self.ctx
        local, kinks = [], []
        regimes = self.regimes()
        for idx, (lo, hi) in enumerate(regimes):
            act = self.active((lo + hi) / 2)
            grid = self.float_grid(lo, hi)
            gbest = self.grid_best_perms(grid)
            # crossings: where the float-optimal branch changes between grid points
            for i in range(len(grid) - 1):
                p1, p2 = gbest[i], gbest[i + 1]
                if p1 == p2 or self.same_key(self.key(p1, act), self.key(p2, act)):
                    continue
                b1, b2 = ctx.mpf(grid[i]), ctx.mpf(grid[i + 1])

                def D(b, p1=p1, p2=p2):
                    return self.overlap(p1, b, act) - self.overlap(p2, b, act)
                if D(b1) * D(b2) >= 0:
                    continue
                bc = self.bracket_root(D, b1, b2)
                delta = ctx.mpf(10) ** (-(self.dps // 3)) * bc
                _, tl = self.best(bc - delta)
                _, tr = self.best(bc + delta)
                gl = self.derivative(self.coeffs(tl[0]), bc)
                gr = self.derivative(self.coeffs(tr[0]), bc)
                is_min = bool(gl < -self.tol and gr >= -self.tol)
                kinks.append(dict(beta=bc, type="crossing", gl=gl, gr=gr, local_minimum=is_min,
                                  detail=f"optimal permutation changes from {tl[0]} to {tr[0]}",
                                  perm=tr[0], act=tuple(act)))
                if is_min:
                    local.append(dict(beta=bc, tie=self.tie(bc), kind="kink", perm=tr[0], act=tuple(act),
                                      detail=f"branch crossing {tl[0]} / {tr[0]}"))
            # smooth stationary points of every candidate branch, kept if the branch is optimal there
            for perm in self.candidate_branches(lo, hi, act, gbest):
                if not self.float_prefilter(perm, lo, hi, act):
                    continue
                c = self.coeffs(perm)
                h_lo = -ctx.mpf(len(act)) if lo == 0 else self.h(c, lo, act)
                if any(self.lam[j] - hi <= self.tol * self.lam[j] and c[j] * self.sqa[j] > self.zero_tol for j in act):
                    h_hi = ctx.inf
                else:
                    h_hi = self.h(c, hi, act)
                if not (h_lo < -self.tol and h_hi > self.tol):
                    continue
                root = self.newton_root(c, lo, hi, act)
                top, tied = self.best(root)
                if self.overlap(perm, root, act) < top - self.tol * max(abs(top), 1) * 10:
                    continue
                local.append(dict(beta=root, tie=self.tie_branch(perm, root, act), kind="smooth", perm=perm,
                                  act=tuple(act), detail=f"stationary point of branch {perm} in regime {idx}"))
        # thresholds
        for L in self.thresholds:
            delta = ctx.mpf(10) ** (-(self.dps // 3)) * L
            act_left = self.active(L - delta)
            act_right = self.active(L + delta)
            _, tl = self.best(L - delta)
            gl = self.derivative(self.coeffs(tl[0]), L, act_left_of_beta=act_left)
            if act_right:
                _, tr = self.best(L + delta)
                gr = self.derivative(self.coeffs(tr[0]), L)
                perm_r = tr[0]
            else:
                gr, perm_r = ctx.zero, tl[0]
            is_min = bool(gl < -self.tol and gr >= -self.tol)
            units = tuple(j for j in act_left if j not in act_right)
            kinks.append(dict(beta=L, type="threshold", gl=gl, gr=gr, local_minimum=is_min,
                              detail=f"unit(s) {units} collapse (lambda = 1 + a)", perm=perm_r, act=tuple(act_right)))
            if is_min:
                local.append(dict(beta=L, tie=self.tie(L), kind="kink", perm=tl[0], act=tuple(act_right),
                                  detail=f"collapse threshold of unit(s) {units}" +
                                         ("; every beta >= lambda_max is a minimiser too" if not act_right else "")))
        # a TIE that vanishes up to rounding is exactly representable as 0 (TIE >= 0; equality when
        # the model posterior matches the ground truth, e.g. orthogonal columns at beta = 1)
        zero_band = ctx.mpf(10) ** (-(self.dps - 15)) * (1 + ctx.fsum(self.a))
        for m in local:
            if abs(m["tie"]) <= zero_band:
                m["tie"] = ctx.zero
        local.sort(key=lambda d: d["beta"])
        kinks.sort(key=lambda d: d["beta"])
        if not local:
            raise RuntimeError("no local minimum of TIE found (please report this mixing matrix)")
        best = min(local, key=lambda d: (d["tie"], d["beta"]))
        return dict(local=local, kinks=kinks, best=best)

    def alignment(self, beta):
        top, tied = self.best(beta)
        perm = tied[0]
        act = self.active(beta)
        signs = tuple(1 if self.Q[perm[j]][j] >= 0 else -1 for j in range(self.k))
        distinct_on_active = {tuple(p[j] for j in act) for p in tied}
        return Alignment(permutation=tuple(perm), signs=signs, unique=len(distinct_on_active) == 1,
                         tied_permutations=tied,
                         collapsed_units=tuple(j for j in range(self.k) if j not in act),
                         overlaps=tuple(_fmt(self.ctx, self.absQ[perm[j]][j], 12) for j in range(self.k)))


# ---------------------------------------------------------------- public API
def _agree_digits(ctx_hi, x_lo, x_hi, cap: int) -> int:
    """Number of significant decimal digits on which two computations agree (capped)."""
    if ctx_hi.isinf(x_hi) or ctx_hi.isinf(x_lo):
        return cap if x_lo == x_hi else 0
    d = abs(ctx_hi.mpf(x_lo) - x_hi)
    if d == 0:
        return cap
    ref = abs(x_hi)
    if ref == 0:
        return max(0, min(cap, int(math.floor(-float(ctx_hi.log10(d))))))
    return max(0, min(cap, int(math.floor(-float(ctx_hi.log10(d / ref))))))


def _check_digits(digits):
    if isinstance(digits, bool) or not isinstance(digits, (int, np.integer)):
        raise ValueError(f"digits must be an integer in [{MIN_DIGITS}, {MAX_DIGITS}], got {digits!r}")
    if not MIN_DIGITS <= int(digits) <= MAX_DIGITS:
        raise ValueError(f"digits must be in [{MIN_DIGITS}, {MAX_DIGITS}], got {digits}")
    return int(digits)


# the float64 grid that locates the regimes forms a_i * lambda_i ~ a_i^2: keep it far below 1e308
MAX_TRACE_EXPONENT = 150
MAX_TRACE = Fraction(10) ** MAX_TRACE_EXPONENT


def optimal_beta(A, digits: int = 50) -> OptimalBetaResult:
    """Global minimiser beta* of the gauge-aligned TIE over beta > 0, with TIE(beta*), to `digits` digits.

    A: the N x k mixing matrix (k <= N), as a float/int/object numpy array, a nested list of numbers,
    ``fractions.Fraction`` or decimal strings, or an mpmath matrix. Floats are taken at their exact
    binary value (so 0.73 is not 73/100: pass "0.73" or Fraction(73, 100) for the decimal problem).
    digits: significant digits of every returned number, 1 <= digits <= 1000 (k = 2: 50 digits in ~0.05 s,
    1000 digits in ~2 s; N = 100000, k = 32 floats: ~12 s, mostly the exact Gram matrix).
    Raises ValueError for bad input, PrecisionError if `digits` digits cannot be confirmed.
    """
    digits = _check_digits(digits)
    t0 = time.perf_counter()
    ex = _exact_problem(A)
    if sum(ex.M[i][i] for i in range(ex.k)) > MAX_TRACE:
        raise ValueError(f"mixing matrix too large: trace(A^T A) exceeds 1e{MAX_TRACE_EXPONENT}, beyond what the float64 "
                         "regime search (which multiplies eigenvalues a_i by lambda_i) can represent; rescale A")
    notes = []
    if ex.repeated is None:          # large k: decide numerically at 60 digits
        probe = _Solver(ex, 60)
        gaps = [probe.a[i] - probe.a[i + 1] for i in range(ex.k - 1)]
        ex = _Exact(A=ex.A, M=ex.M, k=ex.k, rank=ex.rank,
                    repeated=any(g <= probe.ctx.mpf(10) ** -40 * (1 + probe.a[0]) for g in gaps))
    if ex.repeated:
        msg = ("A^T A has a repeated eigenvalue: the eigenbasis (hence the optimum's gauge and the alignment) "
               "is not identifiable; TIE is computed for the eigenbasis mpmath returns")
        warnings.warn(msg, stacklevel=2)
        notes.append(msg)
    if ex.rank < ex.k:
        notes.append(f"A has rank {ex.rank} < k = {ex.k}: {ex.k - ex.rank} eigenvalue(s) a_j = 0 (threshold beta = 1)")

    extra = list(_EXTRA)
    for attempt in range(_RETRIES + 1):
        dps_lo, dps_hi = digits + extra[0], digits + extra[1]
        s_lo, s_hi = _Solver(ex, dps_lo), _Solver(ex, dps_hi)
        r_lo, r_hi = s_lo.solve(), s_hi.solve()
        ctx = s_hi.ctx
        cap = dps_lo - 5
        b_lo, b_hi = r_lo["best"], r_hi["best"]
        same_structure = (b_lo["kind"] == b_hi["kind"] and len(r_lo["local"]) == len(r_hi["local"]))
        conf = min(_agree_digits(ctx, b_lo["beta"], b_hi["beta"], cap), _agree_digits(ctx, b_lo["tie"], b_hi["tie"], cap))
        if same_structure:
            for m_lo, m_hi in zip(r_lo["local"], r_hi["local"]):
                conf_m = min(_agree_digits(ctx, m_lo["beta"], m_hi["beta"], cap),
                             _agree_digits(ctx, m_lo["tie"], m_hi["tie"], cap))
                if conf_m < digits:
                    same_structure = False
        strings_agree = (_fmt(s_lo.ctx, b_lo["beta"], digits) == _fmt(ctx, b_hi["beta"], digits)
                         and _fmt(s_lo.ctx, b_lo["tie"], digits) == _fmt(ctx, b_hi["tie"], digits))
        if same_structure and conf >= digits and strings_agree:
            break
        extra = [extra[1], extra[1] + 40]
    else:
        raise PrecisionError(f"only {conf} digits of beta*/TIE* agree between {dps_lo} and {dps_hi} working digits "
                             f"(requested {digits}); refusing to print unconfirmed digits")

    s, r = s_hi, r_hi
    best = r["best"]
    # sanity: the envelope is not lower just beside beta*, and TIE >= 0 (it is an average KL divergence)
    dlt = ctx.mpf(10) ** (-(digits // 2 + 5)) * best["beta"]
    for b in (best["beta"] - dlt, best["beta"] + dlt):
        if s.tie(b) < best["tie"] - s.tol:
            raise RuntimeError("internal check failed: TIE is lower next to the reported minimum")
    if best["tie"] < -s.tol:
        raise RuntimeError("internal check failed: negative TIE")
    # other local minima with (numerically) the same TIE: beta* is not unique
    ties = [m for m in r["local"] if m is not best and abs(m["beta"] - best["beta"]) > s.tol * best["beta"] * 100
            and abs(m["tie"] - best["tie"]) <= s.tol * 100 * max(1, abs(best["tie"]))]
    if ties:
        msg = (f"{len(ties)} other local minim(um/a) with the same TIE to working precision: "
               f"beta* is not unique (the smallest such beta is reported)")
        warnings.warn(msg, stacklevel=2)
        notes.append(msg)
    align = s.alignment(best["beta"])
    if not align.unique:
        notes.append(f"alignment at beta* is not unique: permutations {align.tied_permutations} give the same TIE")
    # MIE: zero at beta = 1 and on [lambda_max, inf), positive elsewhere (checked on a grid)
    lam_max = max(s.lam)
    mie_one = s.mie(ctx.mpf(1))
    if abs(mie_one) > s.tol * 100:
        raise RuntimeError("internal check failed: MIE(1) != 0")
    grid = [ctx.mpf(x) for x in np.concatenate([np.linspace(0.02, 0.98, 25), np.linspace(1.02, 0.999 * float(lam_max), 40)])]
    if any(b < lam_max and abs(b - 1) > 1e-3 and s.mie(b) <= 0 for b in grid):
        raise RuntimeError("internal check failed: MIE <= 0 away from beta = 1 below lambda_max")
    fmt = lambda x: _fmt(ctx, x, digits)  # noqa: E731
    return OptimalBetaResult(
        beta_star=fmt(best["beta"]), tie_star=fmt(best["tie"]), kind=best["kind"], detail=best["detail"],
        alignment=align,
        local_minima=tuple(LocalMinimum(beta=fmt(m["beta"]), tie=fmt(m["tie"]), kind=m["kind"], detail=m["detail"],
                                        permutation=tuple(m["perm"]), active_units=m["act"]) for m in r["local"]),
        kinks=tuple(Kink(beta=fmt(kk["beta"]), type=kk["type"], left_derivative=_fmt(ctx, kk["gl"], 15),
                         right_derivative=_fmt(ctx, kk["gr"], 15), local_minimum=kk["local_minimum"],
                         detail=kk["detail"]) for kk in r["kinks"]),
        collapse_thresholds=tuple(fmt(L) for L in s.thresholds),
        eigenvalues=tuple(fmt(x) for x in s.a),
        active_units=tuple(s.active(best["beta"])),
        tie_plateau=fmt(s.S0),
        mie_optimal_beta="1",
        mie_minimisers=(f"MIE >= 0 (an average KL divergence); MIE = 0 exactly at beta = 1 and for every "
                        f"beta >= lambda_max = {_fmt(ctx, lam_max, 20)} (all units collapsed); positive elsewhere"),
        mie_at_beta_star=fmt(s.mie(best["beta"])),
        digits=digits, working_dps=(s_lo.dps, s_hi.dps), precision_bits=(s_lo.ctx.prec, s_hi.ctx.prec),
        confirmed_digits=conf, warnings=tuple(notes), seconds=time.perf_counter() - t0)


# ---------------------------------------------------------------- helpers
def tie_curve_mp(A, beta, dps: int = 50):
    """Gauge-aligned TIE at the optimum for each beta (mpf values at `dps` digits; beta: number, string or list)."""
    if not 5 <= int(dps) <= 5000:
        raise ValueError("dps must be in [5, 5000]")
    s = _Solver(_exact_problem(A), int(dps))
    betas = beta if isinstance(beta, (list, tuple, np.ndarray)) else [beta]
    out = []
    for b in betas:
        b = s.ctx.mpf(b) if not isinstance(b, Fraction) else s.ctx.mpf(b.numerator) / b.denominator
        if not b > 0:
            raise ValueError("beta must be positive")
        out.append(s.tie(b))
    return out if isinstance(beta, (list, tuple, np.ndarray)) else out[0]


def mie_curve_mp(A, beta, dps: int = 50):
    """MIE at the optimum (mpf, `dps` digits) for one beta or a list."""
    s = _Solver(_exact_problem(A), int(dps))
    betas = beta if isinstance(beta, (list, tuple, np.ndarray)) else [beta]
    out = [s.mie(s.ctx.mpf(b)) for b in betas]
    return out if isinstance(beta, (list, tuple, np.ndarray)) else out[0]

"""The gauge-aligned TIE at the beta-VAE optimum as a lower envelope of smooth branches, at one precision.

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

Method (mpmath in a private context, numpy for float screens): a_j and Q come from ``mpmath.eigsy`` on the
exact Gram matrix (:mod:`numerics.exact_algebra`) at the working precision, with the exact rank's zero
eigenvalues set to 0; an entry of Q below 10^(-3/4 x working digits) counts as 0. For k <= ENUMERATE_MAX_K
every permutation is a candidate branch; for larger k the candidates are the permutations that
``linear_sum_assignment`` finds optimal on a dense grid of beta (GRID_POINTS per regime; a branch optimal
only between two grid points can be missed). Stationary points are found by safeguarded Newton on h with
the analytic derivative, crossings by bracketing on the difference of two branches. The result
(:class:`EnvelopeSolution`) lists the local minima (:class:`LocalMinimum`) and the kinks (:class:`Kink`)
as mpmath numbers; :mod:`numerics.certify` decides how many of their digits are right.

MIE at the optimum (:meth:`TieEnvelope.mie`) is >= 0 (an average KL divergence) and vanishes at beta = 1
(the model posterior is exact) and for every beta >= lambda_max (every unit collapsed).

>>> from numerics.model import fig3_mixing
>>> env = tie_envelope(fig3_mixing(exact=True), dps=30)                # Fig. 3, exact decimal entries
>>> [env.ctx.nstr(x, 8) for x in env.thresholds]                           # beta = 1 + a_j
['5.0', '12.9716']
>>> solution = env.solve()
>>> env.ctx.nstr(solution.best.beta, 12), solution.best.kind, [k.type for k in solution.kinks]
('1.36940839652', 'smooth', ['threshold', 'threshold'])
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, replace

import mpmath
import numpy as np
from scipy.optimize import linear_sum_assignment

from .certify import format_significant
from .exact_algebra import ExactProblem, exact_problem

ENUMERATE_MAX_K = 4          # enumerate all k! permutations up to this k; grid + assignment beyond
GRID_POINTS = 1500           # float grid points per regime (crossings, candidate branches for large k)


# ---------------------------------------------------------------- what the analysis finds
@dataclass(frozen=True)
class LocalMinimum:
    """A local minimum of TIE: numbers are mpmath values here, certified decimal strings in
    :class:`numerics.optimal_beta.OptimalBetaResult`."""

    beta: object
    tie: object
    kind: str                            # "smooth" (a branch's stationary point) or "kink"
    detail: str
    permutation: tuple[int, ...]         # the branch: latent j compared with source permutation[j]
    active_units: tuple[int, ...]        # units with lambda_j > beta


@dataclass(frozen=True)
class Kink:
    """A point where TIE is not smooth: a collapse threshold or a crossing of two branches."""

    beta: object                         # mpmath value here, a certified decimal string in OptimalBetaResult
    type: str                            # "threshold" or "crossing"
    left_derivative: object              # dTIE/dbeta from the left (inf when infinite; 15 digits in the result)
    right_derivative: object
    local_minimum: bool
    detail: str


@dataclass(frozen=True)
class EnvelopeSolution:
    minima: tuple[LocalMinimum, ...]     # ascending beta
    kinks: tuple[Kink, ...]              # ascending beta
    best: LocalMinimum                   # the global minimum (the smallest beta among equal TIE)


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


def tie_envelope(A, dps: int) -> TieEnvelope:
    """The envelope of mixing matrix A (anything :func:`numerics.exact_algebra.exact_problem` reads) at ``dps``."""
    return TieEnvelope(exact_problem(A), dps)


# ---------------------------------------------------------------- one precision
class TieEnvelope:
    """The TIE envelope of one exact problem at one working precision (a private mpmath context, so the
    global ``mpmath.mp.dps`` is untouched): eigen-data, branches, regimes, and their analysis (:meth:`solve`)."""

    def __init__(self, ex: ExactProblem, dps: int):
        self.ex, self.k = ex, ex.k
        ctx = self.ctx = mpmath.MPContext()
        ctx.dps = dps
        self.dps = dps
        k = self.k
        Mm = ctx.matrix([[ctx.mpf(x.numerator) / x.denominator for x in row] for row in ex.gram])
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


    # -- the analysis: every local minimum and every kink of the envelope
    def solve(self) -> EnvelopeSolution:
        local, kinks = [], []
        for idx, (lo, hi) in enumerate(self.regimes()):
            act = self.active((lo + hi) / 2)
            grid = self.float_grid(lo, hi)
            gbest = self.grid_best_perms(grid)
            self._crossings(act, grid, gbest, local, kinks)
            self._smooth_minima(idx, lo, hi, act, gbest, local)
        self._thresholds(local, kinks)
        # a TIE that vanishes up to rounding is exactly representable as 0 (TIE >= 0; equality when
        # the model posterior matches the ground truth, e.g. orthogonal columns at beta = 1)
        zero_band = self.ctx.mpf(10) ** (-(self.dps - 15)) * (1 + self.ctx.fsum(self.a))
        local = [replace(m, tie=self.ctx.zero) if abs(m.tie) <= zero_band else m for m in local]
        local.sort(key=lambda m: m.beta)
        kinks.sort(key=lambda m: m.beta)
        if not local:
            raise RuntimeError("no local minimum of TIE found (please report this mixing matrix)")
        best = min(local, key=lambda m: (m.tie, m.beta))
        return EnvelopeSolution(minima=tuple(local), kinks=tuple(kinks), best=best)

    def _crossings(self, act, grid, gbest, local, kinks):
        """Crossings: where the float-optimal branch changes between grid points."""
        ctx = self.ctx
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
            kinks.append(Kink(beta=bc, type="crossing", left_derivative=gl, right_derivative=gr, local_minimum=is_min,
                              detail=f"optimal permutation changes from {tl[0]} to {tr[0]}"))
            if is_min:
                local.append(LocalMinimum(beta=bc, tie=self.tie(bc), kind="kink", permutation=tr[0],
                                          active_units=tuple(act), detail=f"branch crossing {tl[0]} / {tr[0]}"))

    def _smooth_minima(self, idx, lo, hi, act, gbest, local):
        """Smooth stationary points of every candidate branch, kept if the branch is optimal there."""
        ctx = self.ctx
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
            local.append(LocalMinimum(beta=root, tie=self.tie_branch(perm, root, act), kind="smooth", permutation=perm,
                                      active_units=tuple(act),
                                      detail=f"stationary point of branch {perm} in regime {idx}"))

    def _thresholds(self, local, kinks):
        """The collapse thresholds: always kinks, local minima where the left slope is negative and the right not."""
        ctx = self.ctx
        for L in self.thresholds:
            delta = ctx.mpf(10) ** (-(self.dps // 3)) * L
            act_left = self.active(L - delta)
            act_right = self.active(L + delta)
            _, tl = self.best(L - delta)
            gl = self.derivative(self.coeffs(tl[0]), L, act_left_of_beta=act_left)
            if act_right:
                _, tr = self.best(L + delta)
                gr = self.derivative(self.coeffs(tr[0]), L)
            else:
                gr = ctx.zero
            is_min = bool(gl < -self.tol and gr >= -self.tol)
            units = tuple(j for j in act_left if j not in act_right)
            kinks.append(Kink(beta=L, type="threshold", left_derivative=gl, right_derivative=gr, local_minimum=is_min,
                              detail=f"unit(s) {units} collapse (lambda = 1 + a)"))
            if is_min:
                everywhere_beyond = "" if act_right else "; every beta >= lambda_max is a minimiser too"
                local.append(LocalMinimum(beta=L, tie=self.tie(L), kind="kink", permutation=tl[0],
                                          active_units=tuple(act_right),
                                          detail=f"collapse threshold of unit(s) {units}{everywhere_beyond}"))

    def alignment(self, beta) -> Alignment:
        top, tied = self.best(beta)
        perm = tied[0]
        act = self.active(beta)
        signs = tuple(1 if self.Q[perm[j]][j] >= 0 else -1 for j in range(self.k))
        distinct_on_active = {tuple(p[j] for j in act) for p in tied}
        return Alignment(permutation=tuple(perm), signs=signs, unique=len(distinct_on_active) == 1,
                         tied_permutations=tied,
                         collapsed_units=tuple(j for j in range(self.k) if j not in act),
                         overlaps=tuple(format_significant(self.ctx, self.absQ[perm[j]][j], 12) for j in range(self.k)))

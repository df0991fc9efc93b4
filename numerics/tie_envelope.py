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
The TIE curve is the lower envelope of the branches; :mod:`numerics.tie_minima` finds its local minima
and kinks from the branch functions here.

The maximal overlap separates over the latents (each latent's share depends only on the source it stands
for), so the best branch at a beta is a linear assignment (:func:`numerics.gauge.assignment_alignment`):
for k <= ENUMERATE_MAX_K every permutation is compared at the working precision (which also finds the
permutations that tie), beyond it the assignment is solved in float64 and its overlap evaluated at the
working precision.

Method (mpmath numbers in a private context), with ``method`` FAST (the default) or REFERENCE: a_j and Q come from
``mpmath.eigsy`` on the exact Gram matrix (:mod:`numerics.exact_algebra`) at the working precision for k <=
ENUMERATE_MAX_K, on the reference route, and wherever an eigenvalue repeats (the eigenbasis is then mpmath's);
otherwise from numpy's float64 ``eigh`` refined to the working precision by :mod:`numerics.eigen_refine` (eigsy
again if a cluster stops the refinement). The exact rank's zero eigenvalues are set to 0; an entry of Q below
10^(-3/4 x working digits) counts as 0. Beyond ENUMERATE_MAX_K on the fast route the per-unit sums run in flint arb
(:mod:`numerics.tie_fast`) and the entries of Q are converted when first read.

MIE at the optimum (:meth:`TieEnvelope.mie`) is >= 0 (an average KL divergence) and vanishes at beta = 1
(the model posterior is exact) and for every beta >= lambda_max (every unit collapsed).

>>> from numerics.model import fig3_mixing
>>> env = tie_envelope(fig3_mixing(exact=True), dps=30)                # Fig. 3, exact decimal entries
>>> [env.ctx.nstr(x, 8) for x in env.thresholds]                           # beta = 1 + a_j
['5.0', '12.9716']
>>> env.ctx.nstr(env.tie(env.ctx.mpf("1.5")), 12)
'4.63384610852'
>>> best = env.alignment(env.ctx.mpf("1.5"))          # both permutations tie: the labelling is not unique
>>> best.permutation, best.signs, best.tied_permutations, best.unique
((0, 1), (1, -1), ((0, 1), (1, 0)), False)
"""
from __future__ import annotations

import itertools
from collections.abc import Sequence

import mpmath
import numpy as np

from .eigen_refine import refined_eigh
from .exact_algebra import ExactProblem, exact_problem
from .gauge import EXACT, Alignment, assignment_alignment
from .tie_fast import ArbUnits

# Compare all k! permutations up to this k (to list the ties), linear assignment in float64 beyond. Not the gauge
# module's limits: there the cost does not separate, so an exact search (enumeration, branch and bound) runs once per
# network in float64; here the assignment is already exact and the enumeration runs at every mpmath evaluation.
ENUMERATE_MAX_K = 4


def tie_envelope(A, dps: int) -> TieEnvelope:
    """The envelope of mixing matrix A (anything :func:`numerics.exact_algebra.exact_problem` reads) at ``dps``."""
    return TieEnvelope(exact_problem(A), dps)


FAST, REFERENCE = "fast", "reference"


class Coefficients(Sequence):
    """A branch's per-unit coefficients |Q[perm_j, j]| (mpf, each read when first needed), remembering ``perm`` for
    the arb sums of :mod:`numerics.tie_fast`."""

    def __init__(self, absQ, perm):
        self.absQ, self.perm = absQ, tuple(perm)

    def __getitem__(self, j):
        return self.absQ[self.perm[j]][j]

    def __len__(self):
        return len(self.perm)


class _Lazy:
    """A k x k table whose entry [i][j] is computed on first use (a large k reads few of its k^2 entries)."""

    def __init__(self, fn):
        self.fn, self.cache = fn, {}

    def __getitem__(self, i):
        return _LazyRow(self, i)


class _LazyRow:
    __slots__ = ("table", "i")

    def __init__(self, table, i):
        self.table, self.i = table, i

    def __getitem__(self, j):
        cache = self.table.cache
        v = cache.get((self.i, j))
        if v is None:
            v = cache[(self.i, j)] = self.table.fn(self.i, j)
        return v


class TieEnvelope:
    """The TIE envelope of one exact problem at one working precision (a private mpmath context, so the
    global ``mpmath.mp.dps`` is untouched): eigen-data, collapse thresholds, branches and their derivatives."""

    def __init__(self, ex: ExactProblem, dps: int, method: str = FAST):
        if method not in (FAST, REFERENCE):
            raise ValueError(f"method must be {FAST!r} or {REFERENCE!r}, got {method!r}")
        self.ex, self.k, self.method = ex, ex.k, method
        ctx = self.ctx = mpmath.MPContext()
        ctx.dps = dps
        self.dps = dps
        k = self.k
        refined = None
        if method == FAST and k > ENUMERATE_MAX_K and ex.repeated is False:
            refined = refined_eigh(ex.gram, ctx.prec + 16)
        if refined is None:                      # mpmath's QR (and its eigenbasis where an eigenvalue repeats)
            Mm = ctx.matrix([[ctx.mpf(x.numerator) / x.denominator for x in row] for row in ex.gram])
            E, Q = ctx.eigsy(Mm)
            order = sorted(range(k), key=lambda i: -E[i])
            a = [E[i] for i in order]
            self.Q = [[Q[i, order[j]] for j in range(k)] for i in range(k)]
        else:
            lam_arb, X = refined
            a = [ctx.mpf(x) for x in lam_arb]
            entries = X.entries()
            self.Q = _Lazy(lambda i, j: ctx.mpf(entries[i * k + j].mid()))
        nzero = k - ex.rank                      # exactly known number of zero eigenvalues
        for i in range(k - nzero, k):
            a[i] = ctx.zero
        a = [max(x, ctx.zero) for x in a]
        self.a = a
        self.lam = [1 + x for x in a]
        self.zero_tol = ctx.mpf(10) ** (-(3 * dps) // 4)
        self.tol = ctx.mpf(10) ** (-(dps - 10))
        if refined is None:
            self.absQ = [[(abs(x) if abs(x) > self.zero_tol else ctx.zero) for x in row] for row in self.Q]
        else:                                    # k^2 entries, each converted when a branch first reads it
            self.absQ = _Lazy(lambda i, j: abs(self.Q[i][j]) if abs(self.Q[i][j]) > self.zero_tol else ctx.zero)
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
        # float64 copies for the screens of numerics.tie_minima and the assignment beyond ENUMERATE_MAX_K
        self.a_float = np.array([float(x) for x in a])
        if refined is None:
            self.absQ_float = np.array([[float(x) for x in row] for row in self.absQ])
        else:
            F = np.abs(np.array([float(x.mid()) for x in entries])).reshape(k, k)
            cut = max(1e-30, 10.0 * float(self.zero_tol))     # only entries below can fall under the zero tolerance
            for i, j in zip(*np.nonzero(F < cut)):
                F[i, j] = float(self.absQ[i][j])
            self.absQ_float = F
        # beyond ENUMERATE_MAX_K the per-unit sums run in flint arb (numerics.tie_fast), at the same precision
        self.fast = ArbUnits(self) if method == FAST and self.perms is None else None

    # -- branch functions (c: per-unit coefficients |Q[pi_j, j]|)
    def coeffs(self, perm):
        return Coefficients(self.absQ, perm)

    def active(self, beta):
        if self.fast is not None:
            return self.fast.active(beta)
        return [j for j in range(self.k) if self.lam[j] - beta > self.tol * self.lam[j]]

    def weight(self, j, beta):
        d = self.lam[j] - beta
        return self.ctx.sqrt(self.a[j] * d) if d > 0 else self.ctx.zero

    def overlap(self, perm, beta, act=None):
        act = self.active(beta) if act is None else act
        if self.fast is not None:
            return self.fast.overlap(perm, beta, act)
        return self.ctx.fsum(self.absQ[perm[j]][j] * self.weight(j, beta) for j in act)

    def tie_branch(self, perm, beta, act=None):
        ctx = self.ctx
        act = self.active(beta) if act is None else act
        if self.fast is not None:
            return self.S0 + self.fast.log_sum(beta, act) / 2 - self.overlap(perm, beta, act)
        return self.S0 + ctx.fsum(ctx.log(self.lam[j] / beta) for j in act) / 2 - self.overlap(perm, beta, act)

    def h(self, c, beta, act):
        """2 beta dTIE/dbeta on a branch (inf when a weighted unit collapses exactly at beta)."""
        if self.fast is not None and isinstance(c, Coefficients):
            return self.fast.h(c.perm, beta, act)
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
        if self.fast is not None and isinstance(c, Coefficients):
            return self.fast.dh(c.perm, beta, act)
        ctx = self.ctx
        out = ctx.zero
        for j in act:
            coef = c[j] * self.sqa[j]
            if coef == 0:
                continue
            d = self.lam[j] - beta
            out += coef * (1 / ctx.sqrt(d) + beta / (2 * d * ctx.sqrt(d)))
        return out

    def derivative(self, c, beta, act_left_of_beta=None):
        """dTIE/dbeta on a branch; with `act_left_of_beta` the left limit at beta = threshold."""
        ctx = self.ctx
        act = self.active(beta) if act_left_of_beta is None else act_left_of_beta
        if self.fast is not None and isinstance(c, Coefficients):
            return self.fast.derivative(c.perm, beta, act)
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

    def key(self, perm, act):
        return tuple(self.absQ[perm[j]][j] for j in act)

    def same_key(self, k1, k2):
        return all(abs(x - y) <= self.tol * 10 for x, y in zip(k1, k2))

    # -- the envelope: the best branch and its TIE
    def float_weights(self, beta) -> np.ndarray:
        """w_j(beta) in float64 for one beta, or (n, k) for an array of betas."""
        lam = 1 + self.a_float
        beta = np.asarray(beta, dtype=float)
        return np.sqrt(self.a_float * np.maximum(lam - beta[..., None], 0))

    def assigned(self, w: np.ndarray) -> Alignment:
        """The permutation of maximal overlap for float64 weights ``w`` (a linear assignment, exact in float64);
        ``cost`` is minus that overlap."""
        score = self.absQ_float * w[None, :]            # score[m, j]: latent j on source m
        return assignment_alignment(-score.T, self.absQ_float.T)

    def best(self, beta):
        """(maximal overlap, all permutations attaining it to working precision) at beta; beyond
        ENUMERATE_MAX_K the one permutation of the float64 assignment."""
        act = self.active(beta)
        if self.perms is not None:
            vals = [(self.overlap(p, beta, act), p) for p in self.perms]
        else:
            if self.fast is not None:
                w = self.fast.float_weights(beta)
            else:
                w = np.array([float(self.weight(j, beta)) for j in range(self.k)])
            perm = self.assigned(w).permutation
            vals = [(self.overlap(perm, beta, act), perm)]
        top = max(v for v, _ in vals)
        scale = max(abs(top), 1)
        tied = tuple(p for v, p in vals if top - v <= self.tol * scale * 10)
        return top, tied

    def tie(self, beta):
        top, _ = self.best(beta)
        act = self.active(beta)
        if self.fast is not None:
            return self.S0 + self.fast.log_sum(beta, act) / 2 - top
        return self.S0 + self.ctx.fsum(self.ctx.log(self.lam[j] / beta) for j in act) / 2 - top

    def mie(self, beta):
        if self.fast is not None:
            return self.fast.mie(beta)
        ctx = self.ctx
        out = ctx.zero
        for l in self.lam:
            if l > beta:
                g = 1 + l - beta
                out += (beta - ctx.log(g) - l / g + ctx.log(l / beta)) / 2
        return out

    def alignment(self, beta) -> Alignment:
        """The best signed permutation at beta: latent j is compared with source ``permutation[j]``.

        ``signs`` are relative to the eigenvector signs chosen here (Q's columns are defined up to sign); ``cost``
        is minus the maximal overlap (float64). Up to ENUMERATE_MAX_K, ``tied_permutations`` lists every permutation
        with the same maximal overlap (to working precision) and ``unique`` is False when they differ on the active
        units: the TIE value is well defined, the labelling is not. Beyond, ties are not searched (``unique`` None).
        """
        top, tied = self.best(beta)
        perm = tied[0]
        act = self.active(beta)
        signs = tuple(1 if self.Q[perm[j]][j] >= 0 else -1 for j in range(self.k))
        if self.perms is None:
            return Alignment(permutation=tuple(perm), signs=signs, cost=float(-top), method=EXACT,
                             evaluated=self.k * self.k,
                             how="linear assignment in float64 (the overlap separates over the latents), "
                                 f"overlap at {self.dps} digits; ties not searched")
        distinct_on_active = {tuple(p[j] for j in act) for p in tied}
        return Alignment(permutation=tuple(perm), signs=signs, cost=float(-top), method=EXACT,
                         evaluated=len(self.perms),
                         how=f"all {self.k}! permutations compared at {self.dps} digits (the overlap separates "
                             "over the latents; each sign follows Q)",
                         tied_permutations=tied, unique=len(distinct_on_active) == 1)

"""The per-unit sums of a TIE envelope in flint's arb (C arithmetic), for large k: mpmath numbers in, mpmath out.

Every quantity of :class:`numerics.tie_envelope.TieEnvelope` that evaluates a branch (the overlap, TIE, h and its
derivative, dTIE/dbeta, MIE) is a sum of k per-unit terms. mpmath evaluates each term in pure Python; here the terms
are arb balls at the envelope's working precision (same formulas, same precision, each ball's midpoint taken in the
end), ~10x faster, and which units are active is decided in float64 where the margin is wide, in mpmath where it
is not. The envelope uses this beyond ENUMERATE_MAX_K; up to it (and on the reference route) the mpmath code of
:mod:`numerics.tie_envelope` runs, and tests/test_optimal_beta_scale.py compares the two.

>>> from numerics.exact_algebra import exact_problem
>>> from numerics.tie_envelope import TieEnvelope
>>> env = TieEnvelope(exact_problem([[3, 1], [1, 2], [0, 1]]), dps=30)
>>> units = ArbUnits(env)
>>> b = env.ctx.mpf("1.5")
>>> abs(units.overlap((0, 1), b, [0, 1]) - env.overlap((0, 1), b, [0, 1])) < env.ctx.mpf(10) ** -28
True
"""
from __future__ import annotations

import flint
import numpy as np

FLOAT_MARGIN = 1e-9          # |lambda_j - beta| above this fraction of lambda_j: the float64 comparison decides


class ArbUnits:
    """arb copies of an envelope's a_j, lambda_j, sqrt(a_j) and (on demand) |Q_ij| at its working precision."""

    def __init__(self, env):
        self.env, self.ctx, self.prec = env, env.ctx, env.ctx.prec
        with flint.ctx.workprec(self.prec):
            self.a = [flint.arb(x) for x in env.a]
            self.lam = [flint.arb(x) for x in env.lam]
            self.sqa = [flint.arb(x) for x in env.sqa]
            self.zero_tol = flint.arb(env.zero_tol)
        self.lam_f = np.array([float(x) for x in env.lam])
        self._c = {}

    def c(self, i, j):
        """|Q_ij| as arb (0 where below the envelope's zero tolerance), cached."""
        v = self._c.get((i, j))
        if v is None:
            with flint.ctx.workprec(self.prec):
                v = self._c[(i, j)] = flint.arb(self.env.absQ[i][j])
        return v

    def _mp(self, x):
        return self.ctx.mpf(x.mid())

    def active(self, beta):
        """Units with lambda_j - beta > tol lambda_j (the envelope's rule), float64 first."""
        b = float(beta)
        margin = self.lam_f - b
        sure = margin > FLOAT_MARGIN * self.lam_f
        unsure = np.flatnonzero(~sure & (margin >= -FLOAT_MARGIN * self.lam_f))
        env = self.env
        extra = [int(j) for j in unsure if env.lam[j] - beta > env.tol * env.lam[j]]
        return sorted([int(j) for j in np.flatnonzero(sure)] + extra)

    def float_weights(self, beta) -> np.ndarray:
        """w_j(beta) in float64 with lambda_j - beta taken at the working precision where float64 would cancel
        (beta within 1e-6 of a threshold): the linear assignment then sees weights of units about to collapse."""
        d = self.lam_f - float(beta)
        for j in np.flatnonzero(np.abs(d) <= 1e-6 * self.lam_f):
            d[j] = float(self.env.lam[j] - beta)
        return np.sqrt(self.env.a_float * np.maximum(d, 0.0))

    def overlap(self, perm, beta, act):
        with flint.ctx.workprec(self.prec):
            B, s = flint.arb(beta), flint.arb(0)
            for j in act:
                d = self.lam[j] - B
                if d > 0:
                    s += self.c(perm[j], j) * (self.a[j] * d).sqrt()
            return self._mp(s)

    def log_sum(self, beta, act):
        """sum over ``act`` of log(lambda_j / beta)."""
        with flint.ctx.workprec(self.prec):
            B = flint.arb(beta)
            return self._mp(sum(((self.lam[j] / B).log() for j in act), flint.arb(0)))

    def h(self, perm, beta, act):
        ctx = self.ctx
        with flint.ctx.workprec(self.prec):
            B, out = flint.arb(beta), flint.arb(0)
            for j in act:
                coef = self.c(perm[j], j) * self.sqa[j]
                if coef == 0:
                    out -= 1
                    continue
                d = self.lam[j] - B
                if not d > 0:
                    return ctx.inf
                out += B * coef / d.sqrt() - 1
            return self._mp(out)

    def dh(self, perm, beta, act):
        with flint.ctx.workprec(self.prec):
            B, out = flint.arb(beta), flint.arb(0)
            for j in act:
                coef = self.c(perm[j], j) * self.sqa[j]
                if coef == 0:
                    continue
                d = self.lam[j] - B
                r = d.sqrt()
                out += coef * (1 / r + B / (2 * d * r))
            return self._mp(out)

    def derivative(self, perm, beta, act):
        """dTIE/dbeta of branch ``perm`` over the units ``act``; units of ``act`` collapsing at beta (not active there)
        give the left limit (-inf slope of their weight: +inf unless they carry no weight)."""
        ctx = self.ctx
        here = set(self.active(beta))
        with flint.ctx.workprec(self.prec):
            B, out = flint.arb(beta), flint.arb(0)
            half = 1 / (2 * B)
            for j in act:
                coef = self.c(perm[j], j) * self.sqa[j]
                if j not in here:
                    if coef > self.zero_tol:
                        return ctx.inf
                    out -= half
                else:
                    out += coef / (2 * (self.lam[j] - B).sqrt()) - half
            return self._mp(out)

    def mie(self, beta):
        b = float(beta)
        units = [j for j in range(len(self.lam)) if self.lam_f[j] > b * (1 - FLOAT_MARGIN)
                 and self.env.lam[j] > beta]
        with flint.ctx.workprec(self.prec):
            B, out = flint.arb(beta), flint.arb(0)
            for j in units:
                lam = self.lam[j]
                g = 1 + lam - B
                out += B - g.log() - lam / g + (lam / B).log()
            return self._mp(out / 2)

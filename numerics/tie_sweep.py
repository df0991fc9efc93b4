"""Where the optimal alignment changes: the best permutation on a regime as certified pieces (float64).

On a regime (beta between two consecutive collapse thresholds) the overlap of a permutation pi is
sum_j C[pi_j, j] w_j(beta) with w_j(beta) = sqrt(a_j (lambda_j - beta)^+) (:mod:`numerics.tie_envelope`). pi is
optimal at beta exactly when no cycle of latents improves it by passing sources round: latent j taking the source
of latent l changes the overlap by delta_jl w_j(beta), delta_jl = C[pi_l, j] - C[pi_j, j], and the identity is an
optimal assignment of the gain matrix G_jl = delta_jl w_j(beta) (a permutation's gain is the sum of its cycles').

:func:`certified` proves pi optimal on a whole interval [b0, b1] with two assignments: each w_j is concave in beta,
so delta_jl w_j(beta) lies below a line (the tangent at t where delta_jl > 0, the chord where delta_jl < 0); a sum of
lines is largest at an end, so if neither end's gain matrix of those lines has a positive assignment, no cycle
gains anywhere in [b0, b1] (up to a float tolerance of 1e-13 of the overlap). With the tangent point at a crossing
of two branches the bound is exact there, so the two pieces either side of a crossing certify.

:func:`sweep` starts from the linear assignments at both ends of the regime and bisects until every piece is
certified (or narrower than 1e-12 of beta): a piece either side of each crossing, two assignments per certified
piece. It replaces the dense grid of assignments (1500 per regime) of the reference route, which can miss a branch
optimal only between two grid points; the sweep misses only gains below the float tolerance.

>>> from numerics.tie_envelope import tie_envelope
>>> A = [["48/29", "-6/29", "-32/29"], ["-10/13", "24/13", "-3/2"], ["531/377", "3768/1885", "252/145"]]
>>> env = tie_envelope(A, dps=30)        # thresholds 5, 7.25, 10; the best branch changes once below 5
>>> [(round(b0, 6), round(b1, 6), p) for b0, b1, p in sweep(env, env.ctx.zero, env.thresholds[0])]
[(0.0, 3.626135, (2, 1, 0)), (3.626135, 5.0, (1, 2, 0))]
"""
from __future__ import annotations

import numpy as np
from scipy.optimize import brentq, linear_sum_assignment

REL_TOL = 1e-13          # cycle gains below this fraction of the overlap are not resolved (float64 rounding)
MIN_WIDTH = 1e-12        # pieces are not bisected below this fraction of beta


class Floats:
    """The float64 data of an envelope that the sweep reads."""

    def __init__(self, env):
        self.env = env
        self.a = env.a_float
        self.lam = 1 + env.a_float
        self.C = env.absQ_float
        self.k = env.k
        self.j = np.arange(env.k)

    def w(self, b):
        return np.sqrt(self.a * np.maximum(self.lam - b, 0.0))

    def dw(self, b, w):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(w > 0, -self.a / (2 * w), 0.0)

    def best(self, b):
        return tuple(int(p) for p in self.env.assigned(self.w(b)).permutation)

    def own(self, perm):
        return self.C[list(perm), self.j]


def certified(f: Floats, perm, b0: float, b1: float, t: float) -> bool:
    """Whether ``perm`` is an optimal assignment at every beta in [b0, b1] (module docstring); t in [b0, b1]."""
    p = np.asarray(perm)
    own = f.own(p)
    delta = f.C[p[None, :], f.j[:, None]] - own[:, None]          # delta[j, l]: latent j takes source p[l]
    w0, w1 = f.w(b0), f.w(b1)
    t_j = np.where(f.lam > t, t, 0.5 * (b0 + b1))                 # a tangent point inside w_j's domain
    wt = np.sqrt(f.a * np.maximum(f.lam - t_j, 0.0))
    dwt = f.dw(t_j, wt)
    pos = delta > 0
    tol = REL_TOL * max(float(own @ w0), 1e-300)
    for b, wb in ((b0, w0), (b1, w1)):
        line = np.where(pos, delta * (wt + dwt * (b - t_j))[:, None], delta * wb[:, None])
        r, c = linear_sum_assignment(line, maximize=True)
        if line[r, c].sum() > tol:
            return False
    return True


def _same(f: Floats, p1, p2, act) -> bool:
    if p1 == p2:
        return True
    act = list(act)
    return bool(np.all(np.abs(f.C[list(p1), f.j][act] - f.C[list(p2), f.j][act]) <= 1e-13))


def _crossing(f: Floats, p1, p2, x: float, y: float):
    """A root of overlap(p1) - overlap(p2) in (x, y), or None where the difference keeps its sign."""
    d = f.own(p1) - f.own(p2)

    def D(b):
        return float(d @ f.w(b))
    dx, dy = D(x), D(y)
    if dx == 0 or dy == 0 or (dx > 0) == (dy > 0):
        return None
    return brentq(D, x, y, xtol=1e-15 * max(abs(y), 1e-300), rtol=1e-15)


def sweep(env, lo, hi, act=None) -> list[tuple[float, float, tuple[int, ...]]]:
    """(b0, b1, permutation) pieces covering the regime [lo, hi], each permutation optimal on its piece (float64);
    consecutive pieces differ on the active units ``act`` (default: the regime's)."""
    f = Floats(env)
    lo_f, hi_f = float(lo), float(hi)
    act = env.active((lo + hi) / 2) if act is None else act
    min_width = MIN_WIDTH * max(hi_f, 1e-300)
    # the last assignment just inside: at hi itself the collapsing units weigh nothing and any source fits them
    p_lo, p_hi = f.best(lo_f), f.best(hi_f - 1e-9 * (hi_f - lo_f))
    pieces, work = [], [(lo_f, hi_f, p_lo, p_hi)]
    while work:
        x, y, px, py = work.pop()
        same = _same(f, px, py, act)
        bc = None
        if same:
            if certified(f, px, x, y, 0.5 * (x + y)):
                pieces.append((x, y, px))
                continue
        else:
            bc = _crossing(f, px, py, x, y)
            if bc is not None and certified(f, px, x, bc, bc) and certified(f, py, bc, y, bc):
                pieces += [(x, bc, px), (bc, y, py)]
                continue
        if y - x <= min_width:                      # unresolved below float64 resolution: keep what is known
            m = bc if bc is not None else 0.5 * (x + y)
            pieces += [(x, y, px)] if same else [(x, m, px), (m, y, py)]
            continue
        m = 0.5 * (x + y)
        pm = f.best(m)
        work.append((m, y, pm, py))
        work.append((x, m, px, pm))
    merged = []
    for x, y, p in pieces:
        if merged and _same(f, merged[-1][2], p, act):
            merged[-1] = (merged[-1][0], y, merged[-1][2])
        else:
            merged.append((x, y, p))
    return merged


def stationary_candidates(env, pieces, act, lo, hi) -> list[tuple[int, ...]]:
    """The branches whose stationary point (the root of h, increasing on the regime) lies in a piece where the
    branch is optimal, widened by 1e-9 of beta on both sides (float64; the caller finds the root in mpmath and checks
    the branch there): the float screen of the sweep route."""
    f = Floats(env)
    act = np.asarray(list(act), dtype=int)
    lo_f, hi_f = float(lo), float(hi)

    def h(perm, b):
        coef = f.own(perm)[act] * np.sqrt(f.a[act])
        d = f.lam[act] - b
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.where(coef > 0, b * coef / np.sqrt(np.maximum(d, 0.0)), 0.0)
        return float(np.sum(t - 1))
    out = []
    for x, y, p in pieces:
        x, y = max(lo_f, x - 1e-9 * abs(x)), min(hi_f, y + 1e-9 * abs(y))
        if h(p, x) <= 0 <= h(p, y) and not any(_same(f, p, q, act) for q in out):
            out.append(p)
    return out

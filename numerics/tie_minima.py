"""Every local minimum and every kink of the TIE envelope (:mod:`numerics.tie_envelope`), at one precision.

On each regime (beta between two consecutive collapse thresholds) every branch's h is strictly increasing,
so a branch has at most one stationary point there, a minimum of that branch. The possible minimisers of
the envelope are therefore:

* a branch's stationary point where that branch is optimal ("smooth");
* a collapse threshold beta = lambda_j where the left derivative is negative and the right one is
  not ("kink"). When the collapsing unit carries weight (c_j a_j > 0) the left derivative is +inf,
  so a threshold can only be a minimum when that weight vanishes (e.g. a_j = 0 and every other
  column of A orthogonal: TIE = 0 at beta = 1);
* a branch crossing is never a minimum: the envelope of maxima of smooth overlaps bends the other
  way (the derivative of TIE jumps down). Crossings are located and reported all the same.

Method: for k <= ENUMERATE_MAX_K every permutation is a candidate branch, located on a dense float grid of beta
(GRID_POINTS per regime). For larger k, on the fast route, :func:`numerics.tie_sweep.sweep` splits each regime into
pieces on which one permutation is certified optimal (float64, to 1e-13 of the overlap), the crossings lie between
pieces and the candidates are the pieces' branches whose stationary point falls in their piece; on the reference
route the candidates are the permutations that the linear assignment finds optimal on the grid (a branch optimal
only between two grid points can be missed) and a float screen drops branches that cannot be optimal at their
stationary point. Stationary points are found by safeguarded Newton on h with
the analytic derivative, crossings by bracketing on the difference of two branches. The result
(:class:`EnvelopeSolution`) lists the local minima (:class:`LocalMinimum`) and the kinks (:class:`Kink`)
as mpmath numbers; :mod:`numerics.certify` decides how many of their digits are right.

>>> from numerics.model import fig3_mixing
>>> from numerics.tie_envelope import tie_envelope
>>> env = tie_envelope(fig3_mixing(exact=True), dps=30)                # Fig. 3, exact decimal entries
>>> solution = find_minima(env)
>>> env.ctx.nstr(solution.best.beta, 12), solution.best.kind, [k.type for k in solution.kinks]
('1.36940839652', 'smooth', ['threshold', 'threshold'])
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .tie_envelope import FAST, TieEnvelope
from .tie_sweep import stationary_candidates, sweep

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


# ---------------------------------------------------------------- the analysis
def find_minima(env: TieEnvelope) -> EnvelopeSolution:
    """Every local minimum and every kink of the envelope ``env`` (see the module docstring)."""
    local, kinks = [], []
    for idx, (lo, hi) in enumerate(regimes(env)):
        act = env.active((lo + hi) / 2)
        if env.perms is None and env.method == FAST:
            pieces = sweep(env, lo, hi, act)
            _piece_crossings(env, act, pieces, local, kinks)
            candidates = stationary_candidates(env, pieces, act, lo, hi)
            _smooth_minima(env, idx, lo, hi, act, candidates, local, screened=True)
        else:
            grid = float_grid(lo, hi)
            found = grid_best_perms(env, grid)
            _crossings(env, act, grid, found, local, kinks)
            _smooth_minima(env, idx, lo, hi, act, candidate_branches(env, act, found), local)
    _thresholds(env, local, kinks)
    # a TIE that vanishes up to rounding is exactly representable as 0 (TIE >= 0; equality when
    # the model posterior matches the ground truth, e.g. orthogonal columns at beta = 1)
    zero_band = env.ctx.mpf(10) ** (-(env.dps - 15)) * (1 + env.ctx.fsum(env.a))
    local = [replace(m, tie=env.ctx.zero) if abs(m.tie) <= zero_band else m for m in local]
    local.sort(key=lambda m: m.beta)
    kinks.sort(key=lambda m: m.beta)
    if not local:
        raise RuntimeError("no local minimum of TIE found (please report this mixing matrix)")
    best = min(local, key=lambda m: (m.tie, m.beta))
    return EnvelopeSolution(minima=tuple(local), kinks=tuple(kinks), best=best)


def regimes(env: TieEnvelope):
    """(lo, hi) between consecutive collapse thresholds, from 0."""
    out, lo = [], env.ctx.zero
    for L in env.thresholds:
        out.append((lo, L))
        lo = L
    return out


# -- root finders
def newton_root(env: TieEnvelope, c, lo, hi, act):
    """Unique root of the increasing function h on (lo, hi): safeguarded Newton."""
    ctx = env.ctx
    x = (lo + hi) / 2
    eps = ctx.mpf(10) ** (-(env.dps - 2))
    for _ in range(40 * env.dps):
        hx = env.h(c, x, act)
        if hx > 0:
            hi = x
        else:
            lo = x
        if hi - lo <= eps * hi:
            return (lo + hi) / 2
        step = hx / env.dh(c, x, act)
        xn = x - step
        if not (lo < xn < hi) or abs(step) > (hi - lo) / 2:
            xn = (lo + hi) / 2
        elif abs(step) <= eps * abs(x):
            return xn
        x = xn
    raise RuntimeError("Newton iteration on dTIE/dbeta did not converge")


def bracket_root(env: TieEnvelope, f, lo, hi):
    """A root of f on [lo, hi] with f(lo) f(hi) < 0 (Illinois method with bisection fallback)."""
    ctx = env.ctx
    flo, fhi = f(lo), f(hi)
    eps = ctx.mpf(10) ** (-(env.dps - 2))
    side = 0
    for _ in range(40 * env.dps):
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


# -- candidate branches and their float screens
def candidate_branches(env: TieEnvelope, act, grid_best):
    """Every permutation (k <= ENUMERATE_MAX_K) or those optimal somewhere on the grid, one per distinct key."""
    perms = env.perms if env.perms is not None else sorted(set(grid_best))
    keys, out = [], []
    for p in perms:
        kk = env.key(p, act)
        if not any(env.same_key(kk, q) for q in keys):
            keys.append(kk)
            out.append(p)
    return out


def float_prefilter(env: TieEnvelope, perm, lo, hi, act) -> bool:
    """Cheap float screen: False only if the branch has no stationary point in (lo, hi) at which it is
    within a generous margin (1e-7 relative) of the best branch. Always True for k <= 2."""
    if env.k <= 2:
        return True
    a, absQ = env.a_float, env.absQ_float
    lam = 1 + a
    c = absQ[list(perm), np.arange(env.k)]
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
    w = env.float_weights(0.5 * (x0 + x1))
    mine = float(np.sum(c * w))
    if env.perms is not None:
        P = np.array(env.perms)
        top = float(np.max((absQ[P, np.arange(env.k)[None, :]] * w[None, :]).sum(axis=1)))
    else:
        top = -env.assigned(w).cost
    return top - mine <= 1e-7 * (1 + abs(top))


def float_grid(lo, hi):
    """GRID_POINTS betas in (lo, hi), denser towards both ends (Chebyshev-like)."""
    lo_f, hi_f = float(lo), float(hi)
    s = (np.arange(GRID_POINTS) + 0.5) / GRID_POINTS
    return lo_f + (hi_f - lo_f) * 0.5 * (1 - np.cos(np.pi * s))


def grid_best_perms(env: TieEnvelope, grid):
    """The float64-optimal permutation at each grid beta."""
    W = env.float_weights(grid)
    if env.perms is not None:
        P = np.array(env.perms)
        C = env.absQ_float[P, np.arange(env.k)[None, :]]
        O = W @ C.T
        return [env.perms[i] for i in np.argmax(O, axis=1)]
    return [env.assigned(w).permutation for w in W]


# -- the three kinds of candidate
def _crossings(env: TieEnvelope, act, grid, gbest, local, kinks):
    """Crossings: where the float-optimal branch changes between grid points."""
    ctx = env.ctx
    for i in range(len(grid) - 1):
        p1, p2 = gbest[i], gbest[i + 1]
        if p1 == p2 or env.same_key(env.key(p1, act), env.key(p2, act)):
            continue
        b1, b2 = ctx.mpf(grid[i]), ctx.mpf(grid[i + 1])

        def D(b, p1=p1, p2=p2):
            return env.overlap(p1, b, act) - env.overlap(p2, b, act)
        if D(b1) * D(b2) >= 0:
            continue
        _crossing_kink(env, act, bracket_root(env, D, b1, b2), local, kinks)


def _piece_crossings(env: TieEnvelope, act, pieces, local, kinks):
    """Crossings between consecutive pieces of :func:`numerics.tie_sweep.sweep`, located at the working precision
    on the units whose sources differ (the other units cancel in the difference of the two overlaps)."""
    ctx = env.ctx
    for (x0, bc, p1), (_, x1, p2) in zip(pieces, pieces[1:]):
        units = [j for j in act if env.absQ[p1[j]][j] != env.absQ[p2[j]][j]]

        def D(b, p1=p1, p2=p2, units=units):
            return ctx.fsum((env.absQ[p1[j]][j] - env.absQ[p2[j]][j]) * env.weight(j, b) for j in units)
        r = 1e-8 * abs(bc)              # the float crossing is good to ~1e-15: a narrow bracket first
        for lo, hi in ((max(x0, bc - r), min(x1, bc + r)), (x0, x1)):
            b1, b2 = ctx.mpf(lo), ctx.mpf(hi)
            if D(b1) * D(b2) < 0:
                break
        else:
            continue
        _crossing_kink(env, act, bracket_root(env, D, b1, b2), local, kinks, sides=(p1, p2))


def _crossing_kink(env: TieEnvelope, act, bc, local, kinks, sides=None):
    """The kink where the optimal branch changes at ``bc``: the branches either side are ``sides`` where the sweep
    knows them, else the best at bc -+ 10^(-dps/3) bc (the grid route: below ~48 digits of working precision
    these two betas differ in float64, which the assignment beyond ENUMERATE_MAX_K needs)."""
    ctx = env.ctx
    if sides is not None:
        tl, tr = (sides[0],), (sides[1],)
    else:
        delta = ctx.mpf(10) ** (-(env.dps // 3)) * bc
        _, tl = env.best(bc - delta)
        _, tr = env.best(bc + delta)
    gl = env.derivative(env.coeffs(tl[0]), bc)
    gr = env.derivative(env.coeffs(tr[0]), bc)
    is_min = bool(gl < -env.tol and gr >= -env.tol)
    kinks.append(Kink(beta=bc, type="crossing", left_derivative=gl, right_derivative=gr, local_minimum=is_min,
                      detail=f"optimal permutation changes from {tl[0]} to {tr[0]}"))
    if is_min:
        local.append(LocalMinimum(beta=bc, tie=env.tie(bc), kind="kink", permutation=tr[0],
                                  active_units=tuple(act), detail=f"branch crossing {tl[0]} / {tr[0]}"))


def _smooth_minima(env: TieEnvelope, idx, lo, hi, act, candidates, local, screened=False):
    """Smooth stationary points of every candidate branch, kept if the branch is optimal there (``screened``: the
    candidates passed :func:`numerics.tie_sweep.stationary_candidates`, else :func:`float_prefilter` screens them)."""
    ctx = env.ctx
    for perm in candidates:
        if not screened and not float_prefilter(env, perm, lo, hi, act):
            continue
        c = env.coeffs(perm)
        h_lo = -ctx.mpf(len(act)) if lo == 0 else env.h(c, lo, act)
        if any(env.lam[j] - hi <= env.tol * env.lam[j] and c[j] * env.sqa[j] > env.zero_tol for j in act):
            h_hi = ctx.inf
        else:
            h_hi = env.h(c, hi, act)
        if not (h_lo < -env.tol and h_hi > env.tol):
            continue
        root = newton_root(env, c, lo, hi, act)
        top, tied = env.best(root)
        if env.overlap(perm, root, act) < top - env.tol * max(abs(top), 1) * 10:
            continue
        local.append(LocalMinimum(beta=root, tie=env.tie_branch(perm, root, act), kind="smooth", permutation=perm,
                                  active_units=tuple(act), detail=f"stationary point of branch {perm} in regime {idx}"))


def _thresholds(env: TieEnvelope, local, kinks):
    """The collapse thresholds: always kinks, local minima where the left slope is negative and the right not."""
    ctx = env.ctx
    for L in env.thresholds:
        delta = ctx.mpf(10) ** (-(env.dps // 3)) * L
        act_left = env.active(L - delta)
        act_right = env.active(L + delta)
        _, tl = env.best(L - delta)
        gl = env.derivative(env.coeffs(tl[0]), L, act_left_of_beta=act_left)
        if act_right:
            _, tr = env.best(L + delta)
            gr = env.derivative(env.coeffs(tr[0]), L)
        else:
            gr = ctx.zero
        is_min = bool(gl < -env.tol and gr >= -env.tol)
        units = tuple(j for j in act_left if j not in act_right)
        kinks.append(Kink(beta=L, type="threshold", left_derivative=gl, right_derivative=gr, local_minimum=is_min,
                          detail=f"unit(s) {units} collapse (lambda = 1 + a)"))
        if is_min:
            everywhere_beyond = "" if act_right else "; every beta >= lambda_max is a minimiser too"
            local.append(LocalMinimum(beta=L, tie=env.tie(L), kind="kink", permutation=tl[0],
                                      active_units=tuple(act_right),
                                      detail=f"collapse threshold of unit(s) {units}{everywhere_beyond}"))

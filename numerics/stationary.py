"""All stationary points of the tractable beta-VAE (Section IV.B), found numerically and classified.

The *full* stationarity system is solved: the six gradients of the data-averaged objective
(eq. 21 with its constants; the equations are eq. 23 together with the bias equations 43 and 45),
with respect to every parameter W_mu, b_mu, W_sigma, b_sigma, D, b_D, are set to zero for a mixing
matrix A (N x k) and beta > 0, Sigma_x = A A^T + I. Nothing is eliminated by hand: the root finder
works in the full space of n = 3 k N + 2 k + N parameters (:func:`numerics.model.parameter_count`).

Pieces
------
* Gradient and Hessian (:mod:`numerics.stationary_hessian`): the generated gradient, whose roots are
  found, and its analytic Jacobian, pinned to the complex-step Jacobian of the generated gradient.
* Roots: ``scipy.optimize.root`` (MINPACK 'hybr' with the exact Jacobian, initial step bound
  ``factor`` 0.01, retried with the default 100 if that fails; 'lm' was tried and dropped: it
  rescued ~10% of failed random starts at ~40x the cost), then up to 30 Newton steps with a
  pseudo-inverse (the Hessian is singular on symmetry orbits). A start has converged when
  |grad|_2 < ``GRAD_TOL`` = 1e-10 (typically ~1e-15).
* Starts (:mod:`numerics.stationary_starts`): (i) random points (scale log-uniform in [0.1, 1] of the
  stationary points' size); (ii) random points pushed uphill by 1-100 L-BFGS iterations on -objective
  (stopped early on purpose, so that the root finder lands on saddles as well as on the maximum);
  (iii) every analytically known stationary point (``theory_points``: "orthogonal", "paired",
  "shared"), perturbed by 1% relative noise.
* Classification (:mod:`numerics.stationary_classify`): "maximum", "saddle", "minimum" or "degenerate"
  from the Hessian's inertia, up to the zero eigenvalues that the continuous symmetry explains;
  distinct solutions merged by invariants of the symmetries.

Scale: meant for small problems, N <= 10 and k <= 3 (at most 106 parameters; the work is a few
dense n x n eigen-decompositions per start, and the number of theory starts grows combinatorially
with k); larger inputs raise ValueError. Timing (this machine): paper-like N = 6, k = 2 with 24
generic starts ~0.2-0.3 s per beta; N = 10, k = 3 ~1-1.5 s. OpenBLAS is held to one thread while
solving (``single_threaded_openblas``): with several threads on a loaded machine the same run was
measured 10-40x slower.

>>> import numpy as np
>>> A = 0.5 * (np.ones((4, 2)) + np.eye(4, 2))
>>> r = solve_stationary(A, beta=2.0, starts=6, seed=0)
>>> r.closed_form_is_best, r.points[0].kind
(True, 'maximum')
"""
from __future__ import annotations

import contextlib
import math
import numbers
import time
from dataclasses import dataclass, field, fields

import numpy as np
from scipy.optimize import minimize, root

from .blas_threads import single_threaded_openblas
from .model import Parameters, flatten, unflatten
from .data_spectrum import DataSpectrum
from .optimum import optimum_parameters
from .stationary_classify import EIG_TOL, HessianSummary, classify, invariants, same_class, symmetry_dimension
from .stationary_hessian import gradient, hessian, objective
from .stationary_starts import random_start, theory_points

__all__ = ["MAX_N", "MAX_K", "GRAD_TOL", "BETA_RANGE", "StationaryPoint", "StationaryResult", "solve_stationary",
           "format_result"]

MAX_N = 10
MAX_K = 3
GRAD_TOL = 1e-10          # a start has converged when |grad|_2 is below this


# ---------------------------------------------------------------------------------------------- results
def _readonly(a):
    a = np.array(a, dtype=float, copy=True)
    a.setflags(write=False)
    return a


def _same(x, y):
    if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
        return np.array_equal(x, y)
    if isinstance(x, tuple) and isinstance(y, tuple):
        return len(x) == len(y) and all(_same(a, b) for a, b in zip(x, y))
    return x == y


class _ArrayEq:
    """Field-wise equality that compares arrays exactly (fields with compare=False are skipped)."""

    def __eq__(self, other):
        if type(other) is not type(self):
            return NotImplemented
        return all(_same(getattr(self, f.name), getattr(other, f.name)) for f in fields(self) if f.compare)

    __hash__ = None


@dataclass(frozen=True, eq=False)
class StationaryPoint(_ArrayEq):
    """One distinct stationary point (representative of its symmetry class)."""

    objective: float
    kind: str                           # "maximum" | "saddle" | "minimum" | "degenerate"
    grad_norm: float                    # |grad|_2 of the full system at the stored parameters
    hessian: HessianSummary
    dtd_spectrum: tuple[float, ...]     # eigenvalues of D^T D, descending
    column_norms2: tuple[float, ...]    # diag(D^T D), descending
    dsd_spectrum: tuple[float, ...]     # eigenvalues of D^T Sigma_x D, descending
    is_closed_form: bool                # same invariants as ``closed_form_optimum``
    hits: int                           # how many starts converged into this class
    parameters: Parameters              # the representative found (read-only arrays)

    @property
    def n_active(self) -> int:
        """Units with a non-negligible decoder column."""
        return int(sum(c > 1e-8 * max(1.0, self.column_norms2[0]) for c in self.column_norms2))


@dataclass(frozen=True, eq=False)
class StationaryResult(_ArrayEq):
    beta: float
    N: int
    k: int
    seed: int
    points: tuple[StationaryPoint, ...]      # distinct, objective descending
    closed_form_objective: float
    closed_form_found: bool                  # one of the points has the closed form's invariants
    closed_form_is_best: bool                # points found, none beats the closed form (tol 1e-9 relative)
    best_gap: float                          # closed-form objective - best objective found (~0, >= -tol)
    runner_up_gap: float                     # closed-form objective - best objective of any *other* class
    n_starts: int
    n_converged: int
    starts_by_kind: tuple[tuple[str, int, int], ...]   # (kind of start, starts, converged)
    wall_time: float = field(compare=False)

    def kinds(self) -> dict[str, int]:
        out = {}
        for p in self.points:
            out[p.kind] = out.get(p.kind, 0) + 1
        return out

    def to_json(self) -> dict:
        """The result as ``stationary --json`` prints it: each point's objective, kind, gradient norm, spectrum of
        D^T D and Hessian summary (the parameters themselves are left out: they are large and gauge-dependent)."""
        return {
            "beta": self.beta, "N": self.N, "k": self.k, "closed_form_objective": self.closed_form_objective,
            "closed_form_found": self.closed_form_found, "closed_form_is_best": self.closed_form_is_best,
            "best_gap": self.best_gap, "kinds": self.kinds(), "n_starts": self.n_starts,
            "n_converged": self.n_converged, "wall_time": self.wall_time,
            "points": [{"objective": p.objective, "kind": p.kind, "grad_norm": p.grad_norm,
                        "dtd_spectrum": list(p.dtd_spectrum), "is_closed_form": p.is_closed_form,
                        "hessian": {"largest": p.hessian.largest, "smallest": p.hessian.smallest,
                                    "positive": p.hessian.n_positive, "negative": p.hessian.n_negative,
                                    "near_zero": p.hessian.n_near_zero, "symmetry": p.hessian.n_symmetry}}
                       for p in self.points]}


# ---------------------------------------------------------------------------------------------- root finding
def _pinv_solve(H, g, rcond=1e-13):
    """Least-squares solution of H x = g for symmetric H (eigen-decomposition; singular H allowed)."""
    lam, V = np.linalg.eigh(H)
    keep = np.abs(lam) > rcond * max(float(np.max(np.abs(lam))), 1e-300)
    return V[:, keep] @ ((V[:, keep].T @ g) / lam[keep])


def _solve_one(theta0, Sigma, beta, newton_steps=30):
    def fun(t):
        with np.errstate(all="ignore"):
            g = gradient(t, Sigma, beta)
        return np.where(np.isfinite(g), g, 1e150)

    def jac(t):
        with np.errstate(all="ignore"):
            H = hessian(t, Sigma, beta)
        return np.where(np.isfinite(H), H, 0.0)

    def gnorm(t):
        g = fun(t)
        return float(np.linalg.norm(g)) if np.all(np.isfinite(t)) else np.inf

    best, best_norm = None, np.inf
    # MINPACK hybrj with the exact Jacobian; a small initial trust region ("factor") keeps it from
    # wandering off to large |D|, |b_D| from random starts (measured: ~60% vs ~35% converged at
    # beta = 0.5 on the paper-like N = 6 problem); a second attempt with the default step bound.
    for factor in (0.01, 100.0):
        with np.errstate(all="ignore"):
            sol = root(fun, theta0, jac=jac, method="hybr", options={"xtol": 1e-13, "maxfev": 400, "factor": factor})
        nrm = gnorm(sol.x)
        if nrm < best_norm:
            best, best_norm = sol.x, nrm
        if best_norm < 1e-6:
            break
    if best is None or best_norm > 1e-2:
        return None
    # Newton polish, least squares (the Hessian is singular on symmetry orbits). Not monotone on
    # purpose: near a nearly flat direction (two close eigenvalues of Sigma_x) hybr can stop far
    # along it, and the first full step raises |grad| before quadratic convergence sets in.
    theta, nrm = best.copy(), best_norm
    for _ in range(newton_steps):
        if best_norm < GRAD_TOL * 1e-3:
            break
        theta = theta - _pinv_solve(jac(theta), fun(theta))
        nrm = gnorm(theta)
        if not np.isfinite(nrm) or nrm > 1e6 * max(best_norm, 1e-12):
            break
        if nrm < best_norm:
            best, best_norm = theta.copy(), nrm
    return best if best_norm < GRAD_TOL else None


# Measured: below 1e-3 random 6x3 problems no longer reach the closed form from 24 starts; up to 1e20
# the fig3 problem is solved, and above ~1e300 the objective overflows.
BETA_RANGE = (1e-3, 1e12)


def _check_inputs(A, beta, starts, seed):
    try:
        A = np.array(A, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"mixing matrix must be a real N x k array: {exc}") from None
    if A.ndim != 2 or A.shape[0] < 1 or A.shape[1] < 1:
        raise ValueError(f"mixing matrix must be 2-D N x k, got shape {A.shape}")
    N, k = A.shape
    if k > N:
        raise ValueError(f"mixing matrix must have k <= N, got N={N}, k={k}")
    if N > MAX_N or k > MAX_K:
        raise ValueError(f"solve_stationary is meant for small problems (N <= {MAX_N}, k <= {MAX_K}); got N={N}, k={k}")
    if not np.all(np.isfinite(A)):
        raise ValueError("mixing matrix has non-finite entries")
    if isinstance(beta, (bool, np.bool_)) or not isinstance(beta, numbers.Real):
        raise ValueError(f"beta must be a positive finite real number, got {beta!r}")
    beta = float(beta)
    if not (math.isfinite(beta) and beta > 0):
        raise ValueError(f"beta must be a positive finite real number, got {beta!r}")
    if not BETA_RANGE[0] <= beta <= BETA_RANGE[1]:
        raise ValueError(f"beta = {beta:g} is outside {BETA_RANGE[0]:g} <= beta <= {BETA_RANGE[1]:g}, where the "
                         "full stationarity system is well-conditioned in float64 (the posterior variances scale "
                         "with beta); the closed form (numerics.optimum, the curve command) covers a far wider range")
    if isinstance(starts, (bool, np.bool_)) or not isinstance(starts, (int, np.integer)) or starts < 0:
        raise ValueError(f"starts must be a non-negative integer, got {starts!r}")
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"seed must be an integer, got {seed!r}")
    return A, beta, int(starts), int(seed)


def solve_stationary(A, beta, starts: int = 24, seed: int = 0, *, ascent_fraction: float = 0.5,
                     theory: bool = True, theory_jitter: float = 1e-2, eig_tol: float = EIG_TOL,
                     single_thread_blas: bool = True, noise: float = 1.0, covariance=None) -> StationaryResult:
    """Find and classify the stationary points of the full objective for mixing matrix A and beta.

    Sigma_x = A A^T + ``noise`` I; or, with ``covariance`` (an N x N matrix, checked as by
    :meth:`numerics.data_spectrum.DataSpectrum.from_covariance`), Sigma_x itself, and ``A`` only gives (N, k) by its
    shape (pass ``numpy.zeros((N, k))``). Unit decoder and prior variances: the stationary points of the general model
    at (beta, sigma_d^2, sigma_p^2) are these at beta sigma_d^2, mapped by z -> z / sigma_p (identities (a) and (b),
    :mod:`derivations.general_model`).

    ``starts`` generic starts, random at a scale log-uniform in [0.1, 1]: a fraction
    ``ascent_fraction`` of them is first pushed uphill by 1-100 (log-uniform) L-BFGS iterations on
    -objective, the rest are used as drawn; with ``theory`` the known
    stationary points (perturbed by ``theory_jitter`` relative noise) are added as further starts.
    Deterministic for a given ``seed`` (``wall_time`` aside).
    """
    A, beta, starts, seed = _check_inputs(A, beta, starts, seed)
    N, k = A.shape
    if covariance is None:
        data = DataSpectrum.from_mixing(A, noise)
        Sigma = A @ A.T + noise * np.eye(N)
    else:
        Sigma = np.array(covariance, dtype=float)
        if Sigma.shape != (N, N):
            raise ValueError(f"covariance must be {N} x {N} for A of shape {A.shape}, got {Sigma.shape}")
        data = DataSpectrum.from_covariance(Sigma.copy(), k)
    # divergent starts overflow on their way out; they are counted as not converged, not warned about
    with single_threaded_openblas() if single_thread_blas else contextlib.nullcontext(), np.errstate(all="ignore"):
        return _solve_stationary(Sigma, k, optimum_parameters(data, beta), beta, starts, seed, ascent_fraction,
                                 theory, theory_jitter, eig_tol)


def _solve_stationary(Sigma, k, opt, beta, starts, seed, ascent_fraction, theory, theory_jitter, eig_tol):
    t0 = time.perf_counter()
    N = Sigma.shape[0]
    rng = np.random.default_rng(seed)

    init = []                                           # (kind of start, theta0)
    n_ascent = int(round(ascent_fraction * starts))
    for i in range(starts):
        theta = random_start(rng, N, k, scale=float(10 ** rng.uniform(-1, 0)))
        if i < n_ascent:
            iters = int(round(10 ** rng.uniform(0, 2)))
            with np.errstate(all="ignore"):
                res = minimize(lambda t: (-objective(t, Sigma, beta), -gradient(t, Sigma, beta)), theta, jac=True,
                               method="L-BFGS-B", options={"maxiter": iters})
            if np.all(np.isfinite(res.x)):
                theta = res.x
            init.append(("ascent", theta))
        else:
            init.append(("random", theta))
    if theory:
        for label, params in theory_points(Sigma, k, beta):
            theta = flatten(params)
            theta = theta + theory_jitter * rng.normal(size=theta.size) * (1 + np.abs(theta))
            init.append(("theory", theta))

    classes = []                                        # [invariants, theta, gnorm, hits]
    counts = {}
    for kind, theta0 in init:
        sol = _solve_one(theta0, Sigma, beta)
        c = counts.setdefault(kind, [0, 0])
        c[0] += 1
        if sol is None:
            continue
        c[1] += 1
        params = unflatten(sol, N, k)
        inv = invariants(params, Sigma, beta)
        gn = float(np.linalg.norm(gradient(sol, Sigma, beta)))
        for cl in classes:
            if same_class(cl[0], inv):
                cl[3] += 1
                if gn < cl[2]:
                    cl[0], cl[1], cl[2] = inv, sol, gn
                break
        else:
            classes.append([inv, sol, gn, 1])

    cf_inv = invariants(opt, Sigma, beta)
    f_cf = cf_inv[0]
    points = []
    for inv, theta, gn, hits in classes:
        params = unflatten(theta, N, k)
        kind, summ = classify(hessian(theta, Sigma, beta), symmetry_dimension(params, Sigma), gn, eig_tol)
        points.append(StationaryPoint(
            objective=inv[0], kind=kind, grad_norm=gn, hessian=summ,
            dtd_spectrum=tuple(float(x) for x in inv[1]), column_norms2=tuple(float(x) for x in inv[2]),
            dsd_spectrum=tuple(float(x) for x in inv[3]), is_closed_form=same_class(inv, cf_inv), hits=hits,
            parameters=Parameters(*(_readonly(p) for p in params))))
    points.sort(key=lambda p: (-p.objective, p.dtd_spectrum))
    tol = 1e-9 * (1 + abs(f_cf))
    best = points[0].objective if points else -np.inf
    others = [p.objective for p in points if not p.is_closed_form]
    return StationaryResult(
        beta=beta, N=N, k=k, seed=seed, points=tuple(points), closed_form_objective=float(f_cf),
        closed_form_found=any(p.is_closed_form for p in points),
        closed_form_is_best=bool(points) and bool(best <= f_cf + tol),
        best_gap=float(f_cf - best), runner_up_gap=float(f_cf - max(others)) if others else float("inf"),
        n_starts=len(init), n_converged=sum(c[1] for c in counts.values()),
        starts_by_kind=tuple((kd, c[0], c[1]) for kd, c in counts.items()), wall_time=time.perf_counter() - t0)


def format_result(r: StationaryResult) -> str:
    """A plain-text table of the classification."""
    lines = [f"beta={r.beta:g}  N={r.N} k={r.k}  starts={r.n_starts} converged={r.n_converged}  "
             f"distinct={len(r.points)}  closed form {r.closed_form_objective:.10f} "
             f"(found={r.closed_form_found}, best={r.closed_form_is_best}, gap={r.best_gap:.2e}, "
             f"runner-up gap={r.runner_up_gap:.4g})  {r.wall_time:.2f}s",
             f"{'objective':>16} {'kind':>10} {'|grad|':>8} {'eig max':>10} {'eig min':>10} "
             f"{'+/-/0(sym)':>12} {'hits':>4}  spectrum D^T D / diag"]
    for p in r.points:
        h = p.hessian
        lines.append(f"{p.objective:16.10f} {p.kind:>10} {p.grad_norm:8.1e} {h.largest:10.3e} {h.smallest:10.3e} "
                     f"{f'{h.n_positive}/{h.n_negative}/{h.n_near_zero}({h.n_symmetry})':>12} {p.hits:4d}  "
                     f"{np.round(p.dtd_spectrum, 4).tolist()} / {np.round(p.column_norms2, 4).tolist()}"
                     + ("  <- closed form" if p.is_closed_form else ""))
    return "\n".join(lines)

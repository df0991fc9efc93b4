"""All stationary points of the tractable beta-VAE (Section IV.B), found numerically and classified.

The *full* stationarity system is solved: the six gradients of the data-averaged objective
(eq. 21 with its constants; the equations are eq. 23 together with the bias equations 43 and 45),
with respect to every parameter W_mu, b_mu, W_sigma, b_sigma, D, b_D, are set to zero for a mixing
matrix A (N x k) and beta > 0, Sigma_x = A A^T + I. Nothing is eliminated by hand: the root finder
works in the full space of n = 3 k N + 2 k + N parameters.

Pieces
------
* Gradient: ``numerics._generated.grad_*`` (printed from SymPy and pinned to it by other tests);
  it is the function whose roots are found.
* Hessian: analytic (``hessian``): the directional derivative of the gradient written out by
  hand and evaluated for all coordinate directions in one batched pass (~0.5 ms at n = 106).
  It is pinned to ``hessian_complex_step``, the Jacobian of the *generated* gradient by the
  complex step H[:, j] = Im g(theta + i h e_j) / h, h = 1e-30: the generated gradient is
  holomorphic in its arguments (only +, *, @, ``.T`` — a plain transpose, no conjugation —
  ``diagonal``, ``diagflat``, ``exp``), so there is no subtractive cancellation and the complex
  step is exact to rounding (truncation O(h^2) ~ 1e-60). Measured: analytic vs complex step
  ~4e-16 relative, complex-step asymmetry ~3e-16; against central second differences of
  ``_generated.objective`` ~1e-7 (the accuracy of the finite differences).
* Roots: ``scipy.optimize.root`` (MINPACK 'hybr' with the exact Jacobian, initial step bound
  ``factor`` 0.01, retried with the default 100 if that fails; 'lm' was tried and dropped: it
  rescued ~10% of failed random starts at ~40x the cost), then up to 30 Newton steps with a
  pseudo-inverse (the Hessian is singular on symmetry orbits). A start has converged when
  |grad|_2 < ``GRAD_TOL`` = 1e-10 (typically ~1e-15).
* Starts: (i) random points (scale log-uniform in [0.1, 1] of the stationary points' size);
  (ii) random points pushed uphill by 1-100 L-BFGS iterations on -objective (stopped early on
  purpose, so that the root finder lands on saddles as well as on the maximum); (iii) every
  analytically known stationary point (``theory_points``), perturbed by 1% relative noise:

  - "orthogonal": D = U diag(d), every unit either collapsed (d_i = 0) or on its own eigenvector
    u of Sigma_x with d_i^2 = lambda(u) - beta > 0, and the other parameters at their unique
    values for that D (``complete_from_D``): W_mu = (D^T D + beta)^-1 D^T, W_sigma = 0,
    e^{b_sigma_i} = beta / (beta + [D^T D]_ii), b_mu = b_D = 0. Eigenvectors of one eigenvalue are
    interchangeable (symmetry below), so only how many units each eigenvalue receives is
    enumerated;
  - "paired" / "shared" (k >= 2), *not* of the form U diag(d). With M = D^T D and
    Delta = diag(M) + beta the D-equation becomes Sigma_x D = D (M + beta) Delta^-1 (M + beta);
    symmetry of D^T Sigma_x D forces M + beta to commute with Delta, so M may be non-diagonal
    between units of equal column norm. Two such families: D = [u_a s_a, u_b s_b] R_45 with
    s_j^2 = sqrt(lambda_j) (sqrt(lambda_a) + sqrt(lambda_b)) / 2 - beta > 0 ("paired"; lambda_b may
    be below beta, e.g. the noise eigenvalue 1 < beta < sqrt(lambda_a)), and two
    units on one eigenvector, D = u s [1, 1] / sqrt 2 with (s^2 + beta)^2 = lambda (s^2 / 2 + beta)
    ("shared"); the remaining units orthogonal on unused eigenvectors or collapsed. A test checks
    that each of these is an exact root of the generated gradient. For k <= 2 these three families
    are all the stationary points up to symmetry (k = 2: Delta has distinct entries, so M is
    diagonal and columns are eigenvectors or 0; or equal entries, so M's eigenvectors are
    (1, +-1)/sqrt 2), and a test checks that the solver finds exactly them. (For k = 3 there are further
    solutions with three equal column norms, found only from generic starts, some lying on
    one-parameter families that are not symmetry orbits.)

Symmetries and classification
-----------------------------
The objective is invariant under signed permutations of the latent units (discrete) and under
rotations Q of R^N commuting with Sigma_x (D -> Q D, b_D -> Q b_D, W_mu -> W_mu Q^T,
W_sigma -> W_sigma Q^T). Sigma_x = A A^T + I always has the eigenvalue 1 with multiplicity N - k
(and more when A has equal singular values), so a stationary point with a unit inside an
eigenspace of dimension > 1 lies on a continuous orbit of stationary points, and its Hessian has
``n_symmetry`` zero eigenvalues along the orbit (the rank of the orbit's tangent vectors, computed
at each point). For fixed D the objective is strictly concave in the other parameters, so every
stationary point is determined by its D and the Hessian's inertia equals that of the reduced
objective F(D); there are no other "collapsed unit" flat directions: for a collapsed unit moved
along an eigenvector of eigenvalue lambda the curvature of F is proportional to lambda/beta - 1
(and to -(1 - beta/lambda) along an eigenvector already used by an active unit), which vanishes
only when beta equals an eigenvalue of Sigma_x. At the optimum that means beta at a collapse
threshold (beta = lambda_i, i <= k: unit i has just collapsed and is flat to quartic order);
there the point is reported "degenerate". Otherwise the optimum's Hessian is negative definite.

With ``tol`` from ``classify`` (relative ``EIG_TOL`` = 1e-9, widened when |grad| is not tiny),
eigenvalues are positive / negative / near zero, and

* "saddle":  some positive and some negative;
* "maximum": none positive, and exactly ``n_symmetry`` near zero (negative definite up to the
  known flat directions);
* "minimum": none negative, exactly ``n_symmetry`` near zero (cannot occur here: the Hessian has a
  negative definite block, but the label is kept for completeness);
* "degenerate": the second-order test is inconclusive (more near-zero eigenvalues than symmetry
  explains, and no sign change).

Distinct solutions are merged by invariants of the symmetries: the objective, the sorted spectra
of D^T D and of D^T Sigma_x D, and the sorted column norms of D.

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
import ctypes
import itertools
import math
import numbers
import time
from dataclasses import dataclass, field, fields

import numpy as np
from scipy.optimize import minimize, root

from . import _generated as gen
from .optimum import closed_form_optimum

__all__ = ["NAMES", "MAX_N", "MAX_K", "GRAD_TOL", "EIG_TOL", "HessianSummary", "StationaryPoint",
           "StationaryResult", "shapes", "size", "flatten", "unflatten", "objective", "gradient", "hessian",
           "hessian_complex_step", "classify", "symmetry_dimension", "complete_from_D", "theory_points",
           "single_threaded_openblas", "solve_stationary", "format_result"]

NAMES = ("W_mu", "b_mu", "W_sigma", "b_sigma", "D", "b_D")
MAX_N = 10
MAX_K = 3
GRAD_TOL = 1e-10          # a start has converged when |grad|_2 is below this
COMPLEX_STEP = 1e-30
KINDS = ("maximum", "saddle", "minimum", "degenerate")
EIG_TOL = 1e-9           # relative tolerance for a zero Hessian eigenvalue


# ============================================================ parameters <-> vector
def shapes(N: int, k: int) -> tuple[tuple[int, int], ...]:
    """Shapes of (W_mu, b_mu, W_sigma, b_sigma, D, b_D), biases as columns (as in ``_generated``)."""
    return ((k, N), (k, 1), (k, N), (k, 1), (N, k), (N, 1))


def size(N: int, k: int) -> int:
    return 3 * k * N + 2 * k + N


def flatten(params) -> np.ndarray:
    """Six arrays (in ``NAMES`` order) -> one vector (row-major), real or complex."""
    return np.concatenate([np.asarray(p).ravel() for p in params])


def unflatten(theta, N: int, k: int) -> tuple[np.ndarray, ...]:
    """One vector -> six arrays (copies) in ``NAMES`` order."""
    theta = np.asarray(theta)
    if theta.shape != (size(N, k),):
        raise ValueError(f"parameter vector must have length {size(N, k)} for N={N}, k={k}, got {theta.shape}")
    out, pos = [], 0
    for shp in shapes(N, k):
        m = shp[0] * shp[1]
        out.append(theta[pos:pos + m].reshape(shp).copy())
        pos += m
    return tuple(out)


def objective(theta, Sigma, beta) -> float:
    N, k = _dims(theta, Sigma)
    return gen.objective(*unflatten(theta, N, k), Sigma, beta)


def _dims(theta, Sigma):
    N = Sigma.shape[0]
    return N, (np.asarray(theta).size - N) // (3 * N + 2)


def gradient(theta, Sigma, beta) -> np.ndarray:
    """The six generated gradients, flattened in ``NAMES`` order."""
    N, k = _dims(theta, Sigma)
    p = unflatten(theta, N, k)
    return flatten([getattr(gen, f"grad_{name}")(*p, Sigma, beta) for name in NAMES])


def hessian(theta, Sigma, beta) -> np.ndarray:
    """Analytic Hessian of the full objective (directional derivatives of the gradient, all at once).

    With R = I - D W_mu, e = D b_mu + b_D, s_i = [W_sigma Sigma W_sigma^T]_ii / 2 + b_sigma_i,
    E_i = exp(s_i), m_i = [D^T D]_ii the gradient is

        g_Wmu = D^T R Sigma - beta W_mu Sigma,     g_bmu = -beta b_mu - D^T e,      g_bD = -e,
        g_D = R Sigma W_mu^T - e b_mu^T - D diag(E),
        g_Wsigma_i = -(beta + m_i) E_i (Sigma W_sigma^T)_i / 2,   g_bsigma_i = beta/2 - (beta + m_i) E_i / 2,

    and its derivative along every coordinate direction is evaluated in one batched pass. Pinned
    to the complex-step Jacobian of the *generated* gradient (``hessian_complex_step``) by the tests.
    """
    theta = np.asarray(theta, dtype=float)
    N, k = _dims(theta, Sigma)
    W, b, V, c, D, bD = unflatten(theta, N, k)
    b, c, bD = b[:, 0], c[:, 0], bD[:, 0]
    n = theta.size
    dW, db, dV, dc, dD, dbD = unflatten_batch(np.eye(n), N, k)     # one coordinate direction per row
    R = np.eye(N) - D @ W
    e = D @ b + bD
    SV = V @ Sigma                                   # rows (Sigma v_i)^T
    E = np.exp(0.5 * np.einsum("ij,ij->i", SV, V) + c)
    m = np.einsum("ai,ai->i", D, D)
    dR = -(dD @ W + D @ dW)                          # (n, N, N)
    de = dD @ b + (db @ D.T) + dbD                   # (n, N)
    ds = np.einsum("ij,bij->bi", SV, dV) + dc        # (n, k)
    dE = E * ds
    dm = 2 * np.einsum("ai,bai->bi", D, dD)
    g_W = np.swapaxes(dD, 1, 2) @ R @ Sigma + D.T @ dR @ Sigma - beta * dW @ Sigma
    g_b = -beta * db - np.einsum("bai,a->bi", dD, e) - de @ D
    g_D = (dR @ Sigma @ W.T + R @ Sigma @ np.swapaxes(dW, 1, 2) - de[:, :, None] * b[None, None, :]
           - e[None, :, None] * db[:, None, :] - dD * E - D[None] * dE[:, None, :])
    g_bD = -de
    coef = dm * E + (beta + m) * dE                  # d[(beta + m_i) E_i]
    g_V = -0.5 * (coef[:, :, None] * SV[None] + ((beta + m) * E)[None, :, None] * (dV @ Sigma))
    g_c = -0.5 * coef
    H = np.concatenate([g_W.reshape(n, -1), g_b, g_V.reshape(n, -1), g_c, g_D.reshape(n, -1), g_bD], axis=1)
    return 0.5 * (H + H.T)


def unflatten_batch(thetas, N: int, k: int) -> tuple[np.ndarray, ...]:
    """Rows of ``thetas`` -> six arrays with a leading batch axis (biases as (batch, len))."""
    thetas = np.asarray(thetas)
    out, pos = [], 0
    for i, shp in enumerate(shapes(N, k)):
        m = shp[0] * shp[1]
        block = thetas[:, pos:pos + m]
        out.append(block if i % 2 else block.reshape((thetas.shape[0],) + shp))     # odd: biases
        pos += m
    return tuple(out)


def hessian_complex_step(theta, Sigma, beta, h: float = COMPLEX_STEP) -> np.ndarray:
    """Jacobian of the *generated* gradient by the complex step (exact to rounding; n gradient calls)."""
    theta = np.asarray(theta, dtype=float)
    n = theta.size
    H = np.empty((n, n))
    z = theta.astype(complex)
    for j in range(n):
        z[j] += 1j * h
        H[:, j] = gradient(z, Sigma, beta).imag / h
        z[j] = theta[j]
    return H


# ============================================================ symmetries and classification
def _eigen_clusters(Sigma, rel=1e-8):
    """Eigenvalues of Sigma (descending) grouped when equal to ``rel``; list of (lambda, U_c)."""
    lam, U = np.linalg.eigh(Sigma)
    lam, U = lam[::-1], U[:, ::-1]
    clusters, start = [], 0
    scale = max(1.0, abs(lam[0]))
    for i in range(1, len(lam) + 1):
        if i == len(lam) or lam[start] - lam[i] > rel * scale:
            clusters.append((float(np.mean(lam[start:i])), U[:, start:i]))
            start = i
    return clusters


def symmetry_dimension(params, Sigma, rel=1e-7) -> int:
    """Dimension of the orbit through ``params`` of the rotations commuting with Sigma_x.

    Tangent vectors for a generator K (skew, K Sigma = Sigma K): dD = K D, db_D = K b_D,
    dW_mu = -W_mu K, dW_sigma = -W_sigma K. The returned rank is the number of Hessian zero
    eigenvalues forced by the symmetry.
    """
    W, b, Ws, bs, D, bD = params
    vecs = []
    for _, Uc in _eigen_clusters(Sigma):
        m = Uc.shape[1]
        for a, c in itertools.combinations(range(m), 2):
            K = np.outer(Uc[:, a], Uc[:, c])
            K = K - K.T
            vecs.append(flatten([-W @ K, np.zeros_like(b), -Ws @ K, np.zeros_like(bs), K @ D, K @ bD]))
    if not vecs:
        return 0
    sv = np.linalg.svd(np.array(vecs), compute_uv=False)
    scale = max(1.0, float(np.max(np.abs(flatten(params)))))
    return int(np.sum(sv > rel * scale))


@dataclass(frozen=True)
class HessianSummary:
    largest: float
    smallest: float
    n_positive: int
    n_negative: int
    n_near_zero: int
    n_symmetry: int         # near-zero eigenvalues explained by the continuous symmetry
    tol: float


def classify(H, n_symmetry: int, grad_norm: float = 0.0, eig_tol: float = EIG_TOL) -> tuple[str, HessianSummary]:
    """Kind of a stationary point from its Hessian H (see the module docstring for the rules).

    Near zero means |eig| <= tol = max(eig_tol * s, 10 |grad|^(2/3) s^(1/3)), s = max(1, max|eig|):
    the second term is the error of an eigenvalue along a direction that is flat to second order
    (quartic), at a point located only to |grad| (there the distance to the true point is
    ~ |grad|^(1/3)); at a regular point |grad| ~ 1e-15 and the first term dominates.
    """
    ev = np.linalg.eigvalsh(H)
    s = max(1.0, float(np.max(np.abs(ev))))
    tol = max(eig_tol * s, 10.0 * float(grad_norm) ** (2.0 / 3.0) * s ** (1.0 / 3.0))
    pos, neg = int(np.sum(ev > tol)), int(np.sum(ev < -tol))
    zero = ev.size - pos - neg
    if pos and neg:
        kind = "saddle"
    elif pos == 0 and zero == n_symmetry:
        kind = "maximum"
    elif neg == 0 and zero == n_symmetry:
        kind = "minimum"
    else:
        kind = "degenerate"
    return kind, HessianSummary(float(ev[-1]), float(ev[0]), pos, neg, zero, int(n_symmetry), tol)


# ============================================================ result objects
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
    W_mu: np.ndarray
    b_mu: np.ndarray
    W_sigma: np.ndarray
    b_sigma: np.ndarray
    D: np.ndarray
    b_D: np.ndarray

    def params(self):
        return self.W_mu, self.b_mu, self.W_sigma, self.b_sigma, self.D, self.b_D

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


# ============================================================ starts
def complete_from_D(D, Sigma, beta):
    """The unique stationary values of the other parameters for a given D (the eliminations)."""
    N, k = D.shape
    M = D.T @ D
    W = np.linalg.solve(M + beta * np.eye(k), D.T)
    bs = np.log(beta / (beta + np.diag(M)))[:, None]
    return W, np.zeros((k, 1)), np.zeros((k, N)), bs, np.array(D, dtype=float), np.zeros((N, 1))


def _orthogonal_fills(clusters, used, n_units, beta):
    """Ways to put up to ``n_units`` units on unused eigenvectors, one per unit, up to symmetry.

    Yields (columns, label): columns are sqrt(lambda - beta) u for the chosen vectors (only
    eigenvalues > beta). Vectors of one eigenvalue cluster are interchangeable, so only the count
    per cluster is enumerated.
    """
    ranges = [range(0, (min(n_units, Uc.shape[1] - u) if lam > beta * (1 + 1e-9) else 0) + 1)
              for (lam, Uc), u in zip(clusters, used)]
    for counts in itertools.product(*ranges):
        if sum(counts) > n_units:
            continue
        cols, label = [], []
        for (lam, Uc), u, c in zip(clusters, used, counts):
            cols += [math.sqrt(lam - beta) * Uc[:, u + j] for j in range(c)]
            if c:
                label.append(f"{c}x{lam:.4g}")
        yield cols, label


def theory_points(Sigma, k, beta):
    """Analytically known stationary points (see the module docstring), as (label, params).

    orthogonal: D = U diag(d), each unit collapsed or on its own eigenvector, d^2 = lambda - beta
    (eigenvalues > beta only); paired / shared (k >= 2): units 1-2 mixed as in the module
    docstring (paired may use an eigenvalue below beta: only s_a^2, s_b^2 > 0 is required), the
    other units orthogonal on unused eigenvectors or collapsed. For k <= 2 this list is complete
    up to the symmetries (the D-equation leaves no other case); for k = 3 it is not.
    """
    N = Sigma.shape[0]
    clusters = _eigen_clusters(Sigma)
    out = []

    def emit(label, first_cols, used, n_rest):
        for cols, lab in _orthogonal_fills(clusters, used, n_rest, beta):
            D = np.zeros((N, k))
            for j, col in enumerate(list(first_cols) + cols):
                D[:, j] = col
            out.append((label + "[" + ",".join(lab) + "]", complete_from_D(D, Sigma, beta)))

    emit("orthogonal", [], [0] * len(clusters), k)
    if k >= 2:
        r = 1 / math.sqrt(2)
        rot = np.array([[r, r], [-r, r]])
        for (ia, (la, Ua)), (ib, (lb, Ub)) in itertools.combinations(enumerate(clusters), 2):   # two eigenvalues
            t = (math.sqrt(la) + math.sqrt(lb)) / 2
            sa2, sb2 = math.sqrt(la) * t - beta, math.sqrt(lb) * t - beta
            if sa2 > 0 and sb2 > 0:
                pair = np.column_stack([Ua[:, 0] * math.sqrt(sa2), Ub[:, 0] * math.sqrt(sb2)]) @ rot
                used = [int(i in (ia, ib)) for i in range(len(clusters))]
                emit(f"paired({la:.4g},{lb:.4g})+", [pair[:, 0], pair[:, 1]], used, k - 2)
        for ia, (lam, Ua) in enumerate(clusters):                                             # one eigenvector
            p = 2 * beta - lam / 2
            s2 = (-p + math.sqrt(p * p - 4 * (beta * beta - lam * beta))) / 2
            if s2 > 0:
                col = Ua[:, 0] * math.sqrt(s2) * r
                used = [int(i == ia) for i in range(len(clusters))]
                emit(f"shared({lam:.4g})+", [col, col], used, k - 2)
    return out


def _random_start(rng, N, k, scale):
    """A random parameter vector; ``scale`` 1 is the size of the stationary points' D for beta ~ 1."""
    return flatten([rng.normal(scale=scale / math.sqrt(N), size=(k, N)), rng.normal(scale=0.5 * scale, size=(k, 1)),
                    rng.normal(scale=0.3 * scale / math.sqrt(N), size=(k, N)), rng.normal(scale=scale, size=(k, 1)),
                    rng.normal(scale=scale, size=(N, k)), rng.normal(scale=0.5 * scale, size=(N, 1))])


# ============================================================ root finding
_OPENBLAS_THREAD_API = (("openblas_get_num_threads", "openblas_set_num_threads"),
                        ("scipy_openblas_get_num_threads64_", "scipy_openblas_set_num_threads64_"),
                        ("scipy_openblas_get_num_threads", "scipy_openblas_set_num_threads"),
                        ("openblas_get_num_threads64_", "openblas_set_num_threads64_"))


@contextlib.contextmanager
def single_threaded_openblas():
    """Run with every loaded OpenBLAS limited to one thread, restored afterwards (no-op elsewhere).

    The matrices here are tiny (<= 106 x 106); a multi-threaded OpenBLAS on a loaded machine spends
    its time spin-waiting, and one run was measured 10-40x slower than single-threaded.
    """
    restore = []
    try:
        with open("/proc/self/maps") as fh:
            paths = sorted({ln.split()[-1] for ln in fh if "openblas" in ln.lower() and "/" in ln and ".so" in ln})
    except OSError:
        paths = []
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for get_name, set_name in _OPENBLAS_THREAD_API:
            if hasattr(lib, get_name) and hasattr(lib, set_name):
                get, put = getattr(lib, get_name), getattr(lib, set_name)
                get.restype, put.argtypes = ctypes.c_int, [ctypes.c_int]
                restore.append((put, int(get())))
                put(1)
                break
    try:
        yield len(restore)
    finally:
        for put, n in restore:
            put(n)


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


def _invariants(params, Sigma, beta):
    D = params[4]
    M = D.T @ D
    return (float(gen.objective(*params, Sigma, beta)), np.sort(np.linalg.eigvalsh(M))[::-1],
            np.sort(np.diag(M))[::-1], np.sort(np.linalg.eigvalsh(D.T @ Sigma @ D))[::-1])


def _same_class(a, b, rel=1e-6):
    fa, *sa = a
    fb, *sb = b
    if abs(fa - fb) > rel * (1 + abs(fa)):
        return False
    return all(np.max(np.abs(x - y)) <= rel * (1 + np.max(np.abs(x))) for x, y in zip(sa, sb))


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
                     single_thread_blas: bool = True) -> StationaryResult:
    """Find and classify the stationary points of the full objective for mixing matrix A and beta.

    ``starts`` generic starts, random at a scale log-uniform in [0.1, 1]: a fraction
    ``ascent_fraction`` of them is first pushed uphill by 1-100 (log-uniform) L-BFGS iterations on
    -objective, the rest are used as drawn; with ``theory`` the known
    stationary points (perturbed by ``theory_jitter`` relative noise) are added as further starts.
    Deterministic for a given ``seed`` (``wall_time`` aside).
    """
    A, beta, starts, seed = _check_inputs(A, beta, starts, seed)
    # divergent starts overflow on their way out; they are counted as not converged, not warned about
    with single_threaded_openblas() if single_thread_blas else contextlib.nullcontext(), np.errstate(all="ignore"):
        return _solve_stationary(A, beta, starts, seed, ascent_fraction, theory, theory_jitter, eig_tol)


def _solve_stationary(A, beta, starts, seed, ascent_fraction, theory, theory_jitter, eig_tol):
    t0 = time.perf_counter()
    N, k = A.shape
    Sigma = A @ A.T + np.eye(N)
    rng = np.random.default_rng(seed)

    init = []                                           # (kind of start, theta0)
    n_ascent = int(round(ascent_fraction * starts))
    for i in range(starts):
        theta = _random_start(rng, N, k, scale=float(10 ** rng.uniform(-1, 0)))
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
        inv = _invariants(params, Sigma, beta)
        gn = float(np.linalg.norm(gradient(sol, Sigma, beta)))
        for cl in classes:
            if _same_class(cl[0], inv):
                cl[3] += 1
                if gn < cl[2]:
                    cl[0], cl[1], cl[2] = inv, sol, gn
                break
        else:
            classes.append([inv, sol, gn, 1])

    opt = closed_form_optimum(A, beta)
    cf_inv = _invariants(opt.params(), Sigma, beta)
    f_cf = cf_inv[0]
    points = []
    for inv, theta, gn, hits in classes:
        params = unflatten(theta, N, k)
        kind, summ = classify(hessian(theta, Sigma, beta), symmetry_dimension(params, Sigma), gn, eig_tol)
        points.append(StationaryPoint(
            objective=inv[0], kind=kind, grad_norm=gn, hessian=summ,
            dtd_spectrum=tuple(float(x) for x in inv[1]), column_norms2=tuple(float(x) for x in inv[2]),
            dsd_spectrum=tuple(float(x) for x in inv[3]), is_closed_form=_same_class(inv, cf_inv), hits=hits,
            **{name: _readonly(p) for name, p in zip(NAMES, params)}))
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

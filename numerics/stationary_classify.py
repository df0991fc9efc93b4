"""Classifying a stationary point of the tractable beta-VAE by its Hessian, up to the model's symmetries.

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
of D^T D and of D^T Sigma_x D, and the sorted column norms of D (:func:`invariants`, :func:`same_class`).

>>> import numpy as np
>>> kind, summary = classify(-np.eye(3), n_symmetry=0)
>>> kind, summary.n_negative
('maximum', 3)
>>> classify(np.diag([-1.0, 0.0, 1.0]), n_symmetry=1)[0]
'saddle'
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from . import generated as gen
from .model import flatten

KINDS = ("maximum", "saddle", "minimum", "degenerate")
EIG_TOL = 1e-9           # relative tolerance for a zero Hessian eigenvalue


def eigen_clusters(Sigma, rel=1e-8):
    """Eigenvalues of Sigma (descending) grouped when equal to ``rel``; list of (lambda, U_c)."""
    lam, U = np.linalg.eigh(Sigma)
    lam, U = np.clip(lam[::-1], 0.0, None), U[:, ::-1]     # a singular covariance: -1e-17 is 0
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
    for _, Uc in eigen_clusters(Sigma):
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


def invariants(params, Sigma, beta):
    """What the symmetries leave unchanged: the objective, the spectra of D^T D, its diagonal, and D^T Sigma_x D."""
    params = tuple(params)
    D = params[4]
    M = D.T @ D
    return (float(gen.objective(*params, Sigma, beta)), np.sort(np.linalg.eigvalsh(M))[::-1],
            np.sort(np.diag(M))[::-1], np.sort(np.linalg.eigvalsh(D.T @ Sigma @ D))[::-1])


def same_class(a, b, rel=1e-6):
    """Whether two points' :func:`invariants` agree (relative ``rel``): one class up to symmetry."""
    fa, *sa = a
    fb, *sb = b
    if abs(fa - fb) > rel * (1 + abs(fa)):
        return False
    return all(np.max(np.abs(x - y)) <= rel * (1 + np.max(np.abs(x))) for x, y in zip(sa, sb))

"""Starting points for the stationarity solver: random points and the analytically known stationary points.

:func:`random_start` draws a random parameter vector at a given scale. :func:`theory_points` lists the
stationary points known in closed form, up to the model's symmetries (:mod:`numerics.stationary_classify`):

- "orthogonal": D = U diag(d), every unit either collapsed (d_i = 0) or on its own eigenvector
  u of Sigma_x with d_i^2 = lambda(u) - beta > 0, and the other parameters at their unique
  values for that D (``complete_from_D``): W_mu = (D^T D + beta)^-1 D^T, W_sigma = 0,
  e^{b_sigma_i} = beta / (beta + [D^T D]_ii), b_mu = b_D = 0. Eigenvectors of one eigenvalue are
  interchangeable (a symmetry), so only how many units each eigenvalue receives is
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

>>> import numpy as np
>>> A = 0.5 * (np.ones((4, 2)) + np.eye(4, 2)); Sigma = A @ A.T + np.eye(4)
>>> [label for label, _ in theory_points(Sigma, 2, beta=2.0)]   # Sigma_x's eigenvalues: 4.25, 1.25, 1, 1
['orthogonal[]', 'orthogonal[1x4.25]', 'shared(4.25)+[]']
"""
from __future__ import annotations

import itertools
import math

import numpy as np

from .model import Parameters, flatten
from .stationary_classify import eigen_clusters


def complete_from_D(D, Sigma, beta) -> Parameters:
    """The unique stationary values of the other parameters for a given D (the eliminations)."""
    N, k = D.shape
    M = D.T @ D
    W = np.linalg.solve(M + beta * np.eye(k), D.T)
    bs = np.log(beta / (beta + np.diag(M)))[:, None]
    return Parameters(W, np.zeros((k, 1)), np.zeros((k, N)), bs, np.array(D, dtype=float), np.zeros((N, 1)))


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
    """Analytically known stationary points (see the module docstring), as (label, Parameters).

    orthogonal: D = U diag(d), each unit collapsed or on its own eigenvector, d^2 = lambda - beta
    (eigenvalues > beta only); paired / shared (k >= 2): units 1-2 mixed as in the module
    docstring (paired may use an eigenvalue below beta: only s_a^2, s_b^2 > 0 is required), the
    other units orthogonal on unused eigenvectors or collapsed. For k <= 2 this list is complete
    up to the symmetries (the D-equation leaves no other case); for k = 3 it is not.
    """
    N = Sigma.shape[0]
    clusters = eigen_clusters(Sigma)
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


def random_start(rng, N, k, scale):
    """A random parameter vector; ``scale`` 1 is the size of the stationary points' D for beta ~ 1."""
    return flatten([rng.normal(scale=scale / math.sqrt(N), size=(k, N)), rng.normal(scale=0.5 * scale, size=(k, 1)),
                    rng.normal(scale=0.3 * scale / math.sqrt(N), size=(k, N)), rng.normal(scale=scale, size=(k, 1)),
                    rng.normal(scale=scale, size=(N, k)), rng.normal(scale=0.5 * scale, size=(N, 1))])

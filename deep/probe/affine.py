"""Deciding whether a map is affine, and extracting it: f(x) = c + J x.

An affine map is determined by its values at 0 and at the unit vectors: c = f(0), column j of J is f(e_j) - f(0).
The map is then *tested* on check points (drawn from the data the map will see): the largest relative residual

    max_i |f(x)_i - c_i - (J x)_i| / (|c|_i + (|J| |x|)_i)

is what float64 rounding leaves for an affine map (about d * 1e-16 for d inputs, whatever the size of the offset c:
the denominator bounds the rounding error of each side), and orders of magnitude more for anything else. The map is
taken as affine when it is at most :data:`TOLERANCE`. A map that is affine exactly where the check points fall but not
elsewhere (a piecewise-linear network with a region no check point reaches) would pass: the check points are random
draws of the data, so such a region carries little probability; the probe can be told to use Monte-Carlo instead.

>>> import numpy as np
>>> W, c = np.array([[1.0, 2.0], [3.0, -1.0], [0.5, 0.0]]), np.array([1e6, -2.0, 0.0])
>>> fit = fit_affine(lambda x: x @ W.T + c, 2, np.random.default_rng(0).standard_normal((16, 2)))
>>> fit.is_affine, bool(np.allclose(fit.J, W) and np.allclose(fit.c, c))
(True, True)
>>> fit_affine(lambda x: np.tanh(x), 2, np.random.default_rng(0).standard_normal((16, 2))).is_affine
False
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: largest relative residual of an affine map (rounding of float64 evaluations is ~1e-16 times the input dimension)
TOLERANCE = 1e-10
#: rows of the identity evaluated per call (the basis is never formed whole for large d)
BASIS_ROWS = 4096


@dataclass(frozen=True)
class AffineFit:
    """f(x) ~ c + J x (J: m x d, c: m) and the largest relative residual on the check points (module docstring)."""

    J: np.ndarray
    c: np.ndarray
    residual: float
    points: int          # number of check points

    @property
    def is_affine(self) -> bool:
        return self.residual <= TOLERANCE

    def describe(self, what: str) -> str:
        """One line: affine or not, with the residual and the tolerance."""
        if self.is_affine:
            return (f"{what} affine (relative residual {self.residual:.2g} <= {TOLERANCE:g} on {self.points} check "
                    "points)")
        return f"{what} not affine (relative residual {self.residual:.2g} > {TOLERANCE:g} on {self.points} check points)"


def fit_affine(f, d: int, check_points: np.ndarray) -> AffineFit:
    """The affine map through f(0) and f(e_j), and its residual on ``check_points`` (n x d); ``f`` maps (n, d) arrays
    to (n, m) arrays."""
    c = np.asarray(f(np.zeros((1, d))), dtype=float)[0]
    columns = []
    for start in range(0, d, BASIS_ROWS):
        rows = min(BASIS_ROWS, d - start)
        basis = np.zeros((rows, d))
        basis[np.arange(rows), start + np.arange(rows)] = 1.0
        columns.append(np.asarray(f(basis), dtype=float) - c)
    J = np.concatenate(columns).T
    x = np.asarray(check_points, dtype=float)
    y = np.asarray(f(x), dtype=float)
    scale = np.abs(c) + np.abs(x) @ np.abs(J).T
    error = np.abs(y - (c + x @ J.T))
    residual = float(np.max(error / np.maximum(scale, np.finfo(float).tiny), initial=0.0))
    return AffineFit(J=J, c=c, residual=residual, points=len(x))

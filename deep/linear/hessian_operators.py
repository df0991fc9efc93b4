"""The Hessian of a scalar objective as a linear operator: dense (Cholesky) or matrix-free (Krylov).

The second-order finish of :mod:`deep.linear.train` needs four things of the Hessian H of the
objective it maximises, at the current point: solves of the damped system (-H + mu I) x = g, the
curvature v^T H v of a step, the extreme eigenvalues (the saddle test) and whether H is negative
definite. Two operators provide them:

* :class:`DenseHessian` forms H (``torch.func.hessian``) and factors -H + mu I by Cholesky; the
  factor of -H (mu = 0) is cached, so that pure Newton steps can reuse it (the chord method). The
  factorisation exists iff H is negative definite; when it does, :func:`power_extremes` gives both
  ends of the spectrum from the factor.
* :class:`KrylovHessian` uses Hessian-vector products only (``torch.func.jvp`` of the gradient):
  conjugate gradients on -H + mu I (meeting non-positive curvature means -H + mu I is not positive
  definite) and :func:`lanczos_extremes` for the ends of the spectrum (Ritz values lie inside the
  spectrum: a positive largest one proves an ascent direction, a negative one is evidence only).

Both work on any twice-differentiable scalar function of a flat float64 vector.

>>> import torch
>>> curvatures = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)
>>> f = lambda t: -0.5 * (curvatures * t * t).sum()        # H = -diag(1, 2, 3)
>>> theta = torch.zeros(3, dtype=torch.float64)
>>> top, bottom, _ = DenseHessian(f).at(theta).extremes(vector=True)
>>> round(top, 12), round(bottom, 12)
(-1.0, -3.0)
>>> top, bottom, _ = KrylovHessian(f).at(theta).extremes()
>>> round(top, 12), round(bottom, 12)
(-1.0, -3.0)
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np
import torch

Objective = Callable[[torch.Tensor], torch.Tensor]
HessianVectorProduct = Callable[[torch.Tensor], torch.Tensor]


def hessian_vector_product(objective: Objective, theta: torch.Tensor) -> HessianVectorProduct:
    """v -> H v at ``theta``: forward-mode derivative of the reverse-mode gradient (no H formed)."""
    gradient = torch.func.grad(objective)
    x0 = theta.detach()
    return lambda v: torch.func.jvp(gradient, (x0,), (v,))[1]


def lanczos_extremes(hvp: HessianVectorProduct, n: int, device, steps: int = 80, dtype=torch.float64):
    """(largest, smallest) Ritz value of the Hessian after ``steps`` Lanczos steps (full reorthogonalisation),
    and the Ritz vector of the largest. Ritz values lie inside the spectrum: a positive largest one proves
    an ascent direction (a saddle); a negative one is evidence, not proof, of a maximum."""
    m = min(steps, n)
    g = torch.Generator(device=device).manual_seed(0)
    Q = torch.zeros(n, m, dtype=dtype, device=device)
    q = torch.randn(n, generator=g, dtype=dtype, device=device)
    q = q / q.norm()
    alpha, beta_ = [], []
    for j in range(m):
        Q[:, j] = q
        w = hvp(q)
        a = float(q @ w)
        w = w - Q[:, :j + 1] @ (Q[:, :j + 1].T @ w)         # full reorthogonalisation, twice
        w = w - Q[:, :j + 1] @ (Q[:, :j + 1].T @ w)
        alpha.append(a)
        b = float(w.norm())
        if j == m - 1 or b < 1e-12 * max(1.0, abs(a)):
            break
        beta_.append(b)
        q = w / b
    off = beta_[:len(alpha) - 1]
    vals, vecs = np.linalg.eigh(np.diag(alpha) + np.diag(off, 1) + np.diag(off, -1))
    ritz = Q[:, :len(alpha)] @ torch.as_tensor(vecs[:, -1], dtype=dtype, device=device)
    return float(vals[-1]), float(vals[0]), ritz / ritz.norm()


def power_extremes(L: torch.Tensor, iterations: int = 100):
    """(largest, smallest) eigenvalue of H = -L L^T: inverse iteration for the end nearest 0, power
    iteration for the other (for reporting; the sign is certain from the factorisation)."""
    n = L.shape[0]
    g = torch.Generator(device=L.device).manual_seed(0)
    v = torch.randn(n, 1, generator=g, dtype=L.dtype, device=L.device)
    w = v.clone()
    for _ in range(iterations):
        v = torch.cholesky_solve(v, L)
        v = v / v.norm()
        w = L @ (L.T @ w)
        w = w / w.norm()
    return -float((L.T @ v).square().sum()), -float((L.T @ w).square().sum())


class DenseHessian:
    """The exact Hessian: Cholesky solves of (-H + mu I) and the eigen test (a few thousand parameters at most)."""

    method = "full"

    def __init__(self, objective: Objective):
        self.hess = torch.func.hessian(objective)
        self.negative_factor = None

    def at(self, theta: torch.Tensor) -> "DenseHessian":
        H = self.hess(theta)
        self.H = 0.5 * (H + H.T)
        self.scale = float(self.H.diagonal().abs().max()) or 1.0
        self.negative_factor = None         # Cholesky factor of -H (mu = 0), cached
        return self

    @property
    def factored(self) -> bool:
        """Is a Cholesky factor of -H cached (so that a Newton step can reuse it)?"""
        return self.negative_factor is not None

    def solve(self, g: torch.Tensor, mu: float):
        """Delta with (-H + mu I) Delta = g, or None when -H + mu I is not positive definite."""
        if mu == 0.0 and self.negative_factor is not None:
            return torch.cholesky_solve(g[:, None], self.negative_factor)[:, 0]
        M = -self.H + mu * torch.eye(len(g), dtype=g.dtype, device=g.device)
        L, info = torch.linalg.cholesky_ex(M)
        if int(info):
            return None
        if mu == 0.0:
            self.negative_factor = L
        return torch.cholesky_solve(g[:, None], L)[:, 0]

    def curvature(self, v: torch.Tensor) -> float:
        return float(v @ (self.H @ v))

    def extremes(self, vector: bool = False):
        """(largest eigenvalue, smallest eigenvalue, eigenvector of the largest if ``vector``).

        When -H has a Cholesky factor and no vector is wanted, power iterations on the factor give
        both ends (inverse iteration for the top) at a fraction of an eigen-decomposition's cost."""
        if not vector:
            if self.negative_factor is None:
                L, info = torch.linalg.cholesky_ex(-self.H)
                self.negative_factor = None if int(info) else L
            if self.negative_factor is not None:
                return (*power_extremes(self.negative_factor), None)
            e = torch.linalg.eigvalsh(self.H)
            return float(e[-1]), float(e[0]), None
        e, V = torch.linalg.eigh(self.H)
        return float(e[-1]), float(e[0]), V[:, -1]

    def definite(self, g: torch.Tensor) -> bool:
        """Is H negative definite (does the Cholesky factorisation of -H exist)?"""
        return self.solve(g, 0.0) is not None


class KrylovHessian:
    """Hessian-vector products only (large n): conjugate gradients on -H + mu I, Lanczos for the test."""

    method = "lanczos"
    factored = False                        # nothing to reuse between steps

    def __init__(self, objective: Objective):
        self.objective = objective

    def at(self, theta: torch.Tensor) -> "KrylovHessian":
        self.hvp = hessian_vector_product(self.objective, theta)
        self.n, self.device, self.dtype = theta.numel(), theta.device, theta.dtype
        e = torch.zeros(self.n, dtype=self.dtype, device=self.device)
        self.scale = max(abs(float(self.hvp(torch.ones_like(e) / math.sqrt(self.n)) @ torch.ones_like(e))) / math.sqrt(self.n),
                         1e-300)
        return self

    def solve(self, g: torch.Tensor, mu: float, maxiter: int = 2000):
        """Delta with (-H + mu I) Delta = g by conjugate gradients, or None on non-positive curvature."""
        x = torch.zeros_like(g)
        r, p = g.clone(), g.clone()
        rr = float(r @ r)
        if rr == 0.0:
            return x
        tol = min(1e-2, math.sqrt(math.sqrt(rr))) * math.sqrt(rr)
        for _ in range(maxiter):
            Mp = -self.hvp(p) + mu * p
            curv = float(p @ Mp)
            if curv <= 0:
                self.scale = max(self.scale, abs(curv) / float(p @ p))
                return None                 # -H + mu I is not positive definite
            a = rr / curv
            x = x + a * p
            r = r - a * Mp
            rr_new = float(r @ r)
            if math.sqrt(rr_new) <= tol:
                break
            p = r + (rr_new / rr) * p
            rr = rr_new
        return x

    def curvature(self, v: torch.Tensor) -> float:
        return float(v @ self.hvp(v))

    def extremes(self, vector: bool = False):
        return lanczos_extremes(self.hvp, self.n, self.device, dtype=self.dtype)

    def definite(self, g: torch.Tensor) -> bool:
        """Lanczos evidence (CG cannot tell when the gradient vanishes)."""
        top, bottom, _ = self.extremes()
        return not top > 1e-9 * abs(bottom)

"""The general linear beta-VAE written out with N x N matrices from the Gaussian algebra alone: a route to its
objective, ELBO and log-likelihood that shares nothing with :mod:`numerics.optimum` (which works unit by unit on the
spectrum of Sigma_x through formulas generated from SymPy).

Data x ~ N(0, S); encoder q(z|x) = N(W x + b_mu, diag v) (a variance that does not depend on x: W_sigma = 0, as at
every optimum); decoder p(x|z) = N(D z + b_D, sd2 I_N); prior p(z) = N(0, sp2 I_k). Averaged over x and z ~ q,

    recon = -(N/2) log(2 pi sd2) - [Tr((I - D W) S (I - D W)^T) + |D b_mu + b_D|^2 + sum_i |D_i|^2 v_i] / (2 sd2)
    KL    = (1/2) sum_i [(v_i + [W S W^T]_ii + b_mu_i^2) / sp2 - 1 - log(v_i / sp2)]
    E log p_theta(x) = -(1/2) [N log 2 pi + log det C + Tr(C^-1 S)],   C = sp2 D D^T + sd2 I_N

and the objective is recon - beta KL. :class:`Dense` holds (W, b_mu, log v, D, b_D); :func:`maximise` runs L-BFGS on
the objective with its exact gradient (biases fixed at 0: with zero-mean data they only subtract squares).

>>> import numpy as np
>>> S = np.diag([4.0, 1.0])
>>> p = Dense(W=np.array([[np.sqrt(3) / 4, 0]]), b_mu=np.zeros(1), log_v=np.log([0.25]),
...           D=np.array([[np.sqrt(3)], [0.0]]), b_D=np.zeros(2))       # the unit model's optimum, beta = 1
>>> round(elbo(p, S) - log_likelihood(p, S), 12)        # the posterior is exact there: ELBO = log p
0.0
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

LOG_2PI = float(np.log(2 * np.pi))


@dataclass(frozen=True, eq=False)
class Dense:
    """Encoder mean W x + b_mu and log-variance log_v (k,), decoder D z + b_D."""

    W: np.ndarray       # k x N
    b_mu: np.ndarray    # k
    log_v: np.ndarray   # k
    D: np.ndarray       # N x k
    b_D: np.ndarray     # N

    @classmethod
    def of_optimum(cls, o) -> Dense:
        """From a :class:`numerics.model.Parameters` record whose W_sigma is 0 (an optimum's)."""
        if np.any(o.W_sigma):
            raise ValueError("the dense route needs an encoder variance that does not depend on x (W_sigma = 0)")
        return cls(W=o.W_mu, b_mu=o.b_mu[:, 0], log_v=o.b_sigma[:, 0], D=o.D, b_D=o.b_D[:, 0])

    def vector(self) -> np.ndarray:
        return np.concatenate([self.W.ravel(), self.b_mu, self.log_v, self.D.ravel(), self.b_D])

    @classmethod
    def from_vector(cls, theta, N: int, k: int) -> Dense:
        cuts = np.cumsum([k * N, k, k, N * k])
        W, b_mu, log_v, D, b_D = np.split(np.asarray(theta, dtype=float), cuts)
        return cls(W=W.reshape(k, N), b_mu=b_mu, log_v=log_v, D=D.reshape(N, k), b_D=b_D)


def reconstruction(p: Dense, S, sd2: float = 1.0) -> float:
    N = S.shape[0]
    M = np.eye(N) - p.D @ p.W
    fit = np.sum((M @ S) * M) + np.sum((p.D @ p.b_mu + p.b_D) ** 2) + np.sum(np.sum(p.D ** 2, axis=0) * np.exp(p.log_v))
    return float(-N / 2 * (LOG_2PI + np.log(sd2)) - fit / (2 * sd2))


def kl(p: Dense, S, sp2: float = 1.0) -> float:
    v = np.exp(p.log_v)
    second = np.einsum("ij,jk,ik->i", p.W, S, p.W) + p.b_mu ** 2
    return float(0.5 * np.sum((v + second) / sp2 - 1 - p.log_v + np.log(sp2)))


def objective(p: Dense, S, beta: float, sd2: float = 1.0, sp2: float = 1.0) -> float:
    return reconstruction(p, S, sd2) - beta * kl(p, S, sp2)


def elbo(p: Dense, S, sd2: float = 1.0, sp2: float = 1.0) -> float:
    return objective(p, S, 1.0, sd2, sp2)


def log_likelihood(p: Dense, S, sd2: float = 1.0, sp2: float = 1.0) -> float:
    """E_x log N(x; b_D, sp2 D D^T + sd2 I) for x ~ N(0, S)."""
    N = S.shape[0]
    C = sp2 * p.D @ p.D.T + sd2 * np.eye(N)
    fit = np.trace(np.linalg.solve(C, S + np.outer(p.b_D, p.b_D)))
    return float(-0.5 * (N * LOG_2PI + np.linalg.slogdet(C)[1] + fit))


def gradient(p: Dense, S, beta: float, sd2: float = 1.0, sp2: float = 1.0) -> Dense:
    """The exact gradient of :func:`objective` with respect to (W, b_mu, log v, D, b_D)."""
    N = S.shape[0]
    v = np.exp(p.log_v)
    R = (np.eye(N) - p.D @ p.W) @ S
    r = p.D @ p.b_mu + p.b_D
    return Dense(W=(p.D.T @ R) / sd2 - beta * (p.W @ S) / sp2,
                 b_mu=-(p.D.T @ r) / sd2 - beta * p.b_mu / sp2,
                 log_v=-v * np.sum(p.D ** 2, axis=0) / (2 * sd2) - beta / 2 * (v / sp2 - 1),
                 D=(R @ p.W.T - p.D * v - np.outer(r, p.b_mu)) / sd2,
                 b_D=-r / sd2)


def maximise(S, k: int, beta: float, sd2: float = 1.0, sp2: float = 1.0, *, seed: int = 0, starts: int = 3) -> Dense:
    """The best of ``starts`` L-BFGS runs on the objective from random starts (numpy default_rng(seed)); biases 0."""
    N = S.shape[0]
    rng = np.random.default_rng(seed)
    zeros_k, zeros_n = np.zeros(k), np.zeros(N)

    def unpack(x):
        W, log_v, D = x[:k * N].reshape(k, N), x[k * N:k * N + k], x[k * N + k:].reshape(N, k)
        return Dense(W=W, b_mu=zeros_k, log_v=log_v, D=D, b_D=zeros_n)

    def negative(x):
        p = unpack(x)
        g = gradient(p, S, beta, sd2, sp2)
        return -objective(p, S, beta, sd2, sp2), -np.concatenate([g.W.ravel(), g.log_v, g.D.ravel()])

    best = None
    for _ in range(starts):
        x0 = rng.standard_normal(2 * k * N + k)
        res = minimize(negative, x0, jac=True, method="L-BFGS-B",
                       options={"maxiter": 20000, "maxfun": 40000, "ftol": 1e-15, "gtol": 1e-11})
        if best is None or res.fun < best.fun:
            best = res
    return unpack(best.x)

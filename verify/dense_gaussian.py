"""The general linear beta-VAE written out with N x N matrices from the Gaussian algebra alone: the toolkit's one dense
route to its objective, ELBO, log-likelihood, MIE and TIE. It shares nothing with :mod:`numerics.optimum` (which works
unit by unit on the spectrum of Sigma_x through formulas generated from SymPy) and imports only numpy and scipy, so
the checks and the tests can set it against the closed form.

Data x ~ N(0, S); encoder q(z|x) = N(W x + b_mu, diag v(x)), log v(x) = W_sigma x + log_v; decoder p(x|z) =
N(D z + b_D, sd2 I_N); prior p(z) = N(0, sp2 I_k). Every expectation over x is exact: x enters linearly except
through the encoder variance, whose mean is a log-normal mean, E v_i = exp(log_v_i + [W_sigma S W_sigma^T]_ii / 2).
Averaged over x and z ~ q,

    recon = -(N/2) log(2 pi sd2) - [Tr((I - D W) S (I - D W)^T) + |D b_mu + b_D|^2 + sum_i |D_i|^2 E v_i] / (2 sd2)
    KL    = (1/2) sum_i [(E v_i + [W S W^T]_ii + b_mu_i^2) / sp2 - 1 - log_v_i + log sp2]
    E log p_theta(x) = -(1/2) [N log 2 pi + log det C + Tr(C^-1 (S + b_D b_D^T))],   C = sp2 D D^T + sd2 I_N

and the objective is recon - beta KL. MIE and TIE are E_x KL(q(z|x) || N(G x + h, P^-1)) against the model's
posterior and, for x = A s + eta, the true one (:func:`gaussian_kl_terms`). :class:`Dense` holds the parameters; every
function also takes the 6-tuple (W_mu, b_mu, W_sigma, b_sigma, D, b_D) of :mod:`numerics.model` (:func:`as_theta`).
The objective uses only +, *, exp, log of constants and transposes, so it accepts complex parameters (complex-step
derivatives); the other functions are real. :func:`maximise` runs L-BFGS on the objective with its exact gradient.

>>> import numpy as np
>>> S = np.diag([4.0, 1.0])
>>> p = Dense(W=np.array([[np.sqrt(3) / 4, 0]]), b_mu=np.zeros(1), log_v=np.log([0.25]),
...           D=np.array([[np.sqrt(3)], [0.0]]), b_D=np.zeros(2))       # the unit model's optimum, beta = 1
>>> round(elbo(p, S) - log_likelihood(p, S), 12), abs(mie(p, S)) < 1e-12     # the posterior is exact there
(0.0, True)
>>> zero = (np.zeros((1, 2)), np.zeros(1), np.zeros((1, 2)), np.zeros(1), np.zeros((2, 1)), np.zeros(2))
>>> round(kl(zero, np.eye(2)), 12), bool(np.isclose(reconstruction(zero, np.eye(2)), -np.log(2 * np.pi) - 1))
(0.0, True)
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from scipy.optimize import minimize

LOG_2PI = float(np.log(2 * np.pi))


@dataclass(frozen=True, eq=False)
class Dense:
    """Encoder mean W x + b_mu and log-variance W_sigma x + log_v (k,), decoder D z + b_D; W_sigma None means 0.
    Iterates and indexes in the order of :class:`numerics.model.Parameters`, (W_mu, b_mu, W_sigma, b_sigma, D, b_D),
    with 1-D biases, so that the tests can perturb it entry by entry."""

    W: np.ndarray       # k x N
    b_mu: np.ndarray    # k
    log_v: np.ndarray   # k
    D: np.ndarray       # N x k
    b_D: np.ndarray     # N
    W_sigma: np.ndarray | None = None    # k x N

    def __post_init__(self):
        if self.W_sigma is None:
            object.__setattr__(self, "W_sigma", np.zeros(np.shape(self.W)))

    def __iter__(self):
        return iter((self.W, self.b_mu, self.W_sigma, self.log_v, self.D, self.b_D))

    def __getitem__(self, i):
        return tuple(self)[i]

    def vector(self) -> np.ndarray:
        """(W, b_mu, log_v, D, b_D) flattened: the variables of the optimisers, which keep W_sigma = 0 (as at every
        optimum)."""
        if np.any(self.W_sigma):
            raise ValueError("the parameter vector covers W_sigma = 0 only")
        return np.concatenate([self.W.ravel(), self.b_mu, self.log_v, self.D.ravel(), self.b_D])

    @classmethod
    def from_vector(cls, theta, N: int, k: int) -> Dense:
        cuts = np.cumsum([k * N, k, k, N * k])
        W, b_mu, log_v, D, b_D = np.split(np.asarray(theta, dtype=float), cuts)
        return cls(W=W.reshape(k, N), b_mu=b_mu, log_v=log_v, D=D.reshape(N, k), b_D=b_D)


def as_theta(params) -> Dense:
    """A :class:`Dense` as it is, or (W_mu, b_mu, W_sigma, b_sigma, D, b_D) (a :class:`numerics.model.Parameters`
    record iterates as that; biases 1-D or columns) as a :class:`Dense`. Complex entries are kept."""
    if isinstance(params, Dense):
        return params
    W, b_mu, W_sigma, b_sigma, D, b_D = params
    return Dense(W=np.asarray(W), b_mu=np.ravel(b_mu), log_v=np.ravel(b_sigma), D=np.asarray(D), b_D=np.ravel(b_D),
                 W_sigma=np.asarray(W_sigma))


def _scalar(x):
    # a float for real parameters; complex ones (complex-step derivatives) keep their imaginary part
    return complex(x) if np.iscomplexobj(x) else float(x)


def mean_variance(p, S):
    """E_x of the encoder variances (log-normal means) and E_x of their logs."""
    p = as_theta(p)
    quad = np.einsum("in,nm,im->i", p.W_sigma, S, p.W_sigma)
    return np.exp(p.log_v + quad / 2), p.log_v


def reconstruction(p, S, sd2: float = 1.0):
    """E_x E_q log N(x; D z + b_D, sd2 I): given x the residual x - D z - b_D has mean (I - D W) x - (D b_mu + b_D) and
    covariance D diag(v(x)) D^T."""
    p = as_theta(p)
    N = S.shape[0]
    M = np.eye(N) - p.D @ p.W
    c = p.D @ p.b_mu + p.b_D
    Ev, _ = mean_variance(p, S)
    fit = np.sum((M @ S) * M) + np.sum(c * c) + np.sum(np.sum(p.D * p.D, axis=0) * Ev)
    return _scalar(-N / 2 * (LOG_2PI + np.log(sd2)) - fit / (2 * sd2))


def kl(p, S, sp2: float = 1.0):
    """E_x KL(N(mu(x), diag v(x)) || N(0, sp2 I)), the KL of two Gaussians term by term."""
    p = as_theta(p)
    Ev, Elogv = mean_variance(p, S)
    second_moment = np.einsum("ij,jk,ik->i", p.W, S, p.W) + p.b_mu * p.b_mu       # E_x mu_i(x)^2
    return _scalar(0.5 * np.sum((Ev + second_moment) / sp2 - 1 - Elogv + np.log(sp2)))


def objective(p, S, beta: float, sd2: float = 1.0, sp2: float = 1.0):
    return reconstruction(p, S, sd2) - beta * kl(p, S, sp2)


def elbo(p, S, sd2: float = 1.0, sp2: float = 1.0):
    return objective(p, S, 1.0, sd2, sp2)


def log_likelihood(p, S, sd2: float = 1.0, sp2: float = 1.0) -> float:
    """E_x log N(x; b_D, sp2 D D^T + sd2 I) for x ~ N(0, S) (z integrated out)."""
    p = as_theta(p)
    N = S.shape[0]
    C = sp2 * p.D @ p.D.T + sd2 * np.eye(N)
    fit = np.trace(np.linalg.solve(C, S + np.outer(p.b_D, p.b_D)))
    return float(-0.5 * (N * LOG_2PI + np.linalg.slogdet(C)[1] + fit))


# ------------------------------------------------------------------------------ KL against a Gaussian posterior
class KLTerms(NamedTuple):
    """E_x KL(q || N(G x + h, P^-1)) split: the means' mismatch and the covariances'."""

    mean: float          # (1/2) E_x (m(x) - G x - h)^T P (m(x) - G x - h)
    covariance: float    # (1/2) [sum_i P_ii E v_i - k - log det P - sum_i E log v_i]


def gaussian_kl_terms(p, S, G, h, precision, scale: float = 1.0) -> KLTerms:
    """E_x KL(q(z'|x) || N(G x + h, precision^-1)), z' = z / scale (q's mean and std divided by scale), x ~ N(0, S)."""
    p = as_theta(p)
    k = p.W.shape[0]
    Ev, Elogv = mean_variance(p, S)
    Ev, Elogv = Ev / scale ** 2, Elogv - 2 * np.log(scale)
    M = G - p.W / scale                 # mean difference (G - W/scale) x + (h - b_mu/scale)
    e = h - p.b_mu / scale
    mean = 0.5 * (np.trace(M.T @ precision @ M @ S) + e @ precision @ e)
    cov = 0.5 * (np.sum(np.diag(precision) * Ev) - k - np.linalg.slogdet(precision)[1] - np.sum(Elogv))
    return KLTerms(float(mean), float(cov))


def mie(p, S, sd2: float = 1.0, sp2: float = 1.0) -> float:
    """E_x KL(q(z|x) || p_theta(z|x)), the model posterior N(P^-1 D^T (x - b_D) / sd2, P^-1), P = D^T D/sd2 + I/sp2."""
    p = as_theta(p)
    P = p.D.T @ p.D / sd2 + np.eye(p.D.shape[1]) / sp2
    G = np.linalg.solve(P, p.D.T) / sd2
    return sum(gaussian_kl_terms(p, S, G, -G @ p.b_D, P))


def signed_permutation(perm, signs) -> np.ndarray:
    """The k x k matrix that puts latent j in place of source perm[j], with sign signs[j]."""
    Pi = np.zeros((len(perm), len(perm)))
    Pi[list(perm), range(len(perm))] = signs
    return Pi


def signed_permutations(k):
    """Every (perm, signs, matrix) of the 2^k k! relabellings of k latents."""
    for perm in itertools.permutations(range(k)):
        for signs in itertools.product((1.0, -1.0), repeat=k):
            yield perm, signs, signed_permutation(perm, signs)


def tie_terms(p, A, noise, sp2, Pi) -> KLTerms:
    """E_x KL(q(Pi z / sp | x) || p(s|x)) split into its mean and covariance terms, for x = A s + eta, s ~ N(0, I),
    eta ~ N(0, noise I): the true posterior has precision P = I + A^T A / noise and mean P^-1 A^T x / noise."""
    p = as_theta(p)
    k = A.shape[1]
    S = A @ A.T + noise * np.eye(A.shape[0])
    P = np.eye(k) + A.T @ A / noise
    F = np.linalg.solve(P, A.T) / noise
    # Pi permutes and flips the latents: mean rows move with their signs, log-variance rows without
    rotated = Dense(W=Pi @ p.W, b_mu=Pi @ p.b_mu, log_v=np.abs(Pi) @ p.log_v, D=p.D, b_D=p.b_D,
                    W_sigma=np.abs(Pi) @ p.W_sigma)
    return gaussian_kl_terms(rotated, S, F, np.zeros(k), P, scale=np.sqrt(sp2))


def tie_at(p, A, noise, sp2, Pi) -> float:
    return sum(tie_terms(p, A, noise, sp2, Pi))


class AlignedTie(NamedTuple):
    value: float
    perm: tuple
    signs: tuple


def tie(p, A, noise: float = 1.0, sp2: float = 1.0) -> AlignedTie:
    """TIE with the latents aligned to the sources: :func:`tie_at` minimised over all 2^k k! signed permutations
    (brute force)."""
    return AlignedTie(*min(((tie_at(p, A, noise, sp2, Pi), perm, signs)
                            for perm, signs, Pi in signed_permutations(A.shape[1])), key=lambda t: t[0]))


# ------------------------------------------------------------------------------ optimisation (W_sigma = 0)
def gradient(p: Dense, S, beta: float, sd2: float = 1.0, sp2: float = 1.0) -> Dense:
    """The exact gradient of :func:`objective` with respect to (W, b_mu, log v, D, b_D), at W_sigma = 0."""
    if np.any(p.W_sigma):
        raise ValueError("the exact gradient is written for W_sigma = 0")
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
    """The best of ``starts`` L-BFGS runs on the objective from random starts (numpy default_rng(seed)); biases and
    W_sigma 0."""
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

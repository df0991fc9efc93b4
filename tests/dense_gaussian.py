"""The general linear beta-VAE evaluated densely from the Gaussian algebra, for the tests (an independent route).

Written from the model's definition alone, not from numerics or the SymPy derivation: x ~ N(0, Sigma) (N x N, any
symmetric PSD), encoder q(z|x) = N(W_mu x + b_mu, diag exp(W_sigma x + b_sigma)), decoder p(x|z) = N(D z + b_D,
sd2 I_N), prior p(z) = N(0, sp2 I_k). Every expectation over x is exact: x enters linearly except through the encoder
variance, whose mean over x is a log-normal mean, E exp(w.x + b) = exp(b + w^T Sigma w / 2). ``theta`` is
(W_mu, b_mu, W_sigma, b_sigma, D, b_D) with 1-D biases. :func:`objective` uses only +, *, exp and transposes, so it
accepts complex parameters (complex-step derivatives); the other functions are real.

>>> import numpy as np
>>> N, k = 2, 1
>>> theta = (np.zeros((k, N)), np.zeros(k), np.zeros((k, N)), np.zeros(k), np.zeros((N, k)), np.zeros(N))
>>> round(float(kl(theta, np.eye(N), sp2=1.0)), 12)       # q(z|x) = p(z)
0.0
>>> bool(np.isclose(reconstruction(theta, np.eye(N), sd2=1.0), -np.log(2 * np.pi) - 1.0))
True
"""
from __future__ import annotations

import itertools

import numpy as np


def _unpack(theta):
    W, bm, Ws, bs, D, bD = theta
    return W, np.ravel(bm), Ws, np.ravel(bs), D, np.ravel(bD)


def mean_variance(theta, Sigma):
    """E_x of the encoder variances (log-normal mean) and E_x of their logs."""
    _, _, Ws, bs, _, _ = _unpack(theta)
    quad = np.einsum("in,nm,im->i", Ws, Sigma, Ws)
    return np.exp(bs + quad / 2), bs


def reconstruction(theta, Sigma, sd2):
    """E_x E_q log N(x; D z + b_D, sd2 I): the residual x - D z - b_D has mean (I - D W) x - (D b_mu + b_D) given x
    and covariance D diag(v(x)) D^T."""
    W, bm, _, _, D, bD = _unpack(theta)
    N = Sigma.shape[0]
    M = np.eye(N) - D @ W
    c = D @ bm + bD
    Ev, _ = mean_variance(theta, Sigma)
    sq = np.trace(M @ Sigma @ M.T) + c @ c + np.trace(D @ np.diag(Ev) @ D.T)
    return -N / 2 * np.log(2 * np.pi * sd2) - sq / (2 * sd2)


def kl(theta, Sigma, sp2):
    """E_x KL(N(mu(x), diag v(x)) || N(0, sp2 I)), the KL of two Gaussians term by term."""
    W, bm, _, _, _, _ = _unpack(theta)
    Ev, Elogv = mean_variance(theta, Sigma)
    second_moment = np.einsum("in,nm,im->i", W, Sigma, W) + bm * bm     # E_x mu_i(x)^2
    return 0.5 * np.sum((Ev + second_moment) / sp2 - 1 - Elogv + np.log(sp2))


def objective(theta, Sigma, beta, sd2=1.0, sp2=1.0):
    return reconstruction(theta, Sigma, sd2) - beta * kl(theta, Sigma, sp2)


def log_likelihood(theta, Sigma, sd2=1.0, sp2=1.0):
    """E_x log p_theta(x), p_theta(x) = N(b_D, sp2 D D^T + sd2 I) (z integrated out)."""
    _, _, _, _, D, bD = _unpack(theta)
    N = Sigma.shape[0]
    C = sp2 * D @ D.T + sd2 * np.eye(N)
    _, logdet = np.linalg.slogdet(C)
    return -0.5 * (N * np.log(2 * np.pi) + logdet + np.trace(np.linalg.solve(C, Sigma)) + bD @ np.linalg.solve(C, bD))


def _expected_gaussian_kl(theta, Sigma, G, h, precision, scale=1.0):
    """E_x KL(q(z'|x) || N(G x + h, precision^-1)) where z' = z / scale (q's mean and std divided by scale)."""
    W, bm, _, _, _, _ = _unpack(theta)
    k = W.shape[0]
    Ev, Elogv = mean_variance(theta, Sigma)
    Ev, Elogv = Ev / scale ** 2, Elogv - 2 * np.log(scale)
    M = G - W / scale                   # mean difference (G - W/scale) x + (h - b_mu/scale)
    e = h - bm / scale
    _, logdet_p = np.linalg.slogdet(precision)
    return 0.5 * (np.sum(np.diag(precision) * Ev) + np.trace(M.T @ precision @ M @ Sigma) + e @ precision @ e
                  - k - logdet_p - np.sum(Elogv))


def mie(theta, Sigma, sd2=1.0, sp2=1.0):
    """E_x KL(q(z|x) || p_theta(z|x)), the model posterior N(P^-1 D^T (x - b_D) / sd2, P^-1), P = D^T D/sd2 + I/sp2."""
    _, _, _, _, D, bD = _unpack(theta)
    k = D.shape[1]
    P = D.T @ D / sd2 + np.eye(k) / sp2
    G = np.linalg.solve(P, D.T) / sd2
    return _expected_gaussian_kl(theta, Sigma, G, -G @ bD, P)


def signed_permutations(k):
    for perm in itertools.permutations(range(k)):
        for signs in itertools.product((1.0, -1.0), repeat=k):
            Pi = np.zeros((k, k))
            Pi[list(perm), range(k)] = signs        # latent j stands for source perm[j], with sign signs[j]
            yield perm, signs, Pi


def tie_at(theta, A, noise, sp2, Pi):
    """E_x KL(q(Pi z / sp | x) || p(s|x)) for x = A s + eta, s ~ N(0, I), eta ~ N(0, noise I); the true posterior has
    precision I + A^T A / noise and mean (I + A^T A / noise)^-1 A^T x / noise."""
    W, bm, Ws, bs, D, bD = _unpack(theta)
    k = A.shape[1]
    Sigma = A @ A.T + noise * np.eye(A.shape[0])
    P = np.eye(k) + A.T @ A / noise
    F = np.linalg.solve(P, A.T) / noise
    # Pi permutes and flips the latents: its mean and log-variance rows move with it, the variances are unsigned
    rotated = (Pi @ W, Pi @ bm, np.abs(Pi) @ Ws, np.abs(Pi) @ bs, D, bD)
    return _expected_gaussian_kl(rotated, Sigma, F, np.zeros(k), P, scale=np.sqrt(sp2))


def tie(theta, A, noise, sp2=1.0):
    """TIE minimised over all 2^k k! signed permutations (brute force): (value, permutation, signs)."""
    return min(((tie_at(theta, A, noise, sp2, Pi), perm, signs) for perm, signs, Pi in signed_permutations(A.shape[1])),
               key=lambda t: t[0])


def as_theta(params):
    """A numerics Parameters record (column biases) -> theta with 1-D biases."""
    return tuple(np.ravel(p) if i % 2 else np.asarray(p, dtype=float) for i, p in enumerate(params))

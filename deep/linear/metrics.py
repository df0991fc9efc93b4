"""Quantities of a *trained* linear beta-VAE, averaged over x ~ N(0, Sigma_x), with k x k work only.

Sigma_x = A A^T + I (eq. 18) is never formed: for any M with N columns,
M Sigma_x M^T = (M A)(M A)^T + M M^T. So every quantity costs O(N k^2). A network is the model's one
parameter record, :class:`numerics.model.Parameters` (biases as columns); its quantities are the model's
one :class:`numerics.model.Terms`.

* :func:`network_terms`: reconstruction and KL (eq. 21's two parts with constants), ELBO, objective,
  log-likelihood, MIE and the gauge-aligned TIE.
* :func:`log_likelihood`: E_x log N(x; b_D, D D^T + I_N) by the matrix determinant lemma and
  Woodbury: log det(D D^T + I_N) = log det(I_k + D^T D) and
  (D D^T + I_N)^-1 = I_N - D (I_k + D^T D)^-1 D^T, never an N x N inverse.
* :func:`inference_error`: eq. (25) *with* the mean-offset term that eq. (25) omits,
  (1/2) c^T E^-1 c: for a trained network the mean of q(z|x) minus the reference posterior mean is
  (W_mu - F) x + c. For TIE (eq. 27) c = b_mu; for MIE (eq. 26) the model posterior
  p_theta(z|x) = N(F (x - b_D), (D^T D + I)^-1) (eq. 24 with the decoder bias) gives c = b_mu + F b_D.
  Both vanish at the optimum (b_mu = b_D = 0, eq. 22), where eq. (25) is exact.
* :func:`aligned_tie`: TIE minimised over signed permutations of the latent units (the objective
  cannot tell units, or their signs, apart), chosen by :mod:`numerics.gauge` from the network's
  population moments (:func:`alignment_problem`). For a trained network the dependence on the
  permutation is quadratic, not linear (the cross terms vanish only when
  W_mu Sigma_x W_mu^T + b_mu b_mu^T is diagonal, as at the optimum): exact enumeration for
  k <= ``numerics.gauge.EXACT_MAX_K``, a flagged local search (an upper bound) above.
* :func:`trained_quantities`: the terms with the alignment and the shape of the network (spectrum of
  D^T D, posterior scales, the parameters that vanish at the optimum): what the cross-check compares.

>>> import numpy as np
>>> from numerics.optimum import closed_form_optimum, closed_form_terms
>>> A = 0.5 * (np.ones((8, 2)) + np.eye(8, 2))
>>> o = closed_form_optimum(A, 2.0)                  # an Optimum is a Parameters record
>>> t, c = network_terms(o, A, 2.0), closed_form_terms(A, 2.0)
>>> bool(abs(t.tie - c.tie) < 1e-12 and abs(t.mie - c.mie) < 1e-12), t.permutation == c.permutation
(True, True)
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from numerics.gauge import Alignment, AlignmentProblem, align
from numerics.model import Parameters, Terms


def sandwich(M, A) -> np.ndarray:
    """M Sigma_x M^T with Sigma_x = A A^T + I, without forming Sigma_x."""
    MA = M @ A
    return MA @ MA.T + M @ M.T


def variances(p: Parameters, A) -> np.ndarray:
    """v_i = E_x exp(W_sigma x + b_sigma)_i = exp([W_sigma Sigma_x W_sigma^T]_ii / 2 + b_sigma_i)."""
    VA = p.W_sigma @ A
    return np.exp(0.5 * (np.einsum("ij,ij->i", VA, VA) + np.einsum("ij,ij->i", p.W_sigma, p.W_sigma))
                  + np.ravel(p.b_sigma))


def network_terms(p: Parameters, A, beta: float, alignment: Alignment | None = None) -> Terms:
    """The model's terms for network ``p`` at ``beta``, every constant kept (cf. eqs. 21, 38-39).

    TIE is that of the network relabelled by ``alignment`` (default: the best one, :func:`aligned_tie`).
    """
    A = np.asarray(A, dtype=float)
    N, k = A.shape
    b_mu, b_sigma = np.ravel(p.b_mu), np.ravel(p.b_sigma)
    v = variances(p, A)
    DtD = p.D.T @ p.D
    R_A = A - p.D @ (p.W_mu @ A)
    trace_R = (np.sum(R_A ** 2) + N - 2 * np.trace(p.W_mu @ p.D) + np.sum(DtD * (p.W_mu @ p.W_mu.T)))
    e = p.D @ b_mu + np.ravel(p.b_D)
    recon = -0.5 * N * math.log(2 * math.pi) - 0.5 * e @ e - 0.5 * trace_R - 0.5 * np.diag(DtD) @ v
    kl = -0.5 * k - 0.5 * b_sigma.sum() + 0.5 * b_mu @ b_mu + 0.5 * np.trace(sandwich(p.W_mu, A)) + 0.5 * v.sum()
    alignment = align(alignment_problem(p, A)) if alignment is None else alignment
    return Terms(beta=float(beta), reconstruction=float(recon), kl=float(kl), elbo=float(recon - kl),
                 objective=float(recon - beta * kl), log_likelihood=log_likelihood(p.D, p.b_D, A), mie=mie(p, A),
                 tie=relabelled_tie(p, A, alignment), permutation=tuple(alignment.permutation),
                 signs=tuple(alignment.signs))


def log_likelihood(D, b_D, A) -> float:
    """E_{x ~ N(0, Sigma_x)} log N(x; b_D, D D^T + I_N) with k x k work (determinant lemma, Woodbury).

    ``b_D`` a vector or a column."""
    N, k = A.shape
    b_D = np.ravel(b_D)
    K = np.eye(D.shape[1]) + D.T @ D
    L = np.linalg.cholesky(K)
    logdet = 2 * np.sum(np.log(np.diag(L)))
    DtA = D.T @ A
    # Tr[C^-1 Sigma_x] = Tr Sigma_x - Tr[K^-1 D^T Sigma_x D],  D^T Sigma_x D = (D^T A)(D^T A)^T + D^T D
    t1 = np.linalg.solve(L, DtA @ DtA.T + D.T @ D)
    trace = N + np.sum(A ** 2) - np.trace(np.linalg.solve(L.T, t1))
    Db = np.linalg.solve(L, D.T @ b_D)
    quad = b_D @ b_D - Db @ Db
    return float(-0.5 * N * math.log(2 * math.pi) - 0.5 * logdet - 0.5 * (trace + quad))


def inference_error(W_mu, c, W_sigma, b_sigma, A, E_inv, F) -> float:
    """E_x KL(N(W_mu x + c, diag exp(W_sigma x + b_sigma)) || N(F x, E_inv^-1)): eq. (25) + c^T E_inv c / 2.

    ``c`` and ``b_sigma`` vectors or columns."""
    k = W_mu.shape[0]
    c, b_sigma = np.ravel(c), np.ravel(b_sigma)
    VA = W_sigma @ A
    v = np.exp(0.5 * (np.einsum("ij,ij->i", VA, VA) + np.einsum("ij,ij->i", W_sigma, W_sigma)) + b_sigma)
    G = F - W_mu
    logdet = np.linalg.slogdet(E_inv)[1]
    return float(0.5 * (np.diag(E_inv) @ v - b_sigma.sum() - logdet + np.sum(E_inv * sandwich(G, A))
                        + c @ E_inv @ c - k))


def mie(p: Parameters, A) -> float:
    """Model inference error (eqs. 25-26) of a trained network; c = b_mu + F b_D (see the module docstring)."""
    E_inv = p.D.T @ p.D + np.eye(p.D.shape[1])
    F = np.linalg.solve(E_inv, p.D.T)
    b_mu, b_D = np.ravel(p.b_mu), np.ravel(p.b_D)
    return inference_error(p.W_mu, b_mu + F @ b_D, p.W_sigma, p.b_sigma, A, E_inv, F)


def truth_posterior(A):
    """(E_inv, F) of eq. (27): the ground-truth posterior precision A^T A + I and F = (A^T A + I)^-1 A^T."""
    E_inv = A.T @ A + np.eye(A.shape[1])
    return E_inv, np.linalg.solve(E_inv, A.T)


def tie(p: Parameters, A) -> float:
    """True inference error (eqs. 25, 27) of the network as labelled (no alignment)."""
    E_inv, F = truth_posterior(A)
    return inference_error(p.W_mu, p.b_mu, p.W_sigma, p.b_sigma, A, E_inv, F)


def alignment_problem(p: Parameters, A) -> AlignmentProblem:
    """The population moments the relabelling cost needs (:mod:`numerics.gauge`): Lambda = A^T A + I,
    vbar = v, M = W_mu Sigma_x W_mu^T + b_mu b_mu^T, C = A^T Sigma_x W_mu^T = (A^T A + I) A^T W_mu^T."""
    E_inv, _ = truth_posterior(A)
    b_mu = np.ravel(p.b_mu)
    return AlignmentProblem(precision=E_inv, mean_variance=variances(p, A),
                            second_moment=sandwich(p.W_mu, A) + np.outer(b_mu, b_mu),
                            cross_moment=E_inv @ (A.T @ p.W_mu.T))


def relabelled_tie(p: Parameters, A, alignment: Alignment) -> float:
    """TIE (eqs. 25, 27) of the network with latent j compared with source ``alignment.permutation[j]``, sign
    ``alignment.signs[j]``. With pi the inverse permutation (source i meets latent pi(i)) and s_i its sign,

        TIE = const + sum_i E_ii v_pi(i) / 2 - sum_i s_i C_i,pi(i) + sum_ij E_ij s_i s_j H_pi(i)pi(j) / 2

    (E = A^T A + I, C and H as in :func:`alignment_problem`): the relabelling enters only through indices.
    """
    k = A.shape[1]
    E, F = truth_posterior(A)
    problem = alignment_problem(p, A)
    v, C, H = problem.mean_variance, problem.cross_moment, problem.second_moment
    const = 0.5 * (-k - p.b_sigma.sum() - np.linalg.slogdet(E)[1] + np.sum(E * sandwich(F, A)))
    pi = np.argsort(alignment.permutation)
    s = np.asarray(alignment.signs, dtype=float)[pi]
    return float(const + 0.5 * np.diag(E) @ v[pi] - s @ C[np.arange(k), pi] + 0.5 * s @ (E * H[np.ix_(pi, pi)]) @ s)


@dataclass(frozen=True)
class AlignedTIE:
    """The gauge-aligned TIE and the alignment that attains it."""

    tie: float
    alignment: Alignment


def aligned_tie(p: Parameters, A) -> AlignedTIE:
    """TIE minimised over signed permutations of the latent units (see the module docstring)."""
    A = np.asarray(A, dtype=float)
    alignment = align(alignment_problem(p, A))
    return AlignedTIE(tie=relabelled_tie(p, A, alignment), alignment=alignment)


@dataclass(frozen=True)
class TrainedQuantities:
    """Everything the cross-check compares, for one trained network: its terms and the shape of its optimum."""

    terms: Terms                    # TIE aligned by ``alignment``
    alignment: Alignment
    dtd_eigenvalues: np.ndarray     # spectrum of D^T D, descending
    sigma_z: np.ndarray             # exp(b_sigma), units ordered by [D^T D]_ii descending
    w_sigma_max: float              # max |W_sigma| (-> 0)
    b_mu_max: float                 # max |b_mu| (-> 0, eq. 22)
    b_D_max: float                  # max |b_D| (-> 0, eq. 22)
    dtd_offdiagonal: float          # max |[D^T D]_ij|, i != j (-> 0: the optimum's units are orthogonal)


def trained_quantities(p: Parameters, A, beta: float) -> TrainedQuantities:
    """:func:`network_terms` with the gauge alignment that attains its TIE, and the network's shape."""
    A = np.asarray(A, dtype=float)
    DtD = p.D.T @ p.D
    order = np.argsort(-np.diag(DtD), kind="stable")
    alignment = align(alignment_problem(p, A))
    return TrainedQuantities(
        terms=network_terms(p, A, beta, alignment), alignment=alignment,
        dtd_eigenvalues=np.sort(np.linalg.eigvalsh(DtD))[::-1], sigma_z=np.exp(np.ravel(p.b_sigma)[order]),
        w_sigma_max=float(np.abs(p.W_sigma).max(initial=0.0)), b_mu_max=float(np.abs(p.b_mu).max(initial=0.0)),
        b_D_max=float(np.abs(p.b_D).max(initial=0.0)),
        dtd_offdiagonal=float(np.abs(DtD - np.diag(np.diag(DtD))).max(initial=0.0)))

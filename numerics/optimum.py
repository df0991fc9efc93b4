"""The global optimum of the tractable beta-VAE in closed form, and its quantities.

The solution is the one derived in :mod:`derivations.closed_form`: with A = P diag(sigma) Q^T
(thin SVD) and lambda_i = 1 + sigma_i^2 the top eigenvalues of Sigma_x = A A^T + I,

    D = P diag(d),  d_i^2 = max(lambda_i - beta, 0),   W_mu = diag(d / (d^2 + beta)) P^T,
    W_sigma = 0,    b_sigma = log(beta / (d^2 + beta)),  b_mu = b_D = 0.

Only k x k and N x k arrays are formed. The per-unit sums use the functions generated from
SymPy (``numerics.generated``).

>>> from numerics.model import paper_mixing
>>> t = closed_form_terms(paper_mixing(), beta=1.0)         # the paper's problem
>>> abs(t.mie) < 1e-12          # at beta = 1 the model posterior is exact
True
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from . import generated as gen
from .gauge import Alignment, assignment_alignment
from .model import Parameters, Spectrum, Terms, as_mixing_matrix, canonical_signs, spectrum

__all__ = ["Optimum", "closed_form_optimum", "closed_form_terms", "optimum_alignment", "terms_at"]


@dataclass(frozen=True, eq=False)
class Optimum(Parameters):
    """Parameters at the optimum, with the spectrum they come from."""

    lam: np.ndarray       # top-k eigenvalues of Sigma_x, descending
    d2: np.ndarray        # squared decoder gains


def _svd(A):
    A = as_mixing_matrix(A)
    P, sigma, Qt = np.linalg.svd(A, full_matrices=False)
    s = canonical_signs(Qt.T)
    return P * s, sigma, Qt.T * s


def closed_form_optimum(A, beta: float) -> Optimum:
    """Optimal parameters for mixing matrix A (N x k, k <= N) and beta > 0."""
    P, sigma, _ = _svd(A)
    lam = 1.0 + sigma ** 2
    d2 = gen.mode_d2(lam, beta)
    d = np.sqrt(d2)
    N, k = P.shape
    return Optimum(W_mu=(d / (d2 + beta))[:, None] * P.T, b_mu=np.zeros((k, 1)), W_sigma=np.zeros((k, N)),
                   b_sigma=np.log(beta / (d2 + beta))[:, None], D=P * d, b_D=np.zeros((N, 1)), lam=lam, d2=d2)


def optimum_alignment(spec: Spectrum, beta: float) -> Alignment:
    """The signed permutation that minimises TIE at the optimum (:mod:`numerics.gauge`, the separable case).

    At the closed form latent j's share of TIE, when it stands for source m, is -w_j(beta) |Q[m, j]| with
    w_j = sqrt(a_j (lambda_j - beta)^+) (``mode_tie_weight``), whatever the other latents do: a linear assignment;
    the sign of latent j follows Q[m, j]. ``cost`` is minus the overlap sum_j w_j |Q[permutation_j, j]|.
    """
    cost = -(np.abs(spec.Q) * gen.mode_tie_weight(spec.a, beta)[None, :]).T     # cost[j, m]: latent j on source m
    return assignment_alignment(cost, spec.Q.T)


def closed_form_terms(A, beta: float) -> Terms:
    """Reconstruction, KL, ELBO, objective, log-likelihood, MIE and gauge-aligned TIE at the optimum."""
    return terms_at(A if isinstance(A, Spectrum) else spectrum(A), beta)


def terms_at(spec: Spectrum, beta: float) -> Terms:
    """:func:`closed_form_terms` from precomputed eigen-data (reuse it along a beta curve)."""
    N, k, a = spec.N, spec.k, spec.a
    lam = 1.0 + a
    base = -N / 2 * np.log(2 * np.pi) - (N - k) / 2
    recon = base - 0.5 * np.sum(gen.mode_reconstruction(lam, beta))
    kl = float(np.sum(gen.mode_kl(lam, beta)))
    loglik = base - 0.5 * np.sum(gen.mode_loglik(lam, beta))
    alignment = optimum_alignment(spec, beta)
    overlap = -alignment.cost
    tie = float(np.sum(a) - 0.5 * np.sum(np.log(lam)) + kl - overlap)
    return Terms(beta=float(beta), reconstruction=float(recon), kl=kl, elbo=float(recon - kl),
                 objective=float(recon - beta * kl), log_likelihood=float(loglik),
                 # MIE is a KL divergence: a value like -2e-16 at beta = 1 is rounding, not a finding
                 mie=max(float(np.sum(gen.mode_mie(lam, beta))), 0.0), tie=tie,
                 permutation=alignment.permutation, signs=alignment.signs)

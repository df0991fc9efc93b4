"""Quantities of a *trained* linear beta-VAE, averaged over x ~ N(0, Sigma_x), with k x k work only.

The data are a :class:`LinearData`: Sigma_x = B B^T + c I_N as a factor B (N x m) and c, with the decoder and prior
variances sigma_d^2, sigma_p^2 of the general model, and the mixing matrix A where the data have sources (then
B = A, c = sigma_eta^2; the paper: c = sigma_d^2 = sigma_p^2 = 1, which a bare matrix A means everywhere here).
Sigma_x is never formed: for any M with N columns, M Sigma_x M^T = (M B)(M B)^T + c M M^T. So every quantity
costs O(N m k). A network is the model's one parameter record, :class:`numerics.model.Parameters` (biases as
columns); its quantities are the model's one :class:`numerics.model.Terms`.

* :func:`network_terms`: reconstruction and KL (eq. 21's two parts with constants, the general model's variances),
  ELBO, objective, log-likelihood, MIE and the gauge-aligned TIE (None without sources).
* :func:`log_likelihood`: E_x log N(x; b_D, sigma_p^2 D D^T + sigma_d^2 I_N) by the matrix determinant lemma and
  Woodbury on D' = D sigma_p / sigma_d: log det = N log sigma_d^2 + log det(I_k + D'^T D') and
  (sigma_d^2 (I_N + D' D'^T))^-1 = (I_N - D' (I_k + D'^T D')^-1 D'^T) / sigma_d^2, never an N x N inverse.
* :func:`inference_error`: eq. (25) *with* the mean-offset term that eq. (25) omits,
  (1/2) c^T E^-1 c: for a trained network the mean of q(z|x) minus the reference posterior mean is
  (W_mu - F) x + c. For TIE (eq. 27) c = b_mu; for MIE (eq. 26) the model posterior
  p_theta(z|x) = N(F (x - b_D), P^-1), P = D^T D / sigma_d^2 + I / sigma_p^2, F = P^-1 D^T / sigma_d^2 (eq. 24 with
  the decoder bias and the variances) gives c = b_mu + F b_D. Both vanish at the optimum (b_mu = b_D = 0, eq. 22),
  where eq. (25) is exact.
* :func:`aligned_tie`: TIE minimised over signed permutations of the latent units (the objective
  cannot tell units, or their signs, apart), chosen by :mod:`numerics.gauge` from the network's
  population moments (:func:`alignment_problem`). For a trained network the dependence on the
  permutation is quadratic, not linear (the cross terms vanish only when
  W_mu Sigma_x W_mu^T + b_mu b_mu^T is diagonal, as at the optimum): exact (enumeration up to
  ``numerics.gauge.ENUMERATION_MAX_K``, branch and bound up to ``EXACT_MAX_K``), a flagged local search (an upper
  bound) above. These TIE functions take the
  unit-noise mixing matrix; with noise and prior variances :func:`unit_gauge` maps the network onto it first
  (x / sigma_eta, z / sigma_p: the true posterior of the sources is the same, TIE is measured on z / sigma_p).
* :func:`trained_quantities`: the terms with the alignment and the shape of the network (spectrum of
  D^T D, posterior scales, the parameters that vanish at the optimum): what the cross-check compares.

>>> import numpy as np
>>> from numerics.optimum import closed_form_optimum, closed_form_terms
>>> A = 0.5 * (np.ones((8, 2)) + np.eye(8, 2))
>>> o = closed_form_optimum(A, 2.0)                  # an Optimum is a Parameters record
>>> t, c = network_terms(o, A, 2.0), closed_form_terms(A, 2.0)
>>> bool(abs(t.tie - c.tie) < 1e-12 and abs(t.mie - c.mie) < 1e-12), t.permutation == c.permutation
(True, True)

The general model (the closed form is :func:`numerics.optimum.general_terms`):

>>> from numerics.optimum import general_terms, optimum_parameters
>>> from numerics.variances import Variances
>>> data = LinearData.from_mixing(A, Variances(noise=0.5, decoder=0.3, prior=4.0))
>>> t = network_terms(optimum_parameters(data.data_spectrum(), 2.0, data.variances), data, 2.0)
>>> c = general_terms(data.data_spectrum(), 2.0, data.variances)
>>> bool(abs(t.log_likelihood - c.log_likelihood) < 1e-10 and abs(t.tie - c.tie) < 1e-10)
True
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from numerics.data_spectrum import DataSpectrum
from numerics.gauge import Alignment, AlignmentProblem, align
from numerics.model import Parameters, Terms, spectrum
from numerics.variances import UNIT, Variances


@dataclass(frozen=True, eq=False)
class LinearData:
    """What a trained network is evaluated on: Sigma_x = B B^T + ``noise`` I_N (B: N x m, numpy), ``k`` latent units,
    the model's ``variances``, the ``mixing`` matrix A where the data have sources (None for a covariance: no TIE),
    and the closed form's eigen-data (:meth:`data_spectrum`)."""

    B: np.ndarray
    noise: float
    k: int
    variances: Variances = UNIT
    mixing: np.ndarray | None = None
    eigendata: DataSpectrum | None = None     # None: computed from the mixing matrix on demand

    @classmethod
    def from_mixing(cls, A, variances: Variances = UNIT) -> LinearData:
        """x = A s + eta, eta ~ N(0, sigma_eta^2 I) with the noise variance of ``variances``."""
        A = np.asarray(A, dtype=float)
        return cls(A, variances.noise, A.shape[1], variances, A)

    @classmethod
    def from_covariance(cls, S, k: int, variances: Variances = UNIT) -> LinearData:
        """Any symmetric positive semi-definite Sigma_x (checked; ``numerics.data_spectrum.DataError`` names the
        field), with its eigen-factor (:meth:`deep.linear.network.DataFactor.from_covariance`, c = 0)."""
        from .network import DataFactor
        S = np.array(S, dtype=float)
        factor = DataFactor.from_covariance(S, k)
        return cls(factor.factor.numpy(), 0.0, int(k), variances, None, DataSpectrum.from_covariance(S, k))

    @property
    def N(self) -> int:
        return self.B.shape[0]

    @property
    def is_paper_model(self) -> bool:
        """A mixing matrix with every variance 1: the paper's model, whose routes and numbers are kept as they were."""
        return self.mixing is not None and self.variances.is_unit

    def data_spectrum(self) -> DataSpectrum:
        """The eigen-data of Sigma_x that the closed form needs."""
        return self.eigendata if self.eigendata is not None else DataSpectrum.from_mixing(self.mixing, self.noise)

    def collapse_thresholds(self) -> np.ndarray:
        """The betas where a unit collapses, ascending: 1 + a_i for the paper's model, else lambda_i / sigma_d^2
        (beta sigma_d^2 = lambda_i, as ``numerics.curve.beta_curve`` has them; zero eigenvalues never hold a unit)."""
        if self.is_paper_model:
            return spectrum(self.mixing).collapse_thresholds
        lam = self.data_spectrum().lam
        return np.sort(lam[lam > 0]) / self.variances.decoder


def as_linear_data(A) -> LinearData:
    """A :class:`LinearData` as it is, or a mixing matrix A of the paper's model (unit variances)."""
    return A if isinstance(A, LinearData) else LinearData.from_mixing(A)


def collapse_thresholds(A) -> np.ndarray:
    """:meth:`LinearData.collapse_thresholds` of ``A`` (a mixing matrix: the paper's model)."""
    return as_linear_data(A).collapse_thresholds()


def sandwich(M, A) -> np.ndarray:
    """M Sigma_x M^T with Sigma_x = B B^T + c I (A: a mixing matrix, c = 1, or a LinearData), without forming it."""
    data = as_linear_data(A)
    MB = M @ data.B
    return MB @ MB.T + data.noise * (M @ M.T)


def variances(p: Parameters, A) -> np.ndarray:
    """v_i = E_x exp(W_sigma x + b_sigma)_i = exp([W_sigma Sigma_x W_sigma^T]_ii / 2 + b_sigma_i)."""
    return _lognormal_mean(p.W_sigma, p.b_sigma, A)


def _lognormal_mean(W_sigma, b_sigma, A) -> np.ndarray:
    data = as_linear_data(A)
    VB = W_sigma @ data.B
    return np.exp(0.5 * (np.einsum("ij,ij->i", VB, VB) + data.noise * np.einsum("ij,ij->i", W_sigma, W_sigma))
                  + np.ravel(b_sigma))


def network_terms(p: Parameters, A, beta: float, alignment: Alignment | None = None) -> Terms:
    """The model's terms for network ``p`` at ``beta``, every constant kept (cf. eqs. 21, 38-39).

    ``A``: a mixing matrix (the paper's model) or a :class:`LinearData`. TIE is that of the network relabelled by
    ``alignment`` (default: the best one, :func:`aligned_tie`); None, with no alignment, where there are no sources.
    """
    data = as_linear_data(A)
    N, k = data.N, data.k
    c, sd2, sp2 = data.noise, data.variances.decoder, data.variances.prior
    b_mu, b_sigma = np.ravel(p.b_mu), np.ravel(p.b_sigma)
    v = variances(p, data)
    DtD = p.D.T @ p.D
    R_B = data.B - p.D @ (p.W_mu @ data.B)
    # with c = sd2 = sp2 = 1 every extra factor below is an exact 1.0 or 0.0: the paper's numbers, bit for bit
    trace_R = (np.sum(R_B ** 2) + c * N - c * 2 * np.trace(p.W_mu @ p.D) + c * np.sum(DtD * (p.W_mu @ p.W_mu.T)))
    e = p.D @ b_mu + np.ravel(p.b_D)
    recon = (-0.5 * N * (math.log(2 * math.pi) + math.log(sd2)) - (0.5 / sd2) * (e @ e) - (0.5 / sd2) * trace_R
             - (0.5 / sd2) * (np.diag(DtD) @ v))
    kl = (0.5 * k * math.log(sp2) - 0.5 * k - 0.5 * b_sigma.sum() + (0.5 / sp2) * (b_mu @ b_mu)
          + (0.5 / sp2) * np.trace(sandwich(p.W_mu, data)) + (0.5 / sp2) * v.sum())
    tie = None
    if data.mixing is not None:
        unit, A_unit = unit_gauge(p, data)
        alignment = align(alignment_problem(unit, A_unit)) if alignment is None else alignment
        tie = relabelled_tie(unit, A_unit, alignment)
    return Terms(beta=float(beta), reconstruction=float(recon), kl=float(kl), elbo=float(recon - kl),
                 objective=float(recon - beta * kl), log_likelihood=log_likelihood(p.D, p.b_D, data), mie=mie(p, data),
                 tie=tie, permutation=tuple(alignment.permutation) if tie is not None else None,
                 signs=tuple(alignment.signs) if tie is not None else None)


def log_likelihood(D, b_D, A) -> float:
    """E_{x ~ N(0, Sigma_x)} log N(x; b_D, sigma_p^2 D D^T + sigma_d^2 I_N) with k x k work (determinant lemma,
    Woodbury; module docstring). ``b_D`` a vector or a column; ``A`` a mixing matrix or a :class:`LinearData`."""
    data = as_linear_data(A)
    N, B = data.N, data.B
    sd2, sp2 = data.variances.decoder, data.variances.prior
    b_D = np.ravel(b_D)
    D = D * math.sqrt(sp2 / sd2)                 # D' (exactly D for the paper's model)
    K = np.eye(D.shape[1]) + D.T @ D
    L = np.linalg.cholesky(K)
    logdet = 2 * np.sum(np.log(np.diag(L)))
    DtA = D.T @ B
    # Tr[C^-1 Sigma_x] = (Tr Sigma_x - Tr[K^-1 D'^T Sigma_x D']) / sd2,  D'^T Sigma_x D' = (D'^T B)(D'^T B)^T + c D'^T D'
    t1 = np.linalg.solve(L, DtA @ DtA.T + data.noise * (D.T @ D))
    trace = data.noise * N + np.sum(B ** 2) - np.trace(np.linalg.solve(L.T, t1))
    Db = np.linalg.solve(L, D.T @ b_D)
    quad = b_D @ b_D - Db @ Db
    return float(-0.5 * N * math.log(2 * math.pi) - 0.5 * (logdet + N * math.log(sd2)) - 0.5 * (trace + quad) / sd2)


def inference_error(W_mu, c, W_sigma, b_sigma, A, E_inv, F) -> float:
    """E_x KL(N(W_mu x + c, diag exp(W_sigma x + b_sigma)) || N(F x, E_inv^-1)): eq. (25) + c^T E_inv c / 2.

    ``c`` and ``b_sigma`` vectors or columns; ``A`` a mixing matrix or a :class:`LinearData` (its Sigma_x)."""
    k = W_mu.shape[0]
    c, b_sigma = np.ravel(c), np.ravel(b_sigma)
    v = _lognormal_mean(W_sigma, b_sigma, A)
    G = F - W_mu
    logdet = np.linalg.slogdet(E_inv)[1]
    return float(0.5 * (np.diag(E_inv) @ v - b_sigma.sum() - logdet + np.sum(E_inv * sandwich(G, A))
                        + c @ E_inv @ c - k))


def mie(p: Parameters, A) -> float:
    """Model inference error (eqs. 25-26) of a trained network; c = b_mu + F b_D (see the module docstring)."""
    data = as_linear_data(A)
    sd2, sp2 = data.variances.decoder, data.variances.prior
    E_inv = p.D.T @ p.D / sd2 + np.eye(p.D.shape[1]) / sp2
    F = np.linalg.solve(E_inv, p.D.T) / sd2
    b_mu, b_D = np.ravel(p.b_mu), np.ravel(p.b_D)
    return inference_error(p.W_mu, b_mu + F @ b_D, p.W_sigma, p.b_sigma, data, E_inv, F)


def unit_gauge(p: Parameters, data: LinearData) -> tuple[Parameters, np.ndarray]:
    """The network and mixing matrix in the unit-noise, unit-prior gauge x / sigma_eta, z / sigma_p, where TIE is
    measured (the same gauge as ``verify.commands.curve``'s finite-sample TIE): W_mu sigma_eta / sigma_p,
    b_mu / sigma_p, W_sigma sigma_eta, b_sigma - log sigma_p^2, and A / sigma_eta. The paper's model: unchanged."""
    noise, prior = data.noise, data.variances.prior
    if noise == 1.0 and prior == 1.0:
        return p, data.mixing
    unit = replace(p, W_mu=p.W_mu * math.sqrt(noise / prior), b_mu=p.b_mu / math.sqrt(prior),
                   W_sigma=p.W_sigma * math.sqrt(noise), b_sigma=p.b_sigma - math.log(prior))
    return unit, data.mixing / math.sqrt(noise)


def truth_posterior(A):
    """(E_inv, F) of eq. (27): the ground-truth posterior precision A^T A + I and F = (A^T A + I)^-1 A^T."""
    E_inv = A.T @ A + np.eye(A.shape[1])
    return E_inv, np.linalg.solve(E_inv, A.T)


def tie(p: Parameters, A) -> float:
    """True inference error (eqs. 25, 27) of the network as labelled (no alignment); A the unit-noise mixing matrix."""
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
    alignment: Alignment | None     # None where the data have no sources (no TIE)
    dtd_eigenvalues: np.ndarray     # spectrum of D^T D, descending
    sigma_z: np.ndarray             # exp(b_sigma), units ordered by [D^T D]_ii descending
    w_sigma_max: float              # max |W_sigma| (-> 0)
    b_mu_max: float                 # max |b_mu| (-> 0, eq. 22)
    b_D_max: float                  # max |b_D| (-> 0, eq. 22)
    dtd_offdiagonal: float          # max |[D^T D]_ij|, i != j (-> 0: the optimum's units are orthogonal)


def trained_quantities(p: Parameters, A, beta: float) -> TrainedQuantities:
    """:func:`network_terms` with the gauge alignment that attains its TIE, and the network's shape.

    ``A``: a mixing matrix (the paper's model) or a :class:`LinearData`."""
    data = as_linear_data(A)
    DtD = p.D.T @ p.D
    order = np.argsort(-np.diag(DtD), kind="stable")
    alignment = align(alignment_problem(*unit_gauge(p, data))) if data.mixing is not None else None
    return TrainedQuantities(
        terms=network_terms(p, data, beta, alignment), alignment=alignment,
        dtd_eigenvalues=np.sort(np.linalg.eigvalsh(DtD))[::-1], sigma_z=np.exp(np.ravel(p.b_sigma)[order]),
        w_sigma_max=float(np.abs(p.W_sigma).max(initial=0.0)), b_mu_max=float(np.abs(p.b_mu).max(initial=0.0)),
        b_D_max=float(np.abs(p.b_D).max(initial=0.0)),
        dtd_offdiagonal=float(np.abs(DtD - np.diag(np.diag(DtD))).max(initial=0.0)))

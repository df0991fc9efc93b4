"""The global optimum of the linear beta-VAE in closed form, and its quantities, for any data and variances.

The solution is the one derived in :mod:`derivations.closed_form` (unit variances) and
:mod:`derivations.general_model` (any decoder, prior and noise variance): with lambda_i, u_i the top-k eigenpairs of
Sigma_x (:class:`numerics.data_spectrum.DataSpectrum`) and beta' = beta sigma_d^2,

    d~_i^2 = max(lambda_i - beta', 0),  D = U diag(d~) / sigma_p,  W_mu = sigma_p diag(d~ / (d~^2 + beta')) U^T,
    W_sigma = 0,  encoder variance sigma_p^2 beta' / (d~^2 + beta'),  b_mu = b_D = 0.

Every term is the unit-variance model's on the data x / sigma_d at the same beta, with the log-densities shifted by
-(N/2) log sigma_d^2 (so the per-unit sums are the functions generated from SymPy, ``numerics.generated``, at
lambda / sigma_d^2); TIE, where the data come from a mixing matrix, is the unit TIE of A / sigma_eta at
beta sigma_d^2 / sigma_eta^2. Only k x k and N x k arrays are formed. beta = 0 is the limit beta -> 0+: the encoder
variance vanishes, the objective and the log-likelihood stay finite, the KL, MIE and TIE are +inf (the supremum of the
objective is not attained: it needs log-variance -inf).

>>> from numerics.model import paper_mixing
>>> t = closed_form_terms(paper_mixing(), beta=1.0)         # the paper's problem
>>> abs(t.mie) < 1e-12          # at beta = 1 the model posterior is exact
True
>>> from numerics.data_spectrum import DataSpectrum
>>> from numerics.variances import Variances
>>> data = DataSpectrum.from_spectrum([66.25, 1.25] + [1.0] * 126, k=2)
>>> general_terms(data, 2.0, Variances(decoder=0.5)).kl == general_terms(data, 1.0).kl     # beta' = beta sigma_d^2
True
>>> general_terms(data, 0.0).kl, round(general_terms(data, 0.0).objective, 4)   # beta = 0: KL infinite; L = -64 ln 2pi - 63
(inf, -180.6241)
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from . import generated as gen
from .data_spectrum import DataSpectrum
from .gauge import Alignment, assignment_alignment
from .model import Parameters, Spectrum, Terms, spectrum
from .variances import UNIT, Variances

__all__ = ["Optimum", "UnitParameters", "closed_form_optimum", "closed_form_terms", "general_terms",
           "optimum_alignment", "optimum_parameters", "terms_at", "tie_value", "unit_parameters"]


@dataclass(frozen=True, eq=False)
class Optimum(Parameters):
    """Parameters at the optimum, with the spectrum they come from."""

    lam: np.ndarray       # top-k eigenvalues of Sigma_x, descending
    d2: np.ndarray        # squared decoder gains


@dataclass(frozen=True, eq=False)
class UnitParameters:
    """The optimum unit by unit (what ``curve --parameters`` prints): D = U diag(decoder_gain),
    W_mu = diag(encoder_gain) U^T, q(z_i|x) has standard deviation ``encoder_std``; a unit is ``collapsed`` when
    lambda_i <= beta sigma_d^2 (its decoder gain is 0 and q(z_i|x) = p(z_i))."""

    eigenvalue: np.ndarray
    decoder_gain: np.ndarray
    encoder_gain: np.ndarray
    encoder_std: np.ndarray
    collapsed: np.ndarray

    def to_json(self) -> dict:
        return {"eigenvalue": self.eigenvalue.tolist(), "decoder_gain": self.decoder_gain.tolist(),
                "encoder_gain": self.encoder_gain.tolist(), "encoder_std": self.encoder_std.tolist(),
                "collapsed": [bool(c) for c in self.collapsed]}


def unit_parameters(data: DataSpectrum, beta: float, variances: Variances = UNIT) -> UnitParameters:
    """Decoder gain, encoder gain and standard deviation of each unit at the optimum (beta >= 0)."""
    b = variances.effective_beta(beta)
    lam = data.lam
    d2 = gen.mode_d2(lam, b)                  # d~^2 = max(lambda - beta', 0): the unit-prior gain
    d = np.sqrt(d2)
    c = d2 + b
    active = c > 0                             # c = 0 only at beta = 0 on a zero eigenvalue: a collapsed unit
    safe = np.where(active, c, 1.0)
    sp = math.sqrt(variances.prior)
    return UnitParameters(eigenvalue=lam.copy(), decoder_gain=d / sp, encoder_gain=np.where(active, sp * d / safe, 0.0),
                          encoder_std=np.where(active, sp * np.sqrt(b / safe), sp), collapsed=lam <= b)


def optimum_parameters(data: DataSpectrum, beta: float, variances: Variances = UNIT) -> Optimum:
    """The optimal parameter record (needs the eigenvectors: not for a bare ``--spectrum``); beta > 0."""
    if data.vectors is None:
        raise ValueError("the optimal parameters need the eigenvectors of Sigma_x; a spectrum alone gives only "
                         "the per-unit gains (unit_parameters)")
    if not beta > 0:
        raise ValueError("at beta = 0 the optimal encoder variance is 0 (log-variance -inf): no finite parameters")
    u = unit_parameters(data, beta, variances)
    U = data.vectors
    N, k = U.shape
    W_mu = u.encoder_gain[:, None] * U.T
    # data with a mean m (finite samples): the biases absorb it, b_D = m and b_mu = -W_mu m (eq. 22 for centred data)
    m = np.zeros((N, 1)) if data.mean is None else np.reshape(data.mean, (N, 1))
    return Optimum(W_mu=W_mu, b_mu=-W_mu @ m, W_sigma=np.zeros((k, N)),
                   b_sigma=(2 * np.log(u.encoder_std))[:, None], D=U * u.decoder_gain, b_D=m.copy(),
                   lam=data.lam, d2=u.decoder_gain ** 2)


def closed_form_optimum(A, beta: float) -> Optimum:
    """Optimal parameters of the paper's model (unit variances) for mixing matrix A (N x k, k <= N) and beta > 0."""
    return optimum_parameters(DataSpectrum.from_mixing(A), beta)


def optimum_alignment(spec: Spectrum, beta: float) -> Alignment:
    """The signed permutation that minimises TIE at the optimum (:mod:`numerics.gauge`, the separable case).

    At the closed form latent j's share of TIE, when it stands for source m, is -w_j(beta) |Q[m, j]| with
    w_j = sqrt(a_j (lambda_j - beta)^+) (``mode_tie_weight``), whatever the other latents do: a linear assignment;
    the sign of latent j follows Q[m, j]. ``cost`` is minus the overlap sum_j w_j |Q[permutation_j, j]|.
    """
    cost = -(np.abs(spec.Q) * gen.mode_tie_weight(spec.a, beta)[None, :]).T     # cost[j, m]: latent j on source m
    return assignment_alignment(cost, spec.Q.T)


def closed_form_terms(A, beta: float) -> Terms:
    """Reconstruction, KL, ELBO, objective, log-likelihood, MIE and gauge-aligned TIE at the optimum (unit variances)."""
    return terms_at(A if isinstance(A, Spectrum) else spectrum(A), beta)


def terms_at(spec: Spectrum, beta: float) -> Terms:
    """:func:`closed_form_terms` from precomputed eigen-data (reuse it along a beta curve)."""
    data = DataSpectrum(lam=1.0 + spec.a, tail=float(spec.N - spec.k), N=spec.N, k=spec.k, mixing=spec, noise=1.0)
    return general_terms(data, beta)


def general_terms(data: DataSpectrum, beta: float, variances: Variances = UNIT) -> Terms:
    """Every term at the optimum for any data and variances, beta >= 0 (module docstring); TIE None without a truth.

    The noise variance belongs to the data (``data.noise``, from :meth:`DataSpectrum.from_mixing`); ``variances.noise``
    is used only to build data from a mixing matrix: a value other than the default 1 that disagrees with the data's is
    refused rather than silently ignored (with a covariance or a spectrum Sigma_x already contains the noise).
    """
    if variances.noise != 1.0 and variances.noise != data.noise:
        raise ValueError(f"noise variance {variances.noise:g} disagrees with the data's "
                         f"({'none: Sigma_x was given' if data.noise is None else f'{data.noise:g}'}); build the data "
                         "with DataSpectrum.from_mixing(A, noise)")
    N, s2 = data.N, variances.decoder
    lam, tail = data.lam / s2, data.tail / s2          # the unit-variance model on x / sigma_d
    with np.errstate(divide="ignore", invalid="ignore"):
        # beta = 0: ln(lambda / 0) = inf for a unit with lambda > 0; a zero eigenvalue carries nothing (the limit)
        kl_units = np.where(lam > 0, gen.mode_kl(lam, beta), 0.0)
        mie_units = np.where(lam > 0, gen.mode_mie(lam, beta), 0.0)
    shift = -N / 2 * np.log(2 * np.pi) - N / 2 * np.log(s2)
    recon = shift - 0.5 * tail - 0.5 * np.sum(gen.mode_reconstruction(lam, beta))
    kl = float(np.sum(kl_units))
    loglik = shift - 0.5 * tail - 0.5 * np.sum(gen.mode_loglik(lam, beta))
    tie = permutation = signs = None
    if data.mixing is not None:
        tie, alignment = _tie(data.mixing, variances.effective_beta(beta) / data.noise, kl)
        permutation, signs = alignment.permutation, alignment.signs
    return Terms(beta=float(beta), reconstruction=float(recon), kl=kl, elbo=float(recon - kl),
                 objective=float(recon - beta * kl) if beta > 0 else float(recon), log_likelihood=float(loglik),
                 # MIE is a KL divergence: a value like -2e-16 at beta = 1 is rounding, not a finding
                 mie=max(float(np.sum(mie_units)), 0.0), tie=tie, permutation=permutation, signs=signs)


def tie_value(a, kl, overlap):
    """TIE at the optimum from its parts (:func:`derivations.closed_form.tie_closed_form`): sum_j a_j - (1/2) sum_j
    log(1 + a_j) + KL - overlap, with ``a`` (..., k) the eigenvalues of A^T A (unit noise), ``kl`` and ``overlap``
    (the aligned sum_j w_j |Q[permutation_j, j]|) broadcast against a[..., 0]; vectorised over problems and betas.

    >>> float(tie_value([3.0, 0.0], 0.5 * np.log(4 / 2.0), 0.0))     # hand: 3 - log(4)/2 + log(2)/2
    2.6534264097200273
    """
    a = np.asarray(a, dtype=float)
    return (np.sum(a, axis=-1) - 0.5 * np.sum(np.log1p(a), axis=-1) + kl - overlap)


def _tie(spec: Spectrum, beta_unit: float, kl: float) -> tuple[float, Alignment]:
    """TIE of the unit-noise model (spec: A^T A / sigma_eta^2) at beta_unit = beta sigma_d^2 / sigma_eta^2; its KL is
    the general model's (the same ratios lambda / beta')."""
    alignment = optimum_alignment(spec, beta_unit)
    return float(tie_value(spec.a, kl, -alignment.cost)), alignment

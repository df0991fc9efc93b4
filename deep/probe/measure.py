"""The two routes of the probe: exact for affine maps, Monte-Carlo over the data otherwise.

* **Exact.** An affine encoder, mean W_mu x + b_mu and log-variance W_sigma x + b_sigma, *is* the encoder of the
  paper's linear model (:class:`numerics.model.Parameters`), and an affine decoder D z + b_D its decoder, so the
  population averages over x ~ N(0, A A^T + I) are :func:`deep.linear.metrics.network_terms` (KL, reconstruction,
  ELBO, objective) and :func:`deep.linear.metrics.aligned_tie` (TIE, gauge-aligned from the population moments).
  Without a decoder D = 0, b_D = 0 stand in: KL and TIE do not involve the decoder.
* **Monte-Carlo.** n draws x = A s + eta (``deep.betavae.data.fig2_dataset``, stream ``deep.streams`` "data"); per
  draw the closed-form KL of q(z|x) to the prior, the closed-form KL to the true posterior p(s|x)
  (``deep.betavae.tie``: gauge-aligned over the draws' averages) and the reconstruction log N(x; decoder(z), I):
  exact in z for an affine decoder (E_z ||x - D z - b_D||^2 = ||x - D mu - b_D||^2 + sum_j v_j ||D_j||^2), else one
  draw z = mu + sqrt(v) eps per x (stream "noise"). Each average comes with its standard error std / sqrt(n).

>>> import numpy as np
>>> from numerics.optimum import closed_form_optimum
>>> A = np.array([[2.73, 0.73], [0.73, 2.73]])
>>> p = closed_form_optimum(A, 2.0)
>>> x = data_draws(A, 4000, seed=0)
>>> mu, logvar = x @ p.W_mu.T, np.tile(p.b_sigma.T, (4000, 1))
>>> mc, exact = monte_carlo_encoder(mu, logvar, x, A), exact_encoder(p, A, 2.0)
>>> bool(abs(mc.kl.value - exact.kl.value) < 4 * mc.kl.se), exact.alignment.permutation == mc.alignment.permutation
(True, True)
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from numerics.gauge import Alignment
from numerics.model import Parameters, Terms

from ..betavae.data import fig2_dataset, ground_truth_posterior
from ..betavae.tie import kl_diagonal_to_full, true_inference_error
from ..linear import metrics
from ..streams import numpy_stream
from .affine import AffineFit
from .load import ProbeInputError
from .result import Estimate

#: check points of the affine test: draws of the data (or of the prior, for a decoder), and a few three times wider
CHECK_POINTS, WIDE_CHECK_POINTS = 48, 16


@dataclass(frozen=True)
class EncoderMeasurement:
    """KL to the prior, gauge-aligned TIE, TIE as labelled, the alignment; ``terms`` the linear model's terms when
    measured exactly (None for Monte-Carlo)."""

    kl: Estimate
    tie: Estimate
    tie_as_labelled: Estimate
    alignment: Alignment
    terms: Terms | None = None


def data_draws(A: np.ndarray, n: int, seed: int, key: int = 0) -> np.ndarray:
    """n draws of x = A s + eta, s ~ N(0, I_k), eta ~ N(0, I_N) (the paper's data), from the seeded stream."""
    return fig2_dataset(np.asarray(A, dtype=float), n, numpy_stream(seed, "data", key)).observed


def encoder_check_points(A: np.ndarray, seed: int) -> np.ndarray:
    """Where the encoder's affinity is tested: data draws, and wider ones (stream "eval", key 0)."""
    rng = numpy_stream(seed, "eval", 0)
    x = fig2_dataset(np.asarray(A, dtype=float), CHECK_POINTS + WIDE_CHECK_POINTS, rng).observed
    x[CHECK_POINTS:] *= 3.0
    return x


def decoder_check_points(k: int, seed: int) -> np.ndarray:
    """Where the decoder's affinity is tested: prior draws z ~ N(0, I_k), and wider ones (stream "eval", key 1)."""
    z = numpy_stream(seed, "eval", 1).standard_normal((CHECK_POINTS + WIDE_CHECK_POINTS, k))
    z[CHECK_POINTS:] *= 3.0
    return z


def linear_parameters(encoder: AffineFit, decoder: AffineFit | None, N: int, k: int) -> Parameters:
    """The linear model's parameters of an affine encoder (outputs mean then log-variance) and decoder (None: zero,
    which KL and TIE never see)."""
    J, c = encoder.J, encoder.c
    D, b_D = (decoder.J, decoder.c) if decoder is not None else (np.zeros((N, k)), np.zeros(N))
    return Parameters.of(J[:k], c[:k], J[k:], c[k:], D, b_D)


def exact_encoder(p: Parameters, A: np.ndarray, beta: float) -> EncoderMeasurement:
    """The exact route (module docstring): every term of the linear model ``p``, TIE aligned at the population."""
    with np.errstate(over="ignore"):
        mean_variance = metrics.variances(p, A)
        kl_part = np.sum(mean_variance)
    if not (np.all(np.isfinite(mean_variance)) and np.isfinite(kl_part) and kl_part < 1e300):
        # the check points passed the +-700 limit, but the population average E[exp(W_sigma x + b_sigma)] does not fit
        raise ProbeInputError("encoder", "its log-variance grows so fast with x that the population average of the "
                                         "variance, E[exp(log-variance)], overflows float64; no finite TIE or KL")
    aligned = metrics.aligned_tie(p, A)
    with np.errstate(over="ignore"):         # beta * KL beyond float64 is refused by the caller, in one line
        terms = metrics.network_terms(p, A, beta, aligned.alignment)
    return EncoderMeasurement(kl=Estimate(terms.kl), tie=Estimate(aligned.tie),
                              tie_as_labelled=Estimate(metrics.tie(p, A)), alignment=aligned.alignment, terms=terms)


def monte_carlo_encoder(mu: np.ndarray, logvar: np.ndarray, x: np.ndarray, A: np.ndarray) -> EncoderMeasurement:
    """KL and TIE averaged over the draws ``x`` of the encoder outputs ``mu``, ``logvar`` (n x k) at them."""
    var = np.exp(logvar)
    kl = 0.5 * np.sum(var + mu ** 2 - 1.0 - logvar, axis=1)          # KL(N(mu, diag var) || N(0, I)) per draw
    aligned = true_inference_error(mu, var, x, A)
    post = ground_truth_posterior(A)
    as_labelled = kl_diagonal_to_full(mu, var, x @ post.F.T, post.E_inv)
    return EncoderMeasurement(kl=Estimate.of_samples(kl), tie=Estimate.of_samples(aligned.per_example),
                              tie_as_labelled=Estimate.of_samples(as_labelled), alignment=aligned.alignment)


def reconstruction_samples(x: np.ndarray, mu: np.ndarray, logvar: np.ndarray, decoder, affine: AffineFit | None,
                           seed: int) -> np.ndarray:
    """E_{q(z|x)} log N(x; decoder(z), I) per draw: exact in z for an ``affine`` decoder, else one z per draw."""
    N = x.shape[1]
    const = -0.5 * N * math.log(2 * math.pi)
    var = np.exp(logvar)
    if affine is not None:
        residual = x - mu @ affine.J.T - affine.c
        return const - 0.5 * (np.sum(residual ** 2, axis=1) + var @ np.sum(affine.J ** 2, axis=0))
    eps = numpy_stream(seed, "noise", 0).standard_normal(mu.shape)
    return const - 0.5 * np.sum((x - decoder(mu + np.sqrt(var) * eps)) ** 2, axis=1)

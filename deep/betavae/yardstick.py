"""The yardstick of a trained network: the exact optimum of the linear beta-VAE on the network's own training set.

A network trained on n examples maximises the objective (6) averaged over those n examples, not over p(x). Within
the linear family of Section IV.B (encoder mu = W x + b, a constant diagonal variance, decoder D z + b_D, unit
variances), the maximum of that average depends on the data only through its mean and its sample covariance
S = (1/n) sum (x - xbar)(x - xbar)^T: it is the closed form of the general model (:mod:`numerics.optimum`) with
Sigma_x = S. So ``gap_to_linear_optimum`` = (trained objective) - (this optimum), nats per example, says how far a
network is from what a perfectly trained linear network reaches on the same data: positive where the deep network
beats the linear family (a nonlinear encoder and decoder can memorise a finite training set), negative where it
has not reached it.

Besides the objective and its terms, the linear optimum's TIE against the true posterior p(s|x) (eq. 19) is
evaluated on the same examples, gauge-aligned as the networks' are (:func:`deep.betavae.tie.true_inference_error`).

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> A = np.array([[2.0, 0.3], [0.1, 1.0], [0.0, 0.5]])
>>> x = rng.standard_normal((4000, 2)) @ A.T + rng.standard_normal((4000, 3))
>>> y = linear_optimum(x, 2, [1.0, 10.0], observed=x, A=A)
>>> bool(y.kl[1] == 0.0), bool(y.elbo[0] > y.elbo[1])          # every unit collapses at beta = 10 > lambda_max
(True, True)
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, replace

import numpy as np

from numerics.data_spectrum import DataSpectrum
from numerics.optimum import general_terms, optimum_parameters

from .tie import true_inference_error


@dataclass(frozen=True)
class LinearOptimum:
    """Per beta: the linear beta-VAE's optimal objective (6), ELBO, reconstruction, KL on the given examples, and
    its TIE against the true posterior (None without a truth)."""

    betas: np.ndarray
    objective: np.ndarray
    elbo: np.ndarray
    reconstruction: np.ndarray
    kl: np.ndarray
    tie: np.ndarray | None


def sample_spectrum(inputs: np.ndarray, k: int) -> DataSpectrum:
    """The top-k eigen-data of the sample covariance (1/n, mean removed) of ``inputs`` (n x N), with its mean."""
    X = np.asarray(inputs, dtype=float)
    mean = X.mean(axis=0)
    centred = X - mean
    S = centred.T @ centred / len(X)
    with warnings.catch_warnings():      # repeated or zero eigenvalues (blank canvas pixels) are expected here
        warnings.simplefilter("ignore")
        data = DataSpectrum.from_covariance(S, k)
    return replace(data, mean=mean)


def linear_optimum(inputs, k: int, betas, *, observed=None, A=None) -> LinearOptimum:
    """The linear beta-VAE's optimum on the examples ``inputs`` (n x N, what the network sees) at every beta; TIE
    when the observations ``observed`` (n x N_obs, the x of eq. 17) and the mixing matrix ``A`` are given."""
    data = sample_spectrum(inputs, k)
    betas = np.asarray(betas, dtype=float)
    rows = [general_terms(data, float(b)) for b in betas]
    tie = None
    if A is not None and observed is not None:
        X = np.asarray(inputs, dtype=float)
        tie = np.empty(len(betas))
        for i, b in enumerate(betas):
            opt = optimum_parameters(data, float(b))
            mu = X @ opt.W_mu.T + opt.b_mu[:, 0]
            var = np.tile(np.exp(opt.b_sigma[:, 0]), (len(X), 1))
            tie[i] = true_inference_error(mu, var, observed, A).tie
    return LinearOptimum(betas=betas, objective=np.array([t.objective for t in rows]),
                         elbo=np.array([t.elbo for t in rows]), reconstruction=np.array([t.reconstruction for t in rows]),
                         kl=np.array([t.kl for t in rows]), tie=tie)

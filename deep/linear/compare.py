"""Trained network vs closed form: the compared quantities, and the Monte-Carlo tolerance of path (b).

Compared quantities (relative error |trained - closed form| / max(|closed form|, 1), the maximum
over the entries of a vector):

========================  ==================================================  ====================
name                      trained network                                     closed form
========================  ==================================================  ====================
``dtd_eigenvalues``       spectrum of D^T D, descending                       d_i^2 = max(lambda_i - beta, 0)
``sigma_z``               exp(b_sigma), units by [D^T D]_ii descending        beta / (beta + d_i^2)
``w_sigma``               max abs W_sigma                                     0
``b_mu``, ``b_D``         max abs entry                                       0 (eq. 22)
``dtd_offdiagonal``       max abs off-diagonal of D^T D                       0 (orthogonal units)
``reconstruction``,       data-averaged, every constant (:mod:`deep.linear.metrics`)  ``closed_form_terms``
``kl``, ``elbo``,
``objective``,
``log_likelihood``,
``mie``, ``tie``
========================  ==================================================  ====================

``tie`` is gauge-aligned on both sides (minimised over signed permutations of the latents). For the general model
(:class:`deep.linear.metrics.LinearData`: any Sigma_x, noise, decoder and prior variances) the closed form is
:func:`numerics.optimum.optimum_parameters` and :func:`numerics.optimum.general_terms`, the log-likelihood that of
N(b_D, sigma_p^2 D D^T + sigma_d^2 I), and TIE is measured on z / sigma_p against the true posterior; with a
covariance there are no sources: ``tie`` is then None on both sides, with no relative error (:data:`NOT_DEFINED`).

Monte-Carlo tolerance of path (b) (:func:`mc_prediction`). Path (b)'s estimate is the maximiser of the objective
on ``n`` samples (the refinement's fresh sample, :mod:`deep.linear.refine`; without one, Adam's averaged
iterates over their last ``n`` samples). Near a non-degenerate optimum such an estimator is asymptotically Gaussian
with covariance H^-1 S H^-1 / n (Polyak & Juditsky 1992 for averaged iterates; the M-estimator sandwich for the
sample-average maximiser): H the Hessian of the exact objective at the closed-form optimum, S the covariance of the
per-sample gradient of the reparameterised estimator there (estimated by ``grad_samples`` per-sample gradients,
``torch.func.vmap``). To second order the sample-average maximiser is also biased by b / n
(:mod:`deep.linear.mc_bias`). Drawing parameter errors from N(b / n, H^-1 S H^-1 / n) and evaluating every quantity
exactly gives the predicted root-mean-square relative error of each quantity; an observed error is then reported
as z = observed / predicted. Measured against 80 brute-force replicates on N = 8 (beta = 2, n = 5000): rms ratios
0.83-1.07 over all quantities (tests/test_pathb_convergence.py). z >> 1 means the run is *not* at the optimum
within Monte-Carlo error (an unconverged optimiser, or Adam's average without the refinement: its jitter bias is
O(lr), not O(1/n)). Where the first-order prediction vanishes (the encoder of a unit when every unit has collapsed,
D = 0: its per-sample gradient is 0 at the optimum) the error is O(1/n) with a fluctuation the bias does not
describe: such quantities get no z. z sees the size of an error, not its sign: where the bias dominates an
entry its sign is compared as well (``bias_signs_agree``).

>>> import numpy as np
>>> from numerics.optimum import closed_form_optimum
>>> A = 0.5 * (np.ones((6, 2)) + np.eye(6, 2))
>>> ref = reference(A, 2.0)
>>> from deep.linear.metrics import trained_quantities
>>> c = compare(trained_quantities(ref.optimum, A, 2.0), ref)
>>> max(x.relative_error for x in c.values()) < 1e-12
True
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from numerics.model import Parameters, Terms
from numerics.optimum import Optimum, closed_form_optimum, closed_form_terms, general_terms, optimum_parameters

from .mc_bias import hessian_gradient_sum, second_order_bias, third_derivative_contraction
from .metrics import LinearData, TrainedQuantities, trained_quantities
from .network import DTYPE, exact_objective_flat, sample_data, sampled_objective, split

MC_Z_LIMIT = 6.0   # path (b) is "within Monte-Carlo error" when every z <= this (see the module docstring)
MC_PREDICTION_FLOOR = 1e-8   # a predicted rms relative error below this counts as "not predicted"
SCALARS = ("reconstruction", "kl", "elbo", "objective", "log_likelihood", "mie", "tie")
QUANTITIES = ("dtd_eigenvalues", "sigma_z", "w_sigma", "b_mu", "b_D", "dtd_offdiagonal") + SCALARS
SIGNED = ("dtd_eigenvalues", "sigma_z") + SCALARS     # quantities whose entries have a signed error
BIAS_DOMINATED = 3.0   # an entry whose predicted bias exceeds this many first-order sds: its sign is checked


@dataclass(frozen=True)
class QuantityComparison:
    trained: float | tuple | None
    closed_form: float | tuple | None
    relative_error: float | None            # None: the quantity is not defined for these data (NOT_DEFINED)


@dataclass(frozen=True)
class Reference:
    """The closed form at one beta: parameters and quantities."""

    optimum: Optimum
    terms: Terms


def reference(A, beta: float) -> Reference:
    """The closed form at ``beta`` for a mixing matrix A (the paper's model) or a :class:`LinearData`."""
    if not isinstance(A, LinearData):
        return Reference(closed_form_optimum(A, beta), closed_form_terms(A, beta))
    data = A.data_spectrum()
    return Reference(optimum_parameters(data, beta, A.variances), general_terms(data, beta, A.variances))


NOT_DEFINED = QuantityComparison(None, None, None)


def worst_error(comparisons: dict) -> float:
    """The largest relative error over the quantities that are defined."""
    return max(c.relative_error for c in comparisons.values() if c.relative_error is not None)


def _signed_relative(t: np.ndarray, c: np.ndarray) -> np.ndarray:
    return (t - c) / np.maximum(np.abs(c), 1.0)


def relative_error(trained, closed) -> float:
    t, c = np.atleast_1d(np.asarray(trained, float)), np.atleast_1d(np.asarray(closed, float))
    if t.shape != c.shape or not np.all(np.isfinite(t)):
        return math.inf
    return float(np.max(np.abs(_signed_relative(t, c))))


def signed_errors(comparisons: dict[str, QuantityComparison]) -> dict[str, np.ndarray]:
    """(trained - closed form) / max(|closed form|, 1) per entry of each :data:`SIGNED` quantity: the relative
    error with its sign (z sees only its size)."""
    out = {}
    for q in SIGNED:
        c = comparisons[q]
        if c.relative_error is None:
            continue
        t, r = np.atleast_1d(np.asarray(c.trained, float)), np.atleast_1d(np.asarray(c.closed_form, float))
        if t.shape == r.shape:
            out[q] = _signed_relative(t, r)
    return out


def same_sign(entry: dict) -> bool:
    """Whether a ``bias_dominated`` entry's observed error has the sign of its predicted bias (0 has neither)."""
    return entry["observed"] * entry["predicted_bias"] > 0


def _vector(x):
    return tuple(float(v) for v in np.asarray(x).ravel())


def compare(t: TrainedQuantities, ref: Reference) -> dict[str, QuantityComparison]:
    """Every quantity of :data:`QUANTITIES`: trained, closed form, relative error."""
    o = ref.optimum
    pairs = {
        "dtd_eigenvalues": (_vector(t.dtd_eigenvalues), _vector(o.d2)),
        "sigma_z": (_vector(t.sigma_z), _vector(np.exp(o.b_sigma))),
        "w_sigma": (t.w_sigma_max, 0.0),
        "b_mu": (t.b_mu_max, 0.0),
        "b_D": (t.b_D_max, 0.0),
        "dtd_offdiagonal": (t.dtd_offdiagonal, 0.0),
    }
    out = {name: QuantityComparison(tr, cf, relative_error(tr, cf)) for name, (tr, cf) in pairs.items()}
    for name in SCALARS:
        tr, cf = getattr(t.terms, name), getattr(ref.terms, name)
        # TIE without sources (a covariance): None on both sides; one side None alone is a bug, not a result
        out[name] = NOT_DEFINED if tr is None and cf is None else \
            QuantityComparison(float(tr), float(cf), relative_error(float(tr), float(cf)))
    return out


@dataclass(frozen=True)
class McPrediction:
    """Predicted rms relative error of each quantity for path (b)'s estimator from ``samples`` samples: ``rms`` to
    second order (the O(1/M) bias of :mod:`deep.linear.mc_bias` included), ``rms_first_order`` without it."""

    samples: int
    rms: dict
    hessian_bottom: float      # eigenvalue of the exact Hessian closest to 0 (degenerate near thresholds)
    grad_samples: int
    draws: int
    rms_first_order: dict | None = None
    bias_max: float = 0.0      # max |b| / samples over the parameters: the predicted second-order bias
    bias: np.ndarray | None = None   # b / samples, the flat parameters' predicted bias (None: first order)
    signed_mean: dict | None = None  # SIGNED quantity -> predicted mean signed error per entry (second order)
    signed_sd: dict | None = None    # SIGNED quantity -> its first-order standard deviation per entry


def flat_optimum(o: Optimum, device=None) -> torch.Tensor:
    """The closed-form parameters as one flat float64 vector in the torch module's order."""
    return torch.as_tensor(o.flatten(), dtype=DTYPE).to(device)


def mc_prediction(A, beta: float, samples: int, *, grad_samples: int = 20000, draws: int = 200,
                  seed: int = 0, device=None, second_order: bool = True) -> McPrediction:
    """Prediction of path (b)'s error for an estimator from ``samples`` samples: Gaussian with covariance
    H^-1 S H^-1 / samples (Polyak-Juditsky), centred with ``second_order`` on the optimum plus the O(1/samples)
    bias of :func:`deep.linear.mc_bias.second_order_bias` (the estimator the refinement computes).

    Needs the full Hessian: meant for n = :func:`numerics.model.parameter_count` up to a few thousand parameters.
    """
    A = np.asarray(A, float)
    N, k = A.shape
    ref = reference(A, beta)
    At = torch.as_tensor(A, dtype=DTYPE, device=device)
    theta = flat_optimum(ref.optimum, At.device)
    exact = lambda t: exact_objective_flat(t, At, beta)      # noqa: E731
    H = torch.func.hessian(exact)(theta)
    e, V = torch.linalg.eigh(0.5 * (H + H.T))
    scale = float(e.abs().max())
    inv = 1.0 / torch.where(e.abs() < 1e-12 * scale, -1e-12 * scale * torch.ones_like(e), e)
    Hinv = (V * inv) @ V.T

    def per_sample(t, x, eps):
        return sampled_objective(*split(t, N, k), x[None], eps[None], beta)
    grads = torch.func.vmap(torch.func.grad(per_sample), in_dims=(None, 0, 0))
    gen = torch.Generator(device=At.device).manual_seed(int(seed) + 7919)
    S = torch.zeros_like(H)
    hg = torch.zeros_like(theta)
    done, chunk = 0, 2000
    while done < grad_samples:
        b = min(chunk, grad_samples - done)
        x = sample_data(At, b, gen)
        eps = torch.randn(b, k, generator=gen, dtype=DTYPE, device=At.device)
        G = grads(theta, x, eps)
        S += G.T @ G
        if second_order:
            hg += hessian_gradient_sum(per_sample, theta, x, eps, G @ Hinv)
        done += b
    S /= grad_samples
    sigma1 = Hinv @ S @ Hinv
    bias = (second_order_bias(Hinv, hg / grad_samples, third_derivative_contraction(exact, theta, sigma1)) / samples
            if second_order else torch.zeros_like(theta))
    w, U = torch.linalg.eigh(0.5 * (sigma1 + sigma1.T) / samples)
    L = (U * torch.sqrt(torch.clamp(w, min=0.0))).cpu().numpy()
    rng = np.random.default_rng(seed)
    base, shift = theta.cpu().numpy(), bias.cpu().numpy()
    errs = {name: [] for name in QUANTITIES}
    errs1 = {name: [] for name in QUANTITIES}
    signed, signed1 = {name: [] for name in SIGNED}, {name: [] for name in SIGNED}
    for _ in range(draws):
        noise = L @ rng.standard_normal(L.shape[1])
        for centre, out, sout in ((base + shift, errs, signed), (base, errs1, signed1)) if second_order else \
                ((base, errs, signed),):
            p = Parameters.unflatten(centre + noise, N, k)
            comps = compare(trained_quantities(p, A, beta), ref)
            for name, c in comps.items():
                out[name].append(c.relative_error)
            for name, v in signed_errors(comps).items():
                sout[name].append(v)
    rms = {name: float(np.sqrt(np.mean(np.square(v)))) for name, v in errs.items()}
    rms1 = {name: float(np.sqrt(np.mean(np.square(v)))) for name, v in errs1.items()} if second_order else rms
    mean = {name: tuple(np.mean(v, axis=0)) for name, v in signed.items() if v}
    sd = {name: tuple(np.std(v, axis=0)) for name, v in (signed1 if second_order else signed).items() if v}
    return McPrediction(samples=int(samples), rms=rms, hessian_bottom=float(e[-1]), grad_samples=grad_samples,
                        draws=draws, rms_first_order=rms1, bias_max=float(np.abs(shift).max()),
                        bias=shift if second_order else None, signed_mean=mean if second_order else None,
                        signed_sd=sd)


def monte_carlo_z(comparisons: dict[str, QuantityComparison], prediction: McPrediction) -> dict:
    """z = observed / predicted rms relative error per quantity, and whether every z <= :data:`MC_Z_LIMIT`.

    Where the first-order prediction vanishes (below :data:`MC_PREDICTION_FLOOR`) there is no z. Entries whose
    predicted bias exceeds :data:`BIAS_DOMINATED` first-order standard deviations (the collapsed unit's variance) are
    listed in ``bias_dominated`` with their signed errors, and ``bias_signs_agree`` says whether each observed error
    has the predicted bias's sign (reported; it does not enter ``within_monte_carlo_error``).
    """
    # where the first-order prediction vanishes (encoder parameters when every unit has collapsed: their per-sample
    # gradient is exactly 0 at the optimum, they are noisy only through second-order coupling) there is no z: the
    # second-order prediction has the O(1/n) bias but not the O(1/n) fluctuation, which dominates there (measured on
    # the paper's problem at beta = 76.19, 2M samples: W_sigma 82x, b_mu 112x its bias alone)
    first = prediction.rms_first_order or prediction.rms
    z = {q: (comparisons[q].relative_error / prediction.rms[q] if first[q] > MC_PREDICTION_FLOOR else None)
         for q in QUANTITIES}
    zs = [v for v in z.values() if v is not None]
    # z is blind to the sign of an error; where the predicted bias dominates an entry, compare signs as well
    dominated = {}
    for q, observed in signed_errors(comparisons).items() if prediction.signed_mean else ():
        for i, (o, m, s) in enumerate(zip(observed, prediction.signed_mean[q], prediction.signed_sd[q])):
            if abs(m) > max(BIAS_DOMINATED * s, MC_PREDICTION_FLOOR):
                dominated[f"{q}[{i}]"] = {"observed": float(o), "predicted_bias": float(m), "first_order_sd": float(s)}
    agree = all(same_sign(v) for v in dominated.values())
    return {"samples_averaged": prediction.samples, "bias_dominated": dominated,
            "bias_signs_agree": agree if dominated else None, "predicted_rms_relative_error": prediction.rms, "z": z,
            "predicted_rms_first_order": prediction.rms_first_order, "predicted_bias_max": prediction.bias_max,
            "max_z": max(zs) if zs else None, "within_monte_carlo_error": bool(zs) and max(zs) <= MC_Z_LIMIT,
            "z_limit": MC_Z_LIMIT, "not_predicted": [q for q, v in z.items() if v is None],
            "method": "estimator ~ N(optimum + b / n, H^-1 S H^-1 / n): Polyak-Juditsky covariance, second-order bias b "
                      "(deep.linear.mc_bias)" if prediction.bias_max else
                      "Polyak-Juditsky: averaged iterates ~ N(optimum, H^-1 S H^-1 / n), first order"}


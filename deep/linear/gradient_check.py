"""The torch gradient of eq. (21) against the gradient generated from the SymPy derivation.

Two independent routes to the same gradient: torch autograd of :func:`deep.linear.network.exact_objective`
(written by hand in torch) and ``numerics.generated.grad_*`` (differentiated symbolically by SymPy
and printed as numpy code). They agree to rounding when both transcribe eq. (21) alike.

The generated gradients are those of the unit decoder and prior variances (any Sigma_x: a covariance or a noise
variance is only another Sigma_x). With other decoder or prior variances the second route is the complex-step
derivative of the generated general objective ``numerics.generated.objective_general`` along random directions,
d/dh Im f(theta + i h v) / h: no subtraction, so it is exact to rounding like a symbolic gradient (a finite
difference would stop at ~1e-8). Per parameter the error is then max |g_torch . v - complex step| / (|g_torch| |v|).

>>> from numerics.model import fig3_mixing
>>> check = gradient_check(fig3_mixing(), points=1)
>>> check["passed"], check["max_relative_error"] < 1e-12
(True, True)
>>> from numerics.variances import Variances
>>> from deep.linear.metrics import LinearData
>>> check = gradient_check(LinearData.from_mixing(fig3_mixing(), Variances(decoder=0.3, prior=4.0)), points=1)
>>> check["passed"], check["method"].startswith("complex step")
(True, True)
"""
from __future__ import annotations

import numpy as np
import torch

from numerics import generated as gen
from numerics.model import NAMES, Parameters

from .metrics import as_linear_data
from .network import DTYPE, DataFactor, exact_objective, torch_tensors

GRADIENT_TOL = 1e-10
DIRECTIONS = 3          # random directions per parameter and point for the complex-step route
COMPLEX_STEP = 1e-30


def gradient_check(A, points: int = 3, seed: int = 0, max_rows: int = 512, device=None) -> dict:
    """torch autograd gradient of eq. (21) vs ``numerics.generated.grad_*`` at random parameter points.

    ``A``: a mixing matrix (the paper's model) or a :class:`deep.linear.metrics.LinearData`. Per parameter:
    max |g_torch - g_generated| / max |g_generated| (complex-step route: see the module docstring). The generated
    code forms the N x N Sigma_x, so for N > ``max_rows`` the first ``max_rows`` rows of the factor of Sigma_x are
    used (its leading block; the check is of the formulas, any Sigma_x will do). Points: weights N(0, 1/fan_in),
    W_sigma N(0, 0.1^2/N), biases N(0, 0.3^2).
    """
    data = as_linear_data(A)
    B = data.B[:max_rows]
    N, k = B.shape[0], data.k
    Sigma = B @ B.T + data.noise * np.eye(N)
    variances = data.variances
    unit_model = variances.decoder == variances.prior == 1.0
    rng = np.random.default_rng(seed)
    factor = DataFactor(torch.as_tensor(B, dtype=DTYPE, device=device), data.noise, k)
    worst = {name: 0.0 for name in NAMES}
    for _ in range(points):
        beta = float(np.exp(rng.uniform(np.log(0.2), np.log(20))))
        point = Parameters(rng.normal(size=(k, N)) / np.sqrt(N), 0.3 * rng.normal(size=(k, 1)),
                           0.1 * rng.normal(size=(k, N)) / np.sqrt(N), 0.3 * rng.normal(size=(k, 1)),
                           rng.normal(size=(N, k)) / np.sqrt(k), 0.3 * rng.normal(size=(N, 1)))
        tensors = torch_tensors(point, factor.device, requires_grad=True)
        f = exact_objective(*tensors, factor, beta, variances)
        grads = torch.autograd.grad(f, tensors)
        for i, (name, g_t) in enumerate(zip(NAMES, grads)):
            g_t = g_t.detach().cpu().numpy().reshape(np.shape(point.arrays()[i]))
            if unit_model:
                g_g = np.asarray(getattr(gen, f"grad_{name}")(*point, Sigma, beta)).reshape(g_t.shape)
                diff = np.max(np.abs(g_t - g_g)) / max(np.max(np.abs(g_g)), 1e-300)
            else:
                diff = _complex_step_error(point, i, g_t, Sigma, beta, variances, rng)
            worst[name] = max(worst[name], float(diff))
    m = max(worst.values())
    out = {"points": points, "rows_of_A": N, "k": k, "per_parameter": worst, "max_relative_error": m,
           "tolerance": GRADIENT_TOL, "passed": bool(m <= GRADIENT_TOL),
           "method": "torch.autograd of deep.linear.network.exact_objective vs numerics.generated.grad_* (SymPy)"}
    if not unit_model:
        out["method"] = (f"complex step: torch.autograd of deep.linear.network.exact_objective along {DIRECTIONS} "
                         "random directions per parameter vs Im objective_general(theta + i h v) / h "
                         f"(numerics.generated, SymPy), h = {COMPLEX_STEP:g}")
    return out


def _complex_step_error(point: Parameters, i: int, g_t, Sigma, beta, variances, rng) -> float:
    arrays = [np.asarray(a, dtype=complex) for a in point.arrays()]
    scale = max(float(np.linalg.norm(g_t)), 1e-300)
    worst = 0.0
    for _ in range(DIRECTIONS):
        v = rng.normal(size=g_t.shape)
        v /= np.linalg.norm(v)
        shifted = list(arrays)
        shifted[i] = arrays[i] + 1j * COMPLEX_STEP * v
        value = gen.objective_general(*shifted, Sigma, beta, variances.decoder, variances.prior)
        derivative = float(np.imag(value)) / COMPLEX_STEP
        worst = max(worst, abs(float(np.sum(g_t * v)) - derivative) / scale)
    return worst

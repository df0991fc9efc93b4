"""The torch gradient of eq. (21) against the gradient generated from the SymPy derivation.

Two independent routes to the same gradient: torch autograd of :func:`deep.linear.network.exact_objective`
(written by hand in torch) and ``numerics.generated.grad_*`` (differentiated symbolically by SymPy
and printed as numpy code). They agree to rounding when both transcribe eq. (21) alike.

>>> from numerics.model import fig3_mixing
>>> check = gradient_check(fig3_mixing(), points=1)
>>> check["passed"], check["max_relative_error"] < 1e-12
(True, True)
"""
from __future__ import annotations

import numpy as np
import torch

from numerics import generated as gen
from numerics.model import NAMES, Parameters

from .network import DTYPE, exact_objective, torch_tensors

GRADIENT_TOL = 1e-10


def gradient_check(A, points: int = 3, seed: int = 0, max_rows: int = 512, device=None) -> dict:
    """torch autograd gradient of eq. (21) vs ``numerics.generated.grad_*`` at random parameter points.

    Per parameter: max |g_torch - g_generated| / max |g_generated|. The generated code forms the
    N x N Sigma_x, so for N > ``max_rows`` the first ``max_rows`` rows of A are used (the check is
    of the formulas, any A will do). Points: weights N(0, 1/fan_in), W_sigma N(0, 0.1^2/N), biases N(0, 0.3^2).
    """
    A = np.asarray(A, float)[:max_rows]
    N, k = A.shape
    Sigma = A @ A.T + np.eye(N)
    rng = np.random.default_rng(seed)
    At = torch.as_tensor(A, dtype=DTYPE, device=device)
    worst = {name: 0.0 for name in NAMES}
    for _ in range(points):
        beta = float(np.exp(rng.uniform(np.log(0.2), np.log(20))))
        point = Parameters(rng.normal(size=(k, N)) / np.sqrt(N), 0.3 * rng.normal(size=(k, 1)),
                           0.1 * rng.normal(size=(k, N)) / np.sqrt(N), 0.3 * rng.normal(size=(k, 1)),
                           rng.normal(size=(N, k)) / np.sqrt(k), 0.3 * rng.normal(size=(N, 1)))
        tensors = torch_tensors(point, At.device, requires_grad=True)
        f = exact_objective(*tensors, At, beta)
        grads = torch.autograd.grad(f, tensors)
        for name, g_t in zip(NAMES, grads):
            g_g = np.asarray(getattr(gen, f"grad_{name}")(*point, Sigma, beta)).reshape(tuple(g_t.shape))
            diff = np.max(np.abs(g_t.detach().cpu().numpy() - g_g)) / max(np.max(np.abs(g_g)), 1e-300)
            worst[name] = max(worst[name], float(diff))
    m = max(worst.values())
    return {"points": points, "rows_of_A": N, "k": k, "per_parameter": worst, "max_relative_error": m,
            "tolerance": GRADIENT_TOL, "passed": bool(m <= GRADIENT_TOL),
            "method": "torch.autograd of deep.linear.network.exact_objective vs numerics.generated.grad_* (SymPy)"}

"""The second-order (O(1/M)) bias of path (b)'s estimator: the maximiser of the objective on M samples.

Let F(theta) = E f(theta; xi) be the exact objective (eq. 21), F_M the mean of f over M independent samples and
theta_M its stationary point. Expanding grad F_M(theta_M) = 0 about the optimum theta* to second order
(Cox & Snell 1968 for maximum likelihood; Rilstone, Srivastava & Ullah, J. Econometrics 75, 1996, for M-estimators):

    E[theta_M] - theta* = b / M + o(1/M),   b = H^-1 ( E[h H^-1 g] - T[Sigma_1] / 2 ),   Sigma_1 = H^-1 S H^-1,

g and h the per-sample gradient and Hessian of f at theta*, H = E h (the exact Hessian), S = E g g^T, and
T[Sigma]_a = sum_bc d^3 F / dtheta_a dtheta_b dtheta_c Sigma_bc. The first term is the correlation of the sample
Hessian with the sample gradient, the second the curvature of the gradient along the estimator's spread. Where a
quantity's first-order noise vanishes (the variance exp(b_sigma) of a collapsed unit: its per-sample gradient and
its coupling to the decoder column D_i vanish with D_i = 0) this bias is its leading Monte-Carlo error; there b
pulls exp(b_sigma) towards beta / (beta + E|D_i|^2) < 1.

Worked by hand (a test): f = -theta / 2 - x^2 exp(-theta) / 2 with x ~ N(0, 1) (the log-variance of a Gaussian):
g = (x^2 - 1) / 2, h = -x^2 / 2, H = -1/2, S = 1/2, F''' = 1/2, so E[h H^-1 g] = 1, Sigma_1 = 2, T[Sigma_1] = 1 and
b = -2 (1 - 1/2) = -1: theta_M = log(mean x^2) is low by 1/M, as E log(chi^2_M / M) = -1/M + O(M^-2).

>>> import torch
>>> F = lambda t: -t[0] / 2 - torch.exp(-t[0]) / 2
>>> float(third_derivative_contraction(F, torch.zeros(1, dtype=torch.float64), torch.eye(1, dtype=torch.float64) * 2)[0])
1.0
"""
from __future__ import annotations

import torch


def hessian_gradient_sum(per_sample, theta: torch.Tensor, x: torch.Tensor, eps: torch.Tensor,
                         U: torch.Tensor) -> torch.Tensor:
    """sum_i h_i u_i over a chunk: per-sample Hessian-vector products (forward over reverse), u_i = H^-1 g_i the
    rows of ``U``; ``per_sample(theta, x_i, eps_i)`` is f for one sample."""
    def hvp(xi, ei, u):
        return torch.func.jvp(torch.func.grad(lambda t: per_sample(t, xi, ei)), (theta,), (u,))[1]
    return torch.func.vmap(hvp)(x, eps, U).sum(0)


def third_derivative_contraction(objective, theta: torch.Tensor, sigma: torch.Tensor,
                                 rel_tol: float = 1e-14) -> torch.Tensor:
    """T[Sigma]_a = d/dtheta_a tr(H(theta) Sigma) for a positive semidefinite ``sigma``: the gradient of
    sum_j w_j v_j^T H(theta) v_j over its eigenpairs (w_j, v_j), each term a second directional derivative."""
    w, V = torch.linalg.eigh(0.5 * (sigma + sigma.T))
    keep = w > rel_tol * float(w.abs().max())
    w, V = w[keep], V[:, keep]

    def second_directional(t, v):
        return torch.func.jvp(lambda s: torch.func.jvp(objective, (s,), (v,))[1], (t,), (v,))[1]

    def trace(t):
        return (w * torch.func.vmap(lambda v: second_directional(t, v))(V.T)).sum()
    return torch.func.grad(trace)(theta)


def second_order_bias(h_inverse: torch.Tensor, hg_mean: torch.Tensor, t_sigma: torch.Tensor) -> torch.Tensor:
    """b of the module docstring (the bias times M): H^-1 (E[h H^-1 g] - T[Sigma_1] / 2)."""
    return h_inverse @ (hg_mean - 0.5 * t_sigma)

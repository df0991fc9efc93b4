"""The full objective of the tractable beta-VAE as a function of one parameter vector: value, gradient, Hessian.

theta packs (W_mu, b_mu, W_sigma, b_sigma, D, b_D) as :func:`numerics.model.flatten` does; Sigma is
Sigma_x = A A^T + I. The objective is eq. (21) with its constants, averaged over the data.

* Gradient: ``numerics.generated.grad_*`` (printed from SymPy and pinned to it by other tests);
  it is the function whose roots :mod:`numerics.stationary` finds.
* Hessian: analytic (:func:`hessian`): the directional derivative of the gradient written out by
  hand and evaluated for all coordinate directions in one batched pass (~0.5 ms at n = 106).
  It is pinned to :func:`hessian_complex_step`, the Jacobian of the *generated* gradient by the
  complex step H[:, j] = Im g(theta + i h e_j) / h, h = 1e-30: the generated gradient is
  holomorphic in its arguments (only +, *, @, ``.T`` — a plain transpose, no conjugation —
  ``diagonal``, ``diagflat``, ``exp``), so there is no subtractive cancellation and the complex
  step is exact to rounding (truncation O(h^2) ~ 1e-60). Measured: analytic vs complex step
  ~4e-16 relative, complex-step asymmetry ~3e-16; against central second differences of
  ``generated.objective`` ~1e-7 (the accuracy of the finite differences).

>>> import numpy as np
>>> from numerics.model import flatten
>>> from numerics.optimum import closed_form_optimum
>>> A = 0.5 * (np.ones((3, 2)) + np.eye(3, 2)); Sigma = A @ A.T + np.eye(3)
>>> theta = flatten(closed_form_optimum(A, 0.5))
>>> float(np.linalg.norm(gradient(theta, Sigma, 0.5))) < 1e-12                  # the optimum is stationary
True
>>> H = hessian(theta, Sigma, 0.5)
>>> bool(np.allclose(H, hessian_complex_step(theta, Sigma, 0.5), rtol=0, atol=1e-12 * np.abs(H).max()))
True
"""
from __future__ import annotations

import numpy as np

from . import generated as gen
from .model import NAMES, flatten, latent_count, unflatten, unflatten_batch

COMPLEX_STEP = 1e-30


def _dims(theta, Sigma):
    N = Sigma.shape[0]
    return N, latent_count(np.asarray(theta).size, N)


def objective(theta, Sigma, beta) -> float:
    N, k = _dims(theta, Sigma)
    return gen.objective(*unflatten(theta, N, k), Sigma, beta)


def gradient(theta, Sigma, beta) -> np.ndarray:
    """The six generated gradients, flattened in ``NAMES`` order."""
    N, k = _dims(theta, Sigma)
    p = unflatten(theta, N, k)
    return flatten([getattr(gen, f"grad_{name}")(*p, Sigma, beta) for name in NAMES])


def hessian(theta, Sigma, beta) -> np.ndarray:
    """Analytic Hessian of the full objective (directional derivatives of the gradient, all at once).

    With R = I - D W_mu, e = D b_mu + b_D, s_i = [W_sigma Sigma W_sigma^T]_ii / 2 + b_sigma_i,
    E_i = exp(s_i), m_i = [D^T D]_ii the gradient is

        g_Wmu = D^T R Sigma - beta W_mu Sigma,     g_bmu = -beta b_mu - D^T e,      g_bD = -e,
        g_D = R Sigma W_mu^T - e b_mu^T - D diag(E),
        g_Wsigma_i = -(beta + m_i) E_i (Sigma W_sigma^T)_i / 2,   g_bsigma_i = beta/2 - (beta + m_i) E_i / 2,

    and its derivative along every coordinate direction is evaluated in one batched pass. Pinned
    to the complex-step Jacobian of the *generated* gradient (``hessian_complex_step``) by the tests.
    """
    theta = np.asarray(theta, dtype=float)
    N, k = _dims(theta, Sigma)
    W, b, V, c, D, bD = unflatten(theta, N, k)
    b, c, bD = b[:, 0], c[:, 0], bD[:, 0]
    n = theta.size
    dW, db, dV, dc, dD, dbD = unflatten_batch(np.eye(n), N, k)     # one coordinate direction per row
    R = np.eye(N) - D @ W
    e = D @ b + bD
    SV = V @ Sigma                                   # rows (Sigma v_i)^T
    E = np.exp(0.5 * np.einsum("ij,ij->i", SV, V) + c)
    m = np.einsum("ai,ai->i", D, D)
    dR = -(dD @ W + D @ dW)                          # (n, N, N)
    de = dD @ b + (db @ D.T) + dbD                   # (n, N)
    ds = np.einsum("ij,bij->bi", SV, dV) + dc        # (n, k)
    dE = E * ds
    dm = 2 * np.einsum("ai,bai->bi", D, dD)
    g_W = np.swapaxes(dD, 1, 2) @ R @ Sigma + D.T @ dR @ Sigma - beta * dW @ Sigma
    g_b = -beta * db - np.einsum("bai,a->bi", dD, e) - de @ D
    g_D = (dR @ Sigma @ W.T + R @ Sigma @ np.swapaxes(dW, 1, 2) - de[:, :, None] * b[None, None, :]
           - e[None, :, None] * db[:, None, :] - dD * E - D[None] * dE[:, None, :])
    g_bD = -de
    coef = dm * E + (beta + m) * dE                  # d[(beta + m_i) E_i]
    g_V = -0.5 * (coef[:, :, None] * SV[None] + ((beta + m) * E)[None, :, None] * (dV @ Sigma))
    g_c = -0.5 * coef
    H = np.concatenate([g_W.reshape(n, -1), g_b, g_V.reshape(n, -1), g_c, g_D.reshape(n, -1), g_bD], axis=1)
    return 0.5 * (H + H.T)


def hessian_complex_step(theta, Sigma, beta, h: float = COMPLEX_STEP) -> np.ndarray:
    """Jacobian of the *generated* gradient by the complex step (exact to rounding; n gradient calls)."""
    theta = np.asarray(theta, dtype=float)
    n = theta.size
    H = np.empty((n, n))
    z = theta.astype(complex)
    for j in range(n):
        z[j] += 1j * h
        H[:, j] = gradient(z, Sigma, beta).imag / h
        z[j] = theta[j]
    return H

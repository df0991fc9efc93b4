"""How long path (b) must run: its optimisation time constant, predicted from the Hessian at the optimum.

Near the optimum theta* the iterates of a preconditioned gradient method follow the linearised dynamics
delta_{t+1} = (I - lr P (-H)) delta_t (+ noise), H the Hessian of the exact objective (eq. 21) at theta*,
P a fixed positive diagonal. A mode decays as exp(-mu t) with mu an eigenvalue of P^(1/2) (-H) P^(1/2); the
slowest one sets the time constant tau = 1 / mu_min steps (for plain SGD, P = I: tau = 1 / (lr h_min)).
Adam is such a method once its second moments v have settled: its step is lr m / (sqrt(v) + eps), so
P = 1 / (sqrt(v) + eps); its momentum (an EMA, beta_1 = 0.9) leaves the slow rates unchanged. Here v is the
value it settles to *at* the optimum, E[g^2] = diag(S) / batch (S the per-sample gradient second moments of
the reparameterised estimator there, as in :func:`deep.linear.compare.mc_prediction`); coordinates whose
per-sample gradient vanishes there (the encoder of a collapsed unit) get v = 0, a very fast mode that does not
change mu_min. Measured on the paper's problem (N = 128, k = 2) after 2000 Adam steps at lr 1e-2: tau = 350
steps against 330 predicted at beta = 1.4375.

Zero modes: the objective has no continuous symmetry at a non-degenerate optimum (the latents' gauge is the
finite group of signed permutations: the diagonal Sigma_z and the closed-form KL break rotations), so -H has
no exact zero eigenvalue; ``zero_modes`` counts those below 1e-12 of the largest, to make a degenerate optimum
(beta on a collapse threshold, where the collapsing unit is flat to quartic order) visible. The smallest
eigenvalue of the paper's problem is the bias direction b_mu = delta, b_D = -D delta (it leaves the decoded
mean D b_mu + b_D alone, so only the prior's beta |b_mu|^2 / 2 holds it): h_min ~ beta / (1 + d_1^2),
0.0074 at beta = 0.5.

The rule (:func:`assess`): the Polyak-Juditsky prediction of path (b)'s error (:mod:`deep.linear.compare`)
holds when the averaging window spans many time constants at the rate actually run, so the learning-rate-
weighted length of the window, sum_t lr_t / lr over the averaged steps, must be >= ``WINDOW_TAUS`` tau; a
shorter window averages iterates that are still correlated with where the run entered it (unconverged).

>>> import numpy as np
>>> from deep.linear.train import SampledSettings
>>> A = 0.5 * (np.ones((8, 2)) + np.eye(8, 2))
>>> tc = assess(A, 2.0, SampledSettings(steps=4000, batch=64, lr=1e-2, decay_fraction=0.0, average_fraction=0.5))
>>> tc.zero_modes, tc.h_min > 0, tc.window_taus > WINDOW_TAUS, tc.converged
(0, True, True, True)
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import torch

from .compare import flat_optimum, reference
from .network import DTYPE, exact_objective_flat, sample_data, sampled_objective, split

WINDOW_TAUS = 10.0        # the averaging window must span this many time constants
ZERO_MODE_TOL = 1e-12     # relative to the largest eigenvalue of -H
ADAM_EPS = 1e-8           # torch.optim.Adam's default, as train_sampled runs it


@dataclass(frozen=True)
class TimeConstant:
    """The predicted time constant of one path (b) setting at one beta, and whether the run spans it."""

    beta: float
    h_min: float               # smallest eigenvalue of -H at the optimum (curvature of the flattest direction)
    h_max: float
    zero_modes: int            # eigenvalues of -H below ZERO_MODE_TOL h_max (none at a non-degenerate optimum)
    mu_min: float              # slowest rate per step of the preconditioned method at its peak learning rate
    tau_pred: float            # 1 / mu_min, steps
    steps: int
    window_steps: float        # sum of lr_t / lr over the averaged steps
    window_taus: float         # window_steps / tau_pred
    converged: bool            # window_taus >= WINDOW_TAUS
    preconditioner: str

    def to_json(self) -> dict:
        return {**asdict(self), "rule": f"averaging window >= {WINDOW_TAUS:g} tau (learning-rate weighted)"}


def exact_hessian(A, beta: float, device=None) -> tuple[torch.Tensor, torch.Tensor]:
    """(-H, theta*): minus the Hessian of eq. (21) at the closed-form optimum, symmetrised, and the optimum."""
    At = torch.as_tensor(np.asarray(A, float), dtype=DTYPE, device=device)
    theta = flat_optimum(reference(np.asarray(A, float), beta).optimum, At.device)
    H = torch.func.hessian(lambda t: exact_objective_flat(t, At, beta))(theta)
    return -0.5 * (H + H.T), theta


def adam_second_moment(A, beta: float, batch: int, grad_samples: int = 2000, seed: int = 0,
                       device=None) -> torch.Tensor:
    """What Adam's v settles to at the optimum: E[g^2] of a minibatch gradient = diag(S) / batch."""
    A = np.asarray(A, float)
    N, k = A.shape
    At = torch.as_tensor(A, dtype=DTYPE, device=device)
    theta = flat_optimum(reference(A, beta).optimum, At.device)
    per_sample = torch.func.vmap(torch.func.grad(
        lambda t, x, e: sampled_objective(*split(t, N, k), x[None], e[None], beta)), in_dims=(None, 0, 0))
    gen = torch.Generator(device=At.device).manual_seed(int(seed) + 104729)
    x = sample_data(At, grad_samples, gen)
    eps = torch.randn(grad_samples, k, generator=gen, dtype=DTYPE, device=At.device)
    return (per_sample(theta, x, eps) ** 2).mean(0) / batch


def slowest_rate(neg_hessian: torch.Tensor, preconditioner: torch.Tensor) -> float:
    """mu_min: the smallest eigenvalue of P^(1/2) (-H) P^(1/2) for a positive diagonal P."""
    r = preconditioner.sqrt()
    return float(torch.linalg.eigvalsh(r[:, None] * neg_hessian * r[None, :])[0])


def lr_weighted_steps(settings, start: int, stop: int) -> float:
    """sum of lr_t / lr over steps start .. stop - 1 of ``settings`` (a SampledSettings)."""
    return float(sum(settings.lr_at(t) for t in range(start, stop)) / settings.lr)


def assess(A, beta: float, settings, *, v: torch.Tensor | None = None, grad_samples: int = 2000,
           device=None) -> TimeConstant:
    """Predicted time constant of path (b)'s Adam phase as ``settings`` (a SampledSettings) runs it, and the window
    rule (with a refinement, Adam only has to reach the refinement's basin: its own convergence is recorded there).

    ``v``: Adam's second moments if measured; default :func:`adam_second_moment` at the optimum.
    """
    negH, _ = exact_hessian(A, beta, device)
    h = torch.linalg.eigvalsh(negH)
    h_max = float(h[-1])
    zero = int((h.abs() <= ZERO_MODE_TOL * h_max).sum())
    if v is None:
        v = adam_second_moment(A, beta, settings.batch, grad_samples, device=device)
    mu = slowest_rate(negH, settings.lr / (v.sqrt() + ADAM_EPS))
    tau = 1.0 / mu if mu > 0 else math.inf
    window = lr_weighted_steps(settings, settings.average_start, settings.steps)
    taus = window / tau
    return TimeConstant(beta=float(beta), h_min=float(h[0]), h_max=h_max,
                        zero_modes=zero, mu_min=mu, tau_pred=tau,
                        steps=settings.steps, window_steps=window, window_taus=taus,
                        converged=bool(taus >= WINDOW_TAUS),
                        preconditioner="Adam: lr / (sqrt(v) + eps), v = diag(S) / batch at the optimum")

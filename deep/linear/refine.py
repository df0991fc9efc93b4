"""Path (b)'s last phase: maximise the objective estimated on one fresh sample, by Newton's method.

Averaged stochastic-gradient iterates at a constant step keep a bias of the order of the step: the average of a
jittering iterate is not the optimum at second order (Dieuleveut, Durmus & Bach, "Bridging the gap between
constant step size stochastic gradient descent and Markov chains", Ann. Statist. 48, 2020). Measured on the
paper's problem at beta = 1.4375: the variance exp(b_sigma) of the collapsed unit tracks beta / (beta + |D_i|^2)
with the *fluctuating* decoder column D_i, 70 Monte-Carlo standard errors low after a preconditioned-SGD finish with
batches growing to 8192 (4.1M samples averaged).

The refinement removes that bias by changing the estimator, not the budget: it draws ``samples`` fresh pairs
(x, eps) once and solves the sample-average first-order condition grad F_M(theta) = 0 (F_M the mean of the
reparameterised objective over that fixed sample: sample-average approximation, an M-estimator) by damped Newton,
theta <- theta + P grad F_M(theta), started at the averaged SGD iterate, a step halved while it lowers F_M (from a
start far off, at small beta on small problems, undamped steps diverged). P = |H|^-1, H the exact
objective's Hessian at the current point, formed anew on every pass: it fixes the rate, not the answer, which
is determined by the sample alone (the fixed point has grad F_M = 0). Near the solution the rate is the spectral radius of
I - P (-H_M), H_M the sample Hessian: O(M^-1/2) away from a collapse threshold (measured at the optimum of the
paper's problem, scaled to M = 1e6: 0.10 at beta = 0.5, 0.07 at 1.4375). A Hessian kept fixed at Adam's end point
diverged at beta = 0.5 (Adam's average is ~50 standard errors off there): hence one per pass (45 ms). The sample is drawn in chunks
from its seed, kept in memory up to :data:`STORE_BYTES` (1e6 samples at N = 128: 1 GiB) and regenerated on every
pass beyond that.

The estimator's error is then Monte-Carlo error alone: Gaussian at first order with covariance H^-1 S H^-1 / M,
plus a second-order bias O(1/M) (:mod:`deep.linear.mc_bias`), which dominates where the first-order noise of a
quantity vanishes (the collapsed unit's variance).

>>> import torch
>>> from numerics.model import fig3_mixing
>>> from deep.linear.compare import flat_optimum, reference
>>> A = torch.tensor(fig3_mixing())
>>> theta = flat_optimum(reference(fig3_mixing(), 2.0).optimum) + 1e-3
>>> r = refine(theta, A, 2.0, RefineSettings(samples=200_000), seed=0)
>>> r.converged, r.passes <= 6, r.step_max[-1] < 1e-9
(True, True, True)
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from .network import exact_objective_flat, sample_data, sampled_objective, split

STORE_BYTES = 2 * 1024 ** 3   # a fresh sample up to this size is kept in memory between passes


@dataclass(frozen=True)
class RefineSettings:
    """The fresh sample's size, the chunk it is drawn in, and when damped Newton stops."""

    samples: int = 1_000_000
    chunk: int = 8192
    max_passes: int = 40         # passes over the sample in all, halved steps included (each pass costs one F_M)
    step_tol: float = 1e-10      # stop when max |step| <= step_tol (1 + max |theta|): the SAA solution's rounding


@dataclass(frozen=True)
class Refinement:
    """Where the refinement stopped: the SAA solution, each pass's max |step|, and whether it converged."""

    theta: torch.Tensor
    samples: int
    passes: int                  # passes over the sample (evaluations of F_M and its gradient)
    step_max: tuple[float, ...]
    converged: bool
    rate: float                  # observed contraction of max |step| over the last two passes (nan with < 2)
    backtracks: int = 0          # steps halved because they lowered the sample objective

    def record(self) -> dict:
        return {"method": "damped Newton on the objective of one fresh sample (sample-average approximation)",
                "preconditioner": "|H|^-1, H the exact objective's Hessian at each pass's point",
                "samples": self.samples, "passes": self.passes, "step_max": list(self.step_max),
                "converged": self.converged, "rate": self.rate, "backtracks": self.backtracks}


class FixedSample:
    """The fresh sample of one refinement: ``samples`` pairs (x, eps) drawn from ``seed`` in chunks, the same on
    every pass; kept in memory up to :data:`STORE_BYTES`, else regenerated from the seed on each pass."""

    def __init__(self, A: torch.Tensor, samples: int, seed: int, chunk: int = 8192):
        self.A, self.samples, self.seed, self.chunk = A, int(samples), int(seed), int(chunk)
        N, k = A.shape
        self.stored = self.samples * (N + k) * A.element_size() <= STORE_BYTES
        self._chunks = list(self._draw()) if self.stored else None
        self.passes = 0                 # evaluations of F_M and its gradient: one pass over the sample each

    def _draw(self):
        k = self.A.shape[1]
        gen = torch.Generator(device=self.A.device).manual_seed(self.seed)
        done = 0
        while done < self.samples:
            b = min(self.chunk, self.samples - done)
            x = sample_data(self.A, b, gen)
            yield x, torch.randn(b, k, generator=gen, dtype=self.A.dtype, device=self.A.device)
            done += b

    def chunks(self):
        return iter(self._chunks) if self.stored else self._draw()

    def value_and_gradient(self, theta: torch.Tensor, beta: float) -> tuple[float, torch.Tensor]:
        """(F_M(theta), grad F_M(theta)): the mean reparameterised objective over the sample and its gradient."""
        N, k = self.A.shape
        t = theta.detach().requires_grad_(True)
        total, value = torch.zeros_like(theta), 0.0
        self.passes += 1
        for x, eps in self.chunks():
            f = sampled_objective(*split(t, N, k), x, eps, beta)
            (g,) = torch.autograd.grad(f, t)
            total += x.shape[0] * g
            value += x.shape[0] * float(f.detach())
        return value / self.samples, total / self.samples


def _preconditioner(theta: torch.Tensor, A: torch.Tensor, beta: float) -> torch.Tensor:
    """|H|^-1 at theta, H the exact objective's Hessian (eigenvalues in absolute value: saddle-free)."""
    negH = -torch.func.hessian(lambda t: exact_objective_flat(t, A, beta))(theta)
    w, V = torch.linalg.eigh(0.5 * (negH + negH.T))
    w = w.abs().clamp(min=1e-12 * float(w.abs().max()))
    return (V / w) @ V.T


def refine(theta: torch.Tensor, A: torch.Tensor, beta: float, settings: RefineSettings, seed: int) -> Refinement:
    """Solve grad F_M = 0 on one fresh sample of ``settings.samples`` pairs from ``theta`` (module docstring)."""
    s = settings
    sample = FixedSample(A, s.samples, seed, s.chunk)
    theta = theta.detach().clone()
    steps: list[float] = []
    converged, backtracks = False, 0
    f, g = sample.value_and_gradient(theta, beta)
    while sample.passes < s.max_passes:
        step = _preconditioner(theta, A, beta) @ g
        size = float(step.abs().max())
        if not math.isfinite(size):
            break
        if size <= s.step_tol * (1.0 + float(theta.abs().max())):
            steps.append(size)
            converged = True
            break
        # damped Newton: a step that lowers F_M (beyond its rounding) is halved, each try one pass
        accepted = False
        while sample.passes < s.max_passes:
            f_new, g_new = sample.value_and_gradient(theta + step, beta)
            if f_new >= f - 1e-12 * (1.0 + abs(f)):
                accepted = True
                break
            step, backtracks = 0.5 * step, backtracks + 1
        if not accepted:
            break                       # the pass budget ran out halving a step that lowers F_M: not converged
        theta, f, g = theta + step, f_new, g_new
        steps.append(float(step.abs().max()))
    rate = steps[-1] / steps[-2] if len(steps) >= 2 and steps[-2] > 0 else math.nan
    return Refinement(theta=theta, samples=int(s.samples), passes=sample.passes, step_max=tuple(steps),
                      converged=converged, rate=float(rate), backtracks=backtracks)


def refine_seed(seed: int) -> int:
    """The fresh sample's seed for a run seeded ``seed``: apart from the initialisation's and the SGD stream's, and
    independent of beta, so that one seed's runs at every beta share one sample (common random numbers: their
    errors are correlated across beta; each run's z is about that run alone)."""
    return int(np.random.SeedSequence([int(seed), 2]).generate_state(1)[0])


"""Training the linear beta-VAE two ways: on the exact objective (path a) and on samples (path b).

Path (a), :func:`train_exact`, deterministic, float64:

1. L-BFGS (``torch.optim.LBFGS``, strong-Wolfe line search, history 100) on -eq. (21) from the
   small random initialisation of :meth:`LinearVAE.initialised`, until max|grad| <= ``switch_tol``
   (1e-3; 50-110 iterations on the paper's problem). L-BFGS alone is slow to finish: at the
   optimum of the paper's problem the Hessian's eigenvalues span 4390 (~lambda_1^2) down to
   ~0.007 (condition ~6e5 at beta = 0.5), and near |grad| ~ 1e-6 its line search stalls on the
   rounding of the objective (measured: thousands of iterations without getting below ~1e-6).
2. Second-order finish: damped Newton steps Delta = (-H + mu I)^-1 g (Levenberg-Marquardt trust
   region: mu = 0, i.e. Newton with quadratic convergence, while the Hessian is negative definite
   and the steps deliver what the quadratic model predicts; mu grows when a step fails or -H + mu I
   is not positive definite, an indefinite Hessian away from a stationary point), to max|grad| <=
   ``newton_tol`` (1e-13) or the rounding floor. For n <= ``NEWTON_MAX_PARAMS`` the exact Hessian
   (``torch.func.hessian``, ~45 ms at n = 900) is factored by Cholesky, and the factor is reused
   while pure Newton steps cut the gradient tenfold (the chord method). Saddle test, once max|grad|
   <= ``saddle_grad``: the Cholesky factorisation of -H exists iff H is negative definite; if not, a
   Hessian eigenvalue > ``eig_tol`` |lowest| means a *saddle* (the objective has many,
   :mod:`numerics.stationary`): the point is moved along that eigenvector (both signs tried, the
   step doubled while the objective improves) and L-BFGS restarts, counted in ``escapes``. Started
   exactly on each known stationary point of a 6 x 2 problem, every run ends at the maximum (a
   test); from the small random start no saddle was met on the paper's problem. Near a collapse
   threshold beta = lambda_i the optimum is degenerate (the collapsing unit is flat to quartic
   order): Newton converges only linearly there (~30 steps at beta = 1.25 and 66.25, measured) and
   ``kind`` is ``"degenerate"``.
   For n > ``NEWTON_MAX_PARAMS`` the same finish runs on Hessian-vector products (``torch.func.jvp``
   of the gradient): conjugate gradients solve the damped system (meeting non-positive curvature
   means -H + mu I is not positive definite), and the saddle test uses 80 Lanczos steps (Ritz
   values: a positive one proves a saddle, a negative one is evidence only; ``hessian_method`` says
   which; both Hessian operators are in :mod:`deep.linear.hessian_operators`). This path is slow on
   ill-conditioned problems: a random 300 x 3 matrix (eigenvalues of
   A^T A 100, 95, 90, so units nearly interchangeable; smallest Hessian eigenvalue ~1e-5 against
   ~1e4) converged at beta = 3 in 186 L-BFGS iterations + 149 steps (90 s) but not within 200
   steps at beta = 0.5 (the full Hessian, n = 3006, did: 123 steps, 150 s).

Path (b), :func:`train_sampled`: Adam on minibatches of fresh samples x = A s + eta with one
reparameterised draw per x; the learning rate is constant, then decays to 0 along a half cosine
over the last ``decay_fraction`` of the steps, and the iterates of the last ``average_fraction``
are averaged (Polyak averaging, as a practitioner would keep an EMA/SWA of the weights). Its
result carries Monte-Carlo noise and, at a finite budget, optimisation bias (see
:mod:`deep.linear.compare`). Adam's per-coordinate steps ignore the parameters' very different
scales (entries of W_mu ~ 0.01, of D ~ 0.7 on the paper's problem): lr 1e-2 was the best of
{3e-3, 1e-2} at 4000-20000 steps there.

Adam alone leaves a stationary bias: its normalised steps keep the iterates' jitter ~ lr whatever the batch, and
the average of a jittering iterate is not the optimum at second order (a preconditioned-SGD finish with growing
batches, tried before, left the collapsed unit's variance 70 Monte-Carlo standard errors low on the paper's
problem). With ``refine_samples > 0`` Adam's averaged iterate is refined on one fresh sample of that size: Newton's
method on that sample's objective (:mod:`deep.linear.refine`), so the result is the sample-average estimator,
whose error is Monte-Carlo error alone (:mod:`deep.linear.mc_bias` predicts its second-order part).

>>> import torch
>>> from numerics.problems import fig3_problem
>>> A = torch.tensor(fig3_problem().A)
>>> r = train_exact(A, beta=1.5, seed=0)
>>> r.kind, r.grad_norm < 1e-10
('maximum', True)

Any Sigma_x (:class:`deep.linear.network.DataFactor`) and the general model's decoder and prior variances:

>>> from numerics.variances import Variances
>>> from deep.linear.network import DataFactor
>>> r = train_exact(DataFactor.from_mixing(A, noise=0.5), 1.5, 0, variances=Variances(decoder=0.3, prior=4.0))
>>> r.kind, r.grad_norm < 1e-10
('maximum', True)
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import torch

from numerics.model import Parameters, parameter_count
from numerics.variances import UNIT, Variances

from .hessian_operators import DenseHessian, KrylovHessian
from .network import (DTYPE, DataFactor, LinearVAE, as_data, exact_objective_flat, sample_data, sampled_objective)
from .refine import RefineSettings, refine, refine_seed

NEWTON_MAX_PARAMS = 2500


@dataclass(frozen=True)
class ExactSettings:
    """Stopping rule and budget of path (a); see the module docstring."""

    switch_tol: float = 1e-3          # L-BFGS -> second-order finish (max |grad|)
    saddle_grad: float = 1e-6         # an indefinite Hessian at a smaller max |grad| is a saddle point
    grad_tol: float = 1e-10           # converged when max |grad| <= grad_tol at the end
    newton_tol: float = 1e-13         # the finish continues to here (or to the rounding floor)
    max_lbfgs_iter: int = 20000
    history_size: int = 100
    max_newton: int = 200
    max_escapes: int = 5
    eig_tol: float = 1e-9             # relative: a Hessian eigenvalue > eig_tol |lowest| is positive
    init_scale: float = 0.1


@dataclass(frozen=True)
class SampledSettings:
    """Budget of path (b): Adam steps, minibatch size, learning-rate schedule and the averaged final phase.

    The learning rate is ``lr`` for the first ``1 - decay_fraction`` of the steps, then decays to 0
    along a half cosine; the iterates of the last ``average_fraction`` of the steps are averaged.
    """

    steps: int = 4000
    batch: int = 256
    lr: float = 1e-2
    decay_fraction: float = 0.5
    average_fraction: float = 0.25
    init_scale: float = 0.1
    refine_samples: int = 0     # > 0: Adam's average refined on a fresh sample of this size (deep.linear.refine)

    @property
    def samples_averaged(self) -> int:
        """How many samples the returned estimate averages: what the Monte-Carlo prediction divides by (the
        refinement's fresh sample, else the averaged Adam steps' minibatches)."""
        if self.refine_samples > 0:
            return self.refine_samples
        return self.adam_samples_averaged

    @property
    def adam_samples_averaged(self) -> int:
        """The minibatch samples of the averaged Adam steps."""
        return (self.steps - self.average_start) * self.batch

    def lr_at(self, step: int) -> float:
        start = int(round(self.steps * (1 - self.decay_fraction)))
        if step < start:
            return self.lr
        return 0.5 * self.lr * (1 + math.cos(math.pi * (step - start) / max(self.steps - start, 1)))

    @property
    def average_start(self) -> int:
        return int(round(self.steps * (1 - self.average_fraction)))


@dataclass(frozen=True)
class ExactRun:
    """Outcome of path (a) for one beta and seed."""

    params: Parameters
    objective: float
    grad_norm: float           # max |grad| at the end
    lbfgs_iterations: int
    function_evaluations: int
    newton_steps: int
    escapes: int               # saddles detected and left
    hessian_top: float         # largest Hessian eigenvalue at the end (<= 0 at a maximum); nan if not computed
    hessian_bottom: float
    kind: str                  # "maximum", "degenerate", "saddle", "indefinite" (not stationary) or "unchecked"
    hessian_method: str        # "full" (n <= NEWTON_MAX_PARAMS) or "lanczos" (Ritz values, HVPs)
    converged: bool
    wall_time: float

    def optimiser_record(self) -> dict:
        """What the optimiser did and where it stopped (the JSON's ``optimiser``)."""
        return {"optimiser": "L-BFGS (strong Wolfe) + Newton finish", "lbfgs_iterations": self.lbfgs_iterations,
                "function_evaluations": self.function_evaluations, "newton_steps": self.newton_steps,
                "escapes": self.escapes, "grad_max": self.grad_norm, "hessian_top": self.hessian_top,
                "hessian_bottom": self.hessian_bottom, "hessian_method": self.hessian_method, "kind": self.kind,
                "converged": self.converged, "objective": self.objective}


@dataclass(frozen=True)
class SampledRun:
    """Outcome of path (b) for one beta and seed."""

    params: Parameters
    steps: int                 # Adam steps
    batch: int
    samples: int               # every sample drawn, both phases
    final_loss: float          # Adam's minibatch estimate of -objective over its last 100 steps (before any refinement)
    wall_time: float
    samples_averaged: int = 0  # samples the returned estimate averages (SampledSettings.samples_averaged)
    refinement: dict | None = None   # deep.linear.refine.Refinement.record(); {"skipped": why}; None if not asked

    @property
    def refined(self) -> bool:
        return bool(self.refinement) and "skipped" not in self.refinement

    def optimiser_record(self) -> dict:
        """What the optimiser did (the JSON's ``optimiser``)."""
        name = "Adam, averaged, then Newton on a fresh sample's objective" if self.refined else \
            "Adam, reparameterisation, averaged final phase"
        return {"optimiser": name, "steps": self.steps, "batch": self.batch, "samples": self.samples,
                "samples_averaged": self.samples_averaged, "final_loss": self.final_loss, "refinement": self.refinement}


def _lbfgs(theta, objective, s: ExactSettings, tol):
    opt = torch.optim.LBFGS([theta], lr=1, max_iter=s.max_lbfgs_iter, max_eval=2 * s.max_lbfgs_iter,
                            tolerance_grad=tol, tolerance_change=0.0, history_size=s.history_size,
                            line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = -objective(theta)
        loss.backward()
        return loss
    opt.step(closure)
    state = opt.state[theta]
    return int(state.get("n_iter", 0)), int(state.get("func_evals", 0))


def _grad(theta, objective):
    t = theta.detach().requires_grad_(True)
    f = objective(t)
    (g,) = torch.autograd.grad(f, t)
    return float(f.detach()), g


def _value(theta, objective):
    with torch.no_grad():
        return float(objective(theta))


def _escape(theta, v, objective, f0):
    """Leave a saddle along the ascent eigenvector v: both signs, step doubled while it pays."""
    best, best_f = theta, f0
    for sign in (1.0, -1.0):
        t = 1e-3 * (1.0 + float(theta.norm()))
        prev, prev_f = None, f0
        for _ in range(30):
            cand = theta + sign * t * v
            fc = _value(cand, objective)
            if not fc > prev_f:
                break
            prev, prev_f = cand, fc
            t *= 2
        if prev is not None and prev_f > best_f:
            best, best_f = prev, prev_f
    return best


def hessian_operator(A: torch.Tensor | DataFactor, beta: float,
                     variances: Variances = UNIT) -> DenseHessian | KrylovHessian:
    """The Hessian of eq. (21) at this data and beta: dense up to ``NEWTON_MAX_PARAMS`` parameters, else Krylov."""
    data = as_data(A, variances)
    objective = lambda t: exact_objective_flat(t, data, beta, variances)     # noqa: E731
    return DenseHessian(objective) if parameter_count(data.N, data.k) <= NEWTON_MAX_PARAMS else KrylovHessian(objective)


@dataclass(frozen=True)
class Finish:
    """Where one second-order finish stopped: at a saddle (with the direction to leave it by) or done."""

    saddle: bool
    theta: torch.Tensor
    newton_steps: int
    hessian_top: float                        # largest Hessian eigenvalue (Ritz value for "lanczos")
    hessian_bottom: float
    ascent_direction: torch.Tensor | None     # eigenvector of hessian_top at a saddle; None when done


def _second_order_finish(theta, objective, op, s: ExactSettings) -> Finish:
    """Damped Newton (Levenberg-Marquardt trust region) from an L-BFGS point.

    Steps Delta = (-H + mu I)^-1 g: mu = 0 (Newton, quadratic convergence) while the Hessian is
    negative definite and the steps deliver what the quadratic model predicts; mu grows (x4) when a
    step is rejected or -H + mu I is not positive definite (an indefinite Hessian away from a
    stationary point), and shrinks (/3) after good steps. Near stationarity (max|grad| <=
    ``saddle_grad``) the saddle test runs: a Hessian eigenvalue > eig_tol |lowest| means a saddle.
    """
    f, g = _grad(theta, objective)
    op.at(theta)
    mu, steps, tested, stale = 0.0, 0, False, False
    for _ in range(s.max_newton):
        gnorm = float(g.abs().max())
        if gnorm <= s.saddle_grad and not tested:
            tested = True                   # once per finish: the test is the expensive part for large n
            if not op.definite(g):
                top, bottom, v = op.extremes(vector=True)
                if top > s.eig_tol * abs(bottom):
                    return Finish(True, theta, steps, top, bottom, v)
        if gnorm <= s.newton_tol:
            break
        accepted = False
        for _trial in range(80):
            step = op.solve(g, mu)
            if step is None:
                mu = max(4 * mu, 1e-10 * op.scale)
                continue
            predicted = float(g @ step) + 0.5 * op.curvature(step)      # model increase, > 0
            fc, gc = _grad(theta + step, objective)
            actual = fc - f
            rounding = 1e-13 * (1.0 + abs(f))
            if actual >= 0.25 * predicted or (abs(actual) <= rounding and float(gc.abs().max()) < gnorm):
                accepted = True
                if actual >= 0.75 * predicted:
                    mu = mu / 3 if mu > 1e-12 * op.scale else 0.0
                break
            if abs(actual) <= rounding and abs(predicted) <= rounding:
                break                       # the rounding floor: no step can be told from no step
            mu = max(4 * mu, 1e-10 * op.scale)
        if not accepted:
            break
        contraction = float(gc.abs().max()) / gnorm
        theta, f, g = theta + step, fc, gc
        steps += 1
        # the chord method: keep the (factored) Hessian while pure Newton steps cut |grad| tenfold
        stale = mu == 0.0 and contraction <= 0.1 and op.factored
        if not stale:
            op.at(theta)
    if stale:
        op.at(theta)
    top, bottom, v = op.extremes()
    if top > s.eig_tol * abs(bottom) and float(g.abs().max()) <= s.saddle_grad:
        top, bottom, v = op.extremes(vector=True)
        return Finish(True, theta, steps, top, bottom, v)
    return Finish(False, theta, steps, top, bottom, None)


def train_exact(A: torch.Tensor | DataFactor, beta: float, seed: int, settings: ExactSettings = ExactSettings(),
                theta0: torch.Tensor | None = None, variances: Variances = UNIT) -> ExactRun:
    """Path (a): maximise eq. (21) from a small random start (or ``theta0``); L-BFGS, then a second-order finish.

    ``A``: a mixing matrix (Sigma_x = A A^T + sigma_eta^2 I with the noise variance of ``variances``) or any
    :class:`deep.linear.network.DataFactor`; ``variances``: the decoder and prior variances (the paper's by default).
    """
    t0 = time.perf_counter()
    s = settings
    data = as_data(A, variances)
    N, k, device = data.N, data.k, data.device
    objective = lambda t: exact_objective_flat(t, data, beta, variances)     # noqa: E731
    net = LinearVAE.initialised(N, k, seed, scale=s.init_scale, device=device)
    theta = net.flat().clone() if theta0 is None else theta0.detach().clone().to(device=device, dtype=DTYPE)
    iters = evals = newton = escapes = 0
    op = hessian_operator(data, beta, variances)
    while True:
        theta = theta.detach().requires_grad_(True)
        it, ev = _lbfgs(theta, objective, s, s.switch_tol)
        iters, evals = iters + it, evals + ev
        finish = _second_order_finish(theta.detach(), objective, op, s)
        theta, newton = finish.theta, newton + finish.newton_steps
        if not finish.saddle or escapes >= s.max_escapes:
            break
        escapes += 1
        theta = _escape(theta, finish.ascent_direction, objective, _value(theta, objective))
    top, bottom = finish.hessian_top, finish.hessian_bottom
    f, g = _grad(theta, objective)
    gnorm = float(g.abs().max())
    if math.isnan(top):
        kind = "unchecked"
    elif top > s.eig_tol * abs(bottom):
        kind = "saddle" if gnorm <= s.saddle_grad else "indefinite"    # the latter: stopped short, not stationary
    elif abs(top) <= 1e-11 * abs(bottom):
        kind = "degenerate"
    else:
        kind = "maximum"
    net.load_flat(theta)
    return ExactRun(params=net.as_parameters(), objective=f, grad_norm=gnorm, lbfgs_iterations=iters,
                    function_evaluations=evals, newton_steps=newton, escapes=escapes, hessian_top=top,
                    hessian_bottom=bottom, kind=kind, hessian_method=op.method,
                    converged=bool(gnorm <= s.grad_tol and kind in ("maximum", "degenerate")),
                    wall_time=time.perf_counter() - t0)


def train_sampled(A: torch.Tensor, beta: float, seed: int, settings: SampledSettings = SampledSettings()) -> SampledRun:
    """Path (b): Adam on fresh minibatches with the reparameterisation estimator, iterates averaged, then
    (``refine_samples > 0``) Newton on one fresh sample's objective (:func:`deep.linear.refine.refine`)."""
    t0 = time.perf_counter()
    s = settings
    N, k = A.shape
    net = LinearVAE.initialised(N, k, seed, scale=s.init_scale, device=A.device)
    # the data/noise stream gets its own generator, on the device, seeded apart from the initialisation
    gen = torch.Generator(device=A.device).manual_seed(int(np.random.SeedSequence([int(seed), 1]).generate_state(1)[0]))
    opt = torch.optim.Adam(net.parameters(), lr=s.lr)
    avg = torch.zeros_like(net.flat())
    n_avg = 0
    recent = []
    for step in range(s.steps):
        for group in opt.param_groups:
            group["lr"] = s.lr_at(step)
        x = sample_data(A, s.batch, gen)
        eps = torch.randn(s.batch, k, generator=gen, dtype=A.dtype, device=A.device)
        opt.zero_grad()
        loss = -sampled_objective(*net.tensors(), x, eps, beta)
        loss.backward()
        opt.step()
        if step >= s.average_start:
            avg += net.flat()
            n_avg += 1
        if step >= s.steps - 100:
            recent.append(float(loss.detach()))
    if n_avg:
        net.load_flat(avg / n_avg)
    samples, refinement, averaged = s.steps * s.batch, None, s.samples_averaged
    if s.refine_samples > 0 and parameter_count(N, k) > NEWTON_MAX_PARAMS:
        # each Newton pass forms the exact n x n Hessian (n^2 memory, n^3 eigendecomposition): not beyond the cap
        refinement = {"skipped": f"{parameter_count(N, k)} parameters (> {NEWTON_MAX_PARAMS}): the Newton refinement "
                                 "forms the dense Hessian; Adam's average is returned"}
        averaged = s.adam_samples_averaged
    elif s.refine_samples > 0:
        r = refine(net.flat(), A, beta, RefineSettings(samples=s.refine_samples), refine_seed(seed))
        net.load_flat(r.theta)
        samples, refinement = samples + s.refine_samples, r.record()
    return SampledRun(params=net.as_parameters(), steps=s.steps, batch=s.batch, samples=samples,
                      final_loss=float(np.mean(recent)) if recent else math.nan, wall_time=time.perf_counter() - t0,
                      samples_averaged=averaged, refinement=refinement)

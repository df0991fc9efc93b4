"""Cross-check: the linear beta-VAE of Section IV.B trained with torch against the closed form.

For each beta and seed the network of :mod:`deep.linear.network` is trained

* path ``"exact"`` (a): on eq. (21) with its constants, deterministically (L-BFGS + Newton finish
  with a saddle test, :func:`deep.linear.train.train_exact`);
* path ``"sampled"`` (b): on minibatches x = A s + eta with the reparameterisation estimator
  (Adam, then Newton on one fresh sample's objective, :func:`deep.linear.train.train_sampled`),

and every quantity of :data:`deep.linear.compare.QUANTITIES` is compared with
``numerics.optimum``'s closed form. The general model (:class:`deep.linear.metrics.LinearData`: a covariance, a noise
variance, decoder and prior variances) runs on path (a) only: path (b)'s sampler and minibatch objective
(``deep.linear.network.sample_data``, ``sampled_objective``) are those of the paper's model. ``max_relative_error`` is the largest relative error over all
quantities, betas and seeds of path (a); path (b) is reported per beta with its predicted
Monte-Carlo error (:func:`deep.linear.compare.mc_prediction`) and its predicted optimisation time constant
(:func:`deep.linear.time_constants.assess`), never in ``max_relative_error``.
The torch autograd gradient is compared with the gradient generated from SymPy
(:func:`deep.linear.gradient_check.gradient_check`).

What runs is a :class:`deep.linear.plan.CrosscheckPlan`; which plan the audit and the
commands run is decided in :mod:`deep.levels`. The betas are chosen by
:mod:`deep.linear.betas`, the result is a :class:`deep.linear.result.CrosscheckResult`,
its table :func:`deep.linear.report.format_result`.

Runs on CUDA when available, else on the CPU with one torch thread (these matrices are tiny: with
two threads on this two-core machine, under load from another process, a path (b) step was
measured 10x slower). float64 throughout; identical seeds give identical numbers.

>>> from numerics.model import fig3_mixing
>>> r = run_crosscheck(fig3_mixing(), [2.0], [0], paths=("exact",))
>>> r.max_relative_error < 1e-8, r.gradient_check["max_relative_error"] < 1e-10
(True, True)
>>> from numerics.variances import Variances
>>> from deep.linear.metrics import LinearData
>>> g = run_crosscheck(LinearData.from_mixing(fig3_mixing(), Variances(noise=0.5, prior=4.0)), [2.0], [0],
...                    paths=("exact",))
>>> g.max_relative_error < 1e-8, g.problem["variances"]["prior_variance"]
(True, 4.0)
"""
from __future__ import annotations

import sys
import time
from dataclasses import replace

import numpy as np
import torch

from numerics.artifacts import jsonable, versions
from numerics.model import parameter_count

from ..device import pick_device, torch_threads
from .betas import checked_betas, near_threshold, plan_betas, plan_sampled_betas
from .compare import MC_PREDICTION_FLOOR, MC_Z_LIMIT, QUANTITIES, compare, mc_prediction, monte_carlo_z, reference, worst_error
from .gradient_check import gradient_check
from .metrics import LinearData, trained_quantities
from .network import DTYPE, DataFactor
from .plan import PATHS, CrosscheckPlan, command_plan
from .result import CrosscheckRecord, CrosscheckResult
from .time_constants import assess
from .train import NEWTON_MAX_PARAMS, train_exact, train_sampled


def environment(device) -> dict:
    return {"versions": versions(), "dtype": "float64", "device": str(device),
            "torch_threads": torch.get_num_threads()}


def _seed_list(seeds, base: int = 0) -> tuple[int, ...]:
    if isinstance(seeds, (int, np.integer)):
        if seeds < 1:
            raise ValueError(f"seeds must be >= 1, got {seeds}")
        return tuple(range(int(base), int(base) + int(seeds)))
    out = tuple(int(s) for s in seeds)
    if not out:
        raise ValueError("no seed given")
    return out


def run_crosscheck(A, betas=None, seeds=None, *, paths=PATHS, quick: bool = False, plan: CrosscheckPlan | None = None,
                   seed: int = 0, sampled_steps: int | None = None, refine_samples: int | None = None, device=None,
                   progress: bool = False) -> CrosscheckResult:
    """Train the linear model on both paths and compare it with the closed form.

    ``A``: a mixing matrix (the paper's model) or a :class:`deep.linear.metrics.LinearData` (path (a) only unless it
    is the paper's model).
    ``betas``: iterable of beta > 0, or None for the plan's (:func:`deep.linear.betas.default_betas` of A).
    ``seeds``: an int S (seeds ``seed .. seed + S - 1``) or an iterable of seeds; None: the plan's.
    ``plan``: a :class:`CrosscheckPlan` (default :func:`deep.linear.plan.command_plan` of ``quick``);
    explicit ``betas`` / ``seeds`` / ``paths`` override it. Path (b) runs on ``plan.sampled_betas``
    (``"subset"``: :func:`deep.linear.betas.sampled_betas`; ``"all"``; every beta when ``betas`` is
    given) with the first ``plan.sampled_seeds`` seeds; ``sampled_steps`` overrides its number of Adam steps,
    ``refine_samples`` the size of its refinement's fresh sample (0: no refinement).
    Raises ValueError on bad input.
    """
    t0 = time.perf_counter()
    if isinstance(A, LinearData):
        data = A
        A = data.mixing if data.is_paper_model else data
    else:
        A = np.asarray(A, dtype=float)
        if A.ndim != 2 or A.shape[1] > A.shape[0] or not np.all(np.isfinite(A)):
            raise ValueError(f"mixing matrix must be a finite N x k array with k <= N, got shape {A.shape}")
        data = LinearData.from_mixing(A)
    plan = plan if plan is not None else command_plan(quick)
    paths = tuple(paths)
    if not paths or any(p not in PATHS for p in paths):
        raise ValueError(f"paths must be a non-empty subset of {PATHS}, got {paths}")
    if "sampled" in paths and not data.is_paper_model:
        raise ValueError("path (b) (sampled) runs only on the paper's model (a mixing matrix, unit variances): its "
                         "sampler and minibatch objective know no other Sigma_x or variances")
    user_betas = betas is not None
    betas = checked_betas(betas) if user_betas else plan_betas(plan.betas, A)
    seed_list = _seed_list(seeds, seed) if seeds is not None else tuple(plan.seeds)
    if "sampled" in paths:
        s_betas = betas if user_betas else plan_sampled_betas(plan.sampled_betas, betas, A)
        s_seeds = seed_list[:plan.sampled_seeds] if plan.sampled_seeds else seed_list
    else:
        s_betas, s_seeds = (), ()
    if sampled_steps is not None:
        if int(sampled_steps) < 10:
            raise ValueError(f"sampled_steps must be >= 10, got {sampled_steps}")
        plan = replace(plan, sampled=replace(plan.sampled, steps=int(sampled_steps)))
    if refine_samples is not None:
        if int(refine_samples) < 0:
            raise ValueError(f"refine_samples must be >= 0, got {refine_samples}")
        plan = replace(plan, sampled=replace(plan.sampled, refine_samples=int(refine_samples)))
    plan = replace(plan, betas=betas, seeds=seed_list, paths=paths, sampled_betas=tuple(s_betas))
    dev = pick_device(device)
    N, k = data.N, data.k
    jobs = ([("exact", b, s) for b in betas for s in seed_list] if "exact" in paths else []) + \
           [("sampled", b, s) for b in s_betas for s in s_seeds]
    records = []
    # one thread on the CPU: see the module docstring
    with torch_threads(1 if dev.type == "cpu" else None):
        At = torch.as_tensor(data.B, dtype=DTYPE, device=dev)
        factor = DataFactor(At, data.noise, k)      # the paper's model: as_data(At), Sigma_x = A A^T + I
        grad = gradient_check(A, plan.gradient_points, seed=seed_list[0], device=dev)
        refs, predictions, constants = {}, {}, {}
        bar = _progress_bar(len(jobs), progress)
        for path, beta, s in jobs:
            ref = refs.setdefault(beta, reference(A, beta))
            t1 = time.perf_counter()
            run = (train_exact(factor, beta, s, plan.exact, variances=data.variances) if path == "exact"
                   else train_sampled(At, beta, s, plan.sampled))
            quantities = trained_quantities(run.params, A, beta)
            comps = compare(quantities, ref)
            monte = _monte_carlo(A, beta, plan, comps, predictions, dev, run) if path == "sampled" else None
            tc = _time_constant(A, beta, plan, constants, dev) if path == "sampled" else None
            records.append(CrosscheckRecord(
                path=path, beta=beta, seed=s, comparisons=comps,
                max_relative_error=worst_error(comps), optimiser=run.optimiser_record(),
                monte_carlo=monte,
                alignment=quantities.alignment,
                wall_time=time.perf_counter() - t1, time_constant=tc))
            bar.update(1)
        bar.close()
    exact = [r.max_relative_error for r in records if r.path == "exact"]
    t = data.collapse_thresholds()
    problem = {"N": N, "k": k, "collapse_thresholds": [float(x) for x in t],
               "near_threshold": list(near_threshold(betas, A))}
    if not data.is_paper_model:
        problem.update(sigma_x="A A^T + sigma_eta^2 I (mixing matrix)" if data.mixing is not None else
                       "covariance (no sources: TIE not defined)", variances=data.variances.to_json())
    return CrosscheckResult(
        max_relative_error=max(exact) if exact else None, records=tuple(records), gradient_check=grad,
        protocol={**jsonable(plan), "mc_z_limit": MC_Z_LIMIT}, wall_time=time.perf_counter() - t0,
        problem=problem,
        environment={**environment(dev), "seeds": list(seed_list)})


def _monte_carlo(A, beta, plan: CrosscheckPlan, comps, predictions: dict, dev, run) -> dict | None:
    """Path (b)'s z against the predicted Monte-Carlo error of the estimate ``run`` returned, from the samples it
    averages (one prediction per beta and sample count, cached in ``predictions``)."""
    if not plan.mc_prediction:
        return None
    N, k = A.shape
    if parameter_count(N, k) > NEWTON_MAX_PARAMS:
        return {"skipped": f"more than {NEWTON_MAX_PARAMS} parameters: the Hessian for the prediction is not formed"}
    n = run.samples_averaged
    if (beta, n) not in predictions:
        predictions[beta, n] = mc_prediction(A, beta, n, grad_samples=plan.mc_grad_samples, device=dev)
    pred = predictions[beta, n]
    out = monte_carlo_z(comps, pred)
    # the same errors against the first-order prediction alone: what the second-order bias explains
    first = [comps[q].relative_error / pred.rms_first_order[q] for q in QUANTITIES
             if pred.rms_first_order and pred.rms_first_order[q] > MC_PREDICTION_FLOOR]
    out["max_z_first_order"] = max(first) if first else None
    return out


def _time_constant(A, beta, plan: CrosscheckPlan, constants: dict, dev) -> dict | None:
    """Path (b)'s predicted time constant and the window rule (one per beta, cached in ``constants``); None
    without a Monte-Carlo prediction (the Hessian and gradient moments cost about as much)."""
    N, k = A.shape
    if not plan.mc_prediction or parameter_count(N, k) > NEWTON_MAX_PARAMS:
        return None
    if beta not in constants:
        constants[beta] = assess(A, beta, plan.sampled, device=dev).to_json()
    return constants[beta]


def _progress_bar(total: int, enabled: bool):
    from tqdm import tqdm
    return tqdm(total=total, desc="crosscheck", file=sys.stderr, leave=False,
                disable=not (enabled and sys.stderr.isatty()))

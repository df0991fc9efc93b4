"""Path (b)'s optimisation time constant (deep/linear/time_constants.py) against measured decays.

Independent route: the predicted rate is an eigenvalue of P^(1/2) (-H) P^(1/2); the measured one is the fitted
log-slope of |theta_t - theta*| in a deterministic run of the same update on the exact objective.
"""
import math

import numpy as np
import pytest
import torch

from deep.linear import crosscheck as cc
from deep.linear.compare import MC_Z_LIMIT
from deep.linear.network import exact_objective_flat
from deep.linear.plan import CrosscheckPlan, named_plan
from deep.linear.time_constants import (ADAM_EPS, WINDOW_TAUS, adam_second_moment, assess, exact_hessian,
                                        lr_weighted_steps, slowest_rate)
from deep.linear.train import SampledSettings, train_sampled
from numerics.problems import paper_problem

SMALL = 0.5 * (np.ones((8, 2)) + np.eye(8, 2))      # the paper's A at N = 8


def _fitted_rate(A, beta, lr, P, momentum, steps, seed=0):
    """Run theta += lr P m (m an EMA of the exact gradient when momentum > 0) from a perturbed optimum and fit
    the late log-slope of the distance to the optimum: the measured decay rate per step."""
    negH, theta_star = exact_hessian(A, beta)
    At = torch.tensor(A)
    grad = torch.func.grad(lambda t: exact_objective_flat(t, At, beta))
    g = torch.Generator().manual_seed(seed)
    theta = theta_star + 1e-4 * torch.randn(theta_star.shape, generator=g, dtype=theta_star.dtype)
    m = torch.zeros_like(theta)
    dist = []
    for _ in range(steps):
        gr = grad(theta)
        m = momentum * m + (1 - momentum) * gr if momentum else gr
        theta = theta + lr * P * m
        dist.append(float((theta - theta_star).norm()))
    t = np.arange(steps)
    late = slice(steps * 3 // 4, steps)
    slope = np.polyfit(t[late], np.log(dist[late]), 1)[0]
    return -slope, negH


def test_sgd_time_constant_is_one_over_lr_h_min():
    beta, lr = 1.5, 0.05     # h_min = 0.113, next 0.213: one mode dominates the late decay
    negH, _ = exact_hessian(SMALL, beta)
    h_min = float(torch.linalg.eigvalsh(negH)[0])
    tau = 1 / (lr * h_min)
    measured, _ = _fitted_rate(SMALL, beta, lr, torch.ones(negH.shape[0], dtype=negH.dtype), 0.0, int(20 * tau))
    assert measured == pytest.approx(lr * h_min, rel=0.05)
    assert slowest_rate(negH, lr * torch.ones(negH.shape[0], dtype=negH.dtype)) == pytest.approx(lr * h_min, rel=1e-10)


def test_adam_time_constant_with_its_settled_preconditioner():
    """Adam with its second moments frozen at their value at the optimum (diag(S) / batch) and its EMA momentum:
    the fitted decay rate is the predicted mu_min."""
    beta, lr, batch = 0.5, 1e-3, 64      # no collapsed unit: every per-sample gradient is noisy, v > 0
    v = adam_second_moment(SMALL, beta, batch)
    P = 1 / (v.sqrt() + ADAM_EPS)
    negH, _ = exact_hessian(SMALL, beta)
    mu = slowest_rate(negH, lr * P)
    measured, _ = _fitted_rate(SMALL, beta, lr, P, 0.9, int(min(20 / mu, 20000)))
    assert measured == pytest.approx(mu, rel=0.1)
    # the h_min of the bias direction b_mu = delta, b_D = -D delta: beta / (1 + d_1^2) at most (Rayleigh quotient)
    d1 = math.sqrt(np.linalg.eigvalsh(SMALL.T @ SMALL)[-1] - beta)
    assert float(torch.linalg.eigvalsh(negH)[0]) <= beta / (1 + d1 ** 2) * (1 + 1e-12)


def test_old_quick_setting_is_flagged_unconverged_and_a_long_window_is_not():
    """The 10000-step setting (lr 1e-2, cosine decay over 80%, last 20% averaged) at beta = 1.4375: its lr-weighted
    averaging window is ~100 steps against tau ~ 330 (can fail: a window >= 10 tau passes the same rule)."""
    A = paper_problem().A
    old = SampledSettings(steps=10000, batch=256, lr=1e-2, decay_fraction=0.8, average_fraction=0.2)
    tc = assess(A, 1.4375, old, grad_samples=1000)
    assert not tc.converged and tc.window_taus < 1
    # hand value of the window: 8000 steps of cosine from 1 to 0, the last quarter: 4000 (1/4 - sin(pi/4)/pi)
    assert tc.window_steps == pytest.approx(4000 * (0.25 - math.sin(math.pi / 4) / math.pi), rel=1e-3)
    assert 200 < tc.tau_pred < 600 and tc.zero_modes == 0
    long = SampledSettings(steps=int(30 * tc.tau_pred), batch=256, lr=1e-2, decay_fraction=0.0, average_fraction=0.5)
    assert lr_weighted_steps(long, long.average_start, long.steps) >= WINDOW_TAUS * tc.tau_pred


def test_sampled_max_z_in_the_json():
    A = SMALL
    plan = CrosscheckPlan(name="test", sampled=SampledSettings(steps=400, batch=64), gradient_points=1,
                          mc_grad_samples=1000)
    r = cc.run_crosscheck(A, [2.0], [0], plan=plan)
    doc = r.to_json()
    zs = [rec.monte_carlo["max_z"] for rec in r.by_path("sampled")]
    assert doc["sampled_max_z"] == max(zs) == r.sampled_max_z
    tc = [b for b in doc["per_beta"] if b["path"] == "sampled"][0]["time_constant"]
    assert tc["steps"] == 400 and tc["converged"] == (tc["window_taus"] >= WINDOW_TAUS)
    assert MC_Z_LIMIT == 6.0
    exact_only = cc.run_crosscheck(A, [2.0], [0], plan=plan, paths=("exact",))
    assert exact_only.to_json()["sampled_max_z"] is None
    assert named_plan("audit").mc_prediction is False


def test_preconditioned_finish_is_within_monte_carlo_error_on_a_small_problem():
    """Adam, then SGD preconditioned by |H|^-1 with growing batches (deep/linear/train.py): every quantity within
    Monte-Carlo error of the closed form (independent route: the closed form, and the Polyak-Juditsky rms for the
    samples the window actually averaged). Measured at beta = 1 (one collapsed unit), seeds 0-3: max z 1.7, 1.5,
    2.6, 1.3. Can fail: the same errors against the rms of 100x more samples exceed the limit."""
    beta = 1.0
    s = SampledSettings(steps=2000, batch=128, lr=1e-2, decay_fraction=0.5, finish_window=500, finish_eta=0.02,
                        finish_batches=(256, 512, 1024), finish_stage=100, finish_batch=4096)
    assert s.samples_averaged == 500 * 4096
    from deep.linear.compare import QUANTITIES, compare, mc_prediction, reference
    from deep.linear.metrics import trained_quantities
    pred = mc_prediction(SMALL, beta, s.samples_averaged, grad_samples=5000)
    tight = mc_prediction(SMALL, beta, 100 * s.samples_averaged, grad_samples=5000)
    ref = reference(SMALL, beta)
    for seed in (0, 1):
        run = train_sampled(torch.tensor(SMALL), beta, seed, s)
        assert run.samples_averaged == s.samples_averaged and run.finish["window_steps"] == 500
        c = compare(trained_quantities(run.params, SMALL, beta), ref)
        z = {q: c[q].relative_error / pred.rms[q] for q in QUANTITIES if pred.rms[q] > 1e-8}
        assert max(z.values()) <= MC_Z_LIMIT, z
        assert max(c[q].relative_error / tight.rms[q] for q in z) > MC_Z_LIMIT
    tc = assess(SMALL, beta, s, grad_samples=500)
    assert tc.tau_pred == pytest.approx(1 / 0.02) and tc.window_taus == pytest.approx(10) and tc.converged

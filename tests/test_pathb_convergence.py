"""Path (b): its optimisation time constant (deep/linear/time_constants.py) against measured decays, its refined
estimate within Monte-Carlo error, and the second-order bias of that estimate (deep/linear/mc_bias.py) against brute
force and a hand-worked case.

Independent route for the time constants: the predicted rate is an eigenvalue of P^(1/2) (-H) P^(1/2); the measured
one is the fitted log-slope of |theta_t - theta*| in a deterministic run of the same update on the exact objective.
"""
import math

import numpy as np
import pytest
import torch

from deep.linear import crosscheck as cc
from deep.linear.compare import (MC_PREDICTION_FLOOR, MC_Z_LIMIT, QUANTITIES, compare, flat_optimum, mc_prediction,
                                 monte_carlo_z, reference)
from deep.linear.mc_bias import hessian_gradient_sum, second_order_bias, third_derivative_contraction
from deep.linear.metrics import trained_quantities
from deep.linear.network import exact_objective_flat, module_shapes
from deep.linear.refine import RefineSettings, refine
from deep.linear.plan import CrosscheckPlan, named_plan
from deep.linear.time_constants import (ADAM_EPS, WINDOW_TAUS, adam_second_moment, assess, exact_hessian,
                                        lr_weighted_steps, slowest_rate)
from deep.linear.train import SampledSettings, train_sampled
from numerics.model import Parameters
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


@pytest.mark.parametrize("beta", [0.05, 2.0])
def test_refined_estimate_is_within_monte_carlo_error_on_a_small_problem(beta):
    """Adam, then Newton on a fresh sample (deep/linear/refine.py): every quantity within Monte-Carlo error of the
    closed form (independent route: the closed form, and the second-order prediction for the refinement's sample
    size). beta = 2 has one collapsed unit, whose variance is off by the estimator's second-order bias alone; at
    beta = 0.05 Adam's 1000 steps end far off and undamped Newton steps diverged (measured max z 2.6 over beta 0.05,
    0.15, 1, 3, 7 and two seeds each). Can fail: the same errors against the prediction for 100x more samples
    exceed the limit."""
    M = 200_000
    s = SampledSettings(steps=1000, batch=128, lr=1e-2, decay_fraction=0.5, refine_samples=M)
    assert s.samples_averaged == M
    pred = mc_prediction(SMALL, beta, M, grad_samples=5000)
    tight = mc_prediction(SMALL, beta, 100 * M, grad_samples=5000)
    ref = reference(SMALL, beta)
    for seed in (0, 1):
        run = train_sampled(torch.tensor(SMALL), beta, seed, s)
        assert run.refinement["converged"] and run.refinement["samples"] == M
        c = compare(trained_quantities(run.params, SMALL, beta), ref)
        # z where the first-order noise is predicted (as crosscheck does); its denominator the full second-order rms
        z = {q: c[q].relative_error / pred.rms[q] for q in QUANTITIES if pred.rms_first_order[q] > MC_PREDICTION_FLOOR}
        assert max(z.values()) <= MC_Z_LIMIT, z
        assert max(c[q].relative_error / tight.rms[q] for q in z) > MC_Z_LIMIT
        # z is blind to signs: where the bias dominates, the observed error has its sign (the collapsed unit's
        # variance is low, as in the brute-force test below; the objective, a maximum, can only be lower)
        mc = monte_carlo_z(c, pred)
        assert mc["bias_signs_agree"] is not False, mc["bias_dominated"]
        assert c["objective"].trained <= c["objective"].closed_form     # the closed form is the global maximum
        if beta == 2.0:
            assert mc["bias_dominated"]["sigma_z[1]"]["predicted_bias"] < 0


def _offsets(N, k):
    out = [0]
    for shp in module_shapes(N, k):
        out.append(out[-1] + math.prod(shp))
    return out


def test_second_order_prediction_against_brute_force_replicates():
    """The predicted Monte-Carlo error of the sample-average estimator (deep/linear/compare.mc_prediction with the
    O(1/M) bias of deep/linear/mc_bias.py) against 80 independent refinements on M = 5000 samples each, started at
    the optimum (brute force). At beta = 2 unit 2 has collapsed: its log-variance b_sigma is biased low by 1.9e-3,
    about 15 standard errors of the mean of 80 replicates (measured with 200 replicates: -1.82e-3 +- 0.07e-3
    observed, 24 standard errors). The replicates' rms
    relative error of every quantity is within 0.83-1.07 of the prediction (measured). Can fail: the zero-bias
    (first-order) hypothesis is rejected."""
    beta, M, R = 2.0, 5000, 80
    N, k = SMALL.shape
    pred = mc_prediction(SMALL, beta, M, grad_samples=20000)
    ref = reference(SMALL, beta)
    theta = flat_optimum(ref.optimum)
    errs, quantity_errs = [], {q: [] for q in QUANTITIES}
    for r in range(R):
        t = refine(theta, torch.tensor(SMALL), beta, RefineSettings(samples=M, chunk=M, step_tol=1e-8), seed=1000 + r).theta
        errs.append((t - theta).numpy())
        for q, c in compare(trained_quantities(Parameters.unflatten(t.numpy(), N, k), SMALL, beta), ref).items():
            quantity_errs[q].append(c.relative_error)
    errs = np.array(errs)
    mean, se = errs.mean(0), errs.std(0, ddof=1) / math.sqrt(R)
    assert np.max(np.abs(mean - pred.bias) / se) < 4.5
    collapsed = _offsets(N, k)[3] + 1        # b_sigma of unit 2 (d_2^2 = max(1.25 - beta, 0) = 0)
    assert float(theta[collapsed]) == 0.0 and pred.bias[collapsed] < 0
    assert abs(mean[collapsed]) / se[collapsed] > 10        # first order (no bias) is refuted
    assert abs(mean[collapsed] - pred.bias[collapsed]) / se[collapsed] < 3
    ratios = {q: math.sqrt(np.mean(np.square(v))) / pred.rms[q] for q, v in quantity_errs.items()}
    assert all(0.7 < x < 1.4 for x in ratios.values()), ratios


def test_second_order_bias_by_hand_for_a_gaussian_log_variance():
    """mc_bias's formula on f = -theta / 2 - x^2 exp(-theta) / 2, x ~ N(0, 1): b = -1 worked by hand (module
    docstring), and the exact bias of log(mean x^2) is psi(M/2) - log(M/2) (log of a chi^2_M / M variable), -1/M to
    first order. Independent routes: the hand value and the digamma function."""
    from scipy.special import digamma
    g = torch.Generator().manual_seed(3)
    x = torch.randn(400_000, generator=g, dtype=torch.float64)
    theta = torch.zeros(1, dtype=torch.float64)
    per_sample = lambda t, xi, ei: -t[0] / 2 - xi ** 2 * torch.exp(-t[0]) / 2      # noqa: E731
    exact = lambda t: -t[0] / 2 - torch.exp(-t[0]) / 2                              # noqa: E731
    grads = (x ** 2 - 1) / 2
    H = torch.func.hessian(exact)(theta)
    Hinv = torch.linalg.inv(H)
    S = (grads ** 2).mean().reshape(1, 1)
    hg = hessian_gradient_sum(per_sample, theta, x, torch.zeros_like(x), (grads[:, None] @ Hinv)) / x.numel()
    b = second_order_bias(Hinv, hg, third_derivative_contraction(exact, theta, Hinv @ S @ Hinv))
    # the estimate's sampling sd over seeds is 0.007 (measured, 8 seeds): 5 sd
    assert float(b[0]) == pytest.approx(-1.0, abs=0.035)
    M = 1000
    assert float(b[0]) / M == pytest.approx(digamma(M / 2) - math.log(M / 2), rel=0.035)


def test_refinement_is_skipped_above_the_dense_hessian_cap():
    """Above NEWTON_MAX_PARAMS each Newton pass would form an n x n Hessian: the refinement is skipped, said so in
    the record, and the estimate's sample count is Adam's averaged minibatches (what the prediction would divide
    by). 300 x 4 has 3 * 300 * 4 (W_mu, W_sigma, D) + 300 (b_D) + 2 * 4 (b_mu, b_sigma) = 3908 > 2500 parameters."""
    from deep.linear.train import NEWTON_MAX_PARAMS
    from numerics.model import parameter_count
    N, k = 300, 4
    assert parameter_count(N, k) > NEWTON_MAX_PARAMS
    A = 0.5 * (np.ones((N, k)) + np.eye(N, k))
    s = SampledSettings(steps=20, batch=8, refine_samples=1000)
    run = train_sampled(torch.tensor(A), 1.0, 0, s)
    assert "skipped" in run.refinement and not run.refined
    assert run.samples_averaged == (20 - s.average_start) * 8 == 5 * 8
    assert run.optimiser_record()["optimiser"].startswith("Adam, reparameterisation")


def test_refinement_stops_at_its_pass_budget_unconverged():
    """Passes over the sample, halved steps included, never exceed max_passes; a run that has not met the step
    tolerance by then says converged = False (from a start 0.05 off at beta = 0.05 it needs 18, measured; on a
    20000-pair sample its rate is 0.5 and 40 passes do not suffice)."""
    A = torch.tensor(SMALL)
    theta = flat_optimum(reference(SMALL, 0.05).optimum)
    start = theta + 0.05 * torch.randn(theta.shape, generator=torch.Generator().manual_seed(0), dtype=theta.dtype)
    r = refine(start, A, 0.05, RefineSettings(samples=200_000, max_passes=3), seed=0)
    assert r.passes <= 3 and not r.converged
    full = refine(start, A, 0.05, RefineSettings(samples=200_000), seed=0)
    assert full.converged and full.passes <= RefineSettings().max_passes

"""The closed-form optimum against the generated general formulas (which know nothing of the closed form)."""
import itertools

import numpy as np
import pytest

from numerics import generated as gen
from numerics.optimum import closed_form_optimum, closed_form_terms


def _problem(seed, n=6, kk=3):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(n, kk)) * np.array([2.0, 1.2, 0.6])[:kk]
    return A, A @ A.T + np.eye(n)


def _betas(A):
    lam = 1 + np.linalg.svd(A, compute_uv=False) ** 2
    # below all thresholds, between two of them, at beta = 1, and above every one (all units collapse)
    return [0.3, 1.0, float(0.5 * (lam[0] + lam[1])), float(lam[0] + 1.0)]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_closed_form_is_stationary_for_the_generated_gradient(seed):
    A, S = _problem(seed)
    for beta in _betas(A):
        opt = closed_form_optimum(A, beta)
        for name in ("W_mu", "b_mu", "W_sigma", "b_sigma", "D", "b_D"):
            g = getattr(gen, f"grad_{name}")(*opt.arrays(), S, beta)
            assert np.max(np.abs(g)) < 1e-10, (name, beta, np.max(np.abs(g)))


@pytest.mark.parametrize("seed", [0, 1])
def test_closed_form_terms_equal_generated_objective_at_the_optimum(seed):
    A, S = _problem(seed)
    for beta in _betas(A):
        opt, t = closed_form_optimum(A, beta), closed_form_terms(A, beta)
        assert gen.objective(*opt.arrays(), S, beta) == pytest.approx(t.objective, rel=1e-12)
        assert gen.reconstruction(*opt.arrays(), S) == pytest.approx(t.reconstruction, rel=1e-12)
        assert gen.kl(*opt.arrays(), S) == pytest.approx(t.kl, rel=1e-12, abs=1e-12)
        # MIE by eq. (25) with (26): E_inv = D^T D + I, F = (D^T D + I)^-1 D^T
        Einv = opt.D.T @ opt.D + np.eye(A.shape[1])
        mie = gen.inference_error(opt.W_mu, opt.b_mu, opt.W_sigma, opt.b_sigma, S, Einv, np.linalg.solve(Einv, opt.D.T))
        assert mie == pytest.approx(t.mie, abs=1e-10)
        # and MIE = log-likelihood - ELBO (eq. 4 averaged)
        assert t.mie == pytest.approx(t.log_likelihood - t.elbo, abs=1e-10)


@pytest.mark.parametrize("seed", [0, 3, 4])
def test_gauge_aligned_tie_is_the_minimum_over_all_signed_permutations(seed):
    A, S = _problem(seed)
    kk = A.shape[1]
    Einv = A.T @ A + np.eye(kk)
    F = np.linalg.solve(Einv, A.T)
    for beta in _betas(A):
        opt, t = closed_form_optimum(A, beta), closed_form_terms(A, beta)
        best = np.inf
        for perm in itertools.permutations(range(kk)):
            for signs in itertools.product((1, -1), repeat=kk):
                Pi = np.zeros((kk, kk))
                Pi[list(perm), range(kk)] = signs
                tie = gen.inference_error(Pi @ opt.W_mu, opt.b_mu, opt.W_sigma, np.abs(Pi) @ opt.b_sigma, S, Einv, F)
                best = min(best, tie)
        assert t.tie == pytest.approx(best, rel=1e-10, abs=1e-10), beta
        Pi = np.zeros((kk, kk))
        Pi[list(t.permutation), range(kk)] = t.signs
        reported = gen.inference_error(Pi @ opt.W_mu, opt.b_mu, opt.W_sigma, np.abs(Pi) @ opt.b_sigma, S, Einv, F)
        assert reported == pytest.approx(best, rel=1e-10, abs=1e-10)


def test_closed_form_beats_random_perturbations():
    A, S = _problem(7)
    rng = np.random.default_rng(0)
    for beta in _betas(A):
        opt = closed_form_optimum(A, beta)
        best = gen.objective(*opt.arrays(), S, beta)
        for _ in range(50):
            moved = [p + 1e-3 * rng.normal(size=p.shape) for p in opt.arrays()]
            assert gen.objective(*moved, S, beta) < best

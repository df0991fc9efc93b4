"""The general model's optimum (numerics.optimum: any data, noise, decoder and prior variance) against a dense route.

Every expected value comes from verify/dense_gaussian.py, the model evaluated with N x N matrices from the Gaussian
algebra (written from the model's definition, not from numerics or the derivation), itself checked against Monte Carlo
here; TIE is minimised there by brute force over every signed permutation. What is compared: the terms of
general_terms with the dense terms at optimum_parameters; the optimum with perturbations and a complex-step gradient;
the variance rescalings the module docstrings state, at random parameters; beta = 0 with its limit and hand values.
"""
import dataclasses

import numpy as np
import pytest

from numerics.data_spectrum import DataSpectrum
from numerics.model import Parameters
from numerics.optimum import general_terms, optimum_parameters, unit_parameters
from numerics.variances import UNIT, Variances
from verify import dense_gaussian as dg

FIELDS = ("reconstruction", "kl", "elbo", "objective", "log_likelihood", "mie")


def _mixing(rng, N, k):
    # column scales in no particular order and random signs: the TIE alignment is not the identity
    A = rng.normal(size=(N, k)) * rng.permutation(np.geomspace(2.5, 0.6, k))
    return A


def _variances(rng):
    noise, decoder, prior = np.exp(rng.uniform(np.log(0.2), np.log(4.0), size=3))
    return Variances(noise=float(noise), decoder=float(decoder), prior=float(prior))


def _betas(data, v):
    """Below every collapse threshold, beta = 1, just below and just above the k-th and (k-1)-th thresholds
    (one unit collapsed), and above every threshold (all collapsed)."""
    t = data.lam / v.decoder            # unit i collapses for beta >= lambda_i / sigma_d^2
    return [0.05 * t[-1], 1.0, 0.97 * t[-1], 1.03 * t[-1], 0.5 * (t[-1] + t[-2]), 1.2 * t[0]]


def _dense_terms(theta, Sigma, beta, v):
    recon = dg.reconstruction(theta, Sigma, v.decoder)
    kl = dg.kl(theta, Sigma, v.prior)
    return {"reconstruction": recon, "kl": kl, "elbo": recon - kl, "objective": recon - beta * kl,
            "log_likelihood": dg.log_likelihood(theta, Sigma, v.decoder, v.prior),
            "mie": dg.mie(theta, Sigma, v.decoder, v.prior)}


def _assert_terms(t, dense, scale, where):
    for name in FIELDS:
        # relative 1e-10 of the problem's scale (KL and MIE may be 0 where the others are ~100)
        assert getattr(t, name) == pytest.approx(dense[name], rel=1e-10, abs=1e-10 * scale), (name, where)


def _random_theta(rng, N, k, scale=0.5):
    return (scale * rng.normal(size=(k, N)), scale * rng.normal(size=k), 0.3 * scale * rng.normal(size=(k, N)),
            scale * rng.normal(size=k), scale * rng.normal(size=(N, k)), scale * rng.normal(size=N))


# ---------------------------------------------------------------------------------------------- the dense route
def test_dense_evaluator_agrees_with_monte_carlo():
    """The route the other tests rest on, against sampling (x, then z ~ q(z|x)) at random parameters: W_sigma != 0,
    biases != 0, every variance != 1. 4e5 draws: each estimate is within 5 standard errors."""
    rng = np.random.default_rng(11)
    N, k, n = 3, 2, 400_000
    A, noise, sd2, sp2, beta = _mixing(rng, N, k), 0.7, 1.8, 0.6, 1.7
    Sigma = A @ A.T + noise * np.eye(N)
    theta = _random_theta(rng, N, k)
    W, bm, Ws, bs, D, bD = theta
    x = rng.standard_normal((n, k)) @ A.T + np.sqrt(noise) * rng.standard_normal((n, N))
    mu, logv = x @ W.T + bm, x @ Ws.T + bs
    z = mu + np.exp(logv / 2) * rng.standard_normal((n, k))
    resid = x - z @ D.T - bD
    recon = -N / 2 * np.log(2 * np.pi * sd2) - np.sum(resid ** 2, axis=1) / (2 * sd2)
    kl = 0.5 * np.sum((np.exp(logv) + mu ** 2) / sp2 - 1 - logv + np.log(sp2), axis=1)
    C = sp2 * D @ D.T + sd2 * np.eye(N)
    d = x - bD
    loglik = -0.5 * (N * np.log(2 * np.pi) + np.linalg.slogdet(C)[1] + np.sum(d * np.linalg.solve(C, d.T).T, axis=1))
    for sample, exact in ((recon, dg.reconstruction(theta, Sigma, sd2)), (kl, dg.kl(theta, Sigma, sp2)),
                          (recon - beta * kl, dg.objective(theta, Sigma, beta, sd2, sp2)),
                          (loglik, dg.log_likelihood(theta, Sigma, sd2, sp2))):
        assert abs(sample.mean() - exact) < 5 * sample.std() / np.sqrt(n), (sample.mean(), exact)
    # eq. (4) per x: log p(x) = ELBO(x) + KL(q || posterior), so MIE = log-likelihood - ELBO for any parameters
    assert dg.mie(theta, Sigma, sd2, sp2) == pytest.approx(
        dg.log_likelihood(theta, Sigma, sd2, sp2) - dg.reconstruction(theta, Sigma, sd2) + dg.kl(theta, Sigma, sp2),
        rel=1e-12)


# ---------------------------------------------------------------------------------------------- 1. terms
@pytest.mark.parametrize("seed, N, k", [(0, 5, 2), (1, 6, 3), (2, 7, 3), (3, 4, 4)])
def test_general_terms_equal_the_dense_terms_with_a_mixing_matrix(seed, N, k):
    rng = np.random.default_rng(seed)
    A = _mixing(rng, N, k)
    for v in (UNIT, _variances(rng), _variances(rng)):
        data = DataSpectrum.from_mixing(A, v.noise)
        Sigma = A @ A.T + v.noise * np.eye(N)
        for beta in _betas(data, v):
            t = general_terms(data, beta, v)
            theta = dg.as_theta(optimum_parameters(data, beta, v).arrays())
            dense = _dense_terms(theta, Sigma, beta, v)
            _assert_terms(t, dense, abs(dense["reconstruction"]), (seed, v, beta))
            assert t.mie == pytest.approx(t.log_likelihood - t.elbo, abs=1e-10 * abs(t.elbo))
            tie, perm, signs = dg.tie(theta, A, v.noise, v.prior)
            assert t.tie == pytest.approx(tie, rel=1e-10, abs=1e-10 * abs(dense["reconstruction"])), (v, beta)
            # the reported alignment attains the minimum (ties between alignments are possible, so not perm itself)
            Pi = np.zeros((k, k))
            Pi[list(t.permutation), range(k)] = t.signs
            assert dg.tie_at(theta, A, v.noise, v.prior, Pi) == pytest.approx(tie, rel=1e-10, abs=1e-10)


@pytest.mark.parametrize("seed", [0, 1])
def test_general_terms_equal_the_dense_terms_with_a_covariance(seed):
    """A covariance with no ground truth (no TIE), eigenvalues below 1, and a singular one (zero eigenvalues)."""
    rng = np.random.default_rng(100 + seed)
    N, k = 6, 3
    B = rng.normal(size=(N, N))
    X = rng.normal(size=(3, N)) * 0.4                   # 3 draws: the sample covariance has rank 2 < k
    for Sigma in (0.05 * B @ B.T, np.cov(X, rowvar=False, bias=True)):
        data = DataSpectrum.from_covariance(Sigma.copy(), k)
        assert data.mixing is None
        for v in (UNIT, dataclasses.replace(_variances(rng), noise=1.0)):   # Sigma_x already holds the noise
            t0 = general_terms(data, 0.3, v)
            assert t0.tie is None
            for beta in (0.01, 0.3, 1.0, 5.0):
                t = general_terms(data, beta, v)
                theta = dg.as_theta(optimum_parameters(data, beta, v).arrays())
                dense = _dense_terms(theta, Sigma, beta, v)
                _assert_terms(t, dense, abs(dense["reconstruction"]), (seed, v, beta))


def test_tie_with_a_repeated_eigenvalue_of_the_mixing_is_that_of_optimum_parameters():
    rng = np.random.default_rng(0)
    V, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    P, _ = np.linalg.qr(rng.normal(size=(4, 3)))
    A = P @ np.diag([2.0, 2.0, 1.0]) @ V.T             # A^T A = V diag(4, 4, 1) V^T
    data = DataSpectrum.from_mixing(A)
    theta = dg.as_theta(optimum_parameters(data, 1.0).arrays())
    # found (and fixed): TIE was computed in one basis of the repeated pair, the parameters in another (2.4002 against
    # 0.4400); over the rotations of the pair, all equally optimal, the dense TIE ranges over [0.313, 2.544], so TIE
    # must be that of the parameters returned, and the warning must say that it depends on the member
    assert general_terms(data, 1.0).tie == pytest.approx(dg.tie(theta, A, 1.0)[0], rel=1e-8)
    assert any("TIE is not" in w for w in data.warnings)


def test_unit_parameters_describe_optimum_parameters():
    """The per-unit gains (curve --parameters) against the parameter record, read back densely: decoder gain = column
    norm of D, encoder gain = row norm of W_mu, std from b_sigma; collapsed exactly where the decoder column is 0."""
    rng = np.random.default_rng(5)
    A = _mixing(rng, 6, 3)
    v = _variances(rng)
    data = DataSpectrum.from_mixing(A, v.noise)
    for beta in _betas(data, v):
        u, p = unit_parameters(data, beta, v), optimum_parameters(data, beta, v)
        assert np.allclose(np.linalg.norm(p.D, axis=0), u.decoder_gain, rtol=1e-12, atol=1e-14)
        assert np.allclose(np.linalg.norm(p.W_mu, axis=1), u.encoder_gain, rtol=1e-12, atol=1e-14)
        assert np.allclose(np.exp(p.b_sigma[:, 0] / 2), u.encoder_std, rtol=1e-12)
        assert np.array_equal(u.collapsed, np.linalg.norm(p.D, axis=0) == 0)
        assert np.array_equal(u.collapsed, data.lam <= beta * v.decoder)


# ---------------------------------------------------------------------------------------------- 2. an optimum
def _complex_step_gradient(theta, Sigma, beta, v, h=1e-30):
    """d objective / d theta to machine precision: Im f(theta + i h e_j) / h (no subtraction, no step error)."""
    flat = np.concatenate([np.ravel(p) for p in theta])
    shapes = [p.shape for p in theta]
    grad = np.empty(flat.size)
    for j in range(flat.size):
        z = flat.astype(complex)
        z[j] += 1j * h
        parts, pos = [], 0
        for shp in shapes:
            m = int(np.prod(shp))
            parts.append(z[pos:pos + m].reshape(shp))
            pos += m
        grad[j] = dg.objective(tuple(parts), Sigma, beta, v.decoder, v.prior).imag / h
    return grad


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_optimum_parameters_are_a_stationary_point_of_the_dense_objective(seed):
    rng = np.random.default_rng(20 + seed)
    N, k = 5, 3
    A = _mixing(rng, N, k)
    v = _variances(rng)
    data = DataSpectrum.from_mixing(A, v.noise)
    Sigma = A @ A.T + v.noise * np.eye(N)
    for beta in _betas(data, v):
        theta = dg.as_theta(optimum_parameters(data, beta, v).arrays())
        g = _complex_step_gradient(theta, Sigma, beta, v)
        scale = np.max(np.linalg.eigvalsh(Sigma)) / v.decoder + beta
        assert np.max(np.abs(g)) < 1e-11 * scale, (beta, np.max(np.abs(g)))
        # the route can fail: a shifted decoder gain is not stationary
        moved = (theta[0], theta[1], theta[2], theta[3], 1.01 * theta[4], theta[5])
        if np.any(theta[4]):
            assert np.max(np.abs(_complex_step_gradient(moved, Sigma, beta, v))) > 1e-4


@pytest.mark.parametrize("seed", [0, 1])
def test_no_perturbation_increases_the_dense_objective(seed):
    """The closed form is the global optimum: no point near it, nor any random point, does better."""
    rng = np.random.default_rng(30 + seed)
    N, k = 5, 3
    A = _mixing(rng, N, k)
    v = _variances(rng)
    data = DataSpectrum.from_mixing(A, v.noise)
    Sigma = A @ A.T + v.noise * np.eye(N)
    for beta in _betas(data, v):
        theta = dg.as_theta(optimum_parameters(data, beta, v).arrays())
        best = dg.objective(theta, Sigma, beta, v.decoder, v.prior)
        for size in (1e-4, 1e-2, 0.3):
            for _ in range(30):
                moved = tuple(p + size * rng.normal(size=p.shape) for p in theta)
                assert dg.objective(moved, Sigma, beta, v.decoder, v.prior) <= best + 1e-12 * abs(best), (beta, size)
        for _ in range(30):
            assert dg.objective(_random_theta(rng, N, k, 1.0), Sigma, beta, v.decoder, v.prior) < best


# ---------------------------------------------------------------------------------------------- 3. rescalings
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_decoder_variance_only_rescales_beta_at_any_parameters(seed):
    """(a) L(theta; beta, sd2) = L_unit(theta; beta sd2) / sd2 + (N/2) ln(2 pi) / sd2 - (N/2) ln(2 pi sd2)."""
    rng = np.random.default_rng(40 + seed)
    N, k = 5, 2
    A = _mixing(rng, N, k)
    Sigma = A @ A.T + 0.6 * np.eye(N)
    theta = _random_theta(rng, N, k, 1.0)
    beta, sd2, sp2 = rng.uniform(0.1, 5.0), rng.uniform(0.1, 5.0), rng.uniform(0.1, 5.0)
    lhs = dg.objective(theta, Sigma, beta, sd2, sp2)
    rhs = dg.objective(theta, Sigma, beta * sd2, 1.0, sp2) / sd2 + N / 2 * np.log(2 * np.pi) / sd2 \
        - N / 2 * np.log(2 * np.pi * sd2)
    assert lhs == pytest.approx(rhs, rel=1e-12)
    assert Variances(decoder=sd2).effective_beta(beta) == pytest.approx(beta * sd2, rel=1e-15)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_prior_variance_only_rescales_z_at_any_parameters(seed):
    """(b) L(theta; sp2) = L(theta~; 1), theta~ = (W_mu/sp, b_mu/sp, W_sigma, b_sigma - ln sp2, D sp, b_D); the
    log-likelihood is unchanged as well (MIE is then too)."""
    rng = np.random.default_rng(50 + seed)
    N, k = 5, 3
    A = _mixing(rng, N, k)
    Sigma = A @ A.T + 1.3 * np.eye(N)
    W, bm, Ws, bs, D, bD = _random_theta(rng, N, k, 1.0)
    beta, sd2, sp2 = rng.uniform(0.1, 5.0), rng.uniform(0.1, 5.0), rng.uniform(0.1, 5.0)
    sp = np.sqrt(sp2)
    unit = (W / sp, bm / sp, Ws, bs - np.log(sp2), D * sp, bD)
    assert dg.objective((W, bm, Ws, bs, D, bD), Sigma, beta, sd2, sp2) == pytest.approx(
        dg.objective(unit, Sigma, beta, sd2, 1.0), rel=1e-12)
    assert dg.log_likelihood((W, bm, Ws, bs, D, bD), Sigma, sd2, sp2) == pytest.approx(
        dg.log_likelihood(unit, Sigma, sd2, 1.0), rel=1e-12)
    assert dg.mie((W, bm, Ws, bs, D, bD), Sigma, sd2, sp2) == pytest.approx(dg.mie(unit, Sigma, sd2, 1.0), rel=1e-10)


def test_optimum_rescalings_plumbing():
    """optimum_parameters itself follows the two rescalings (the code against itself: plumbing)."""
    rng = np.random.default_rng(60)
    data = DataSpectrum.from_mixing(_mixing(rng, 6, 3), 0.8)
    beta, sd2, sp2 = 0.7, 2.3, 0.4
    general = optimum_parameters(data, beta, Variances(noise=0.8, decoder=sd2, prior=sp2))
    unit = optimum_parameters(data, beta * sd2, Variances(noise=0.8))
    sp = np.sqrt(sp2)
    expected = Parameters(W_mu=unit.W_mu * sp, b_mu=unit.b_mu * sp, W_sigma=unit.W_sigma,
                          b_sigma=unit.b_sigma + np.log(sp2), D=unit.D / sp, b_D=unit.b_D)
    for got, want in zip(general.arrays(), expected.arrays()):
        assert np.allclose(got, want, rtol=1e-13, atol=1e-15)


# ---------------------------------------------------------------------------------------------- 5. beta = 0
def test_beta_zero_is_the_limit():
    """KL, MIE and TIE are +inf; the objective (= the reconstruction) is the PCA reconstruction
    -(N/2) ln(2 pi sd2) - tail / (2 sd2) (hand value) and the log-likelihood is that of N(0, U_k diag(lambda) U_k^T
    + sd2 I) (dense, from Sigma's own eigen-decomposition); the terms at beta = 1e-6, 1e-9, 1e-12 converge to them."""
    rng = np.random.default_rng(70)
    N, k = 6, 3
    A = _mixing(rng, N, k)
    v = _variances(rng)
    data = DataSpectrum.from_mixing(A, v.noise)
    Sigma = A @ A.T + v.noise * np.eye(N)
    t0 = general_terms(data, 0.0, v)
    assert t0.kl == np.inf and t0.mie == np.inf and t0.tie == np.inf
    ev, U = np.linalg.eigh(Sigma)
    ev, U = ev[::-1], U[:, ::-1]
    pca = -N / 2 * np.log(2 * np.pi * v.decoder) - np.sum(ev[k:]) / (2 * v.decoder)
    C = U[:, :k] @ np.diag(ev[:k]) @ U[:, :k].T + v.decoder * np.eye(N)
    loglik = -0.5 * (N * np.log(2 * np.pi) + np.linalg.slogdet(C)[1] + np.trace(np.linalg.solve(C, Sigma)))
    assert t0.objective == pytest.approx(pca, rel=1e-12) and t0.reconstruction == pytest.approx(pca, rel=1e-12)
    assert t0.log_likelihood == pytest.approx(loglik, rel=1e-12)
    assert t0.elbo == -np.inf
    gaps = []
    for beta in (1e-6, 1e-9, 1e-12):
        t = general_terms(data, beta, v)
        dense = _dense_terms(dg.as_theta(optimum_parameters(data, beta, v).arrays()), Sigma, beta, v)
        gaps.append(max(abs(dense["objective"] - pca), abs(dense["log_likelihood"] - loglik)))
        for name in ("objective", "reconstruction", "log_likelihood"):
            assert getattr(t, name) == pytest.approx(dense[name], rel=1e-10)
    assert gaps[0] > gaps[1] > gaps[2] and gaps[2] < 1e-9 * abs(pca), gaps
    u = unit_parameters(data, 0.0, v)
    assert np.all(u.encoder_std == 0) and not np.any(u.collapsed)
    assert np.allclose(u.decoder_gain, np.sqrt(ev[:k] / v.prior), rtol=1e-12)


def test_beta_zero_with_zero_eigenvalues():
    """A zero eigenvalue carries nothing at beta = 0 (its unit is collapsed: q = p); the others' KL is infinite."""
    data = DataSpectrum.from_spectrum([4.0, 0.0, 0.0], k=2)
    t = general_terms(data, 0.0, Variances(prior=2.0))
    assert t.kl == np.inf and t.tie is None
    assert t.objective == pytest.approx(-1.5 * np.log(2 * np.pi), rel=1e-15)         # nothing is lost: tail = 0
    u = unit_parameters(data, 0.0, Variances(prior=2.0))
    assert u.encoder_std.tolist() == [0.0, pytest.approx(np.sqrt(2.0))] and u.collapsed.tolist() == [False, True]
    # all zero: a finite, fully collapsed model (the KL is 0, not inf)
    zero = general_terms(DataSpectrum.from_spectrum([0.0, 0.0], k=1), 0.0)
    assert zero.kl == 0.0 and zero.objective == pytest.approx(-np.log(2 * np.pi), rel=1e-15)

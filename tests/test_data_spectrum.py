"""DataSpectrum (numerics.data_spectrum) and Variances against independent routes, and their bad input.

The routes: numpy's dense eigvalsh / eigh of the N x N covariance (for the SVD of A and LAPACK's subset driver), the
draws of from_samples reproduced in the test with numpy.cov(bias=True), the finite-sample objective averaged over the
raw draws (no covariance formed), and files written in the test. Bad input: DataError / VarianceError naming the field,
one line.
"""
import os

import numpy as np
import pytest

from numerics.data_spectrum import DataError, DataSpectrum, load_covariance, parse_spectrum
from numerics.optimum import general_terms, optimum_parameters
from numerics.variances import VarianceError, Variances

TERMS = ("reconstruction", "kl", "elbo", "objective", "log_likelihood", "mie")


def _mixing(rng, N, k):
    return rng.normal(size=(N, k)) * np.geomspace(2.5, 0.6, k)


def _projector(U):
    return U @ U.T


def _dense_top(S, k):
    ev, U = np.linalg.eigh(S)
    return ev[::-1][:k], float(np.sum(ev[::-1][k:])), U[:, ::-1][:, :k]


# ---------------------------------------------------------------------------------------------- 4. three inputs
@pytest.mark.parametrize("seed, N, k, noise", [(0, 6, 2, 1.0), (1, 8, 3, 0.3), (2, 5, 5, 2.5)])
def test_mixing_covariance_and_spectrum_agree(seed, N, k, noise):
    rng = np.random.default_rng(seed)
    A = _mixing(rng, N, k)
    S = A @ A.T + noise * np.eye(N)
    lam, tail, U = _dense_top(S, k)
    m = DataSpectrum.from_mixing(A, noise)
    c = DataSpectrum.from_covariance(S.copy(), k)
    s = DataSpectrum.from_spectrum(np.linalg.eigvalsh(S), k)
    for d in (m, c, s):
        assert np.allclose(d.lam, lam, rtol=1e-12) and d.tail == pytest.approx(tail, rel=1e-12, abs=1e-12 * lam[0])
        assert (d.N, d.k) == (N, k) and d.trace == pytest.approx(np.trace(S), rel=1e-12)
    for d in (m, c):       # eigenvectors: the same top-k subspaces, one eigenvector at a time (distinct eigenvalues)
        for i in range(k):
            assert np.allclose(_projector(d.vectors[:, i:i + 1]), _projector(U[:, i:i + 1]), atol=1e-10)
    assert s.vectors is None and c.mixing is None and s.mixing is None and m.mixing is not None and m.noise == noise
    v = Variances(noise=noise, decoder=0.7, prior=1.9)
    given = Variances(decoder=0.7, prior=1.9)      # Sigma_x given: it holds the noise already
    for beta in (0.0, 0.4, 1.0, float(lam[-1] / 0.7 * 1.1)):
        tm, tc, ts = general_terms(m, beta, v), general_terms(c, beta, given), general_terms(s, beta, given)
        for name in TERMS:
            assert getattr(tc, name) == pytest.approx(getattr(tm, name), rel=1e-11, abs=1e-11 * abs(tm.elbo))
            assert getattr(ts, name) == pytest.approx(getattr(tm, name), rel=1e-11, abs=1e-11 * abs(tm.elbo))
        assert tc.tie is None and ts.tie is None and tm.tie is not None


def test_covariance_below_one_and_singular_sample_covariance_are_accepted():
    rng = np.random.default_rng(3)
    N, k = 7, 4
    B = rng.normal(size=(N, N))
    small = 1e-3 * B @ B.T                                     # every eigenvalue < 1
    X = rng.normal(size=(3, N))                                # n = 3 < N: rank 2
    singular = np.cov(X, rowvar=False, bias=True)
    for S in (small, singular):
        lam, tail, _ = _dense_top(S, k)
        d = DataSpectrum.from_covariance(S.copy(), k)
        assert np.allclose(d.lam, np.clip(lam, 0, None), rtol=1e-10, atol=1e-12 * lam[0])
        assert d.tail == pytest.approx(max(tail, 0.0), abs=1e-12 * lam[0])
        assert np.all(d.lam >= 0)
        for beta in (0.0, 1e-4, 0.5, 3.0):
            t = general_terms(d, beta)
            assert all(np.isfinite(getattr(t, f)) for f in ("reconstruction", "objective", "log_likelihood"))
    assert np.sum(DataSpectrum.from_covariance(singular.copy(), k).lam < 1e-12) == 2     # rank 2 of k = 4


def test_load_covariance_round_trips(tmp_path):
    rng = np.random.default_rng(4)
    B = rng.normal(size=(5, 5))
    S = B @ B.T
    np.save(tmp_path / "s.npy", S)
    np.savetxt(tmp_path / "s.csv", S, delimiter=",", fmt="%.17g")
    for name in ("s.npy", "s.csv"):
        assert np.array_equal(load_covariance(tmp_path / name), S)
    assert np.array_equal(parse_spectrum("5, 2,1,1"), [5.0, 2.0, 1.0, 1.0])


# ---------------------------------------------------------------------------------------------- 6. samples
def _draws(A, noise, n, seed):
    """from_samples's documented stream, reproduced: default_rng([seed, 1]), the sources first, then the noise."""
    rng = np.random.default_rng([seed, 1])
    N, k = A.shape
    s = rng.standard_normal((n, k))
    eta = rng.standard_normal((n, N))
    return s @ A.T + np.sqrt(noise) * eta


@pytest.mark.parametrize("n", [4, 50, 2000])
def test_from_samples_is_the_sample_covariance_of_the_documented_draws(n):
    rng = np.random.default_rng(5)
    N, k, noise, seed = 6, 3, 0.6, 17
    A = _mixing(rng, N, k)
    X = _draws(A, noise, n, seed)
    S = np.cov(X, rowvar=False, bias=True)                 # 1/n, mean removed
    lam, tail, U = _dense_top(S, k)
    d = DataSpectrum.from_samples(A, noise, n, seed)
    assert np.allclose(d.lam, lam, rtol=1e-10, atol=1e-12 * lam[0])
    assert d.tail == pytest.approx(tail, rel=1e-10, abs=1e-12 * lam[0])
    for i in range(k):
        if lam[i] > 1e-9 * lam[0]:
            assert np.allclose(_projector(d.vectors[:, i:i + 1]), _projector(U[:, i:i + 1]), atol=1e-8)
    # the same as handing that covariance over
    c = DataSpectrum.from_covariance(S.copy(), k)
    for name in TERMS:
        assert getattr(general_terms(d, 0.8), name) == pytest.approx(getattr(general_terms(c, 0.8), name), rel=1e-10)


def _empirical_objective(theta, X, beta, sd2, sp2):
    """The beta-VAE objective averaged over the draws themselves, per sample: encoder variance exp(W_sigma x +
    b_sigma), the reconstruction's expectation over z in closed form, the KL of two Gaussians."""
    W, bm, Ws, bs, D, bD = theta
    N = X.shape[1]
    mu, logv = X @ W.T + bm, X @ Ws.T + bs
    v = np.exp(logv)
    resid = X - mu @ D.T - bD
    recon = -N / 2 * np.log(2 * np.pi * sd2) - (np.sum(resid ** 2, axis=1) + v @ np.sum(D ** 2, axis=0)) / (2 * sd2)
    kl = 0.5 * np.sum((v + mu ** 2) / sp2 - 1 - logv + np.log(sp2), axis=1)
    return float(np.mean(recon - beta * kl)), float(np.mean(recon)), float(np.mean(kl))


def test_from_samples_terms_are_the_exact_finite_sample_optimum():
    """The terms of from_samples data equal the objective averaged over the n draws (no covariance formed) at the
    optimum with its biases moved to the sample mean (b_D = mean, b_mu = -W_mu mean: optimum_parameters assumes
    centred data), and no perturbation of any parameter, W_sigma included (the Jensen argument), does better."""
    rng = np.random.default_rng(6)
    N, k, noise, seed, n = 5, 2, 0.5, 3, 40
    A = _mixing(rng, N, k)
    X = _draws(A, noise, n, seed)
    xbar = X.mean(axis=0)
    d = DataSpectrum.from_samples(A, noise, n, seed)
    for v in (Variances(noise=noise), Variances(noise=noise, decoder=1.7, prior=0.4)):
        for beta in (0.3, 1.0, float(d.lam[1] / v.decoder * 1.2)):
            p = optimum_parameters(d, beta, v)
            W = p.W_mu
            theta = (W, -W @ xbar, p.W_sigma, p.b_sigma[:, 0], p.D, xbar)
            t = general_terms(d, beta, v)
            best, recon, kl = _empirical_objective(theta, X, beta, v.decoder, v.prior)
            assert best == pytest.approx(t.objective, rel=1e-10)
            assert recon == pytest.approx(t.reconstruction, rel=1e-10)
            assert kl == pytest.approx(t.kl, rel=1e-9, abs=1e-10 * abs(recon))
            for size in (1e-3, 0.1):
                for _ in range(25):
                    moved = tuple(q + size * rng.normal(size=q.shape) for q in theta)
                    assert _empirical_objective(moved, X, beta, v.decoder, v.prior)[0] <= best + 1e-12 * abs(best)


def test_from_samples_approaches_the_population():
    rng = np.random.default_rng(7)
    N, k, noise = 6, 2, 0.8
    A = _mixing(rng, N, k)
    population = DataSpectrum.from_mixing(A, noise)
    sample = DataSpectrum.from_samples(A, noise, 100_000, seed=1)
    small = DataSpectrum.from_samples(A, noise, 20, seed=1)
    assert np.allclose(sample.lam, population.lam, rtol=3e-2)
    assert sample.tail == pytest.approx(population.tail, rel=3e-2)
    for beta in (0.5, 2.0):
        tp, ts, t20 = (general_terms(d, beta) for d in (population, sample, small))
        for name in ("reconstruction", "kl", "elbo", "objective", "log_likelihood"):
            assert getattr(ts, name) == pytest.approx(getattr(tp, name), rel=2e-2), (name, beta)
        # n = 20 is visibly further (the test can tell the two apart)
        assert abs(t20.objective - tp.objective) > abs(ts.objective - tp.objective)


# ---------------------------------------------------------------------------------------------- 7. bad input
def _field(exc_info, field):
    err = exc_info.value
    assert err.field == field and "\n" not in str(err) and str(err).startswith(field + ": "), str(err)


@pytest.mark.parametrize("S", [
    np.ones((3, 4)), np.ones(3), np.zeros((0, 0)), np.ones((2, 2, 2)),
    np.array([[1.0, 0.5], [0.0, 1.0]]),                                        # asymmetric
    np.array([[1.0, np.nan], [np.nan, 1.0]]), np.array([[np.inf, 0.0], [0.0, 1.0]]),
    np.eye(2, dtype=complex), np.array([["1", "0"], ["0", "1"]]),
], ids=["non-square", "1-d", "empty", "3-d", "asymmetric", "nan", "inf", "complex", "strings"])
def test_bad_covariance(S):
    with pytest.raises(DataError) as e:
        DataSpectrum.from_covariance(S, 1)
    _field(e, "covariance")


def test_non_psd_covariance():
    Q, _ = np.linalg.qr(np.random.default_rng(8).normal(size=(4, 4)))
    S = Q @ np.diag([3.0, 2.0, 1.0, -0.1]) @ Q.T
    with pytest.raises(DataError) as e:
        DataSpectrum.from_covariance((S + S.T) / 2, 2)
    _field(e, "covariance")
    assert "semi-definite" in str(e.value)
    # the rounding of a singular one is not refused (-1e-14 relative)
    DataSpectrum.from_covariance(Q @ np.diag([3.0, 2.0, 1.0, -1e-14]) @ Q.T, 2)


class _Trap:
    """Unpickling it would run os.mkdir(path): a pickled .npy must never be unpickled."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (os.mkdir, (self.path,))


def test_bad_covariance_files(tmp_path):
    marker = tmp_path / "unpickled"
    trap = np.empty(1, dtype=object)
    trap[0] = _Trap(str(marker))
    np.save(tmp_path / "pickled.npy", trap, allow_pickle=True)
    (tmp_path / "empty.npy").write_bytes(b"")
    (tmp_path / "header.csv").write_text("a,b\n1,0\n0,1\n")
    (tmp_path / "ragged.csv").write_text("1,0\n0\n")
    (tmp_path / "matrix.txt").write_text("1,0\n0,1\n")
    (tmp_path / "garbage.npy").write_bytes(b"not an npy file at all")
    (tmp_path / "dir.csv").mkdir()
    for name in ("pickled.npy", "empty.npy", "header.csv", "ragged.csv", "matrix.txt", "garbage.npy", "dir.csv",
                 "missing.csv"):
        with pytest.raises(DataError) as e:
            load_covariance(tmp_path / name)
        _field(e, "covariance")
    with pytest.raises(DataError) as e:
        load_covariance("")
    _field(e, "covariance")
    assert not marker.exists()
    np.load(tmp_path / "pickled.npy", allow_pickle=True)      # the trap is armed: unpickling does run it
    assert marker.exists()
    # a file with NaN reads, and is refused by the constructor
    (tmp_path / "nan.csv").write_text("1,nan\nnan,1\n")
    with pytest.raises(DataError) as e:
        DataSpectrum.from_covariance(load_covariance(tmp_path / "nan.csv"), 1)
    _field(e, "covariance")


@pytest.mark.parametrize("text", ["", " , ", "1,-2", "1,nan", "1,inf", "1,a", "1e400"])
def test_bad_spectrum_text(text):
    with pytest.raises(DataError) as e:
        parse_spectrum(text)
    _field(e, "spectrum")


@pytest.mark.parametrize("values", [[], [1.0, -0.5], [np.nan, 1.0], [np.inf]])
def test_bad_spectrum_values(values):
    with pytest.raises(DataError) as e:
        DataSpectrum.from_spectrum(values, 1)
    _field(e, "spectrum")


@pytest.mark.parametrize("k", [0, -1, 4, True, False, 1.0, 2.5, "2", None])
def test_bad_latents(k):
    for make in (lambda: DataSpectrum.from_spectrum([3.0, 2.0, 1.0], k),
                 lambda: DataSpectrum.from_covariance(np.eye(3), k)):
        with pytest.raises(DataError) as e:
            make()
        _field(e, "latents")


@pytest.mark.parametrize("samples", [1, 0, True, 2.0, "10"])
def test_bad_samples(samples):
    with pytest.raises(DataError) as e:
        DataSpectrum.from_samples(np.eye(3, 2), 1.0, samples, 0)
    _field(e, "samples")


@pytest.mark.parametrize("value", [0, 0.0, -1.0, float("nan"), float("inf"), -float("inf"), True, "1", None])
@pytest.mark.parametrize("name", ["noise", "decoder", "prior"])
def test_bad_variances(name, value):
    with pytest.raises(VarianceError) as e:
        Variances(**{name: value})
    _field(e, f"{name}-variance")


def test_good_variances():
    v = Variances(noise=2, decoder=0.25, prior=1e-3)
    assert (v.noise, v.decoder, v.prior) == (2.0, 0.25, 1e-3) and isinstance(v.noise, float) and not v.is_unit
    assert Variances().is_unit and Variances(1, 1, 1).is_unit


# ---------------------------------------------------------------------------------------------- degeneracy warnings
@pytest.mark.parametrize("values, k, warns", [
    ([3.0, 2.0, 2.0, 1.0], 2, True),       # repeated across the cut
    ([3.0, 2.0, 2.0, 1.0], 3, True),       # repeated among the top k
    ([3.0, 2.0, 1.0, 1.0], 2, False),      # repeated only in the tail: nothing depends on it
    ([3.0, 2.0, 1.0, 1.0], 3, True),
    ([3.0, 2.0, 1.0, 0.5], 4, False),
    ([3.0, 3.0 * (1 + 1e-6), 1.0], 1, False),   # close but distinct
])
def test_repeated_eigenvalue_warnings(values, k, warns):
    Q, _ = np.linalg.qr(np.random.default_rng(9).normal(size=(len(values), len(values))))
    S = Q @ np.diag(values) @ Q.T
    for d in (DataSpectrum.from_spectrum(values, k), DataSpectrum.from_covariance((S + S.T) / 2, k)):
        assert bool(d.warnings) is warns, (values, k, d.warnings)

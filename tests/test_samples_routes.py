"""from_samples has two routes to the sample covariance's eigen-data (the N x N scatter accumulated over chunks, and the
thin SVD of the centred draws for large N): they must agree with each other and with numpy.cov of the same draws."""
import numpy as np
import pytest

import numerics.data_spectrum as ds


@pytest.mark.parametrize("samples", [3, 9000, 20000])     # fewer draws than dimensions; several chunks
def test_scatter_and_svd_routes_agree(monkeypatch, samples):
    A = np.random.default_rng(5).normal(size=(6, 2))
    gram = ds.DataSpectrum.from_samples(A, 0.5, samples, 11)
    monkeypatch.setattr(ds, "GRAM_MAX_N", 0)
    svd = ds.DataSpectrum.from_samples(A, 0.5, samples, 11)
    assert np.allclose(gram.lam, svd.lam, rtol=1e-10, atol=1e-12) and gram.tail == pytest.approx(svd.tail, rel=1e-9, abs=1e-12)
    assert np.allclose(gram.mean, svd.mean, rtol=1e-12, atol=1e-15)
    for i in range(2):
        if gram.lam[i] > 1e-12:
            assert abs(abs(gram.vectors[:, i] @ svd.vectors[:, i]) - 1) < 1e-8


def test_chunked_draws_are_the_documented_stream():
    A = np.random.default_rng(1).normal(size=(4, 2))
    n = 2 * ds.CHUNK + 5
    rng = np.random.default_rng([2, 1])
    X = rng.standard_normal((n, 2)) @ A.T + np.sqrt(0.3) * rng.standard_normal((n, 4))   # one draw, as documented
    lam = np.sort(np.linalg.eigvalsh(np.cov(X, rowvar=False, bias=True)))[::-1]
    d = ds.DataSpectrum.from_samples(A, 0.3, n, 2)
    assert np.allclose(d.lam, lam[:2], rtol=1e-10) and d.tail == pytest.approx(lam[2:].sum(), rel=1e-9)


def test_too_many_samples_is_refused_before_drawing():
    with pytest.raises(ds.DataError, match="samples"):
        ds.DataSpectrum.from_samples(np.ones((3, 2)), 1.0, ds.MAX_SAMPLE_ENTRIES, 0)

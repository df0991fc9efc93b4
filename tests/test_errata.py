"""Errata are decided by computation; here the decisive facts are re-checked with plain numpy."""
import numpy as np
import pytest

from derivations.errata import all_comparisons

pytestmark = pytest.mark.symbolic


@pytest.fixture(scope="module")
def comparisons():
    return {c.equation: c for c in all_comparisons()}


def test_every_verdict_is_from_the_vocabulary(comparisons):
    allowed = {"confirmed", "confirmed-up-to-constant", "equivalent-condition", "conditional", "erratum"}
    assert {c.verdict for c in comparisons.values()} <= allowed


def test_every_erratum_carries_evidence_and_a_correction(comparisons):
    errata = [c for c in comparisons.values() if c.is_erratum]
    assert errata, "the comparison found no erratum at all"
    for c in errata:
        assert c.corrected is not None and c.evidence, c.equation
        assert ("non-zero" in c.evidence) or ("ShapeError" in c.evidence) or ("not defined" in c.evidence), c.equation


def _printed_eq21(W, bm, Ws, bs, D, bD, S, beta):
    """Eq. (21) exactly as printed, in numpy (independent of the SymPy transcription)."""
    N = S.shape[0]
    R = D @ W - np.eye(N)
    e = np.exp(0.5 * np.einsum("ij,jk,ik->i", Ws, S, Ws) + bs.ravel())
    return -0.5 * (np.trace(R @ S @ R.T) + beta * np.trace(W @ S @ W.T) + np.sum((np.diag(D.T @ D) + beta) * e)
                   + np.sum((D @ bm + bD) ** 2) + beta * np.sum(bm ** 2) - beta * np.sum(bs))


@pytest.mark.parametrize("n,kk,beta", [(3, 2, 0.4), (5, 3, 2.5), (2, 4, 7.0)])
def test_eq21_drops_a_beta_dependent_constant(comparisons, n, kk, beta):
    """Monte-Carlo-free check: generated full objective - printed eq. 21 = -(N/2) log 2pi + beta k/2."""
    from numerics import _generated as g
    rng = np.random.default_rng(n + kk)
    A = rng.normal(size=(n, kk))
    p = (rng.normal(size=(kk, n)), rng.normal(size=(kk, 1)), 0.2 * rng.normal(size=(kk, n)),
         rng.normal(size=(kk, 1)), rng.normal(size=(n, kk)), rng.normal(size=(n, 1)), A @ A.T + np.eye(n))
    diff = g.objective(*p, beta) - _printed_eq21(*p, beta)
    assert diff == pytest.approx(-n / 2 * np.log(2 * np.pi) + beta * kk / 2, rel=1e-10)
    assert comparisons["21"].verdict == "confirmed-up-to-constant"


def test_eq59_printed_covariance_is_not_the_posterior(comparisons):
    """Posterior covariance by numpy conditioning of the joint (z, x) Gaussian vs the printed (D D^T + I)^-1."""
    rng = np.random.default_rng(3)
    D = rng.normal(size=(2, 2))
    joint = np.block([[np.eye(2), D.T], [D, D @ D.T + np.eye(2)]])
    cond = joint[:2, :2] - joint[:2, 2:] @ np.linalg.solve(joint[2:, 2:], joint[2:, :2])
    printed = np.linalg.inv(D @ D.T + np.eye(2))
    assert not np.allclose(cond, printed)
    np.testing.assert_allclose(cond, np.linalg.inv(D.T @ D + np.eye(2)), rtol=1e-12)
    assert comparisons["59"].verdict == "erratum"


def test_stationarity_printed_forms_have_the_right_zero_set(comparisons):
    """Whatever the verdict on the printed derivative, the condition 0 = expr must be the derived one."""
    for eq in ("42", "43", "44", "45", "46", "47", "23.1", "23.2", "23.3", "23.4"):
        c = comparisons[eq]
        assert c.verdict in ("confirmed", "equivalent-condition", "erratum"), eq
        if c.verdict != "confirmed":
            factor = c.details.get("factor")
            assert factor is not None and factor != 0 and factor.is_number, eq

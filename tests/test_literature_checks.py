"""The routes of the four "beyond the paper" checks (verify.checks_literature, verify.checks_literature_units) can
fail: each is checked against an independent route, then fed a deliberately wrong variant that it must reject
(beta' = beta / sigma_d^2; T&B's W with (Lambda - beta sigma^2 I) at beta != 1; the threshold lambda_i <= beta / sigma_d^2;
the columns of A in place of D).

Independent routes used here: the optimum of a one-unit problem solved by hand (lambda = 5: d^2 = lambda - beta',
encoder gain d / lambda, variance beta' / lambda), central finite differences of the dense objective, the objective
generated from SymPy (eq. 21), hand values of the PPCA log-likelihood and of the paper's thresholds
(A^T A = [[131, 130], [130, 131]] / 4), and the Gaussian KL by quadrature.
"""
import math

import numpy as np
import pytest
from scipy import integrate

from numerics import generated as gen
from numerics.variances import Variances
from verify import checks_literature as L
from verify import checks_literature_units as U
from verify import dense_gaussian as G
from verify.outcome import Outcome
from verify.report_beyond import GAINS, beyond_the_paper_markdown


def paper_A():
    return 0.5 * (np.ones((128, 2)) + np.eye(128, 2))


def hand_optimum(lam, beta_eff):
    """One unit, N = k = 1, unit prior: d^2 = lambda - beta', W = d / lambda, v = beta' / lambda (by hand)."""
    d = math.sqrt(lam - beta_eff)
    return G.Dense(W=np.array([[d / lam]]), b_mu=np.zeros(1), log_v=np.log([beta_eff / lam]), D=np.array([[d]]),
                   b_D=np.zeros(1))


# ------------------------------------------------------------------------------ the dense route itself
def test_dense_gradient_matches_central_differences():
    rng = np.random.default_rng(3)
    N, k = 4, 2
    B = rng.standard_normal((N, N))
    S = B @ B.T
    p = L.random_dense(rng, N, k)
    x = p.vector()
    args = (S, 1.7, 0.6, 2.3)
    g = G.gradient(p, *args).vector()
    h = 1e-6
    fd = np.array([(G.objective(G.Dense.from_vector(x + h * e, N, k), *args)
                    - G.objective(G.Dense.from_vector(x - h * e, N, k), *args)) / (2 * h) for e in np.eye(x.size)])
    assert np.allclose(fd, g, atol=1e-6)
    assert not np.allclose(fd, G.gradient(p, S, 1.0, 0.6, 2.3).vector(), atol=1e-6)   # another beta: caught


def test_dense_objective_is_the_generated_eq21():
    rng = np.random.default_rng(4)
    A = rng.standard_normal((5, 2))
    S = A @ A.T + np.eye(5)
    p = L.random_dense(rng, 5, 2)
    arrays = (p.W, p.b_mu[:, None], np.zeros((2, 5)), p.log_v[:, None], p.D, p.b_D[:, None])
    assert G.objective(p, S, 0.7) == pytest.approx(float(gen.objective(*arrays, S, 0.7)), rel=1e-12)
    assert G.objective(p, S, 0.7, sd2=2.0) != pytest.approx(float(gen.objective(*arrays, S, 0.7)), rel=1e-6)


def test_dense_kl_is_the_gaussian_kl_by_quadrature():
    """One latent, N = 1, x ~ N(0, s): KL(N(w x, v) || N(0, sp2)) averaged over x, by 2-D quadrature."""
    s, w, v, sp2 = 2.0, 0.7, 0.3, 1.5
    p = G.Dense(W=np.array([[w]]), b_mu=np.zeros(1), log_v=np.log([v]), D=np.zeros((1, 1)), b_D=np.zeros(1))

    def kl_at(x):
        return integrate.quad(lambda z: _npdf(z, w * x, v) * (math.log(_npdf(z, w * x, v)) - math.log(_npdf(z, 0, sp2))),
                              w * x - 12 * math.sqrt(v), w * x + 12 * math.sqrt(v))[0]
    avg = integrate.quad(lambda x: _npdf(x, 0, s) * kl_at(x), -12 * math.sqrt(s), 12 * math.sqrt(s))[0]
    assert G.kl(p, np.array([[s]]), sp2) == pytest.approx(avg, rel=1e-7)


def _npdf(z, m, var):
    return math.exp(-(z - m) ** 2 / (2 * var)) / math.sqrt(2 * math.pi * var)


# ------------------------------------------------------------------------------ 1. beta is the decoder variance
def test_hand_optimum_at_beta_sd2_is_a_local_maximum_and_the_wrong_rule_is_not():
    S, beta, sd2 = np.array([[5.0]]), 2.0, 0.5
    f = lambda p: G.objective(p, S, beta, sd2)  # noqa: E731
    assert L.largest_increase(f, hand_optimum(5.0, beta * sd2), 1, 1) < 0
    assert L.largest_increase(f, hand_optimum(5.0, beta / sd2), 1, 1) > 1e-5


def test_equivalence_property_rejects_beta_over_variance():
    A = paper_A()
    assert L.decoder_variance_equivalence(A, Variances(decoder=0.5), 2.0).holds
    wrong = L.decoder_variance_equivalence(A, Variances(decoder=0.5), 2.0, effective=lambda b, s: b / s)
    assert not wrong.holds
    assert wrong.detail["largest relative increase"] > 1e-6          # the perturbation route alone sees it
    dense, closed = wrong.detail["dense (L, recon, KL) at the unit optimum at beta'"], wrong.detail["closed form (L, recon, KL)"]
    assert abs(dense[2] - closed[2]) > 1e-3                          # and so does the closed-form comparison


def test_loglik_peak_by_hand():
    """N = k = 1, lambda = 5, sd2 = 1: log p = -(1/2)[log 2 pi + log c + 5 / c], c = d^2 + 1 = 6 - beta (beta < 5)."""
    S = np.array([[5.0]])
    for beta in (0.5, 1.0, 2.0):
        c = 6.0 - beta
        assert G.log_likelihood(hand_optimum(5.0, beta), S) == pytest.approx(
            -0.5 * (math.log(2 * math.pi) + math.log(c) + 5 / c), rel=1e-14)
    assert L.elbo_loglik_peak(paper_A(), Variances(), 0.5).holds
    assert L.elbo_loglik_peak(np.array([[2.0], [1.0]]), Variances(noise=0.5, decoder=2.0, prior=4.0), 3.0).holds


# ------------------------------------------------------------------------------ 2. PPCA
def test_ppca_ml_loglik_by_hand():
    # S = diag(5, 2, 0.5), k = 2, sigma^2 = 1: C = diag(5, 2, 1): -(1/2)[3 log 2 pi + log 10 + 1 + 1 + 0.5]
    assert L.ppca_ml_loglik([5.0, 2.0, 0.5], 2, 1.0) == pytest.approx(
        -0.5 * (3 * math.log(2 * math.pi) + math.log(10) + 2.5), rel=1e-14)
    # sigma^2 = 3: the unit with lambda = 2 < 3 is off: C = diag(5, 3, 3)
    assert L.ppca_ml_loglik([5.0, 2.0, 0.5], 2, 3.0) == pytest.approx(
        -0.5 * (3 * math.log(2 * math.pi) + math.log(45) + 1 + 2 / 3 + 0.5 / 3), rel=1e-14)


@pytest.mark.parametrize("beta", [2.0, 0.5])
def test_ppca_routes_reject_the_weights_of_another_beta(beta):
    A = paper_A()
    S = A @ A.T + np.eye(128)
    v = Variances(decoder=0.5)
    assert L.ppca_matches(S, 2, v).holds
    W_wrong = L.ppca_weights(S, 2, v.decoder, shift=beta)         # U (Lambda - beta sigma^2 I)^{1/2}
    assert L.tb_residual(S, W_wrong, v.decoder) > 1e-3
    assert L.ml_increase(S, W_wrong, v.decoder) > 1e-8
    assert L.ppca_loglik(S, W_wrong, v.decoder) < L.ppca_ml_loglik(np.linalg.eigvalsh(S), 2, v.decoder) - 1e-3
    assert not L.ppca_matches(S, 2, v, W_claim=W_wrong).holds


def test_ppca_properties_reject_the_optimum_of_another_beta():
    lam = [5.0, 2.0, 0.5, 0.25]
    v = Variances(decoder=1.5, prior=2.0)
    assert L.ppca_gains(lam, 2, v).holds
    assert not L.ppca_gains(lam, 2, v, beta=2.0).holds
    S = np.diag([5.0, 2.0, 0.5, 0.25])
    assert L.ppca_matches(S, 2, v).holds
    assert not L.ppca_matches(S, 2, v, beta=0.5).holds


# ------------------------------------------------------------------------------ 3. collapse threshold
def test_paper_thresholds_by_hand():
    assert [float(t) for t in U.exact_paper_thresholds()] == [1 + 261 / 4, 1 + 1 / 4]


def test_collapse_property_rejects_beta_over_variance():
    lam = np.linalg.eigvalsh(paper_A() @ paper_A().T + np.eye(128))[::-1]
    v = Variances(decoder=4.0)
    beta = 1.0                  # beta sd2 = 4: unit 1 (lambda = 1.25) collapsed; beta / sd2 = 0.25 would keep it
    assert U.collapse_agrees(lam, 2, v, beta).holds
    assert not U.collapse_agrees(lam, 2, v, beta, rule=lambda x, b, s: x <= b / s).holds


def test_unit_kl_by_hand():
    # g = 0.5, s = 0.5, lambda = 3: (1/2)[0.25 + 0.75 - 1 - ln 0.25] = ln 2; a collapsed unit (g = 0, s^2 = sp2): 0
    assert U.unit_kl(np.array(0.5), np.array(0.5), np.array(3.0)) == pytest.approx(math.log(2), rel=1e-15)
    assert U.unit_kl(np.array(0.0), np.array(math.sqrt(2.0)), np.array(3.0), prior=2.0) == pytest.approx(0, abs=1e-16)


def test_optimiser_route_rejects_beta_over_variance():
    results = [U.optimised_agrees(lam3, sd2, b) for lam3, sd2, betas in U.OPTIMISED for b in betas]
    assert all(r.holds for r in results), [r.detail for r in results if not r.holds]
    wrong = [U.optimised_agrees(lam3, sd2, b, rule=lambda x, bb, s: x <= bb / s)
             for lam3, sd2, betas in U.OPTIMISED for b in betas]
    assert sum(not r.holds for r in wrong) >= 4


# ------------------------------------------------------------------------------ 4. PCA alignment
def test_alignment_rejects_the_columns_of_A_in_place_of_D():
    A = paper_A()
    assert U.alignment_facts(A).holds
    assert not U.alignment_facts(A, decoder_of=lambda data, b: A).holds
    assert U.eigen_residual(A @ A.T + np.eye(128), A) > 1e-2


def test_mean_field_gap_by_hand_and_hadamard():
    A = np.array([[1.0, 1.0], [0.0, 1.0]])     # P = [[2, 1], [1, 3]]
    assert U.mean_field_gap(A) == pytest.approx(0.5 * math.log(6 / 5), rel=1e-14)
    assert U.mean_field_gap(np.array([[2.0, 0.0], [0.0, 3.0], [0.0, 0.0]])) == pytest.approx(0, abs=1e-15)
    # the paper's P = [[135, 130], [130, 135]] / 4: (1/2) log(135^2 / (135^2 - 130^2))
    assert U.mean_field_gap(paper_A()) == pytest.approx(0.5 * math.log(135 ** 2 / (135 ** 2 - 130 ** 2)), rel=1e-12)


# ------------------------------------------------------------------------------ the report section
def test_report_section_uses_only_confirmed_results():
    all_ok = {cid: Outcome("confirmed", "holds") for cid in GAINS}
    text = beyond_the_paper_markdown(all_ok)
    assert "Prop. 3" in text and "1.25 and 66.25" in text and "Tipping & Bishop" in text and "TIE" in text
    assert "not used" not in text
    one_off = dict(all_ok, **{"lit-ppca": {"verdict": "refuted", "evidence": "W differs"}})
    text = beyond_the_paper_markdown(one_off)
    assert "refuted: W differs" in text and text.count("not used") == 1

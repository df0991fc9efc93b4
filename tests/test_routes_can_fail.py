"""Every route a verdict rests on can fail: each is checked against an independent route, then fed a
deliberately broken identity that the route's own deciding function must reject.

Routes: the 50-digit derivative identities of Propositions 1-3 (``verify.properties``), eq. (21) as
printed (its dropped beta-dependent constant), the errata comparison logic (``derivations.errata``), and
the log-likelihood hunt of Fig. 1 / Section III (``verify.checks_fig1``, ``verify.checks_tractable``).

Independent routes used here: the paper problem's spectrum worked out by hand (A^T A = [[131, 130],
[130, 131]] / 4, so lambda = 1 + a = 66.25 and 1.25), the optimum's per-unit closed form written out by
hand in mpmath, central finite differences at 80 digits, the printed eq. (21) at N = k = 1, A = 0 where
the optimum is found by hand, quadrature of a Gaussian KL, and a dense N x N log-likelihood.
"""
from dataclasses import replace

import mpmath
import numpy as np
import pytest
import sympy as sp

from derivations import errata as E
from derivations import printed as PR
from derivations.comparison import Comparison
from verify import checks_propositions as C
from verify import checks_fig1 as F
from verify import checks_tractable as T
from verify import properties as P
from verify.context import AuditContext

# ------------------------------------------------------------------------------ the paper problem by hand
N_PAPER, K_PAPER = 128, 2
LAMBDAS = ("66.25", "1.25")          # 1 + eigenvalues of A^T A, A_ij = (1 + delta_ij) / 2, by hand


def paper_A():
    return 0.5 * (np.ones((N_PAPER, K_PAPER)) + np.eye(N_PAPER, K_PAPER))


def hand_terms(beta):
    """(reconstruction*, KL*) of the paper problem from the optimum solved by hand, unit by unit: a unit with
    lambda > beta has d^2 = lambda - beta, e^{b_sigma} = beta / lambda and contributes -beta/2 to the
    reconstruction and log(lambda/beta)/2 to the KL; a collapsed unit (lambda <= beta) contributes -lambda/2
    and 0; the N - k directions without a unit contribute -1/2 each. Evaluated at the caller's precision."""
    b = mpmath.mpf(beta)
    lam = [mpmath.mpf(v) for v in LAMBDAS]
    base = -mpmath.mpf(N_PAPER) / 2 * mpmath.log(2 * mpmath.pi) - mpmath.mpf(N_PAPER - K_PAPER) / 2
    recon = base - sum(min(b, v) for v in lam) / 2
    kl = sum(mpmath.log(max(1, v / b)) for v in lam) / 2
    return recon, kl


def hand_objective(beta):
    recon, kl = hand_terms(beta)
    return recon - mpmath.mpf(beta) * kl


def central_difference(fn, beta, dps=80, h="1e-30"):
    """(fn(beta + h) - fn(beta - h)) / 2h at ``dps`` digits: truncation ~h^2, rounding ~10^-dps / h."""
    with mpmath.workdps(dps):
        b, step = mpmath.mpf(beta), mpmath.mpf(h)
        return (fn(b + step) - fn(b - step)) / (2 * step)


def close(x, y, tol):
    with mpmath.workdps(60):
        return abs(mpmath.mpf(x) - mpmath.mpf(y)) <= mpmath.mpf(tol) * max(1, abs(mpmath.mpf(y)))


class BrokenModel:
    """The closed form's high-precision terms with one field edited: a deliberately broken identity."""

    name = "closed form (deliberately broken)"

    def __init__(self, edit):
        self.edit = edit

    def mp(self, A, dps=P.DPS):
        f, lam = P.ClosedForm().mp(A, dps)     # a fresh instance: the audit's one may be patched with this
        return (lambda b: self.edit(f, b)), lam


def _shift(b):
    return b + mpmath.mpf("1e-3")


# ------------------------------------------------------------------------------ Propositions 1-3: positive
def test_paper_spectrum_route_gives_66_25_and_1_25_to_45_digits():
    _, lam = P.CLOSED_FORM.mp(paper_A())
    assert all(close(x, v, "1e-45") for x, v in zip(lam, LAMBDAS))


@pytest.mark.parametrize("beta", [0.5, 2.0, 100.0])
def test_high_precision_closed_form_matches_the_optimum_solved_by_hand(beta):
    f, _ = P.CLOSED_FORM.mp(paper_A())
    with mpmath.workdps(P.DPS):
        t = f(beta)
        recon, kl = hand_terms(beta)
        assert close(t.reconstruction, recon, "1e-45") and close(t.kl, kl, "1e-45")
        assert close(t.objective, recon - beta * kl, "1e-45") and close(t.elbo, recon - kl, "1e-45")


@pytest.mark.parametrize("beta", [0.5, 2.0, 30.0])
def test_prop1_minus_kl_equals_an_80_digit_central_difference_of_the_hand_objective(beta):
    """dL*/dbeta by a finite difference of the hand formula (no mpmath.diff, no generated code) = -KL* of
    the audit's 50-digit route; and the audit's own identity check agrees."""
    slope = central_difference(hand_objective, beta)
    f, _ = P.CLOSED_FORM.mp(paper_A())
    with mpmath.workdps(P.DPS):
        assert close(slope, -f(beta).kl, "1e-40")
    assert P.prop1_identity(paper_A(), beta).holds


@pytest.mark.parametrize("beta, dkl, drecon", [(0.5, -2, -1), (2.0, -0.25, -0.5), (100.0, 0, 0)])
def test_prop2_one_sided_derivatives_equal_the_hand_values(beta, dkl, drecon):
    """Two units active below 1.25 (dKL = -2/(2 beta), drecon = -1), one up to 66.25, none beyond."""
    f, _ = P.CLOSED_FORM.mp(paper_A())
    for side in P.one_sided_derivatives(lambda b: f(b).kl, beta):
        assert close(side, dkl, "1e-40")
    for side in P.one_sided_derivatives(lambda b: f(b).reconstruction, beta):
        assert close(side, drecon, "1e-40")
    assert close(central_difference(lambda b: hand_terms(b)[1], beta), dkl, "1e-40")
    assert P.prop2_derivatives(paper_A(), beta).holds


def test_one_sided_derivatives_straddle_a_collapse_threshold():
    """At the model's own threshold lambda_2 = 1.25 the KL has a kink: -1/beta on the left (two units),
    -1/(2 beta) on the right (one unit), i.e. -0.8 and -0.4."""
    f, lam = P.CLOSED_FORM.mp(paper_A())
    left, right = P.one_sided_derivatives(lambda b: f(b).kl, lam[1])
    assert close(left, "-0.8", "1e-30") and close(right, "-0.4", "1e-30")
    assert P.prop1_identity(paper_A(), lam[1]).holds      # L* is C^1 there: -KL* is continuous


@pytest.mark.parametrize("beta", [0.5, 2.0])
def test_prop3_elbo_derivative_equals_beta_minus_one_times_kl_derivative_by_central_differences(beta):
    de = central_difference(lambda b: hand_terms(b)[0] - hand_terms(b)[1], beta)
    dk = central_difference(lambda b: hand_terms(b)[1], beta)
    with mpmath.workdps(60):
        assert close(de, (mpmath.mpf(beta) - 1) * dk, "1e-40")
        assert abs(de) > 0.1                                 # not a 0 = 0 identity
    assert P.prop3_identity(paper_A(), beta).holds


# ------------------------------------------------------------------------------ Propositions 1-3: negative
PROP1_BREAKS = {
    "plus_kl": lambda f, b: replace(f(b), kl=-f(b).kl),                       # dL*/dbeta = +KL*
    "minus_kl_minus_half_k": lambda f, b: replace(f(b), kl=f(b).kl + 1),      # dL*/dbeta = -KL* - k/2 (k = 2)
    "beta_shifted_by_1e-3": lambda f, b: replace(f(b), kl=f(_shift(b)).kl),   # -KL*(beta + 1e-3)
    "kl_off_by_1e-30_relative": lambda f, b: replace(f(b), kl=f(b).kl * (1 + mpmath.mpf(10) ** -30)),
}


@pytest.mark.parametrize("beta", [0.5, 2.0])
@pytest.mark.parametrize("name", sorted(PROP1_BREAKS))
def test_prop1_identity_check_rejects_a_broken_identity(name, beta):
    """The comparison inside prop1_identity must see each break; the last one (1e-30 relative) is there so
    that a tolerance loosened to 1e-25 or a precision lowered to double is caught too."""
    assert P.prop1_identity(paper_A(), beta).holds, "control: the true identity must hold"
    assert not P.prop1_identity(paper_A(), beta, model=BrokenModel(PROP1_BREAKS[name])).holds


PROP2_BREAKS = {
    "kl_increasing": (0.5, lambda f, b: replace(f(b), kl=-f(b).kl)),
    "reconstruction_increasing": (2.0, lambda f, b: replace(f(b), reconstruction=-f(b).reconstruction)),
    # beyond lambda_max both derivatives are exactly 0: a slope of +1e-30 must already count as an increase
    "kl_slope_1e-30_where_flat": (100.0, lambda f, b: replace(f(b), kl=f(b).kl + b * mpmath.mpf(10) ** -30)),
    "recon_slope_1e-30_where_flat": (100.0, lambda f, b: replace(f(b), reconstruction=f(b).reconstruction
                                                                 + b * mpmath.mpf(10) ** -30)),
}


@pytest.mark.parametrize("name", sorted(PROP2_BREAKS))
def test_prop2_derivative_check_rejects_an_increase(name):
    beta, edit = PROP2_BREAKS[name]
    assert P.prop2_derivatives(paper_A(), beta).holds, "control"
    assert not P.prop2_derivatives(paper_A(), beta, model=BrokenModel(edit)).holds


PROP3_BREAKS = {
    # -ELBO* has derivative (1 - beta) dKL*/dbeta: the identity with (beta - 1) replaced by (1 - beta)
    "one_minus_beta": lambda f, b: replace(f(b), elbo=-f(b).elbo),
    "beta_shifted_by_1e-3": lambda f, b: replace(f(b), elbo=f(_shift(b)).elbo),
    "elbo_slope_off_by_1e-30": lambda f, b: replace(f(b), elbo=f(b).elbo + b * mpmath.mpf(10) ** -30),
}


@pytest.mark.parametrize("beta", [0.5, 2.0])
@pytest.mark.parametrize("name", sorted(PROP3_BREAKS))
def test_prop3_identity_check_rejects_a_broken_identity(name, beta):
    assert P.prop3_identity(paper_A(), beta).holds, "control"
    assert not P.prop3_identity(paper_A(), beta, model=BrokenModel(PROP3_BREAKS[name])).holds


@pytest.fixture(scope="module")
def objective_comparisons():
    return E._objective()


class _Eq21Context:
    """What check_prop1 reads from the audit context: the derivation's eq. (21) comparison(s) only."""

    def __init__(self, comparisons):
        self._c = comparisons

    def comparisons(self, prefix):
        return [c for c in self._c if c.equation == prefix]

    def document(self):
        """The proofs the checks' proved steps rest on (built once per process)."""
        from derivations.document import build_document
        return build_document()


@pytest.mark.parametrize("check, break_, step", [
    (C.check_prop1, lambda f, b: replace(f(b), kl=f(b).kl + 1), "dL*/dbeta = -KL*"),
    (C.check_prop2, lambda f, b: replace(f(b), kl=-f(b).kl), "dKL*/dbeta <= 0"),
    (C.check_prop3, lambda f, b: replace(f(b), elbo=-f(b).elbo), "dELBO*/dbeta = (beta - 1) dKL*/dbeta"),
], ids=["prop1", "prop2", "prop3"])
def test_proposition_check_is_refuted_by_its_50_digit_step_alone(monkeypatch, objective_comparisons, check, break_,
                                                                  step):
    """Only the high-precision route is broken (the float closed form and the solver are intact): the 50-digit step
    alone must see it. The propositions are proved, so the step is a second route: its failure contradicts the proof
    and stops the check with an integrity error naming it (instead of a verdict)."""
    from verify.outcome import CheckIntegrityError
    monkeypatch.setattr(P.CLOSED_FORM, "mp", BrokenModel(break_).mp)
    with pytest.raises(CheckIntegrityError) as err:
        check(_Eq21Context(objective_comparisons))
    failing = [part for part in str(err.value).split("; FAILS") if "violated" in part]
    assert len(failing) == 1 and step in failing[0], str(err.value)[:600]


# ------------------------------------------------------------------------------ eq. (21) as printed
def test_printed_eq21_at_n_k_1_a_0_has_slope_minus_kl_minus_half():
    """N = k = 1, A = 0 (Sigma_x = 1), beta < 1. By hand the optimum is D = W_mu = sqrt(1 - beta), b_mu = b_D =
    W_sigma = 0, e^{b_sigma} = beta; there the printed eq. (21) is -beta + (beta/2) log beta, whose derivative
    (1/2) log beta - 1/2 is -KL* - k/2 with KL* = (1/2) log(1/beta), not eq. (10)'s -KL*."""
    from derivations.explicit import explicit
    from derivations.symbols import beta, concrete
    m = concrete(1, 1)
    L = explicit(PR.printed_21(), 1, 1)
    d = sp.sqrt(1 - beta)
    opt = {m.D[0, 0]: d, m.W_mu[0, 0]: d, m.b_mu[0, 0]: 0, m.b_D[0, 0]: 0, m.W_sigma[0, 0]: 0,
           m.b_sigma[0, 0]: sp.log(beta), m.Sigma_x[0, 0]: 1}
    for p in m.parameter_symbols():                   # the hand optimum is stationary for the printed L
        assert sp.simplify(sp.diff(L, p).subs(opt).subs(beta, sp.Rational(1, 3))) == 0, p
    L_star = sp.simplify(L.subs(opt))
    assert sp.simplify(L_star - (-beta + beta * sp.log(beta) / 2)) == 0
    kl_star = sp.log(1 / beta) / 2
    assert sp.simplify(sp.diff(L_star, beta) - (-kl_star - sp.Rational(1, 2))) == 0
    assert sp.simplify(sp.diff(L_star, beta) + kl_star) != 0
    # the audit's high-precision model of the same problem: KL*(1/2) = log(2)/2, by hand
    f, _ = P.CLOSED_FORM.mp(np.zeros((1, 1)))
    with mpmath.workdps(P.DPS):
        assert close(f(0.5).kl, mpmath.log(2) / 2, "1e-45")


def test_printed_21_slope_is_half_k(objective_comparisons):
    from derivations.symbols import k
    slope, _ = C.printed_21_slope(_Eq21Context(objective_comparisons))
    assert sp.simplify(slope - k / 2) == 0


@pytest.mark.parametrize("A, beta, half_k", [(np.zeros((1, 1)), 0.5, 0.5), (paper_A(), 2.0, 1.0)],
                         ids=["N=k=1", "paper"])
def test_prop1_identity_does_not_accept_minus_kl_for_eq21_as_printed(A, beta, half_k):
    assert P.prop1_identity(A, beta).holds
    assert not P.prop1_identity(A, beta, constant_slope=half_k).holds


def test_prop1_check_sees_eq21_as_printed_violate_eq10(objective_comparisons):
    """check_prop1's eq. (21) step is a support step: the 50-digit route must find dL*/dbeta != -KL* for the
    printed objective because the derivation says its dropped constant depends on beta. A route that accepted
    -KL* there would make the step fail, and the check raise instead of giving a verdict."""
    o = C.check_prop1(_Eq21Context(objective_comparisons))
    (printed_step,) = [s for s in o.steps if s.equation == "eq. 21"]   # the proof's slope step is "eq. 21 (derivation)"
    assert printed_step.holds and "violated" in printed_step.detail
    assert o.data["printed_21_counterexample"] is not None


def test_eq21_check_is_qualified_by_its_beta_dependent_constant(objective_comparisons):
    from verify.checks_equations import equation_check
    o = equation_check("21")(_Eq21Context(objective_comparisons))
    assert o.verdict == "qualified" and "beta" in o.condition


# ------------------------------------------------------------------------------ errata comparison logic
@pytest.fixture(scope="module")
def stationarity():
    return E._stationarity()


@pytest.fixture(scope="module")
def appendix_b():
    return E._appendix_b()


def _records(comparisons, equation) -> list[Comparison]:
    found = [c for c in comparisons if c.equation == equation]
    assert found, f"no comparison for eq. {equation}"
    return found


def _substantive(comparisons, equation):
    """The records of one equation other than notation errata (which other checks may add beside them)."""
    return [c for c in _records(comparisons, equation) if not c.kind.startswith("notation")]


# By hand: dL/dW_mu = -[(D^T(D W_mu - I) + beta W_mu) Sigma], likewise for b_mu, D, b_D (factor -1), and
# dL/db_sigma_a = -(1/2)[([D^T D]_aa + beta) e_a - beta], dL/dW_sigma = -(1/2)(...) (factor -2 = printed/derived).
@pytest.mark.parametrize("equation, factor", [("42", -1), ("43", -1), ("44", -1), ("45", -1), ("46", -2), ("47", -2)])
def test_stationarity_equations_that_claim_to_be_the_derivative_are_errata_with_the_hand_factor(stationarity, equation,
                                                                                               factor):
    (c,) = [c for c in _records(stationarity, equation) if c.kind.startswith("derivative off by")]
    assert c.verdict == "erratum" and c.details["factor"] == factor


@pytest.mark.parametrize("line, factor", [("23.1", -1), ("23.2", -1), ("23.3", -2), ("23.4", -2)])
def test_eq23_lines_are_equivalent_conditions_not_derivative_errata(stationarity, line, factor):
    records = _records(stationarity, line)
    assert not any(c.kind.startswith("derivative") for c in records)
    (c,) = [c for c in records if c.verdict == "equivalent-condition"]
    assert c.details["factor"] == factor


def test_eq38_is_an_erratum_for_the_missing_half(appendix_b):
    (c,) = [c for c in _records(appendix_b, "38") if "1/2" in c.kind]
    assert c.verdict == "erratum" and "non-zero" in c.evidence


def test_eq36_is_an_erratum_because_the_printed_product_is_undefined(appendix_b):
    J, A = sp.Matrix(sp.symbols("j1 j2")), sp.Matrix(2, 3, sp.symbols("a1:7"))   # J (2 x 1) J A: 2x1 by 2x3
    with pytest.raises(sp.ShapeError):
        PR.printed_36(J, A, sp.eye(3))
    assert any(c.verdict == "erratum" and "ShapeError" in c.evidence for c in _records(appendix_b, "36"))


@pytest.mark.parametrize("equation", ["37", "39"])
def test_eqs_37_and_39_are_confirmed(appendix_b, equation):
    records = _substantive(appendix_b, equation)
    assert records and all(c.verdict == "confirmed" for c in records)


def test_printed_39_is_the_gaussian_kl_by_quadrature():
    """KL(N(m, s^2) || N(0, 1)) by numerical integration, for one unit and a sum of two, against eq. (39)."""
    from scipy.integrate import quad
    from scipy.stats import norm

    def kl_1d(m, s):
        q = norm(m, s)
        return quad(lambda z: q.pdf(z) * (q.logpdf(z) - norm.logpdf(z)), m - 30 * s, m + 30 * s, limit=200)[0]
    units = [(0.7, 0.6), (-1.3, 1.8)]
    for chosen in (units[:1], units):
        value = PR.printed_39(len(chosen), sum(np.log(s ** 2) for _, s in chosen), sum(m ** 2 for m, _ in chosen),
                              sum(s ** 2 for _, s in chosen))
        assert float(value) == pytest.approx(sum(kl_1d(*u) for u in chosen), rel=1e-9)


x_, y_ = sp.symbols("x y", real=True)


def _derived():
    from derivations.symbols import beta
    return sp.Matrix([x_ * y_ - beta, x_ ** 2 + beta * y_])


def test_compare_multiple_of_a_claimed_derivative_is_an_erratum_with_that_factor():
    c = E.compare("h", "hand", -3 * _derived(), _derived(), text="", reading="", stationarity=True,
                  claims_derivative=True)
    assert c.verdict == "erratum" and c.kind.startswith("derivative off by") and c.details["factor"] == -3


def test_compare_multiple_of_an_unclaimed_derivative_is_an_equivalent_condition():
    c = E.compare("h", "hand", sp.Rational(1, 2) * _derived(), _derived(), text="", reading="", stationarity=True,
                  claims_derivative=False)
    assert c.verdict == "equivalent-condition" and c.details["factor"] == sp.Rational(1, 2)


def test_compare_non_constant_multiple_is_not_an_equivalent_condition():
    c = E.compare("h", "hand", x_ * _derived(), _derived(), text="", reading="", stationarity=True)
    assert c.verdict == "erratum"


def test_compare_parameter_free_additive_term_is_confirmed_up_to_that_constant():
    from derivations.symbols import beta
    c = E.compare("h", "hand", x_ ** 2 + 5 * beta, x_ ** 2, text="", reading="", free_of={x_, y_})
    assert c.verdict == "confirmed-up-to-constant" and sp.simplify(c.details["constant"] + 5 * beta) == 0
    c = E.compare("h", "hand", x_ ** 2 + 5 * beta * x_, x_ ** 2, text="", reading="", free_of={x_, y_})
    assert c.verdict == "erratum"


def test_compare_genuine_mismatch_is_an_erratum_with_a_true_counterexample():
    printed, derived = x_ ** 2 + y_ + 1, x_ ** 2 - y_
    c = E.compare("h", "hand", printed, derived, text="", reading="")
    assert c.verdict == "erratum" and "counterexample" in c.evidence
    pt = c.details["point"]
    assert (printed - derived).subs(pt) != 0                 # 2y + 1 at a rational y is never 0
    assert E.compare("h", "hand", (x_ + 1) ** 2, x_ ** 2 + 2 * x_ + 1, text="", reading="").verdict == "confirmed"


# ------------------------------------------------------------------------------ the log-likelihood hunt
def hand_loglik(beta):
    """E_x log N(x; 0, D D^T + I) at the optimum, by hand: along unit i, D D^T + I has eigenvalue
    1 + d_i^2 = 1 + max(lambda_i - beta, 0) where Sigma_x has lambda_i; elsewhere both are 1."""
    lam = [float(v) for v in LAMBDAS]
    c = [1 + max(v - beta, 0.0) for v in lam]
    return -0.5 * (N_PAPER * np.log(2 * np.pi) + sum(np.log(ci) + v / ci for ci, v in zip(c, lam))
                   + (N_PAPER - K_PAPER))


def dense_loglik(A, beta):
    """The same with N x N matrices from an eigendecomposition of A A^T (no closed-form code)."""
    N, k = A.shape
    a, U = np.linalg.eigh(A @ A.T)
    a, U = a[-k:], U[:, -k:]
    C_ = np.eye(N) + (U * np.maximum(1 + a - beta, 0.0)) @ U.T
    Sx = A @ A.T + np.eye(N)
    return -0.5 * (N * np.log(2 * np.pi) + np.linalg.slogdet(C_)[1] + np.trace(np.linalg.solve(C_, Sx)))


@pytest.mark.parametrize("beta", [0.5, 0.9, 1.0, 1.1, 2.0, 70.0])
def test_loglik_of_the_audit_route_matches_hand_and_dense_evaluations(beta):
    from numerics.optimum import closed_form_terms
    audit = closed_form_terms(paper_A(), beta).log_likelihood
    assert audit == pytest.approx(hand_loglik(beta), rel=1e-12)
    assert audit == pytest.approx(dense_loglik(paper_A(), beta), rel=1e-10)


def test_loglik_increases_from_0_9_to_1_and_the_audit_property_says_so():
    assert hand_loglik(0.9) < hand_loglik(1.0) and dense_loglik(paper_A(), 0.9) < dense_loglik(paper_A(), 1.0)
    r = F.loglik_nonincreasing(paper_A(), 0.9, 1.0)
    assert not r.holds
    assert r.detail["loglik(beta1)"] == pytest.approx(hand_loglik(0.9), rel=1e-12)


def test_loglik_hunt_finds_the_increase_below_beta_1():
    """The hunt must range below beta = 1: restricted to beta >= 1 it would find no increase."""
    o = F.check_fig1_loglik(AuditContext())
    assert o.verdict == "refuted"
    b1, b2 = o.counterexample["instance"]["beta1"], o.counterexample["instance"]["beta2"]
    assert b1 < b2 and b1 < 1
    assert hand_loglik(b2) > hand_loglik(b1)


def test_sec3_premise_step_fails_because_its_hunt_finds_the_increase():
    o = T.check_sec3_mie(AuditContext())
    (premise,) = [s for s in o.steps if s.name.startswith("premise")]
    assert not premise.holds and o.verdict == "qualified"

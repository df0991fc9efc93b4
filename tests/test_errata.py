"""Errata are decided by computation; here the decisive facts are re-checked with plain numpy."""
import numpy as np
import pytest

from derivations.errata import all_comparisons

pytestmark = pytest.mark.symbolic


@pytest.fixture(scope="module")
def comparisons():
    """Equation -> its first record (the comparison of the reading; notation records come after it)."""
    out = {}
    for c in all_comparisons():
        out.setdefault(c.equation, c)
    return out


@pytest.fixture(scope="module")
def notation():
    return [c for c in all_comparisons() if c.kind.startswith("notation")]


def test_every_verdict_is_from_the_vocabulary(comparisons):
    allowed = {"confirmed", "confirmed-up-to-constant", "equivalent-condition", "conditional", "erratum"}
    assert {c.verdict for c in comparisons.values()} <= allowed


def test_every_erratum_carries_evidence_and_a_correction(comparisons):
    errata = [c for c in comparisons.values() if c.is_erratum]
    assert errata, "the comparison found no erratum at all"
    for c in errata:
        assert c.corrected is not None and c.evidence, c.equation
        assert any(w in c.evidence for w in ("non-zero", "ShapeError", "IndexError", "not defined")), c.equation


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
    from numerics import generated as g
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


# ----------------------------------------------------------------------------- the notation policy
# The repairs the policy names (an independent list, from reading the paper): each must be an erratum of its own.
KNOWN_REPAIRS = {
    "23": "index ranges 'a = 1..N; b = 1..k' fit only the D line",
    "23.3": "index b three times in one term (exponent of line 3)",
    "36": "(JA) not conformable for a column J",
    "43": "(D b_mu + b_D) D: N-vector times N x k matrix",
    "46": "index b three times in one term (exponent)",
    "47": "undefined C",
    "50": "Cov(s, eta) (k x N) added to A Sigma_s (N x k)",
    "58": "p(x|z) for p(z|x)",
    "59": "p(x|z) for p(z|x) on the left side",
    "61": "p(x|z) for p(z|x) inside the KL",
}


def test_every_known_repair_is_a_notation_erratum_with_its_repair(notation):
    by_eq = {c.equation for c in notation}
    assert set(KNOWN_REPAIRS) <= by_eq, set(KNOWN_REPAIRS) - by_eq
    for c in notation:
        assert c.verdict == "erratum" and c.corrected is not None and c.evidence, c.equation


def test_notation_records_leave_the_comparisons_of_the_reading_as_they_were(comparisons):
    """The derivative factors of 42-47 and the conditions of 23 are still what the repaired reading gives."""
    factors = {eq: comparisons[eq].details.get("factor") for eq in ("42", "43", "44", "45", "46", "47")}
    assert factors == {"42": -1, "43": -1, "44": -1, "45": -1, "46": -2, "47": -2}
    assert all(comparisons[f"23.{i}"].verdict == "equivalent-condition" for i in range(1, 5))
    assert comparisons["61"].verdict == "confirmed" and comparisons["50"].verdict == "confirmed"


def test_the_literal_index_ranges_of_eq23_do_not_fit_numpy_shapes():
    """Independent of SymPy: indexing the numpy gradients of lines 1, 3, 4 with a = 1..N fails, line 2 fits."""
    n, kk = 3, 2
    shapes = {1: (kk, n), 2: (n, kk), 3: (kk, n), 4: (kk,)}
    fits = {}
    for line, shape in shapes.items():
        arr = np.zeros(shape)
        try:
            for a in range(n):
                for b in range(kk):
                    arr[(a, b) if len(shape) == 2 else a]
            fits[line] = True
        except IndexError:
            fits[line] = False
    assert fits == {1: False, 2: True, 3: False, 4: False}
    from derivations.notation import index_ranges_23
    c = index_ranges_23()
    assert c.verdict == "erratum" and "line 2" in c.evidence and "IndexError" in c.evidence


def test_eq23_claim_says_what_was_repaired_and_that_the_conditions_are_right():
    from verify.checks_equations import equation_check

    class Ctx:   # only what the check reads: the comparisons of one equation
        def comparisons(self, prefix):
            return [c for c in all_comparisons() if c.equation == prefix or c.equation.startswith(prefix + ".")]
    o = equation_check("23")(Ctx())
    assert o.verdict == "corrected"
    assert "notation" in o.erratum and "index ranges" in o.evidence and "three times" in o.evidence
    assert "conditions themselves are right" in o.evidence


# ----------------------------------------------------------------------------- new comparisons can fail
def test_eq35_wrong_operator_is_not_confirmed():
    import sympy as sp
    from derivations.appendix_bc import compare_35
    assert compare_35().verdict == "confirmed"
    grad_squared = lambda Z, J: sum(sp.diff(Z, j) ** 2 for j in J).subs({j: 0 for j in J})  # noqa: E731
    assert compare_35(grad_squared).verdict == "erratum"
    half = lambda Z, J: sum(sp.diff(Z, j, 2) for j in J).subs({j: 0 for j in J}) / 2  # noqa: E731
    assert compare_35(half).verdict == "erratum"


def test_eq41_with_a_sign_flipped_is_not_confirmed_up_to_constant():
    import sympy as sp
    from derivations import printed as P
    from derivations.appendix_bc import compare_41
    from derivations.symbols import beta
    flipped = lambda m: P.printed_41(m) - beta * sum(m.b_sigma)  # noqa: E731  (+beta sum b_sigma: sign flipped)
    assert {c.verdict for c in compare_41(flipped)} == {"erratum"}
    half_exponent = lambda m: P.printed_41(m).replace(sp.exp, lambda a: sp.exp(2 * a))  # noqa: E731
    assert {c.verdict for c in compare_41(half_exponent)} == {"erratum"}


def _printed_eq41_numpy(W, bm, Ws, bs, D, bD, S, beta):
    """Eq. (41) with numpy's einsum, index by index as printed (independent of both SymPy transcriptions)."""
    R = np.einsum("ij,jk->ik", D, W) - np.eye(D.shape[0])
    first = np.einsum("ik,kl,il->", R, S, R)
    second = beta * np.einsum("ij,jk,ik->", W, S, W)
    bias = np.sum((np.einsum("ij,j->i", D, bm.ravel()) + bD.ravel()) ** 2)
    units = np.sum((np.einsum("li,li->i", D, D) + beta) * np.exp(0.5 * np.einsum("ij,jk,ik->i", Ws, S, Ws) + bs.ravel()))
    return -0.5 * (first - beta * np.sum(bs) + second + bias + beta * np.sum(bm ** 2) + units)


@pytest.mark.parametrize("n,kk,beta", [(3, 2, 0.7), (2, 3, 4.0)])
def test_eq41_drops_the_same_constant_as_eq21(comparisons, n, kk, beta):
    from numerics import generated as g
    rng = np.random.default_rng(10 * n + kk)
    A = rng.normal(size=(n, kk))
    p = (rng.normal(size=(kk, n)), rng.normal(size=(kk, 1)), 0.2 * rng.normal(size=(kk, n)),
         rng.normal(size=(kk, 1)), rng.normal(size=(n, kk)), rng.normal(size=(n, 1)), A @ A.T + np.eye(n))
    assert g.objective(*p, beta) - _printed_eq41_numpy(*p, beta) == pytest.approx(
        -n / 2 * np.log(2 * np.pi) + beta * kk / 2, rel=1e-10)
    assert comparisons["41"].verdict == "confirmed-up-to-constant"


def test_eq49_with_the_covariance_sign_flipped_is_not_confirmed():
    from derivations.appendix_bc import compare_49
    from derivations import printed as P

    def wrong(cov_xs, Ss, Sx, mu_s, mu_x, x_):
        mean, _ = P.printed_49(cov_xs, Ss, Sx, mu_s, mu_x, x_)
        return mean, Ss + cov_xs.T * Sx.inv() * cov_xs
    assert compare_49().verdict == "confirmed"
    assert compare_49(wrong).verdict == "erratum"


def test_eq50_with_a_wrong_covariance_is_not_confirmed():
    from derivations.appendix_bc import compare_50
    assert compare_50(lambda Am: 2 * Am).verdict == "erratum"
    assert compare_50(lambda Am: Am.T, dims=(2, 2)).verdict == "erratum"


def test_eq52_and_eq54_with_a_sign_flipped_are_not_confirmed():
    import sympy as sp
    from derivations.appendix_bc import compare_52, compare_54

    def push_wrong(U, V):
        n, kk = U.shape
        return (sp.eye(n) + U * V).inv() * U, U * (sp.eye(kk) - V * U).inv()

    def woodbury_wrong(B, U, V):
        Bi = B.inv()
        return Bi + Bi * U * (sp.eye(U.shape[1]) + V * Bi * U).inv() * V * Bi
    assert compare_52(push_wrong).verdict == "erratum"
    assert compare_54(woodbury_wrong).verdict == "erratum"


@pytest.mark.parametrize("n,kk,seed", [(4, 2, 5), (3, 1, 6), (3, 3, 8)])
def test_woodbury_as_printed_holds_numerically(n, kk, seed):
    """The toolkit's transcription of eq. (54), at numeric B, U, V, against numpy's inverse of B + UV."""
    import sympy as sp
    from derivations.printed import printed_54
    rng = np.random.default_rng(seed)
    B, U, V = rng.normal(size=(n, n)) + n * np.eye(n), rng.normal(size=(n, kk)), rng.normal(size=(kk, n))
    printed = np.array(printed_54(sp.Matrix(B), sp.Matrix(U), sp.Matrix(V)).evalf(), dtype=float)
    assert printed.shape == (n, n)
    np.testing.assert_allclose(printed, np.linalg.inv(B + U @ V), rtol=1e-9, atol=1e-11)


def test_eq57_without_the_identity_is_not_confirmed():
    import sympy as sp
    from derivations.appendix_bc import compare_57
    assert compare_57(lambda D: (sp.zeros(D.rows, 1), D * D.T)).verdict == "erratum"


def test_eq57_marginal_covariance_by_sampling():
    """The toolkit's transcription of eq. (57) against the sample mean and covariance of x = D z + eta."""
    import sympy as sp
    from derivations.printed import printed_57
    rng = np.random.default_rng(7)
    D = rng.normal(size=(3, 2))
    x = rng.normal(size=(400_000, 2)) @ D.T + rng.normal(size=(400_000, 3))
    mean, cov = (np.array(M.evalf(), dtype=float) for M in printed_57(sp.Matrix(D)))
    assert mean.shape == (3, 1) and cov.shape == (3, 3)
    np.testing.assert_allclose(x.mean(axis=0), mean.ravel(), atol=0.02)
    np.testing.assert_allclose(np.cov(x.T), cov, atol=0.05)


def test_eq61_without_the_log_det_term_is_not_confirmed():
    from derivations.appendix_bc import compare_61

    def no_logdet(Fx, mu, G, S):
        r = Fx - mu
        return ((r.T * G * r)[0, 0] + (G * S).trace() - mu.shape[0]) / 2
    assert compare_61().verdict == "confirmed"
    assert compare_61(no_logdet).verdict == "erratum"


def _kl_by_quadrature(mu, s, m, E):
    """KL(N(mu, diag s) || N(m, E)) by numerical integration (scipy), k = 1 or 2."""
    from scipy import integrate, stats
    q, p = stats.multivariate_normal(mu, np.diag(s)), stats.multivariate_normal(m, E)
    lim = [(c - 12 * np.sqrt(v), c + 12 * np.sqrt(v)) for c, v in zip(mu, s)]
    if len(mu) == 1:
        f = lambda z: q.pdf([z]) * (q.logpdf([z]) - p.logpdf([z]))  # noqa: E731
        return integrate.quad(f, *lim[0], epsabs=1e-13, epsrel=1e-11, limit=200)[0]
    f = lambda z2, z1: q.pdf([z1, z2]) * (q.logpdf([z1, z2]) - p.logpdf([z1, z2]))  # noqa: E731
    return integrate.dblquad(f, *lim[0], *lim[1], epsabs=1e-11, epsrel=1e-9)[0]


@pytest.mark.parametrize("mu,s,m,E", [
    ([0.3], [0.7], [-0.4], [[1.9]]),
    ([0.3, -0.2], [0.7, 1.3], [-0.4, 0.5], [[1.9, 0.6], [0.6, 1.1]]),
])
def test_eq61_formula_equals_the_kl_by_quadrature(mu, s, m, E):
    """The toolkit's transcription of eq. (61) (Fx = m, E^-1 given, Sigma_z = diag s) against the KL by quadrature."""
    import sympy as sp
    from derivations.printed import printed_61
    E = np.array(E)
    col = lambda v: sp.Matrix(len(v), 1, list(v))  # noqa: E731
    printed = float(printed_61(col(m), col(mu), sp.Matrix(np.linalg.inv(E)), sp.diag(*s)).evalf())
    assert printed == pytest.approx(_kl_by_quadrature(np.array(mu), np.array(s), np.array(m), E), rel=1e-7)

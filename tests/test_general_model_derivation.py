"""The general model (decoder variance, prior variance, data noise): its derivation holds, broken versions of
its identities are rejected, and the generated objective agrees with routes written here from the Gaussian algebra."""
import numpy as np
import pytest
import sympy as sp

from derivations import general_model as gm
from derivations import general_optimum as go
from derivations.explicit import explicit
from derivations.objective import objective_expr
from derivations.steps import prove, rational_simplify
from derivations.symbols import beta, concrete, sigma_d2, sigma_p2

pytestmark = pytest.mark.symbolic


@pytest.mark.parametrize("key", list(go.section_builders()))
def test_section_holds(key):
    section = go.section_builders()[key]()
    assert section.steps
    assert [s.key for s in section.steps if not s.holds] == []


def test_sections_are_in_the_document():
    from derivations.document import section_builders
    keys = list(section_builders())
    assert keys[keys.index("codegen") + 1:keys.index("codegen") + 7] == list(go.section_builders())


# ------------------------------------------------------------------ broken identities are rejected
def _log_expand(e):
    return sp.expand(sp.expand_log(sp.expand(e), force=True))


def test_beta_divided_instead_of_multiplied_is_rejected():
    lhs = gm.general_objective_expr().subs(sigma_p2, 1)
    good = objective_expr().subs(beta, beta * sigma_d2) / sigma_d2 + gm.decoder_constant()
    bad = objective_expr().subs(beta, beta / sigma_d2) / sigma_d2 + gm.decoder_constant()
    assert prove("good", "", lhs, good, simplifier=_log_expand).holds
    assert not prove("bad", "", lhs, bad, simplifier=_log_expand).holds


def test_decoder_constant_with_the_wrong_sign_is_rejected():
    lhs = gm.general_objective_expr().subs(sigma_p2, 1)
    bad = objective_expr().subs(beta, beta * sigma_d2) / sigma_d2 - gm.decoder_constant()
    assert not prove("bad", "", lhs, bad, simplifier=_log_expand).holds


def test_prior_rescaling_with_decoder_divided_is_rejected():
    n, kk = 2, 1
    C = concrete(n, kk)
    sp_ = sp.sqrt(sigma_p2)
    lhs = explicit(gm.general_objective_expr(), n, kk)
    for D_tilde, holds in ((C.D * sp_, True), (C.D / sp_, False)):
        tilde = gm.explicit_parameters(n, kk, W_mu=C.W_mu / sp_, b_mu=C.b_mu / sp_, D=D_tilde,
                                       b_sigma=C.b_sigma - sp.log(sigma_p2) * sp.ones(kk, 1))
        step = prove("b", "", lhs, gm.objective_at_unit_prior(tilde, n, kk), simplifier=gm.exp_normal_form)
        assert step.holds is holds


def test_general_route_with_a_dropped_prior_log_is_rejected():
    """The entry-by-entry route sees the k log sigma_p2 term of the KL."""
    n, kk = 2, 1
    broken = explicit(gm.general_kl_expr(), n, kk) - kk * sp.log(sigma_p2) / 2
    assert not prove("bad", "", broken, gm.concrete_general_objective(n, kk).kl, simplifier=_log_expand).holds


def test_encoder_without_the_prior_scale_is_not_stationary():
    n, kk = 3, 2
    lams = sp.symbols(f"lambda1:{n + 1}", positive=True)
    u = sp.symbols(f"u1:{kk + 1}", positive=True)
    sig_p = sp.Symbol("sigma_p", positive=True)
    regime = {lams[i]: beta * sigma_d2 + u[i] ** 2 for i in range(kk)}

    def unscaled(lam_, beta_, sd2, sp2):
        gain, var = go.general_mode_encoder(lam_, beta_, sd2, sp2)
        return gain / sp.sqrt(sp2), var            # W_mu without its factor sigma_p
    *_, grad = go.closed_form_gradient(regime, lams, n, kk, sig_p, encoder=unscaled)
    assert any(rational_simplify(g) != 0 for g in grad)
    *_, grad = go.closed_form_gradient(regime, lams, n, kk, sig_p)
    assert all(rational_simplify(g) == 0 for g in grad)


def test_collapse_threshold_is_at_beta_times_decoder_variance():
    lam = sp.Symbol("lambda", positive=True)
    assert go.general_mode_d2(lam, 2, 3, 1).subs(lam, 5.9) == 0
    assert go.general_mode_d2(lam, 2, 3, 1).subs(lam, 6.1) > 0


# ------------------------------------------------------------------ numeric: the generated functions
def _random_point(rng, n=5, kk=3):
    A = rng.normal(size=(n, n))
    return dict(W_mu=rng.normal(size=(kk, n)), b_mu=rng.normal(size=(kk, 1)),
                W_sigma=0.3 * rng.normal(size=(kk, n)), b_sigma=rng.normal(size=(kk, 1)),
                D=rng.normal(size=(n, kk)), b_D=rng.normal(size=(n, 1)), Sigma_x=A @ A.T / n + 0.5 * np.eye(n))


ARGS = ("W_mu", "b_mu", "W_sigma", "b_sigma", "D", "b_D", "Sigma_x")


def _direct(p, beta_, sd2, sp2):
    """The objective written unit by unit from the Gaussian algebra (not from the derivation).

    E_q |x - D z - b_D|^2 = |x - D mu - b_D|^2 + sum_i |D_:i|^2 Var(z_i), averaged over x ~ N(0, Sigma);
    E_x Var(z_i) = exp(b_sigma_i + w_i^T Sigma w_i / 2) (log-normal mean); KL of two Gaussians per unit.
    """
    W, bm, Ws, bs, Dm, bD, S = (p[a] for a in ARGS)
    n, kk = Dm.shape
    R = np.eye(n) - Dm @ W
    m = Dm @ bm + bD
    ev = np.array([np.exp(bs[i, 0] + Ws[i] @ S @ Ws[i] / 2) for i in range(kk)])
    sq = np.sum(R * (R @ S)) + m.ravel() @ m.ravel() + sum(np.sum(Dm[:, i] ** 2) * ev[i] for i in range(kk))
    rec = -n / 2 * np.log(2 * np.pi * sd2) - sq / (2 * sd2)
    kl = 0.0
    for i in range(kk):
        mean_sq = W[i] @ S @ W[i] + bm[i, 0] ** 2
        kl += 0.5 * ((ev[i] + mean_sq) / sp2 - 1 + np.log(sp2) - bs[i, 0])
    return rec, kl, rec - beta_ * kl


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_generated_general_objective_matches_the_direct_formula(seed):
    from numerics import generated as g
    rng = np.random.default_rng(seed)
    p = _random_point(rng)
    beta_, sd2, sp2 = rng.uniform(0.2, 3.0, size=3)
    args = [p[a] for a in ARGS]
    rec, kl, obj = _direct(p, beta_, sd2, sp2)
    assert g.reconstruction_general(*args, sd2) == pytest.approx(rec, rel=1e-12)
    assert g.kl_general(*args, sp2) == pytest.approx(kl, rel=1e-12)
    assert g.objective_general(*args, beta_, sd2, sp2) == pytest.approx(obj, rel=1e-12)
    assert g.objective_general(*args, beta_, 1.0, 1.0) == pytest.approx(g.objective(*args, beta_), rel=1e-13)


def test_generated_general_objective_matches_quadrature():
    """N = 2, k = 1: the per-x expectations in closed form, the x-average by tensor Gauss-Hermite quadrature."""
    from numerics import generated as g
    rng = np.random.default_rng(7)
    p = _random_point(rng, n=2, kk=1)
    sd2, sp2 = 1.9, 0.6
    y, wts = np.polynomial.hermite_e.hermegauss(40)          # nodes for the weight exp(-y^2/2)
    Y = np.stack(np.meshgrid(y, y, indexing="ij"), -1).reshape(-1, 2)
    Wt = np.outer(wts, wts).reshape(-1) / (2 * np.pi)
    X = Y @ np.linalg.cholesky(p["Sigma_x"]).T                 # x ~ N(0, Sigma_x)
    mu = X @ p["W_mu"].T + p["b_mu"].T
    var = np.exp(X @ p["W_sigma"].T + p["b_sigma"].T)
    resid = X - mu @ p["D"].T - p["b_D"].T
    rec_x = -np.log(2 * np.pi * sd2) - (np.sum(resid ** 2, 1) + var[:, 0] * np.sum(p["D"] ** 2)) / (2 * sd2)
    kl_x = 0.5 * ((var[:, 0] + mu[:, 0] ** 2) / sp2 - 1 + np.log(sp2) - np.log(var[:, 0]))
    args = [p[a] for a in ARGS]
    assert g.reconstruction_general(*args, sd2) == pytest.approx(Wt @ rec_x, rel=1e-10)
    assert g.kl_general(*args, sp2) == pytest.approx(Wt @ kl_x, rel=1e-10)


@pytest.mark.parametrize("seed", [3, 4])
def test_identities_a_and_b_numerically(seed):
    from numerics import generated as g
    rng = np.random.default_rng(seed)
    p = _random_point(rng)
    beta_, sd2, sp2 = rng.uniform(0.2, 3.0, size=3)
    n = p["D"].shape[0]
    args = [p[a] for a in ARGS]
    # (a) rescaled beta, for every theta
    C = n / 2 * np.log(2 * np.pi) / sd2 - n / 2 * np.log(2 * np.pi * sd2)
    assert g.objective_general(*args, beta_, sd2, 1.0) == pytest.approx(g.objective(*args, beta_ * sd2) / sd2 + C,
                                                                        rel=1e-12)
    # (a) data scaling: the unit model on Sigma_x / sigma_d2 at the same beta, log-densities shifted
    s = np.sqrt(sd2)
    scaled = [s * p["W_mu"], p["b_mu"], s * p["W_sigma"], p["b_sigma"], p["D"] / s, p["b_D"] / s, p["Sigma_x"] / sd2]
    shift = -n / 2 * np.log(sd2)
    assert g.reconstruction_general(*args, sd2) == pytest.approx(g.reconstruction(*scaled) + shift, rel=1e-12)
    assert g.kl_general(*args, 1.0) == pytest.approx(g.kl(*scaled), rel=1e-12)
    assert g.objective_general(*args, beta_, sd2, 1.0) == pytest.approx(g.objective(*scaled, beta_) + shift, rel=1e-12)
    # (b) prior variance: theta~ = (W_mu/sigma_p, b_mu/sigma_p, W_sigma, b_sigma - log sigma_p2, D sigma_p, b_D)
    q = np.sqrt(sp2)
    tilde = [p["W_mu"] / q, p["b_mu"] / q, p["W_sigma"], p["b_sigma"] - np.log(sp2), p["D"] * q, p["b_D"],
             p["Sigma_x"]]
    assert g.objective_general(*args, beta_, sd2, sp2) == pytest.approx(g.objective_general(*tilde, beta_, sd2, 1.0),
                                                                        rel=1e-12)
    wrong = list(tilde)
    wrong[4] = p["D"] / q
    assert g.objective_general(*args, beta_, sd2, sp2) != pytest.approx(g.objective_general(*wrong, beta_, sd2, 1.0),
                                                                        rel=1e-6)


# ------------------------------------------------------------------ numeric: the closed-form optimum
def _closed_form_point(S, kk, beta_, sd2, sp2):
    lam, U = np.linalg.eigh(S)
    lam, U = lam[::-1], U[:, ::-1]
    dp2 = np.maximum(lam[:kk] - beta_ * sd2, 0)
    q = np.sqrt(sp2)
    Dm = U[:, :kk] * np.sqrt(dp2 / sp2)
    W = q * (np.sqrt(dp2) / (dp2 + beta_ * sd2))[:, None] * U[:, :kk].T
    bs = np.log(sp2 * beta_ * sd2 / (dp2 + beta_ * sd2))[:, None]
    return [W, np.zeros((kk, 1)), np.zeros((kk, S.shape[0])), bs, Dm, np.zeros((S.shape[0], 1)), S], lam


def test_closed_form_totals_at_a_random_covariance():
    """N = 5, k = 3, one unit collapsed: generated objective at the closed form = closed-form totals, and the
    point is a local maximum (random perturbations of every parameter lower the objective)."""
    from numerics import generated as g
    rng = np.random.default_rng(11)
    n, kk = 5, 3
    Q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    lam = np.array([6.0, 3.5, 1.2, 0.9, 0.4])
    S = Q @ np.diag(lam) @ Q.T
    beta_, sd2, sp2 = 0.8, 2.0, 0.7                            # beta' = 1.6: the third unit is collapsed
    point, lam_sorted = _closed_form_point(S, kk, beta_, sd2, sp2)
    totals = go.general_closed_form_totals(n, [sp.Float(v, 30) for v in lam_sorted[:kk]],
                                           sp.Float(float(np.sum(lam_sorted[kk:])), 30), beta_, sd2)
    assert g.reconstruction_general(*point, sd2) == pytest.approx(float(totals["reconstruction"]), rel=1e-12)
    assert g.kl_general(*point, sp2) == pytest.approx(float(totals["kl"]), rel=1e-12)
    best = g.objective_general(*point, beta_, sd2, sp2)
    assert best == pytest.approx(float(totals["objective"]), rel=1e-12)
    # the log-likelihood E_x log N(x; 0, sigma_p2 D D^T + sigma_d2 I) from its definition
    Cm = sp2 * point[4] @ point[4].T + sd2 * np.eye(n)
    ll = -n / 2 * np.log(2 * np.pi) - np.linalg.slogdet(Cm)[1] / 2 - np.trace(np.linalg.solve(Cm, S)) / 2
    assert ll == pytest.approx(float(totals["log_likelihood"]), rel=1e-12)
    for _ in range(20):
        moved = [a + 1e-3 * rng.normal(size=a.shape) if i < 6 else a for i, a in enumerate(point)]
        assert g.objective_general(*moved, beta_, sd2, sp2) < best


def test_tie_closed_form_against_the_generated_inference_error():
    """N = 4, k = 2, noise sigma_eta2: eq. (25) (generated) with the noisy posterior, encoder at the optimum in the
    gauge z / sigma_p aligned with the left singular vectors of A, equals the TIE closed form."""
    from numerics import generated as g
    rng = np.random.default_rng(5)
    n, kk = 4, 2
    A = rng.normal(size=(n, kk))
    eta2, beta_, sd2, sp2 = 0.6, 1.1, 1.7, 0.5
    P, sv, Vt = np.linalg.svd(A, full_matrices=False)
    S = A @ A.T + eta2 * np.eye(n)
    point, lam = _closed_form_point(S, kk, beta_, sd2, sp2)
    sign = np.sign(np.sum(P * point[4], 0))                  # align each latent with +P[:, j]
    W_gauge = sign[:, None] * point[0] / np.sqrt(sp2)
    bs_gauge = point[3] - np.log(sp2)
    prec = A.T @ A + eta2 * np.eye(kk)
    tie = g.inference_error(W_gauge, point[1], point[2], bs_gauge, S, prec / eta2, np.linalg.solve(prec, A.T))
    closed = go.general_tie_closed_form([sp.Float(v ** 2, 30) for v in sv], sp.Matrix(Vt.T), (0, 1), (1, 1),
                                        beta_, sd2, eta2)
    assert tie == pytest.approx(float(closed), rel=1e-10)

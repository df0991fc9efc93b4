"""The generated numeric module is current, and evaluates the derived SymPy expressions."""
import numpy as np
import pytest
import sympy as sp

from derivations import codegen
from derivations.explicit import explicit
from derivations.inference_error import E_inv, F, inference_error_form
from derivations.objective import objective_expr
from derivations.stationarity import gradient_forms
from derivations.symbols import D, Sigma_x, W_mu, W_sigma, b_D, b_mu, b_sigma, beta

pytestmark = pytest.mark.symbolic


def test_committed_generated_module_is_current():
    committed = codegen.TARGET.read_text()
    assert committed == codegen.generate(), (
        "numerics/generated.py is stale: run `python -m derivations.codegen`")


def test_committed_mpmath_module_is_current():
    assert codegen.TARGET_MP.read_text() == codegen.generate_mp(), (
        "numerics/generated_mp.py is stale: run `python -m derivations.codegen`")


def test_mpmath_and_numpy_unit_forms_agree():
    import mpmath

    from numerics import generated as gen
    from numerics import generated_mp as gen_mp
    for name in ("mode_d2", "mode_reconstruction", "mode_kl", "mode_loglik", "mode_mie", "mode_tie_weight"):
        for lam_, b in ((3.5, 0.7), (3.5, 2.0), (1.2, 5.0)):
            with mpmath.workdps(30):
                hi = getattr(gen_mp, name)(mpmath.mpf(lam_), mpmath.mpf(b))
            lo = getattr(gen, name)(np.array([lam_]), b)[0]
            assert abs(float(hi) - lo) <= 1e-13 * max(1.0, abs(lo)), name


def _random_problem(n, kk, seed):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(n, kk))
    return dict(W_mu=rng.normal(size=(kk, n)), b_mu=rng.normal(size=(kk, 1)),
                W_sigma=0.3 * rng.normal(size=(kk, n)), b_sigma=rng.normal(size=(kk, 1)),
                D=rng.normal(size=(n, kk)), b_D=rng.normal(size=(n, 1)), Sigma_x=A @ A.T + np.eye(n)), A


def _sympy_value(expr, p, n, kk, extra=None):
    subs = {W_mu: sp.Matrix(p["W_mu"]), b_mu: sp.Matrix(p["b_mu"]), W_sigma: sp.Matrix(p["W_sigma"]),
            b_sigma: sp.Matrix(p["b_sigma"]), D: sp.Matrix(p["D"]), b_D: sp.Matrix(p["b_D"]),
            Sigma_x: sp.Matrix(p["Sigma_x"])}
    subs.update(extra or {})
    v = explicit(expr, n, kk, extra=subs)
    v = v.subs(beta, sp.Float(0.7, 30)) if hasattr(v, "subs") else v
    return np.array(sp.N(v, 20).tolist(), dtype=float) if isinstance(v, sp.MatrixBase) else float(sp.N(v, 20))


@pytest.mark.parametrize("n,kk", [(3, 2), (2, 3)])
def test_generated_objective_and_gradients_match_sympy(n, kk):
    from numerics import generated as g
    p, _ = _random_problem(n, kk, seed=n * 10 + kk)
    args = [p[a] for a in ("W_mu", "b_mu", "W_sigma", "b_sigma", "D", "b_D", "Sigma_x")]
    assert g.objective(*args, 0.7) == pytest.approx(_sympy_value(objective_expr(), p, n, kk), rel=1e-12)
    for name, form in gradient_forms().items():
        got = getattr(g, f"grad_{name}")(*args, 0.7)
        np.testing.assert_allclose(got, _sympy_value(form, p, n, kk), rtol=1e-10, atol=1e-12, err_msg=name)


def test_generated_inference_error_matches_sympy():
    from numerics import generated as g
    n, kk = 3, 2
    p, A = _random_problem(n, kk, seed=5)
    Einv = A.T @ A + np.eye(kk)
    Fm = np.linalg.solve(Einv, A.T)
    got = g.inference_error(p["W_mu"], p["b_mu"], p["W_sigma"], p["b_sigma"], p["Sigma_x"], Einv, Fm)
    want = _sympy_value(inference_error_form(), p, n, kk, extra={E_inv: sp.Matrix(Einv), F: sp.Matrix(Fm)})
    assert got == pytest.approx(want, rel=1e-10)

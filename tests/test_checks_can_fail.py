"""The proof machinery rejects deliberately broken claims (so a green run means something)."""
import pytest
import sympy as sp

from derivations.explicit import explicit
from derivations.objective import concrete_objective, reconstruction_expr
from derivations.stationarity import derived_gradient_explicit, gradient_forms
from derivations.steps import prove
from derivations.symbols import beta

pytestmark = pytest.mark.symbolic


def test_prove_rejects_a_false_identity():
    a = sp.Symbol("a")
    assert not prove("broken", "", (a + 1) ** 2, a ** 2 + 1).holds


def test_reconstruction_with_a_dropped_half_is_rejected():
    broken = explicit(2 * reconstruction_expr(), 3, 2)
    assert not prove("broken", "", broken, concrete_objective(3, 2).reconstruction).holds


def test_w_sigma_gradient_without_the_half_is_rejected():
    form = gradient_forms()["W_sigma"] * 2
    simp = lambda e: sp.expand(sp.powsimp(sp.expand(e), combine="exp"))  # noqa: E731
    assert not prove("broken", "", explicit(form, 3, 2), derived_gradient_explicit("W_sigma"), simplifier=simp).holds


def test_w_mu_gradient_with_beta_sign_flipped_is_rejected():
    form = gradient_forms()["W_mu"].subs(beta, -beta)
    assert not prove("broken", "", explicit(form, 3, 2), derived_gradient_explicit("W_mu")).holds

"""Proof checks of Propositions 1-4 and Section IV.A with hypothesis, and proof that the checks can fail.

The properties are those the audit hunts with (``verify.properties``), stated in the paper's words. Each
proposition also has a test that feeds the *audit's check* a deliberately broken model (a sign flipped,
a shifted beta) and asserts that the check refutes it with a shrunk counterexample.
"""
import dataclasses
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given

from numerics.optimum import closed_form_terms
from verify import checks_propositions as C
from verify import properties as P
from verify import strategies as S
from verify.context import AuditContext
from verify.outcome import CheckIntegrityError


# ------------------------------------------------------------------------------ the properties hold
@given(S.mixing_matrices(), S.beta_pairs())
def test_prop1_optimal_objective_is_non_increasing(A, betas):
    r = P.prop1_nonincreasing(A, *betas)
    assert r.holds, f"Proposition 1 (eq. 10) violated: {r.detail}"


@given(S.mixing_matrices(max_n=5), S.betas())
def test_prop1_derivative_is_minus_kl_at_50_digits(A, beta):
    r = P.prop1_identity(A, beta)
    assert r.holds, f"eq. (10) violated: {r.detail}"


@given(S.mixing_matrices(), S.beta_pairs())
def test_prop2_kl_and_reconstruction_are_non_increasing(A, betas):
    for r in (P.prop2_kl_nonincreasing(A, *betas), P.prop2_reconstruction_nonincreasing(A, *betas)):
        assert r.holds, f"Proposition 2 (eqs. 12-13) violated: {r.detail}"


@given(S.mixing_matrices(max_n=5), S.betas())
def test_prop2_derivatives_are_non_positive_on_both_sides(A, beta):
    r = P.prop2_derivatives(A, beta)
    assert r.holds, f"eqs. (12)-(13) violated: {r.detail}"


@given(S.mixing_matrices(), S.betas())
def test_prop3_elbo_is_maximised_at_one(A, beta):
    r = P.prop3_elbo_max_at_one(A, beta)
    assert r.holds, f"Proposition 3 violated: {r.detail}"


@given(S.mixing_matrices(max_n=5), S.betas())
def test_prop3_derivative_identity(A, beta):
    r = P.prop3_identity(A, beta)
    assert r.holds, f"eq. (15) violated: {r.detail}"


@given(S.finite_objectives(), S.rational_beta_pairs())
def test_prop4_finite_sets_with_ties(pairs, betas):
    r = P.prop4_finite(pairs, *betas)
    assert r.holds, f"Proposition 4 violated: {r.detail}"


@given(S.polynomial_families(), S.rational_beta_pairs())
def test_prop4_smooth_families(family, betas):
    r = P.prop4_family(family, *betas)
    assert r.holds, f"Proposition 4 violated: {r.detail}"


@given(S.mixing_matrices(max_n=5), S.betas())
def test_sec4a_fixed_decoder_mie_is_smallest_at_one(A, beta):
    D = np.roll(A, 1, axis=0) + 0.5          # a decoder that is not the data's mixing matrix
    r = P.sec4a_mie_smallest_at_one(A, D, beta)
    assert r.holds, f"Section IV.A violated: {r.detail}"


# ------------------------------------------------------------------------------ independent routes
def test_prop4_matches_brute_force_on_a_grid():
    """The polynomial route to the global maximisers agrees with a dense grid search."""
    family = ([-1, 2, 3, -4, 0], [0, 0, 1, 1, 0])
    kappa = np.linspace(-6, 6, 400001)
    for beta in (Fraction(1, 2), Fraction(3)):
        O = np.polyval(family[0], kappa) - float(beta) * np.polyval(family[1], kappa)
        (k_star,) = P._family_maximisers(*family, beta, -1)
        assert float(k_star) == pytest.approx(kappa[np.argmax(O)], abs=1e-4)


def test_fixed_decoder_encoder_is_the_argmax_by_numerical_optimisation():
    """The fixed-decoder encoder optimum (closed form) against L-BFGS on the generated objective."""
    from scipy.optimize import minimize

    from numerics import generated as gen
    rng = np.random.default_rng(3)
    A, D, beta = rng.normal(size=(4, 2)), rng.normal(size=(4, 2)), 1.7
    S_ = A @ A.T + np.eye(4)
    zD = np.zeros((4, 1))
    shapes = [(2, 4), (2, 1), (2, 4), (2, 1)]

    def unpack(t):
        out, i = [], 0
        for r, c in shapes:
            out.append(t[i:i + r * c].reshape(r, c))
            i += r * c
        return out

    def f(t):
        Wm, bm, Ws, bs = unpack(t)
        return -float(gen.objective(Wm, bm, Ws, bs, D, zD, S_, beta))
    res = minimize(f, 0.1 * rng.normal(size=20), method="L-BFGS-B", options={"maxiter": 5000, "gtol": 1e-12})
    o = P.fixed_decoder_optimum(A, D, beta)
    best = float(gen.objective(*o.encoder, D, zD, S_, beta))
    assert -res.fun == pytest.approx(best, rel=1e-8)
    assert -res.fun <= best + 1e-9


# ------------------------------------------------------------------------------ the checks can fail
def _broken_terms(transform):
    def terms(A, beta):
        return transform(closed_form_terms(A, beta), A, beta)
    return terms


class _FlippedSolver:
    """The general solver's optimum, its objective evaluated with the sign of the KL term flipped."""

    name = "solver (broken)"
    inner = C.SOLVER

    def at(self, A, beta):
        t = self.inner.at(A, beta)
        return dataclasses.replace(t, objective=t.reconstruction + beta * t.kl)


# Propositions 1-4 and Sec. IV.A are proved for every problem (derivation document); their hunts stay as a second,
# independent route. Fed a broken model, the hunts must still find the violation: the proof then contradicts them and
# the check stops with an integrity error naming the hunt and its shrunk counterexample, instead of a verdict.
def _stopped_by_hunt(check, ctx, step_words: str) -> str:
    with pytest.raises(CheckIntegrityError) as err:
        check(ctx)
    message = str(err.value)
    assert step_words in message and "shrunk counterexample" in message, message[:500]
    return message


def test_prop1_check_rejects_a_flipped_sign(monkeypatch):
    """L = recon + beta KL (sign flipped, in both routes): L* increases with beta; the hunts must see it."""
    monkeypatch.setattr(P, "closed_form_terms", _broken_terms(
        lambda t, A, b: dataclasses.replace(t, objective=t.reconstruction + b * t.kl)))
    monkeypatch.setattr(C, "SOLVER", _FlippedSolver())
    _stopped_by_hunt(C.check_prop1, AuditContext(document_provider=_document), "L*(beta) non-increasing")


def test_prop2_check_rejects_an_increasing_kl(monkeypatch):
    monkeypatch.setattr(P, "closed_form_terms", _broken_terms(lambda t, A, b: dataclasses.replace(t, kl=-t.kl)))
    _stopped_by_hunt(C.check_prop2, AuditContext(document_provider=_document), "KL")


def test_prop3_check_rejects_an_elbo_peaking_elsewhere(monkeypatch):
    monkeypatch.setattr(P, "closed_form_terms", lambda A, beta: closed_form_terms(A, 2 * beta))
    _stopped_by_hunt(C.check_prop3, AuditContext(document_provider=_document), "ELBO")


def test_prop4_check_rejects_the_objective_a_plus_beta_b(monkeypatch):
    finite, family = P.prop4_finite, P.prop4_family
    monkeypatch.setattr(P, "prop4_finite", lambda pairs, b1, b2: finite(pairs, b1, b2, sign=+1))
    monkeypatch.setattr(P, "prop4_family", lambda fam, b1, b2: family(fam, b1, b2, sign=+1))
    message = _stopped_by_hunt(C.check_prop4, AuditContext(), "finite parameter sets")
    # hypothesis shrinks the finite counterexample to a handful of candidates (each an (A, B) pair of Fractions)
    instance = message.split("shrunk counterexample", 1)[1].split("]", 1)[0]
    assert 1 <= instance.count("), (") + 1 <= 3, instance


def test_sec4a_check_rejects_a_false_variant(monkeypatch):
    """The false statement 'with D fixed, MIE is minimum at beta = 2' must be caught by the same check's hunt."""
    def at_two(A, D, beta):
        two, other = P.fixed_decoder_optimum(A, D, 2.0), P.fixed_decoder_optimum(A, D, beta)
        return P.PropertyResult(P._le(two.mie, other.mie, other.mie), {"MIE(2)": two.mie, "MIE(beta)": other.mie})
    monkeypatch.setattr(P, "sec4a_mie_smallest_at_one", at_two)
    _stopped_by_hunt(C.check_sec4a, AuditContext(document_provider=_document), "MIE(2)")


def test_a_failing_support_step_is_an_error_not_a_verdict(monkeypatch):
    from verify.audit import run_claim
    from verify.catalogue import claim
    monkeypatch.setattr(C, "_solver_agrees", lambda x: P.PropertyResult(False, {"forced": True}))
    r = run_claim(claim("prop1"), AuditContext(document_provider=_document))
    assert r.outcome is None and "support step failed" in r.error


def _document():
    from derivations.document import build_document
    return build_document()

"""The proofs for every problem of the tractable model (issue 14, part 1) hold, and their provers can fail.

Each proof section of the derivation document is built and must hold step by step; then each kind of step is fed a
deliberately wrong statement through the same prover (SymPy identity, z3 decision, branch resolution, the fixed-decoder
gap) and must be rejected: a sign flipped, beta shifted, a hypothesis dropped, a claim of the paper that is false.
The claim checks that rest on these proofs are tested in tests/test_claims.py (grade ``proved``).
"""
import pytest
import sympy as sp

from derivations import proofs_fixed_decoder as fd
from derivations import proofs_loglik_mie as lm
from derivations import proofs_propositions as pp
from derivations import proofs_units as pu
from derivations.closed_form import lam
from derivations.objective import dropped_constant
from derivations.steps import Section, prove
from derivations.symbols import beta, k

pytestmark = pytest.mark.symbolic

SECTIONS = {"lemma-g": pu.lemma_section, "unit-sums": pu.structure_section, "prop1-proof": pp.prop1_section,
            "prop2-proof": pp.prop2_section, "prop3-proof": pp.prop3_section, "loglik-proof": lm.loglik_section,
            "mie-proof": lm.mie_section, "sec4a-proof": fd.fixed_decoder_section}
T = pu.unit_terms()


def _log_simplify(e):
    return sp.simplify(sp.expand_log(sp.simplify(e), force=True))


@pytest.mark.parametrize("key", list(SECTIONS))
def test_section_holds_step_by_step(key):
    section = SECTIONS[key]()
    assert section.key == key and section.steps
    failing = [f"{s.key}: {s.title} (residual {s.residual}; {s.certificate})" for s in section.steps if not s.holds]
    assert not failing, failing
    assert len({s.key for s in section.steps}) == len(section.steps)
    for s in section.steps:
        if s.relation != "=":
            assert "unsat" in s.certificate or "is_nonnegative = True" in s.certificate \
                or "is_positive = True" in s.certificate, (s.key, s.certificate)


def test_sections_are_registered_in_the_document_after_tie():
    from derivations.document import section_builders
    keys = list(section_builders())
    at = keys.index("tie") + 1
    assert keys[at:at + len(SECTIONS)] == list(SECTIONS)
    assert all(section_builders()[key] is SECTIONS[key] for key in SECTIONS)


def test_claim_proofs_name_existing_holding_steps():
    """Every fact the checks cite resolves to steps of these sections (or of 'closed'), all holding."""
    from derivations.closed_form import elimination_section
    from derivations.document import Document
    from verify.proofs import PROOFS, proof_keys
    doc = Document(tuple(b() for b in SECTIONS.values()) + (elimination_section(),), ())
    for fact in PROOFS:
        keys, ok = proof_keys(doc, fact)
        assert ok and keys, fact


# ------------------------------------------------------------------ the branch forms (hand values)
def test_branch_forms_match_hand_values():
    """The branches the resolver derives from the closed forms, against forms written by hand from the paper's model:
    active d^2 = lambda - beta, collapsed d = 0."""
    hand = {"active": {"reconstruction": -beta / 2, "kl": sp.log(lam / beta) / 2,
                       "log_likelihood": -(sp.log(1 + lam - beta) + lam / (1 + lam - beta)) / 2},
            "collapsed": {"reconstruction": -lam / 2, "kl": 0, "log_likelihood": -lam / 2}}
    for which, forms in hand.items():
        for name, form in forms.items():
            assert _log_simplify(pu.branch(T[name], which) - form) == 0, (which, name)
    # at a rational point: lambda = 3, beta = 2 (active) and beta = 5 (collapsed)
    assert sp.simplify(pu.branch(T["kl"], "active").subs({lam: 3, beta: 2}) - sp.log(sp.Rational(3, 2)) / 2) == 0
    assert pu.branch(T["mie"], "collapsed").subs({lam: 3, beta: 5}) == 0


def test_resolver_refuses_an_undecidable_max():
    with pytest.raises(pu.Undecided):
        pu.resolve_minmax(sp.Max(beta, lam))


# ------------------------------------------------------------------ wrong identities are rejected
def test_prop1_with_the_sign_flipped_is_rejected():
    for which in pu.BRANCHES[:1]:
        assert not prove("broken", "", sp.diff(pu.branch(T["objective"], which), beta), pu.branch(T["kl"], which),
                         simplifier=_log_simplify).holds


def test_prop1_with_beta_shifted_is_rejected():
    shifted = -pu.branch(T["kl"], "active").subs(beta, beta + sp.Rational(1, 1000))
    assert not prove("broken", "", sp.diff(pu.branch(T["objective"], "active"), beta), shifted,
                     simplifier=_log_simplify).holds


def test_printed_21_slope_is_not_zero():
    """For eq. (21) as printed, dL*/dbeta = -KL* would need the dropped constant to be free of beta: it is not."""
    assert not prove("broken", "", sp.diff(dropped_constant(), beta), 0).holds
    assert not prove("broken", "", sp.diff(dropped_constant(), beta), -k / 2).holds


def test_eq13_and_eq15_with_wrong_factors_are_rejected():
    assert not prove("broken", "", pu.slope(T["reconstruction"], "active"), -beta * pu.slope(T["kl"], "active")).holds
    assert not prove("broken", "", pu.slope(T["elbo"], "active"), (1 - beta) * pu.slope(T["kl"], "active")).holds


def test_elbo_gap_with_beta_shifted_is_rejected():
    at_one = pu.branch(T["elbo"], "active").subs(beta, 1)
    gap = at_one - pu.branch(T["elbo"], "active")
    assert prove("ok", "", gap, pu.g(beta) / 2, simplifier=_log_simplify).holds
    assert not prove("broken", "", gap, pu.g(beta + sp.Rational(1, 1000)) / 2, simplifier=_log_simplify).holds


def test_mie_split_with_a_flipped_sign_is_rejected():
    d2 = lam - beta
    rho = beta * (d2 + 1) / (d2 + beta)
    mean = lam * d2 * (beta - 1) ** 2 / ((d2 + beta) ** 2 * (d2 + 1))
    mie = pu.branch(T["mie"], "active")
    assert not prove("broken", "", mie, (mean - pu.g(rho)) / 2, simplifier=_log_simplify).holds
    assert not prove("broken", "", mie, (lam * d2 * (beta + 1) ** 2 / ((d2 + beta) ** 2 * (d2 + 1)) + pu.g(rho)) / 2,
                     simplifier=_log_simplify).holds


def test_fixed_decoder_gap_with_q_sign_flipped_is_rejected():
    _, lhs, parts = fd.gap_parts(2, 2)
    right = (parts["trace"] + parts["mean"] + sum(parts["units"]) + sum(parts["q"]) / 2) / 2
    wrong = (parts["trace"] + parts["mean"] + sum(parts["units"]) - sum(parts["q"]) / 2) / 2
    assert prove("ok", "", lhs, right, simplifier=fd.gap_simplify).holds
    assert not prove("broken", "", lhs, wrong, simplifier=fd.gap_simplify).holds
    assert not prove("broken", "", lhs, right - parts["mean"] / 2, simplifier=fd.gap_simplify).holds


def test_sum_of_squares_step_rejects_a_wrong_factor():
    x, y = sp.symbols("x y", real=True)
    identity, nonneg = fd._sum_of_squares("broken", "x^2 - y^2", x ** 2 - y ** 2, sp.Matrix([x, y]), "test")
    assert not identity.holds and nonneg.holds      # the square sum is >= 0, but it is not the quadratic


# ------------------------------------------------------------------ wrong inequalities are not decided
def test_z3_rejects_a_flipped_kl_slope():
    step = pu.decide("broken", "", pu.slope(T["kl"], "active"), 0, ">", pu.branch_hypotheses("active"))
    assert not step.holds and "is sat" in step.certificate


def test_z3_rejects_the_papers_decreasing_loglik_below_one():
    """The paper's 'log-likelihood decreases with beta' on (0, 1): z3 finds a model of the opposite."""
    s = pu.slope(T["log_likelihood"], "active")
    hyps = pu.branch_hypotheses("active", [sp.Lt(beta, 1)])
    assert not pu.decide("broken", "", s, 0, "<=", hyps).holds
    assert pu.decide("ok", "", s, 0, ">", hyps).holds


def test_z3_needs_the_branch_hypothesis():
    """The MIE mean term is >= 0 on the active branch only: without beta < lambda z3 finds a negative value."""
    d2 = lam - beta
    mean = lam * d2 * (beta - 1) ** 2 / ((d2 + beta) ** 2 * (d2 + 1))
    assert pu.decide("ok", "", mean, 0, ">=", pu.branch_hypotheses("active")).holds
    assert not pu.decide("broken", "", mean, 0, ">=", [sp.Gt(beta, 0), sp.Ge(lam, 1)]).holds


def test_z3_rejects_a_wrong_lemma_and_refuses_logs_and_false_hypotheses():
    dg = sp.diff(pu.g(pu.Y), pu.Y)
    assert not pu.decide("broken", "", dg, 0, "<", [sp.Gt(pu.Y, 1)]).holds
    holds, cert = pu.z3_check(sp.log(beta), 0, ">", [sp.Gt(beta, 1)])
    assert not holds and "not decided" in cert
    holds, cert = pu.z3_check(beta, 0, ">", [sp.false])
    assert not holds and "vacuously" in cert


def test_a_decided_step_that_fails_breaks_its_section():
    sec = Section("demo", "demo")
    sec.add(pu.decide("broken", "", beta - 1, 0, ">"))
    assert not sec.holds


# ------------------------------------------------------------------ the checks' proof steps
def test_proof_steps_follow_the_document():
    """A claim step graded proved holds only when every step it names holds; the negated form inverts it; a failing
    or missing proof makes the support step fail."""
    from derivations.document import Document
    from verify.context import AuditContext
    from verify.proofs import proof_steps

    good = Document(tuple(b() for b in SECTIONS.values()), ())
    claim, support = proof_steps(AuditContext(document_provider=lambda: good), "mie-zero-set", "MIE", "eq. 16")
    assert claim.holds and support.holds and claim.grade == "proved" and "mie-proof/mie.active.split" in claim.basis
    negated, _ = proof_steps(AuditContext(document_provider=lambda: good), "loglik-max-at-one", "LL decreasing",
                             "eq. 57", establishes=False)
    assert not negated.holds
    broken = Section("mie-proof", "broken", steps=[pu.decide("mie.broken", "", beta - 1, 0, ">")])
    bad = Document(tuple(b() for k_, b in SECTIONS.items() if k_ != "mie-proof") + (broken,), ())
    claim, support = proof_steps(AuditContext(document_provider=lambda: bad), "mie-zero-set", "MIE", "eq. 16")
    assert not claim.holds and not support.holds
    missing = Document(tuple(b() for k_, b in SECTIONS.items() if k_ != "mie-proof"), ())
    claim, support = proof_steps(AuditContext(document_provider=lambda: missing), "mie-zero-set", "MIE", "eq. 16")
    assert not claim.holds and not support.holds and "mie-proof/*" in claim.basis


def _proof_document(broken: str | None = None):
    """The proof sections (and 'closed'), optionally with section ``broken`` given a failing step."""
    from derivations.closed_form import elimination_section
    from derivations.document import Document
    sections = [b() for b in SECTIONS.values()] + [elimination_section()]
    if broken:
        (old,) = [s for s in sections if s.key == broken]
        sections[sections.index(old)] = Section(old.key, old.title, old.intro,
                                                old.steps + [pu.decide(f"{broken}.broken", "", beta - 1, 0, ">")])
    return Document(tuple(sections), ())


def test_a_broken_proof_stops_the_verdict():
    """fig1-kl-decreasing with a failing step in prop2-proof: no verdict, an integrity error naming the proof."""
    from verify.checks_fig1 import check_fig1_kl
    from verify.context import AuditContext
    from verify.outcome import CheckIntegrityError
    assert check_fig1_kl(AuditContext(document_provider=_proof_document)).grade == "proved"
    with pytest.raises(CheckIntegrityError, match="the proof of 'kl-recon-nonincreasing'"):
        check_fig1_kl(AuditContext(document_provider=lambda: _proof_document("prop2-proof")))


def test_a_hunt_that_contradicts_the_proof_stops_the_verdict(monkeypatch):
    """The hunts are a second route: with the closed form's KL negated (so it increases), the proof still holds but
    the hunt finds an increase, and the check raises instead of giving a verdict."""
    import dataclasses

    from numerics.optimum import closed_form_terms
    from verify import properties as P
    from verify.checks_fig1 import check_fig1_kl
    from verify.context import AuditContext
    from verify.outcome import CheckIntegrityError
    monkeypatch.setattr(P, "closed_form_terms", lambda A, b: dataclasses.replace(closed_form_terms(A, b),
                                                                                 kl=-closed_form_terms(A, b).kl))
    with pytest.raises(CheckIntegrityError, match="non-increasing for beta pairs"):
        check_fig1_kl(AuditContext(document_provider=_proof_document))

"""pytest as proof checking: one test per claim of the catalogue, generated from it.

``pytest -m claims`` runs them all, ``pytest "tests/test_claims.py::test_claim[prop1]"`` one. Each test
runs the claim's check as the audit does and fails, naming the equation or proposition, when a
*support* step fails (two independent routes of the toolkit disagree, or a counterexample does not
re-verify), when the check crashes, or when the verdict does not follow from the steps (a
``confirmed`` claim with a failing claim step, a ``refuted`` one without a failing step or without a
counterexample, ...). A claim of the paper that is false does not fail its test: its test passes when
the refutation is established.
"""
import pytest

from verify import catalogue
from verify.audit import run_claim
from verify.outcome import VERDICTS

pytestmark = pytest.mark.claims


@pytest.mark.parametrize("claim_id", catalogue.ids())
def test_claim(claim_id, audit_context):
    claim = catalogue.claim(claim_id)
    result = run_claim(claim, audit_context)
    assert result.outcome is not None, f"{claim_id} [{claim.section}]: {result.error}"
    o = result.outcome
    assert o.verdict in VERDICTS
    claim_steps = [s for s in o.steps if s.role == "claim"]
    failing = [s for s in claim_steps if not s.holds]
    where = f"{claim_id} [{claim.section}]"
    if o.verdict == "confirmed":
        assert claim_steps and not failing, f"{where}: confirmed although " + "; ".join(s.line() for s in failing)
    elif o.verdict == "refuted":
        assert o.counterexample, f"{where}: refuted without a counterexample"
        assert failing, f"{where}: refuted but every claim step holds"
    elif o.verdict == "corrected":
        assert o.erratum and failing, f"{where}: corrected needs an erratum and a failing printed form"
    elif o.verdict == "qualified":
        assert o.condition, f"{where}: qualified without its condition"
        assert any(not s.holds or s.role == "finding" for s in o.steps), \
            f"{where}: qualified without a failing step or a finding that qualifies it"
    else:
        assert o.reason, f"{where}: not-checked without a reason"
    assert o.evidence.strip()

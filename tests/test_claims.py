"""pytest as proof checking: one test per claim of the catalogue, generated from it.

``pytest -m claims`` runs them all, ``pytest "tests/test_claims.py::test_claim[prop1]"`` one. Each test
runs the claim's check as the audit does and fails, naming the equation or proposition, when a
*support* step fails (two independent routes of the toolkit disagree, or a counterexample does not
re-verify), when the check crashes, when the verdict does not follow from the steps (a
``confirmed`` claim with a failing claim step, a ``refuted`` one without a failing step or without a
counterexample, ...), or when the verdict is not the one expected by the independent reading of the
paper in ``tests/expected_verdicts.toml`` (verdict, and the key words its evidence, erratum, condition
or counterexample must contain). A claim of the paper that is false does not fail its test: its test
passes when the refutation is established, for the reason the independent reading gives.
"""
import json
import re
import tomllib
from pathlib import Path

import pytest

from verify import catalogue
from verify.audit import run_claim
from verify.outcome import VERDICTS

pytestmark = pytest.mark.claims

EXPECTED_FILE = Path(__file__).with_name("expected_verdicts.toml")
EXPECTED = tomllib.loads(EXPECTED_FILE.read_text(encoding="utf-8"))


def normalised(text: str) -> str:
    """Lower case, one space, ASCII minus and beta, so that a key word matches however it is typeset.

    >>> normalised("dL*/dβ = −KL*  − k/2")
    'dl*/dbeta = -kl* - k/2'
    """
    text = text.replace("\u2212", "-").replace("\u03b2", "beta").replace("\u00bd", "1/2")
    return re.sub(r"\s+", " ", text).strip().lower()


def explanation(outcome) -> str:
    """What the verdict says for itself: evidence, erratum, condition, reason and counterexample."""
    parts = [outcome.evidence, outcome.erratum or "", outcome.condition or "", outcome.reason or ""]
    if outcome.counterexample:
        parts.append(json.dumps(outcome.counterexample, default=str))
    return normalised(" ".join(parts))


def test_expected_verdicts_cover_the_catalogue_exactly():
    assert set(EXPECTED) == set(catalogue.ids()), (
        f"missing: {sorted(set(catalogue.ids()) - set(EXPECTED))}; unknown: {sorted(set(EXPECTED) - set(catalogue.ids()))}")
    for claim_id, entry in EXPECTED.items():
        assert entry.get("verdict") in VERDICTS, f"{claim_id}: {entry.get('verdict')!r} is not a verdict"
        assert len(entry.get("why", "").split()) >= 8, f"{claim_id}: the expectation must say why"
        assert isinstance(entry.get("keywords", []), list), f"{claim_id}: keywords must be a list"
        assert not entry.get("unsure", False), f"{claim_id}: the independent reading is marked unsure"


def test_keyword_matching_can_fail():
    """The key-word match rejects a reason the evidence does not give (the matcher is not vacuous)."""
    text = normalised("printed = (-1) x the derived dL/dtheta")
    assert normalised("-1") in text and normalised("-2") not in text


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
    expected = EXPECTED[claim_id]
    assert o.verdict == expected["verdict"], (
        f"{where}: verdict {o.verdict!r}, but the independent reading expects {expected['verdict']!r} "
        f"({' '.join(expected['why'].split())[:300]}); evidence: {o.evidence[:300]}")
    said = explanation(o)
    missing = [w for w in expected.get("keywords", []) if normalised(w) not in said]
    assert not missing, f"{where}: the verdict's explanation does not give the expected reason {missing}: {said[:400]}"

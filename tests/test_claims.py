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
    _assert_graded(o, where, expected)


PROOF_KEY = re.compile(r"^[\w.:+-]+/[\w.:+-]+$")


def proof_keys(basis: str) -> list[str]:
    """The ``section/step`` keys a proved step names (its basis may add words around them).

    >>> proof_keys("proofs-unit/prop1-active, proofs-unit/prop1-collapsed; see eq. 10")
    ['proofs-unit/prop1-active', 'proofs-unit/prop1-collapsed']
    """
    return [t for t in re.split(r"[,;\s]+", basis) if PROOF_KEY.match(t)]


def _assert_graded(o, where, expected):
    """Every verdict has an evidence grade; a proved step names proofs that exist in the derivation document and hold;
    where the independent reading of what the model allows says a claim is provable (``grade`` in the expectations),
    the verdict must carry that grade."""
    ungraded = [s.name for s in o.deciding_steps() if s.grade is None]
    assert o.grade is not None, f"{where}: ungraded deciding steps {ungraded}"
    for s in o.deciding_steps():
        if s.grade != "proved" or s.basis.startswith("comparison eq."):
            continue
        keys = proof_keys(s.basis)
        assert keys, f"{where}: proved step '{s.name}' names no section/step of the derivation document: {s.basis!r}"
        from derivations.document import build_document
        held = {f"{sec.key}/{st.key}": st.holds for sec in build_document().sections for st in sec.steps}
        unknown = [key for key in keys if key not in held]
        assert not unknown, f"{where}: proved step '{s.name}' names {unknown}, not in the derivation document"
        assert not s.holds or all(held[key] for key in keys), \
            f"{where}: step '{s.name}' holds although a proof it names fails"
    if "grade" in expected:
        assert o.grade == expected["grade"], (
            f"{where}: evidence grade {o.grade!r} ({o.grade_basis[:200]}), expected {expected['grade']!r}")

"""Proof checking: every step of the SymPy derivation must hold.

One test per section of ``derivations.document`` (sections are built lazily, each once per session);
a failing test names every step that does not hold, its paper equation and its residual.
"""
from __future__ import annotations

import pytest

from derivations.document import section_builders

pytestmark = pytest.mark.symbolic


def _short(obj, limit=1500):
    text = str(obj)
    return text if len(text) <= limit else text[:limit] + f" ... [{len(text) - limit} more characters]"


@pytest.mark.parametrize("key", list(section_builders()))
def test_every_step_of_section_holds(key):
    section = section_builders()[key]()
    assert section.steps, f"section {key!r} has no step"
    failures = [
        f"step {s.key!r} ({'eq. (' + s.equation + ')' if s.equation else 'no paper equation'}): {s.title}\n"
        f"    method:   {s.method}\n    residual: {_short(s.residual)}"
        for s in section.steps if not s.holds]
    assert not failures, f"section {key!r}: {len(failures)} step(s) do not hold:\n" + "\n".join(failures)


def test_step_keys_are_unique_and_numerous():
    from derivations.document import build_document
    keys = [step.key for section in build_document().sections for step in section.steps]
    duplicates = sorted({k for k in keys if keys.count(k) > 1})
    assert not duplicates, f"duplicate step keys: {duplicates}"
    assert len(keys) >= 40, f"only {len(keys)} derivation steps"

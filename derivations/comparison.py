"""The record of one comparison between what the paper printed and what was derived.

Verdicts (decided by :func:`derivations.errata.compare` from computed residuals, never typed):

``confirmed``
    printed and derived agree identically.
``confirmed-up-to-constant``
    they differ by a parameter-independent additive term, which the paper says it drops;
    ``evidence`` names the term (it may depend on beta).
``equivalent-condition``
    a stationarity condition ``0 = expr`` whose printed ``expr`` is a non-zero multiple of the
    derived one: the condition (its zero set) is the same, the printed derivative value is not.
``conditional``
    equal once a stated condition holds (``details['condition']``), e.g. b_mu = 0 at the optimum.
``erratum``
    a genuine mismatch: ``corrected`` is the derived form, ``evidence`` holds the non-zero
    symbolic difference and a numeric counterexample.

>>> import sympy as sp
>>> x = sp.Symbol("x")
>>> c = Comparison("42", "an example", "2x", "as printed", 2 * x, x, "erratum", "printed - derived = x at x = 1")
>>> c.is_erratum, c.verdict in VERDICTS
(True, True)
"""
from __future__ import annotations

from dataclasses import dataclass, field

VERDICTS = ("confirmed", "confirmed-up-to-constant", "equivalent-condition", "conditional", "erratum")


@dataclass(frozen=True)
class Comparison:
    equation: str            # the paper's number as a string, e.g. "42" (or "23.3" for a line of 23)
    title: str
    printed_text: str        # the PDF-extraction text we transcribed (flattened)
    reading: str             # the reading chosen, and any ambiguity of the extraction
    printed: object          # SymPy transcription (general dimension where possible)
    derived: object          # SymPy derived form (same dimension as printed)
    verdict: str
    evidence: str            # symbolic difference and numeric counterexample, in words and numbers
    corrected: object = None  # derived form to use instead, for errata
    kind: str = ""           # for errata: "wrong expression", "notation", "sign/scale", ...
    details: dict = field(default_factory=dict)

    @property
    def is_erratum(self) -> bool:
        return self.verdict == "erratum"

"""The errata of the derivation document as plain JSON-ready dictionaries, one per erratum.

Each entry gives the printed and the corrected form both as text (``str(expr)``, not ``srepr``) and as
LaTeX, with the evidence, the kind of erratum and the reading of the paper's text that was chosen.

>>> import sympy as sp
>>> from derivations.comparison import Comparison
>>> from derivations.document import Document
>>> a = sp.Symbol('a')
>>> wrong = Comparison("42", "a factor 2", "2a", "as printed", 2 * a, a, "erratum", "2a - a = a", corrected=a)
>>> [entry["corrected"] for entry in errata_json(Document((), (wrong,)))]
['a']
"""
from __future__ import annotations

from .latex_math import to_latex


def to_plain(obj) -> str | None:
    """Readable text for an expression (``str``, not ``srepr``); None stays None.

    >>> from sympy import Symbol
    >>> to_plain(Symbol('beta') / 2), to_plain(None)
    ('beta/2', None)
    """
    if obj is None:
        return None
    return obj if isinstance(obj, str) else str(obj)


def errata_json(doc, provenance: dict | None = None) -> list[dict]:
    """One dictionary per erratum; ``printed``/``corrected`` are ``str(expr)`` (None when absent).

    Keys: equation, title, printed, printed_latex, corrected, corrected_latex, evidence, kind, reading; and
    provenance, when a record (of ``numerics.artifacts.record``: toolkit and library versions, command, precision)
    is given.
    """
    entries = [{
        "equation": str(c.equation),
        "title": c.title,
        "printed": to_plain(c.printed),
        "printed_latex": None if c.printed is None else to_latex(c.printed),
        "corrected": to_plain(c.corrected),
        "corrected_latex": None if c.corrected is None else to_latex(c.corrected),
        "evidence": c.evidence,
        "kind": c.kind,
        "reading": c.reading,
    } for c in doc.comparisons if c.verdict == "erratum"]
    if provenance:
        entries = [{**entry, "provenance": provenance} for entry in entries]
    return entries

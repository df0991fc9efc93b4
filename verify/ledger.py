"""Which seeds and which precision a claim's check actually used, noted where they are used.

The audit opens a ledger around each check (:func:`recording`); the hypothesis hunts, the
high-precision derivatives, the stationarity solver, the derivation document and the trained runs
note what they used (:func:`note`). The claim's provenance in ``claims.json`` is what was noted, so
it cannot drift from the code the way a per-claim table typed by hand would.

>>> with recording() as used:
...     note("seeds", "stationary_solver_starts", 0)
...     note("precision", "mpmath_dps", 50)
>>> used
{'seeds': {'stationary_solver_starts': 0}, 'precision': {'mpmath_dps': 50}}
>>> note("seeds", "ignored", 1)     # outside a recording: nothing to do
"""
from __future__ import annotations

import contextlib

_OPEN: list[dict] = []


@contextlib.contextmanager
def recording():
    used = {"seeds": {}, "precision": {}}
    _OPEN.append(used)
    try:
        yield used
    finally:
        _OPEN.remove(used)


def note(kind: str, name: str, value) -> None:
    """Record that the running check used ``name = value`` (kind: 'seeds' or 'precision')."""
    if kind not in ("seeds", "precision"):
        raise ValueError(f"kind must be 'seeds' or 'precision', got {kind!r}")
    for used in _OPEN:
        used[kind][name] = value

"""How every command prints JSON: one document, strict JSON, with its provenance record.

* Object documents get a top-level ``"provenance"``; list documents (``curve --json`` and
  ``claims.json``, lists by their contract) carry it in every element, so each element can be read on
  its own.
* JSON has no infinities: ``inf`` is written as the string ``"inf"`` (a collapsed unit's threshold
  derivative, a solver gap when nothing was found). A NaN is never written: it means a computation
  went wrong, and :class:`NaNInOutput` says where instead.

>>> doc = with_provenance({"beta": 1.0}, ["curve"], seeds={}, precision={}, started=None)
>>> sorted(doc)
['beta', 'provenance']
>>> strict({"gap": float("inf"), "x": [1.0, -float("inf")]})
{'gap': 'inf', 'x': [1.0, '-inf']}
"""
from __future__ import annotations

import json
import math
import time

from numerics import provenance

_STARTED: list[float] = []
_COMMAND: list[list[str]] = []


def mark_start(argv: list[str]) -> None:
    """Called when a command starts: the wall time in the provenance is measured from here."""
    _STARTED[:] = [time.perf_counter()]
    _COMMAND[:] = [list(argv)]


def mark_finished() -> None:
    _STARTED.clear()
    _COMMAND.clear()


def current_command() -> list[str]:
    return _COMMAND[0] if _COMMAND else []


def started_at() -> float | None:
    return _STARTED[0] if _STARTED else None


def elapsed(started: float | None = None) -> float:
    start = started if started is not None else (_STARTED[0] if _STARTED else time.perf_counter())
    return time.perf_counter() - start


class NaNInOutput(ValueError):
    """A NaN reached an output document (a bug: the toolkit promises never to print one)."""


def strict(doc, where: str = "$"):
    """``doc`` with +-inf as strings; raises :class:`NaNInOutput` naming the first NaN's path."""
    if isinstance(doc, float):
        if math.isnan(doc):
            raise NaNInOutput(f"NaN at {where}")
        if math.isinf(doc):
            return "inf" if doc > 0 else "-inf"
        return doc
    if isinstance(doc, dict):
        return {k: strict(v, f"{where}.{k}") for k, v in doc.items()}
    if isinstance(doc, (list, tuple)):
        return [strict(v, f"{where}[{i}]") for i, v in enumerate(doc)]
    return doc


def with_provenance(doc, command, *, seeds: dict, precision: dict, started: float | None = None,
                    inputs: dict | None = None):
    """``doc`` with its provenance record (see the module docstring for lists)."""
    record = provenance.record(command=command, seeds=seeds, precision=precision,
                               wall_time_seconds=elapsed(started), inputs=inputs)
    if isinstance(doc, list):
        return [{**item, "provenance": record} for item in doc]
    return {**doc, "provenance": record}


def dumps(doc, *, seeds: dict, precision: dict, indent: int = 1, inputs: dict | None = None) -> str:
    """The strict JSON text of ``doc`` with the provenance of the running command."""
    return json.dumps(strict(with_provenance(doc, current_command(), seeds=seeds, precision=precision,
                                             inputs=inputs)),
                      indent=indent, allow_nan=False, default=str)

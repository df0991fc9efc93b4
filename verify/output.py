"""How every command prints JSON: one document, strict JSON (numerics.artifacts.jsonable), with its provenance.

* The run information travels explicitly: the command line and the start time are an :class:`Invocation`, made once
  by verify.cli and handed to the command, which hands it to whatever records provenance.
* Object documents get a top-level ``"provenance"``; list documents (``curve --json`` and ``claims.json``, lists by
  their contract) carry it in every element, so each element can be read on its own.

>>> doc = with_provenance({"beta": 1.0}, Invocation(("curve",)), seeds={}, precision={})
>>> sorted(doc), doc["provenance"]["command"]
(['beta', 'provenance'], 'betavae-audit curve')
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from numerics.artifacts import dumps
from numerics.artifacts import record


@dataclass(frozen=True)
class Invocation:
    """The command line a run answers to (after the program name; empty when called as a library) and its start."""

    command: tuple[str, ...] = ()
    started: float = field(default_factory=time.perf_counter)

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def provenance(self, *, seeds: dict, precision: dict, inputs: dict | None = None) -> dict:
        """The provenance record of an output of this run (numerics.artifacts.record)."""
        return record(command=list(self.command), seeds=seeds, precision=precision,
                      wall_time_seconds=self.elapsed(), inputs=inputs)


def with_provenance(doc, invocation: Invocation, *, seeds: dict, precision: dict, inputs: dict | None = None):
    """``doc`` with its provenance record (see the module docstring for lists)."""
    stamp = invocation.provenance(seeds=seeds, precision=precision, inputs=inputs)
    if isinstance(doc, list):
        return [{**item, "provenance": stamp} for item in doc]
    return {**doc, "provenance": stamp}


def command_json(doc, invocation: Invocation, *, seeds: dict, precision: dict, indent: int = 1,
                 inputs: dict | None = None) -> str:
    """The strict JSON text of ``doc`` with the provenance of ``invocation``."""
    # printed on stdout, whose encoding is the user's: ASCII escapes are safe everywhere
    return dumps(with_provenance(doc, invocation, seeds=seeds, precision=precision, inputs=inputs),
                 indent=indent, ensure_ascii=True)

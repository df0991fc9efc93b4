"""The one shape of a library's bad-input error: which input (``field``) and what is wrong with it (``problem``).

The library names no command-line flag; the command that passed the value maps ``field`` to its own flag
(verify.commands). numerics.problems.ProblemError, deep.betavae.protocol.ProtocolError and deep.betavae.data.DataError
are its kinds.

>>> err = InputError("seed", "must be a non-negative integer, got -1")
>>> str(err), err.field
('seed: must be a non-negative integer, got -1', 'seed')
"""
from __future__ import annotations


class InputError(ValueError):
    """An invalid input: ``field`` names it, ``problem`` says what is wrong (one line)."""

    def __init__(self, field: str, problem: str):
        super().__init__(f"{field}: {problem}")
        self.field, self.problem = field, problem

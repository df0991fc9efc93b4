"""What every JSON output and report records so that a number can be traced and reproduced.

One record format for every command (``curve``, ``optimal-beta``, ``stationary``, ``derive``,
``crosscheck``, ``train``, ``audit``): the toolkit version, the versions of the numeric libraries,
the command line, the seeds, the precision and the wall time. Versions are read from the installed
package metadata, so recording them imports neither SymPy nor torch.

Everything in a record except ``wall_time_seconds`` is a function of the inputs: two runs with the
same arguments and seeds give identical records apart from that one field (and identical numbers).

>>> r = record(command=["curve", "--betas", "1"], seeds={"problem": None}, precision={"float": "float64"},
...            wall_time_seconds=0.5)
>>> r["toolkit"]["name"], set(REQUIRED_LIBRARIES) <= set(r["versions"])
('betavae-audit', True)
>>> r["command"]
'betavae-audit curve --betas 1'
"""
from __future__ import annotations

import functools
import importlib.metadata
import os
import platform
import shlex
import sys

TOOLKIT = "betavae-audit"
REQUIRED_LIBRARIES = ("sympy", "numpy", "scipy", "mpmath", "torch")
OPTIONAL_LIBRARIES = ("hypothesis", "scikit-learn", "matplotlib")
TIMING_KEYS = frozenset({"wall_time_seconds", "wall_time", "seconds", "timings"})


def _version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def toolkit_version() -> str | None:
    """The installed toolkit's version (None when run from a source tree that was never installed)."""
    return _version(TOOLKIT)


@functools.lru_cache(maxsize=1)
def _versions() -> tuple:
    out = {TOOLKIT: toolkit_version(), "python": platform.python_version()}
    for name in REQUIRED_LIBRARIES + OPTIONAL_LIBRARIES:
        out[name] = _version(name)
    return tuple(out.items())


def versions() -> dict:
    """Versions of Python, the toolkit and the libraries whose arithmetic the numbers depend on (read once per
    process: the audit stamps fifty claim records with them)."""
    return dict(_versions())


def record(*, command, seeds: dict, precision: dict, wall_time_seconds: float, inputs: dict | None = None) -> dict:
    """The provenance record of one output.

    ``command``: the argument list after the program name (or a string; None or an empty list when the
    computation was called as a library, not from the command line); ``seeds``: every seed that
    decided a number (None for a stream that was not used); ``precision``: the arithmetic (float64,
    float32, mpmath digits, exact SymPy rationals) of each part of the computation; ``inputs``: what
    identifies the data (e.g. the mixing matrix's shape and SHA-256), recorded as ``"input"``.
    """
    if command is not None and not isinstance(command, str):   # an argument list; empty: not run from the CLI
        command = shlex.join([TOOLKIT, *command]) if list(command) else None
    out = {
        "toolkit": {"name": TOOLKIT, "version": toolkit_version()},
        "command": command,
        "versions": versions(),
        "seeds": dict(seeds),
        "precision": dict(precision),
        "wall_time_seconds": round(float(wall_time_seconds), 3),
        "machine": {"platform": platform.platform(terse=True), "processor": platform.machine(),
                    "cpu_count": os.cpu_count(), "python_implementation": sys.implementation.name},
    }
    if inputs is not None:
        out["input"] = dict(inputs)
    return out


def matrix_fingerprint(A) -> dict:
    """Shape and SHA-256 of a matrix's float64 values (C order): identifies a --mixing file's contents.

    >>> matrix_fingerprint([[1.0, 0.0], [0.0, 1.0]])["shape"]
    [2, 2]
    """
    import hashlib

    import numpy as np
    values = np.ascontiguousarray(np.asarray(A, dtype=np.float64))
    return {"shape": list(values.shape), "sha256_float64": hashlib.sha256(values.tobytes()).hexdigest()}


def without_timings(doc):
    """``doc`` with every timing field removed: what must be identical between two runs with the same seeds.

    >>> without_timings({"a": 1, "wall_time_seconds": 2.0, "b": [{"seconds": 1, "c": 3}]})
    {'a': 1, 'b': [{'c': 3}]}
    """
    if isinstance(doc, dict):
        return {k: without_timings(v) for k, v in doc.items() if k not in TIMING_KEYS}
    if isinstance(doc, list):
        return [without_timings(v) for v in doc]
    return doc

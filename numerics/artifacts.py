r"""What a run leaves behind: the provenance record of every output, strict JSON, files written atomically.

**Provenance.** One record format for every command (``curve``, ``optimal-beta``, ``stationary``, ``derive``,
``crosscheck``, ``train``, ``audit``): the toolkit version, the versions of the numeric libraries, the command line,
the seeds, the precision and the wall time. Versions are read from the installed package metadata, so recording them
imports neither SymPy nor torch. Everything in a record except ``wall_time_seconds`` is a function of the inputs: two
runs with the same arguments and seeds give identical records apart from that one field (and identical numbers).

**One JSON convention.** Results are typed (dataclasses); :func:`jsonable` turns any of them (and numpy arrays and
scalars, tuples, fractions) into plain data: a type's ``to_json()`` where it has one (its one deliberate view),
else its fields; with the one NaN policy: JSON has no infinities, so ``inf`` is written
as the string ``"inf"`` (a collapsed unit's threshold derivative, a solver gap when nothing was found); a NaN is never
written: it means a computation went wrong, and :class:`NaNInOutput` says where.

**Atomic figures.** :func:`save_figure` writes to a temporary file beside the target and then ``os.replace``\ s
it, so an interrupted run never leaves a half-written image (the audit builds its whole output directory beside
the old one and swaps it in, verify.commands.audit; derivations writes its files with
``derivations.atomic_file``, since it imports nothing but SymPy).

>>> r = record(command=["curve", "--betas", "1"], seeds={"problem": None}, precision={"float": "float64"},
...            wall_time_seconds=0.5)
>>> r["toolkit"]["name"], set(REQUIRED_LIBRARIES) <= set(r["versions"])
('betavae-audit', True)
>>> r["command"]
'betavae-audit curve --betas 1'
>>> import numpy as np
>>> jsonable({"gap": float("inf"), "x": np.array([1.0, -np.inf]), "n": np.int64(3)})
{'gap': 'inf', 'x': [1.0, '-inf'], 'n': 3}
>>> jsonable({"beta": [1.0, float("nan")]})
Traceback (most recent call last):
numerics.artifacts.NaNInOutput: NaN at $.beta[1]
"""
from __future__ import annotations

import functools
import importlib.metadata
import os
import platform
import shlex
import sys
import tempfile
from pathlib import Path

TOOLKIT = "betavae-audit"
REQUIRED_LIBRARIES = ("sympy", "numpy", "scipy", "mpmath", "torch")
OPTIONAL_LIBRARIES = ("hypothesis", "scikit-learn", "matplotlib")
TIMING_KEYS = frozenset({"wall_time_seconds", "wall_time", "seconds", "timings", "throughput"})


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
    # hash the array's own buffer: tobytes() would copy it (800 MB for a 10,000 x 10,000 covariance)
    return {"shape": list(values.shape), "sha256_float64": hashlib.sha256(memoryview(values).cast("B")).hexdigest()}


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


# ------------------------------------------------------------------------------------------------ strict JSON
class NaNInOutput(ValueError):
    """A NaN reached an output document (a bug: the toolkit promises never to print one)."""


def jsonable(obj, where: str = "$"):
    """``obj`` as plain JSON data: dataclasses by field, numpy arrays as lists, +-inf as strings, NaN refused."""
    import dataclasses
    import math
    from fractions import Fraction

    if callable(getattr(obj, "to_json", None)) and not isinstance(obj, type):   # a type's one deliberate view
        return jsonable(obj.to_json(), where)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: jsonable(getattr(obj, f.name), f"{where}.{f.name}") for f in dataclasses.fields(obj)}
    if hasattr(obj, "tolist") and hasattr(obj, "dtype"):          # numpy arrays and scalars, without importing numpy
        obj = obj.tolist()
    if isinstance(obj, bool) or obj is None or isinstance(obj, (int, str)):
        return obj
    if isinstance(obj, float):
        if math.isnan(obj):
            raise NaNInOutput(f"NaN at {where}")
        return ("inf" if obj > 0 else "-inf") if math.isinf(obj) else obj
    if isinstance(obj, dict):
        return {str(k): jsonable(v, f"{where}.{k}") for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v, f"{where}[{i}]") for i, v in enumerate(obj)]
    if isinstance(obj, (Fraction, Path)):
        return str(obj)
    # anything else is a result type without a JSON view: a bug to fix where it is made, not text to guess at
    raise TypeError(f"{type(obj).__name__} at {where} has no JSON form (give it to_json() or make it a dataclass)")


def dumps(obj, indent: int | None = 1, ensure_ascii: bool = False) -> str:
    """The strict JSON text of ``obj`` (see :func:`jsonable`); files are UTF-8, stdout ASCII (``ensure_ascii``)."""
    import json
    return json.dumps(jsonable(obj), indent=indent, ensure_ascii=ensure_ascii, allow_nan=False)


# ------------------------------------------------------------------------------------------------ atomic files
def new_file_mode() -> int:
    """The permission bits ``open`` would give a new file under the current umask (as every other output file has)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def save_figure(fig, path, dpi: int = 110) -> Path:
    """Save a matplotlib ``fig`` to ``path`` (format from the suffix, PNG by default) atomically, then close it."""
    import matplotlib.pyplot as plt
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent if str(path.parent) else ".", suffix=path.suffix or ".png")
    os.close(fd)
    try:
        fig.savefig(tmp, dpi=dpi, format=(path.suffix.lstrip(".") or "png"))
        os.chmod(tmp, new_file_mode())     # mkstemp's 0600 would hide the figure from whoever may read its report
        os.replace(tmp, path)
    finally:
        plt.close(fig)
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path

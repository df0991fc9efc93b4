"""A real matrix read from a user's file: ``.npy`` (never unpickled) or ``.csv`` (comma-separated numbers), with one
line of explanation for every way the file can be wrong. The mixing matrix (``--mixing``) and the covariance
(``--covariance``) are read by it; the caller names the input (``field``) and says what its rows are.

>>> import tempfile, os
>>> path = os.path.join(tempfile.mkdtemp(), "m.csv")
>>> _ = open(path, "w").write("1,2\\n3,4\\n")
>>> read_matrix_file(path, "mixing", InputError, "N x k").tolist()
[[1.0, 2.0], [3.0, 4.0]]
>>> read_matrix_file(path[:-4] + ".txt", "mixing", InputError, "N x k")     # doctest: +IGNORE_EXCEPTION_DETAIL
Traceback (most recent call last):
numerics.input_error.InputError: mixing: file '....txt' does not exist
"""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from .input_error import InputError


def read_matrix_file(path: str | Path, field: str, error: type[InputError], shape: str) -> np.ndarray:
    """The matrix in ``path`` as float64 (a 1-D ``.npy`` stays 1-D: the caller decides); ``error(field, ...)`` for
    a missing, empty, unreadable or non-numeric file. ``shape`` (e.g. "N x k") goes into the messages."""
    if str(path) == "":
        raise error(field, "empty path")
    path = Path(path)
    if not path.exists():
        raise error(field, f"file '{path}' does not exist")
    if not path.is_file():
        raise error(field, f"'{path}' is not a file")
    if path.stat().st_size == 0:
        raise error(field, f"file '{path}' is empty")
    suffix = path.suffix.lower()
    if suffix not in (".npy", ".csv"):
        raise error(field, f"unsupported file type '{suffix or path.name}' (use .npy or .csv)")
    try:
        if suffix == ".npy":
            M = np.load(path, allow_pickle=False)
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")    # utf-8-sig: a CSV saved by a spreadsheet starts with a BOM
                M = np.loadtxt(path, delimiter=",", dtype=float, ndmin=2, encoding="utf-8-sig")
    except (ValueError, OSError, EOFError, UnicodeDecodeError) as err:
        if suffix == ".npy":     # numpy's words (pickle advice, usecols) mean nothing on the command line
            msg = f"not a numeric .npy array (numpy.save of a real {shape} array, no object data)"
        else:
            msg = ("not a CSV of numbers: one row per observed dimension, comma-separated, no header, the same "
                   "number of values on every row (" + " ".join(str(err).split())[:120] + ")")
        raise error(field, f"cannot read '{path}': {msg}") from None
    if M.dtype.kind not in "iuf":
        raise error(field, f"'{path}' holds {M.dtype} data, expected real numbers")
    return np.asarray(M, dtype=float)

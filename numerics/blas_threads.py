"""Holding OpenBLAS to one thread for a block of small dense linear algebra.

The stationarity solver (:mod:`numerics.stationary`) works on matrices of at most 106 x 106; a
multi-threaded OpenBLAS on a loaded machine spends its time spin-waiting, and one run was measured
10-40x slower than single-threaded. numpy and scipy may each load their own OpenBLAS, under one of
several symbol names (``openblas_*``, scipy-openblas's ``scipy_openblas_*``, with or without the 64-bit
suffix); every one found in the process is limited, and restored afterwards. Elsewhere (another BLAS,
no ``/proc``) it does nothing.

>>> with single_threaded_openblas() as libraries:
...     libraries >= 0                   # how many OpenBLAS libraries were limited
True
"""
from __future__ import annotations

import contextlib
import ctypes

_OPENBLAS_THREAD_API = (("openblas_get_num_threads", "openblas_set_num_threads"),
                        ("scipy_openblas_get_num_threads64_", "scipy_openblas_set_num_threads64_"),
                        ("scipy_openblas_get_num_threads", "scipy_openblas_set_num_threads"),
                        ("openblas_get_num_threads64_", "openblas_set_num_threads64_"))


@contextlib.contextmanager
def single_threaded_openblas():
    """Run with every loaded OpenBLAS limited to one thread, restored afterwards (no-op elsewhere).

    Yields the number of libraries limited.
    """
    restore = []
    try:
        with open("/proc/self/maps") as fh:
            paths = sorted({ln.split()[-1] for ln in fh if "openblas" in ln.lower() and "/" in ln and ".so" in ln})
    except OSError:
        paths = []
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for get_name, set_name in _OPENBLAS_THREAD_API:
            if hasattr(lib, get_name) and hasattr(lib, set_name):
                get, put = getattr(lib, get_name), getattr(lib, set_name)
                get.restype, put.argtypes = ctypes.c_int, [ctypes.c_int]
                restore.append((put, int(get())))
                put(1)
                break
    try:
        yield len(restore)
    finally:
        for put, n in restore:
            put(n)

"""Where and in which precision the deep experiments run, with how many threads.

CUDA when available, CPU otherwise; float32 unless asked otherwise (float64 is used by the tests that
compare the batched program with a model trained alone).

>>> pick_device("cpu").type
'cpu'
>>> torch_dtype("float64")
torch.float64
"""
from __future__ import annotations

import os

import torch

DTYPES = {"float32": torch.float32, "float64": torch.float64}


def pick_device(name: str | torch.device | None = None) -> torch.device:
    """``name`` if given ('cpu', 'cuda', 'cuda:1' or a device), else CUDA when available, else the CPU."""
    if name:
        return torch.device(name)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def torch_dtype(name: str) -> torch.dtype:
    if name not in DTYPES:
        raise ValueError(f"dtype must be one of {sorted(DTYPES)}, got '{name}'")
    return DTYPES[name]


def device_record(device: torch.device) -> dict:
    """What the JSON says about the hardware: device, thread count, CPU count."""
    record = {"device": str(device), "torch_threads": torch.get_num_threads(), "cpu_count": os.cpu_count()}
    if device.type == "cuda":
        record["cuda_device_name"] = torch.cuda.get_device_name(device)
    return record


# ------------------------------------------------------------------------------------ threads
_THREAD_CHOICE: dict = {}


class torch_threads:
    """Context manager: run with ``n`` intra-op threads, restore the previous number afterwards."""

    def __init__(self, n: int | None):
        self.n = n
        self.previous = None

    def __enter__(self):
        self.previous = torch.get_num_threads()
        if self.n is not None and self.n != self.previous:
            torch.set_num_threads(self.n)
        return self

    def __exit__(self, *exc):
        if torch.get_num_threads() != self.previous:
            torch.set_num_threads(self.previous)
        return False


DEFAULT_THREADS_NOTE = ("default: 1 thread (on the shared 2-vCPU reference machine 2 threads were 1.6x faster when "
                        "it was idle and up to 20x slower when another process was running: OpenMP spin-waits); "
                        "--threads T or threads='auto' to choose")


def default_threads(threads, device: torch.device) -> tuple[int, str]:
    """The thread count of a run: ``threads`` if an integer, measured if 'auto', else 1 on the CPU.

    Results were bitwise identical with 1 and 2 threads in every run made here (the batched products
    split over models, not over the reductions), so the choice is about speed only.
    """
    if device.type != "cpu":
        return torch.get_num_threads(), "not a CPU device"
    if threads == "auto":
        return choose_threads(device)
    if threads is not None:
        return int(threads), "given"
    return 1, DEFAULT_THREADS_NOTE


def choose_threads(device: torch.device) -> tuple[int, str]:
    """The faster of 1 and all CPU threads, timed once per process (``threads='auto'``).

    A ~0.1-0.5 s measurement of a representative step. Under bursty load from other processes the
    measurement can mislead, which is why it is not the default.
    """
    if device.type != "cpu":
        return torch.get_num_threads(), "not a CPU device"
    available = torch.get_num_threads()
    if available == 1:
        return 1, "one thread available"
    if available in _THREAD_CHOICE:
        return _THREAD_CHOICE[available]
    import time
    W = [torch.randn(8, 200, 200, requires_grad=True) for _ in range(2)]
    X = torch.randn(8, 100, 200)
    times = {1: [], available: []}

    def step():
        h = X
        for w in W:
            h = torch.tanh(torch.bmm(h, w))
        h.sum().backward()

    for _ in range(3):
        for n in (1, available):
            with torch_threads(n):
                step()
                t0 = time.perf_counter()
                step()
                times[n].append(time.perf_counter() - t0)
    best = {n: min(t) for n, t in times.items()}
    n = 1 if best[1] <= best[available] else available
    choice = (n, f"measured: 1 thread {best[1] * 1e3:.2f} ms/step, {available} threads "
                 f"{best[available] * 1e3:.2f} ms/step")
    _THREAD_CHOICE[available] = choice
    return choice

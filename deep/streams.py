"""Random streams keyed by (seed, purpose, replicate[, beta index]): a model's numbers never depend on
which other models share its batch.

Every model draws its data, initial weights, mini-batch order, reparameterisation noise and
evaluation noise from its own generator, whose seed is derived with numpy's ``SeedSequence`` from
the run's base seed (``Protocol.seed``, ``train --train-seed``), a purpose tag and the model's key. Two runs with
the same base seed therefore
give identical models, and training a model alone or among a thousand others gives the same numbers.

>>> int(numpy_stream(0, "data", 3).integers(1000)) == int(numpy_stream(0, "data", 3).integers(1000))
True
>>> torch_stream(0, "init", 1).initial_seed() != torch_stream(0, "init", 2).initial_seed()
True
"""
from __future__ import annotations

import numpy as np
import torch

# purpose tags: fixed integers, so that renaming a variable never changes a stream
PURPOSES = {"data": 1, "init": 2, "order": 3, "noise": 4, "eval": 5}


def _entropy(seed: int, purpose: str, key: tuple[int, ...]) -> list[int]:
    if purpose not in PURPOSES:
        raise ValueError(f"unknown purpose '{purpose}'")
    if int(seed) < 0 or any(int(k) < 0 for k in key):
        raise ValueError("seeds and keys must be non-negative integers")
    return [int(seed), PURPOSES[purpose], len(key), *(int(k) for k in key)]


def numpy_stream(seed: int, purpose: str, *key: int) -> np.random.Generator:
    """A numpy Generator (PCG64) for ``purpose`` and ``key``."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(_entropy(seed, purpose, key))))


def torch_seed(seed: int, purpose: str, *key: int) -> int:
    """A 63-bit integer seed for a torch Generator (same derivation as :func:`numpy_stream`)."""
    state = np.random.SeedSequence(_entropy(seed, purpose, key)).generate_state(2, dtype=np.uint32)
    return int((int(state[0]) << 31) ^ int(state[1])) & ((1 << 63) - 1)


def torch_stream(seed: int, purpose: str, *key: int) -> torch.Generator:
    """A CPU torch Generator for ``purpose`` and ``key``.

    Always on the CPU (numbers are moved to the device afterwards), so a model's random numbers are
    the same on every device.
    """
    generator = torch.Generator(device="cpu")
    generator.manual_seed(torch_seed(seed, purpose, *key))
    return generator

"""How fast the deep beta-VAEs train, as a fraction of the machine's matrix-multiply peak, and what a protocol costs.

Training one model for one epoch over n examples costs, in floating-point operations, about
3 x 2 x n x (weights of its dense layers): 2 per multiply-add in the forward pass, and the backward pass twice
the forward (gradients with respect to the activations and to the weights); elementwise work (tanh, Adam) is
ignored, so the fraction is a slight underestimate. The peak is measured in the same process by
:func:`matmul_peak`: square matrix products of the training dtype on the training device, the best of a few.
A protocol's projected time is its operation count divided by the throughput measured here.

>>> from deep.betavae.network import Architecture
>>> epoch_flops(Architecture(N=64, k=10), examples=1000) == 6 * 1000 * weights(Architecture(N=64, k=10))
True
"""
from __future__ import annotations

import time

import torch


def weights(arch) -> int:
    """Multiply-adds per example of one forward pass: the sizes of the dense layers' weight matrices."""
    return sum(fan_in * fan_out for fan_in, fan_out in arch.parameter_shapes().values())


def epoch_flops(arch, examples: int) -> float:
    """Operations of one model for one epoch (forward + backward, dense layers only)."""
    return 6.0 * examples * weights(arch)


def matmul_peak(device: torch.device | str = "cpu", dtype: torch.dtype = torch.float32, size: int = 1024,
                seconds: float = 0.5) -> float:
    """Best measured operations per second of a ``size`` x ``size`` matrix product on ``device`` in ``dtype``."""
    device = torch.device(device)
    a = torch.randn((size, size), dtype=dtype, device=device)
    b = torch.randn((size, size), dtype=dtype, device=device)
    sync = (lambda: torch.cuda.synchronize(device)) if device.type == "cuda" else (lambda: None)
    a @ b
    sync()
    best, start = float("inf"), time.perf_counter()
    while time.perf_counter() - start < seconds:
        t0 = time.perf_counter()
        a @ b
        sync()
        best = min(best, time.perf_counter() - t0)
    return 2.0 * size ** 3 / best


def throughput(arch, model_epochs: float, examples: int, seconds: float, peak: float) -> dict:
    """Achieved operations per second of a training run and its fraction of ``peak``."""
    achieved = epoch_flops(arch, examples) * model_epochs / seconds if seconds > 0 else float("nan")
    return {"model_epochs": float(model_epochs), "train_seconds": seconds, "flops_per_second": achieved,
            "matmul_peak_flops_per_second": peak, "fraction_of_peak": achieved / peak}


def projected_seconds(arch, protocol, flops_per_second: float) -> float:
    """Time to train every model of ``protocol`` for its full budget at ``flops_per_second``."""
    models = protocol.seeds * len(protocol.betas)
    return epoch_flops(arch, protocol.examples) * models * protocol.max_epochs / flops_per_second

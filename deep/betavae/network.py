"""The deep beta-VAE of Section V / Appendix C: architecture, initialisation, and one model alone.

Encoder q_phi(z|x): three tanh layers of 256, 200, 200 units, then two parallel linear heads of k
units, the mean mu_z and the log-variance log sigma_z^2 (the exponential activation of eq. 20).
Decoder p_theta(x|z): three tanh layers of 200, 200, 256 units, then a linear output layer giving the
mean of a Gaussian with unit variance (sigma_y^2 = 1, as in Section IV.B).

Initialisation (not stated in the paper, which used TensorFlow): TensorFlow's default for dense
layers, Glorot-uniform weights and zero biases, drawn from the model's own ``init`` stream in a fixed
order (:func:`initial_parameters`), so a model's initial weights depend only on its key.

:class:`SingleVAE` is the plain ``torch.nn`` version of one model; the batched program
(:mod:`deep.betavae.batched`) is tested against it.

>>> arch = Architecture(N=64, k=10)
>>> arch.parameter_shapes()
{'enc0': (64, 256), 'enc1': (256, 200), 'enc2': (200, 200), 'mu': (200, 10), 'logvar': (200, 10), 'dec0': (10, 200), 'dec1': (200, 200), 'dec2': (200, 256), 'dec3': (256, 64)}
>>> arch.n_parameters()
222564
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

ENCODER_HIDDEN = (256, 200, 200)
DECODER_HIDDEN = (200, 200, 256)
LOG_2PI = math.log(2.0 * math.pi)


@dataclass(frozen=True)
class Architecture:
    """Input size N (pixels of x or of the canvas), latent size k, and the hidden layer widths."""

    N: int
    k: int
    encoder_hidden: tuple[int, ...] = ENCODER_HIDDEN
    decoder_hidden: tuple[int, ...] = DECODER_HIDDEN

    def encoder_sizes(self) -> list[tuple[int, int]]:
        sizes = (self.N, *self.encoder_hidden)
        return list(zip(sizes[:-1], sizes[1:]))

    def decoder_sizes(self) -> list[tuple[int, int]]:
        sizes = (self.k, *self.decoder_hidden, self.N)
        return list(zip(sizes[:-1], sizes[1:]))

    def parameter_shapes(self) -> dict[str, tuple[int, int]]:
        """Name -> (fan_in, fan_out) of every dense layer, in initialisation order."""
        shapes = {f"enc{i}": s for i, s in enumerate(self.encoder_sizes())}
        shapes["mu"] = (self.encoder_hidden[-1], self.k)
        shapes["logvar"] = (self.encoder_hidden[-1], self.k)
        shapes.update({f"dec{i}": s for i, s in enumerate(self.decoder_sizes())})
        return shapes

    def n_parameters(self) -> int:
        return sum(a * b + b for a, b in self.parameter_shapes().values())


def initial_parameters(arch: Architecture, generator: torch.Generator, dtype=torch.float64) -> dict[str, torch.Tensor]:
    """Glorot-uniform weights W (fan_in x fan_out), zero biases b, for every layer in a fixed order.

    Weights are drawn in float64 on the CPU and then cast, so the same generator gives the same model
    in every precision (up to rounding) and on every device.
    """
    params = {}
    for name, (fan_in, fan_out) in arch.parameter_shapes().items():
        limit = math.sqrt(6.0 / (fan_in + fan_out))
        W = (torch.rand((fan_in, fan_out), generator=generator, dtype=torch.float64) * 2.0 - 1.0) * limit
        params[f"{name}.W"] = W.to(dtype)
        params[f"{name}.b"] = torch.zeros(fan_out, dtype=dtype)
    return params


class SingleVAE(torch.nn.Module):
    """One beta-VAE as ordinary ``torch.nn.Linear`` layers (the reference for the batched program)."""

    def __init__(self, arch: Architecture, params: dict[str, torch.Tensor] | None = None):
        super().__init__()
        self.arch = arch
        names = arch.parameter_shapes()
        dtype = next(iter(params.values())).dtype if params else None     # no float32 round trip
        self.layers = torch.nn.ModuleDict({name: torch.nn.Linear(*shape, dtype=dtype) for name, shape in names.items()})
        if params is not None:
            with torch.no_grad():
                for name, layer in self.layers.items():
                    layer.weight.copy_(params[f"{name}.W"].T)
                    layer.bias.copy_(params[f"{name}.b"])

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = x
        for i in range(len(self.arch.encoder_hidden)):
            h = torch.tanh(self.layers[f"enc{i}"](h))
        return self.layers["mu"](h), self.layers["logvar"](h)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        h = z
        n = len(self.arch.decoder_hidden)
        for i in range(n):
            h = torch.tanh(self.layers[f"dec{i}"](h))
        return self.layers[f"dec{n}"](h)

    def loss(self, x: torch.Tensor, eps: torch.Tensor, beta: float) -> torch.Tensor:
        """Minus the beta-VAE objective (eq. 6) averaged over the mini-batch, one sample z per example."""
        mu, logvar = self.encode(x)
        z = mu + torch.exp(0.5 * logvar) * eps
        x_hat = self.decode(z)
        log_px = -0.5 * self.arch.N * LOG_2PI - 0.5 * ((x - x_hat) ** 2).sum(-1)
        kl = 0.5 * (mu ** 2 + torch.exp(logvar) - 1.0 - logvar).sum(-1)
        return -(log_px - beta * kl).mean()

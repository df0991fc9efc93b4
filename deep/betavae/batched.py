"""Many beta-VAEs (seeds x betas) trained as one batched tensor program.

Every dense layer of the M models is one stacked weight (M, fan_in, fan_out) and bias (M, 1, fan_out);
a forward pass is a chain of ``torch.baddbmm``. The loss is the SUM over models of each model's
mini-batch mean of minus the beta-VAE objective (eq. 6), so the gradient with respect to model m's
slice is model m's own gradient, and ``torch.optim.Adam`` on the stacked tensors is exactly M
independent Adams (Adam is elementwise).

Each model draws its initial weights, its mini-batch order and its reparameterisation noise from its
own streams (:mod:`deep.streams`), keyed by (seed, replicate) — and the beta index too when common
random numbers are off — so its result does not depend on which other models share the batch (up to
floating-point rounding of the batched matrix products).

>>> import numpy as np
>>> from deep.betavae.network import Architecture
>>> arch = Architecture(N=6, k=2, encoder_hidden=(8, 8, 8), decoder_hidden=(8, 8, 8))
>>> data = np.random.default_rng(0).standard_normal((1, 40, 6))
>>> models = [ModelKey(replicate=0, beta_index=i, beta=b) for i, b in enumerate((0.5, 2.0))]
>>> run = train_batched(arch, models, data, epochs=3, batch_size=10, seed=0)
>>> run.params["enc0.W"].shape, run.loss_history.shape
(torch.Size([2, 6, 8]), (3, 2))
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from ..streams import torch_stream
from .network import LOG_2PI, Architecture, initial_parameters
from .stopping import StoppingRule


@dataclass(frozen=True)
class ModelKey:
    """One model of the batch: which data set (replicate) and which beta (value and index in the grid)."""

    replicate: int
    beta_index: int
    beta: float

    def stream_key(self, common_random_numbers: bool = True) -> tuple[int, ...]:
        """Key of the init/order/noise streams: shared across betas under common random numbers."""
        return (self.replicate,) if common_random_numbers else (self.replicate, self.beta_index)


@dataclass(frozen=True)
class TrainedBatch:
    """Stacked parameters (name -> (M, ...)), the models, the per-epoch training loss (epochs, M; nan after a model
    stopped), and per model the epochs it ran and whether it met the stopping rule (always False without one)."""

    arch: Architecture
    models: tuple[ModelKey, ...]
    params: dict[str, torch.Tensor]
    loss_history: np.ndarray
    common_random_numbers: bool
    seed: int
    epochs_run: np.ndarray | None = None
    converged: np.ndarray | None = None
    stopping: StoppingRule | None = None

    def single(self, m: int) -> dict[str, torch.Tensor]:
        """Model m's parameters in :func:`deep.betavae.network.initial_parameters` layout (W fan_in x fan_out, b vector)."""
        return {name: (p[m] if name.endswith(".W") else p[m, 0]).detach().clone() for name, p in self.params.items()}

    def final_loss(self) -> np.ndarray:
        """Each model's training loss in its last epoch."""
        return np.array([self.loss_history[int(e) - 1, i] for i, e in enumerate(self.epochs_run)])


def stacked_initial_parameters(arch: Architecture, models, seed: int, common_random_numbers: bool,
                               dtype: torch.dtype, device: torch.device) -> dict[str, torch.Tensor]:
    """Each model's Glorot/zero initialisation from its own ``init`` stream, stacked along dimension 0."""
    cache: dict[tuple, dict] = {}
    singles = []
    for model in models:
        key = model.stream_key(common_random_numbers)
        if key not in cache:
            cache[key] = initial_parameters(arch, torch_stream(seed, "init", *key), dtype=dtype)
        singles.append(cache[key])
    out = {}
    for name in singles[0]:
        stacked = torch.stack([s[name] for s in singles])
        if name.endswith(".b"):
            stacked = stacked[:, None, :]
        out[name] = stacked.to(device).requires_grad_(True)
    return out


def encode(params: dict[str, torch.Tensor], arch: Architecture, X: torch.Tensor):
    """(M, B, N) -> mu, logvar, each (M, B, k)."""
    h = X
    for i in range(len(arch.encoder_hidden)):
        h = torch.tanh(torch.baddbmm(params[f"enc{i}.b"], h, params[f"enc{i}.W"]))
    return (torch.baddbmm(params["mu.b"], h, params["mu.W"]),
            torch.baddbmm(params["logvar.b"], h, params["logvar.W"]))


def decode(params: dict[str, torch.Tensor], arch: Architecture, Z: torch.Tensor) -> torch.Tensor:
    """(M, B, k) -> the mean of p(x|z), (M, B, N)."""
    h = Z
    n = len(arch.decoder_hidden)
    for i in range(n):
        h = torch.tanh(torch.baddbmm(params[f"dec{i}.b"], h, params[f"dec{i}.W"]))
    return torch.baddbmm(params[f"dec{n}.b"], h, params[f"dec{n}.W"])


def negative_objective(params, arch: Architecture, X: torch.Tensor, eps: torch.Tensor, betas: torch.Tensor):
    """Per model: minus the mini-batch mean of log p(x|z) - beta KL(q(z|x) || N(0, I)) (eq. 6), shape (M,).

    One reparameterised sample z = mu + exp(logvar / 2) eps per example; the Gaussian log-density
    keeps its constant -N/2 log 2 pi (it does not change the gradient).
    """
    mu, logvar = encode(params, arch, X)
    Z = mu + torch.exp(0.5 * logvar) * eps
    X_hat = decode(params, arch, Z)
    log_px = -0.5 * arch.N * LOG_2PI - 0.5 * ((X - X_hat) ** 2).sum(-1)
    kl = 0.5 * (mu ** 2 + torch.exp(logvar) - 1.0 - logvar).sum(-1)
    return -(log_px - betas[:, None] * kl).mean(-1)


def _adam(params, learning_rate: float) -> torch.optim.Adam:
    """torch's fused Adam (one kernel per step; ~30% faster training here), the foreach one where unsupported."""
    try:
        return torch.optim.Adam(params, lr=learning_rate, fused=True)
    except (RuntimeError, ValueError):
        return torch.optim.Adam(params, lr=learning_rate)


def _per_key(models, common_random_numbers: bool):
    """Distinct stream keys, and for each model the index of its key."""
    keys, index = {}, []
    for model in models:
        key = model.stream_key(common_random_numbers)
        index.append(keys.setdefault(key, len(keys)))
    return list(keys), index


def _shrink(params: dict, optimizer: torch.optim.Adam, keep: torch.Tensor, learning_rate: float):
    """The parameters and Adam state of the models ``keep`` only (Adam is elementwise: their updates do not change)."""
    new = {name: p.detach()[keep].clone().requires_grad_(True) for name, p in params.items()}
    new_opt = _adam(list(new.values()), learning_rate)
    for name, p in params.items():
        state = optimizer.state.get(p)
        if state:
            new_opt.state[new[name]] = {key: (v[keep].clone() if torch.is_tensor(v) and v.dim() > 0 else
                                              (v.clone() if torch.is_tensor(v) else v)) for key, v in state.items()}
    return new, new_opt


def train_batched(arch: Architecture, models, data: np.ndarray, *, epochs: int, batch_size: int,
                  seed: int, learning_rate: float = 1e-3, common_random_numbers: bool = True,
                  dtype: torch.dtype = torch.float32, device: torch.device | str = "cpu",
                  progress=None, stopping: StoppingRule | None = None,
                  replicates: tuple[int, ...] | None = None) -> TrainedBatch:
    """Train ``models`` at once; ``data[r]`` (n, N) is replicate r's training set (shared by its betas).

    Each epoch every model visits its n examples once, in the order of its ``order`` stream, in
    mini-batches of ``batch_size`` (the last one smaller when batch_size does not divide n), with
    fresh noise from its ``noise`` stream. ``progress`` is called with the number of finished epochs.
    With a ``stopping`` rule (:mod:`deep.betavae.stopping`), ``epochs`` is ignored for its ``max_epochs``; a model
    stops at the first check where it meets the rule and leaves the batched program, so the others run faster.
    ``replicates[i]`` is the realisation whose training set is ``data[i]`` (default: ``data[r]`` is realisation r).
    """
    models = tuple(models)
    device = torch.device(device)
    M = len(models)
    n = data.shape[1]
    row_of = {r: i for i, r in enumerate(replicates if replicates is not None else range(data.shape[0]))}
    if stopping is not None:
        epochs = stopping.max_epochs
    data_t = torch.as_tensor(np.asarray(data), dtype=dtype, device=device)
    params = stacked_initial_parameters(arch, models, seed, common_random_numbers, dtype, device)
    optimizer = _adam(list(params.values()), learning_rate)
    keys, key_index = _per_key(models, common_random_numbers)
    order_streams = [torch_stream(seed, "order", *key) for key in keys]
    noise_streams = [torch_stream(seed, "noise", *key) for key in keys]
    steps = math.ceil(n / batch_size)
    history = np.full((epochs, M), np.nan)
    epochs_run = np.full(M, epochs)
    converged = np.zeros(M, dtype=bool)
    final = {name: torch.empty_like(p.detach()) for name, p in params.items()}
    active = np.arange(M)                          # models still training, in the row order of ``params``

    def tensors_of(active):
        reps = torch.tensor([row_of[models[m].replicate] for m in active], device=device)
        betas = torch.tensor([models[m].beta for m in active], dtype=dtype, device=device)
        live_keys = sorted({key_index[m] for m in active})
        where = {k: i for i, k in enumerate(live_keys)}
        return reps, betas, live_keys, torch.tensor([where[key_index[m]] for m in active], device=device)

    replicate, betas, live_keys, key_of_model = tensors_of(active)
    for epoch in range(epochs):
        # drawn per distinct key on the CPU, then shared by the models with that key (a key's stream is consumed
        # the same way whatever else is in the batch, so a model's numbers do not depend on the others)
        order = torch.stack([torch.randperm(n, generator=order_streams[k]) for k in live_keys]).to(device)[key_of_model]
        noise = torch.stack([torch.randn((n, arch.k), generator=noise_streams[k], dtype=torch.float64)
                             for k in live_keys])
        noise = noise.to(device=device, dtype=dtype)[key_of_model]
        total = torch.zeros(len(active), dtype=torch.float64, device=device)
        for step in range(steps):
            idx = order[:, step * batch_size:(step + 1) * batch_size]                 # (M, B)
            X = data_t[replicate[:, None], idx]                                       # (M, B, N)
            eps = noise[:, step * batch_size:(step + 1) * batch_size]                 # (M, B, k)
            losses = negative_objective(params, arch, X, eps, betas)
            optimizer.zero_grad(set_to_none=True)
            losses.sum().backward()      # the sum: each model's gradient is its own
            optimizer.step()
            total += losses.detach().to(torch.float64) * idx.shape[1]
        history[epoch, active] = (total / n).cpu().numpy()
        if progress is not None:
            progress(epoch + 1)
        last = epoch + 1 == epochs
        if stopping is None or not (last or stopping.is_check_epoch(epoch + 1)):
            continue
        # the rule reads the objective (minus the loss): larger is better
        done = np.array([last or stopping.last_improvement(-history[:epoch + 1, m]) <= stopping.tolerance
                         for m in active])
        if not done.any():
            continue
        rows = torch.as_tensor(np.flatnonzero(done), device=device)
        for name, p in params.items():
            final[name][torch.as_tensor(active[done], device=device)] = p.detach()[rows]
        for m in active[done]:
            epochs_run[m] = epoch + 1
            converged[m] = not last or stopping.last_improvement(-history[:epoch + 1, m]) <= stopping.tolerance
        if done.all():
            break
        keep = torch.as_tensor(np.flatnonzero(~done), device=device)
        params, optimizer = _shrink(params, optimizer, keep, learning_rate)
        active = active[~done]
        replicate, betas, live_keys, key_of_model = tensors_of(active)
    if stopping is None:
        final = {k: v.detach() for k, v in params.items()}
    return TrainedBatch(arch=arch, models=models, params=final, loss_history=history,
                        common_random_numbers=common_random_numbers, seed=seed, epochs_run=epochs_run,
                        converged=converged, stopping=stopping)

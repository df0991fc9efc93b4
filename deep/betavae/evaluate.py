"""The terms of eq. (4)-(6) and the TIE of trained networks, averaged over the data, every constant kept.

For each model and each example x (the data set it was trained on, or a fresh one):

* reconstruction E_q log p(x|z), p(x|z) = N(x; decoder(z), I_N), so
  log p(x|z) = -N/2 log 2 pi - 1/2 ||x - decoder(z)||^2, estimated with S samples z ~ q(z|x)
  (Appendix C used S = 1000); ``reconstruction_se`` is the Monte-Carlo standard error over samples;
* KL(q(z|x) || N(0, I)) = 1/2 sum_j (mu_j^2 + v_j - 1 - log v_j), closed form;
* ELBO = reconstruction - KL (eq. 5), objective = reconstruction - beta KL (eq. 6);
* TIE against the ground-truth posterior (eq. 19), exact per example and gauge-aligned (:mod:`deep.betavae.tie`).

The sampling noise of model m comes from its own ``eval`` stream, so the numbers do not depend on
the other models of the batch.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from numerics.gauge import EXACT_MAX_K, Alignment, AlignmentProblem

from ..streams import torch_stream
from .batched import TrainedBatch, decode, encode
from .network import LOG_2PI
from .tie import true_inference_error


@dataclass(frozen=True)
class ModelTerms:
    """One trained model's data-averaged quantities."""

    beta: float
    replicate: int
    reconstruction: float
    reconstruction_se: float
    kl: float
    elbo: float
    objective: float
    tie: float
    tie_identity: float
    alignment: Alignment
    problem: AlignmentProblem | None = None     # what the alignment was chosen from: it can be re-solved later


@dataclass(frozen=True)
class Encodings:
    """Encoder outputs (M, n, k) in float64 on the CPU."""

    mu: np.ndarray
    var: np.ndarray


@torch.no_grad()
def encodings(trained: TrainedBatch, inputs: torch.Tensor, chunk: int = 2000) -> Encodings:
    """mu and v = exp(logvar) of every model for every example; ``inputs`` is (M, n, N) on the device."""
    mus, logvars = [], []
    for start in range(0, inputs.shape[1], chunk):
        mu, logvar = encode(trained.params, trained.arch, inputs[:, start:start + chunk])
        mus.append(mu.double().cpu())
        logvars.append(logvar.double().cpu())
    mu, logvar = torch.cat(mus, 1).numpy(), torch.cat(logvars, 1).numpy()
    return Encodings(mu=mu, var=np.exp(logvar))


@torch.no_grad()
def reconstruction(trained: TrainedBatch, inputs: torch.Tensor, enc: Encodings, samples: int,
                   chunk_elements: int = 4_000_000) -> tuple[np.ndarray, np.ndarray]:
    """Monte-Carlo E_q log p(x|z) per model: (mean over data and samples, standard error over samples)."""
    arch, params = trained.arch, trained.params
    M, n, _ = inputs.shape
    dtype, device = inputs.dtype, inputs.device
    keys = [model.stream_key(trained.common_random_numbers) for model in trained.models]
    streams = {key: torch_stream(trained.seed, "eval", *key) for key in dict.fromkeys(keys)}
    mu = torch.as_tensor(enc.mu, dtype=dtype, device=device)
    sd = torch.as_tensor(np.sqrt(enc.var), dtype=dtype, device=device)
    per_sample = np.zeros((samples, M))
    batch = max(1, min(samples, chunk_elements // max(1, M * n * max(arch.N, 256))))
    for start in range(0, samples, batch):
        s = min(batch, samples - start)
        draws = {key: torch.randn((s, n, arch.k), generator=g, dtype=torch.float64) for key, g in streams.items()}
        eps = torch.stack([draws[key] for key in keys], 1).to(device=device, dtype=dtype)     # (s, M, n, k)
        for i in range(s):
            Z = mu + sd * eps[i]
            X_hat = decode(params, arch, Z)
            log_px = -0.5 * arch.N * LOG_2PI - 0.5 * ((inputs - X_hat) ** 2).sum(-1)
            per_sample[start + i] = log_px.double().mean(-1).cpu().numpy()
    mean = per_sample.mean(0)
    se = per_sample.std(0, ddof=1) / np.sqrt(samples) if samples > 1 else np.full(M, np.nan)
    return mean, se


def evaluate(trained: TrainedBatch, inputs: np.ndarray, observed: np.ndarray, A: np.ndarray, *, samples: int,
             exact_max_k: int = EXACT_MAX_K, replicates: tuple[int, ...] | None = None) -> list[ModelTerms]:
    """All terms for every model; ``inputs[i]``/``observed[i]`` are realisation ``replicates[i]``'s network inputs and
    x (default: row r is realisation r)."""
    params0 = next(iter(trained.params.values()))
    row_of = {r: i for i, r in enumerate(replicates if replicates is not None else range(len(inputs)))}
    replicate = [row_of[m.replicate] for m in trained.models]
    X = torch.as_tensor(np.asarray(inputs)[replicate], dtype=params0.dtype, device=params0.device)
    enc = encodings(trained, X)
    recon, recon_se = reconstruction(trained, X, enc, samples)
    out = []
    for m, model in enumerate(trained.models):
        mu, var = enc.mu[m], enc.var[m]
        kl = float(np.mean(0.5 * np.sum(mu ** 2 + var - 1.0 - np.log(var), axis=-1)))
        tie = true_inference_error(mu, var, observed[row_of[model.replicate]], A, exact_max_k)
        out.append(ModelTerms(beta=model.beta, replicate=model.replicate, reconstruction=float(recon[m]),
                              reconstruction_se=float(recon_se[m]), kl=kl, elbo=float(recon[m]) - kl,
                              objective=float(recon[m]) - model.beta * kl, tie=tie.tie,
                              tie_identity=tie.tie_identity, alignment=tie.alignment, problem=tie.problem))
    return out

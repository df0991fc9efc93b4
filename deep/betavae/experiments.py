"""Figs. 2 and 3: train every (realisation, beta) model as one batched program, then evaluate.

``run_fig2(protocol)`` and ``run_fig3(protocol)`` return frozen results with arrays of shape
(n_seeds, n_betas): ``elbo``, ``reconstruction``, ``kl``, ``objective``, ``tie`` (gauge-aligned),
``tie_identity`` (unaligned), ``reconstruction_se`` (Monte-Carlo standard error); the alignment of
every model; the closed-form optimum of the linear model of Section IV.B for the same A as a
reference; the protocol as a dict (with the paper's disagreements); versions, device, wall time.
``to_json()`` is the ``train --json`` document as plain data (one record per model, the summary, the shape facts).

>>> from deep.betavae.protocol import reduced_fig2
>>> result = run_fig2(reduced_fig2().with_changes(betas=(0.5, 2.0), seeds=1, epochs=1, mc_samples=2))
>>> result.tie.shape, bool(result.kl[0, 0] > result.kl[0, 1])
((1, 2), True)
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from numerics.artifacts import versions
from numerics.model import fig3_mixing

from ..device import default_threads, device_record, pick_device, torch_dtype, torch_threads
from . import data as data_module
from .batched import ModelKey, TrainedBatch, decode, train_batched
from .evaluate import evaluate
from .network import Architecture
from .protocol import Protocol

QUANTITIES = ("elbo", "reconstruction", "kl", "objective", "tie", "tie_identity", "reconstruction_se")
# parameters + gradient + two Adam moments, and activations: keep one batched program under this size
MEMORY_BUDGET_BYTES = 3 * 2 ** 30


@dataclass(frozen=True)
class Fig2Result:
    """Trained-network quantities; arrays are (n_seeds, n_betas), rows = realisations, columns = betas."""

    protocol: dict
    betas: np.ndarray
    seeds: tuple[int, ...]
    elbo: np.ndarray
    reconstruction: np.ndarray
    kl: np.ndarray
    objective: np.ndarray
    tie: np.ndarray
    tie_identity: np.ndarray
    reconstruction_se: np.ndarray
    final_loss: np.ndarray
    alignment: tuple                 # (realisation, beta) -> numerics.gauge.Alignment of its TIE
    reference: dict
    images: str
    wall_time: float
    timings: dict
    device: dict
    versions: dict

    @property
    def figure(self) -> str:
        return self.protocol["figure"]

    def summary(self) -> dict:
        """Mean, min and max over realisations for every quantity, per beta."""
        return {q: {"mean": getattr(self, q).mean(0).tolist(), "min": getattr(self, q).min(0).tolist(),
                    "max": getattr(self, q).max(0).tolist()} for q in QUANTITIES}

    def shape(self) -> dict:
        """Facts about the curves that the paper's Fig. 2 claims are about (computed, not judged)."""
        return curve_shape(self.betas, {q: getattr(self, q) for q in QUANTITIES}, self.alignment)

    def _rows(self) -> list[dict]:
        """One record per model (realisation, beta)."""
        out = []
        for i, seed in enumerate(self.seeds):
            for j, beta in enumerate(self.betas):
                row = {"beta": float(beta), "seed": int(seed)}
                row.update({q: float(getattr(self, q)[i, j]) for q in QUANTITIES})
                row["final_loss"] = float(self.final_loss[i, j])
                row["alignment"] = self.alignment[i][j].to_json()
                out.append(row)
        return out

    def to_json(self) -> dict:
        return {"figure": self.figure, "betas": self.betas.tolist(), "seeds": list(self.seeds),
                "records": self._rows(), "summary": self.summary(), "shape": self.shape(),
                "reference": {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in self.reference.items()},
                "protocol": self.protocol, "images": self.images, "versions": self.versions, "device": self.device,
                "dtype": self.protocol["dtype"], "wall_time": self.wall_time, "timings": self.timings}


@dataclass(frozen=True)
class Fig3Result(Fig2Result):
    """Fig. 2's quantities for the canvas data, and the latent traversals of panel E.

    ``traversal[t, i, s]`` is the decoded canvas (side x side) of the first realisation at beta
    ``traversal_betas[t]`` when latent i takes ``traversal_values[s]`` and the other latent is 0.
    """

    traversal: np.ndarray = field(default=None)
    traversal_betas: np.ndarray = field(default=None)
    traversal_values: np.ndarray = field(default=None)
    canvas: dict = field(default=None)

    def to_json(self) -> dict:
        out = super().to_json()
        out["traversal"] = {"betas": self.traversal_betas.tolist(), "values": self.traversal_values.tolist(),
                            "shape": list(self.traversal.shape), "canvas": self.canvas,
                            "images": np.round(self.traversal, 5).tolist()}
        return out


# ------------------------------------------------------------------------------------ shape facts
KL_TOLERANCE = 1e-3    # nats: the KL of collapsed units wanders at this level between betas


def curve_shape(betas, arrays: dict, alignment=()) -> dict:
    """Monotonicity and extrema of the mean curves (and how many single realisations agree).

    A step up of the reconstruction term counts as an increase only beyond twice its Monte-Carlo
    standard error (``reconstruction_se``), a step up of the KL only beyond ``KL_TOLERANCE``; the
    strict counts are given too.
    """
    betas = np.asarray(betas, dtype=float)
    order = np.argsort(betas)
    betas = betas[order]
    out = {}
    for q in ("reconstruction", "kl"):
        a = arrays[q][:, order]
        if q == "reconstruction" and "reconstruction_se" in arrays:
            se = arrays["reconstruction_se"][:, order]
            tol_rows = 2.0 * np.sqrt(se[:, 1:] ** 2 + se[:, :-1] ** 2)
            tol_mean = 2.0 * np.sqrt((se[:, 1:] ** 2 + se[:, :-1] ** 2).sum(0)) / a.shape[0]
        else:
            tol_rows, tol_mean = KL_TOLERANCE, KL_TOLERANCE
        steps = np.diff(a.mean(0))
        rows = np.diff(a, axis=1)
        out[q] = {"mean_non_increasing": bool(np.all(steps <= tol_mean)),
                  "mean_increases": int(np.sum(steps > 0)),
                  "mean_increases_beyond_noise": int(np.sum(steps > tol_mean)),
                  "realisations_non_increasing": int(np.sum(np.all(rows <= tol_rows, axis=1))),
                  "realisations_strictly_non_increasing": int(np.sum(np.all(rows <= 0, axis=1))),
                  "realisations": int(a.shape[0])}
    for q, pick in (("elbo", np.argmax), ("tie", np.argmin)):
        a = arrays[q][:, order]
        best = int(pick(a.mean(0)))
        per = [int(pick(row)) for row in a]
        out[q] = {"argbest_beta": float(betas[best]), "interior": bool(0 < best < len(betas) - 1),
                  "best_mean": float(a.mean(0)[best]),
                  "realisation_argbest_betas": [float(betas[i]) for i in per],
                  "realisations_interior": int(sum(0 < i < len(betas) - 1 for i in per))}
    out["elbo"]["best_is_beta_1"] = bool(out["elbo"]["argbest_beta"] == 1.0)
    out["tie"]["non_monotone"] = bool(out["tie"]["interior"])
    flags = [a.is_exact for row in alignment for a in row]
    out["alignment_exact"] = bool(all(flags)) if flags else None
    return out


# ------------------------------------------------------------------------------------- running
@dataclass(frozen=True)
class _Prepared:
    arch: Architecture
    A: np.ndarray
    train_inputs: np.ndarray     # (R, n, D)
    eval_inputs: np.ndarray      # (R, n, D)
    eval_observed: np.ndarray    # (R, n, N_obs)
    images: str
    extra: dict


def _prepare_fig2(p: Protocol) -> _Prepared:
    digits = data_module.load_mnist(p.mnist) if p.mnist else data_module.sklearn_digits()
    A = data_module.mixing_matrix(digits, p.k)
    train, fresh = [], []
    for r in range(p.seeds):
        train.append(data_module.fig2_dataset(A, p.examples, data_module.numpy_stream(p.seed, "data", r)))
        if p.eval_on == "fresh":
            fresh.append(data_module.fig2_dataset(A, p.examples, data_module.numpy_stream(p.seed, "data", r, 1)))
    ev = fresh if p.eval_on == "fresh" else train
    index = data_module.representatives(digits, range(p.k)).tolist()
    return _Prepared(arch=Architecture(N=A.shape[0], k=p.k), A=A,
                     train_inputs=np.stack([d.inputs for d in train]), eval_inputs=np.stack([d.inputs for d in ev]),
                     eval_observed=np.stack([d.observed for d in ev]),
                     images=f"{digits.source}; {digits.scaling}; classes 0..{p.k - 1}, image indices {index}",
                     extra={})


def _prepare_fig3(p: Protocol) -> _Prepared:
    digits = data_module.load_mnist(p.mnist) if p.mnist else data_module.sklearn_digits()
    index = int(data_module.representatives(digits, [p.digit])[0])
    digit = digits.images[index]
    if p.digit_energy is not None:
        digit = digit * np.sqrt(p.digit_energy / np.sum(digit ** 2))
    geometry = data_module.canvas_geometry(digit.shape[0], p.canvas_factor, p.units_per_digit)
    A = fig3_mixing(p.mixing_diagonal, p.mixing_offset)
    train, fresh = [], []
    for r in range(p.seeds):
        train.append(data_module.fig3_dataset(digit, p.examples, data_module.numpy_stream(p.seed, "data", r),
                                              geometry, A))
        if p.eval_on == "fresh":
            fresh.append(data_module.fig3_dataset(digit, p.examples, data_module.numpy_stream(p.seed, "data", r, 1),
                                                  geometry, A))
    ev = fresh if p.eval_on == "fresh" else train
    canvas = {"side": geometry.canvas, "digit_side": geometry.digit, "pixels_per_unit": geometry.pixels_per_unit,
              "origin": geometry.origin, "digit_class": p.digit, "digit_index": index,
              "placement": "bilinear splatting; x[0] right, x[1] down; top-left corner = origin + "
                           "pixels_per_unit * (x[1], x[0])"}
    return _Prepared(arch=Architecture(N=geometry.canvas ** 2, k=2), A=A,
                     train_inputs=np.stack([d.inputs for d in train]), eval_inputs=np.stack([d.inputs for d in ev]),
                     eval_observed=np.stack([d.observed for d in ev]),
                     images=f"{digits.source}; {digits.scaling}; digit of class {p.digit} (image index {index}) on a "
                            f"{geometry.canvas}x{geometry.canvas} canvas",
                     extra={"canvas": canvas, "digit": digit})


def _chunks(models: list[ModelKey], arch: Architecture, p: Protocol, limit: int | None) -> list[list[ModelKey]]:
    if limit is None:
        bytes_per_value = 4 if p.dtype == "float32" else 8
        activations = p.batch_size * (2 * arch.N + sum(arch.encoder_hidden) + sum(arch.decoder_hidden)) * 4
        per_model = bytes_per_value * (4 * arch.n_parameters() + activations)
        limit = max(1, int(MEMORY_BUDGET_BYTES // per_model))
    return [models[i:i + limit] for i in range(0, len(models), limit)]


def _run(p: Protocol, prepared: _Prepared, progress: bool, device, threads, max_models_per_batch):
    from tqdm.auto import tqdm

    start = time.perf_counter()
    p = p.validated()
    device = pick_device(device)
    chosen_threads, why = default_threads(threads, device)
    dtype = torch_dtype(p.dtype)
    models = [ModelKey(replicate=r, beta_index=j, beta=float(b)) for r in range(p.seeds) for j, b in enumerate(p.betas)]
    chunks = _chunks(models, prepared.arch, p, max_models_per_batch)
    bar = tqdm(total=len(chunks) * p.epochs, desc=f"{p.figure}: train {len(models)} models", unit="epoch",
               disable=not progress, leave=False)
    terms, kept, t_train, t_eval = {}, {}, 0.0, 0.0
    keep = _traversal_models(p) if p.figure == "fig3" else set()
    final_loss = {}
    with torch_threads(chosen_threads):
        for chunk in chunks:
            t0 = time.perf_counter()
            trained = train_batched(prepared.arch, chunk, prepared.train_inputs, epochs=p.epochs,
                                    batch_size=p.batch_size, seed=p.seed, learning_rate=p.learning_rate,
                                    common_random_numbers=p.common_random_numbers, dtype=dtype, device=device,
                                    progress=lambda e: bar.update(1))
            t1 = time.perf_counter()
            for m, values in zip(chunk, evaluate(trained, prepared.eval_inputs, prepared.eval_observed, prepared.A,
                                                 samples=p.mc_samples, exact_max_k=p.exact_alignment_max_k)):
                terms[(m.replicate, m.beta_index)] = values
            for i, m in enumerate(chunk):
                final_loss[(m.replicate, m.beta_index)] = float(trained.loss_history[-1, i])
                if (m.replicate, m.beta_index) in keep:
                    kept[(m.replicate, m.beta_index)] = (trained, i)
            t_train += t1 - t0
            t_eval += time.perf_counter() - t1
    bar.close()
    shape = (p.seeds, len(p.betas))
    arrays = {q: np.array([[getattr(terms[(r, j)], q) for j in range(shape[1])] for r in range(shape[0])])
              for q in QUANTITIES}
    alignment = tuple(tuple(terms[(r, j)].alignment for j in range(shape[1])) for r in range(shape[0]))
    common = dict(protocol=p.to_json(), betas=np.asarray(p.betas, dtype=float), seeds=tuple(range(p.seeds)),
                  final_loss=np.array([[final_loss[(r, j)] for j in range(shape[1])] for r in range(shape[0])]),
                  alignment=alignment, reference=_reference(p, prepared.A), images=prepared.images,
                  device={**device_record(device), "threads_used": chosen_threads, "threads_choice": why,
                          "models_per_batched_program": max(len(c) for c in chunks), "batched_programs": len(chunks)},
                  versions=versions(), **arrays)
    return common, kept, start, {"train": t_train, "evaluate": t_eval}


def _reference(p: Protocol, A: np.ndarray) -> dict:
    """The linear model's closed-form optimum (Section IV.B) for the same A, population averages."""
    from numerics.optimum import terms_at
    from numerics.model import spectrum
    spec = spectrum(A)
    rows = [terms_at(spec, float(b)) for b in p.betas]
    out = {"description": "global optimum of the linear beta-VAE of Section IV.B for the same A "
                          "(numerics.optimum), averaged over p(x) exactly"}
    if p.figure == "fig2":
        for q in ("elbo", "reconstruction", "kl", "objective", "tie"):
            out[q] = np.array([getattr(t, q) for t in rows])
    else:
        out["description"] += "; Fig. 3: only TIE is comparable (the network sees the canvas, not x)"
        out["tie"] = np.array([t.tie for t in rows])
    return out


def run_fig2(protocol: Protocol, *, progress: bool = False, device: str | None = None,
             threads: int | str | None = None, max_models_per_batch: int | None = None) -> Fig2Result:
    """Train and evaluate Fig. 2's networks (every realisation x beta) and return the curves."""
    protocol = protocol.validated()
    if protocol.figure != "fig2":
        raise ValueError("run_fig2 needs a Fig. 2 protocol")
    prepared = _prepare_fig2(protocol)
    common, _, start, timings = _run(protocol, prepared, progress, device, threads, max_models_per_batch)
    return Fig2Result(wall_time=time.perf_counter() - start, timings=timings, **common)


def _traversal_models(p: Protocol) -> set[tuple[int, int]]:
    return {(0, _nearest_beta_index(p.betas, b)) for b in p.traversal_betas}


def _nearest_beta_index(betas, beta: float) -> int:
    return int(np.argmin(np.abs(np.log(np.asarray(betas, dtype=float)) - math.log(beta))))


@torch.no_grad()
def traversal_images(trained: TrainedBatch, m: int, values: np.ndarray, side: int) -> np.ndarray:
    """Decoded canvases of model m: [i, s] = latent i at values[s], the other latents at 0 (the prior mean)."""
    params = {name: p[m:m + 1] for name, p in trained.params.items()}
    k = trained.arch.k
    out = np.zeros((k, len(values), side, side))
    for i in range(k):
        Z = torch.zeros((1, len(values), k), dtype=params["mu.W"].dtype, device=params["mu.W"].device)
        Z[0, :, i] = torch.as_tensor(values, dtype=Z.dtype)
        out[i] = decode(params, trained.arch, Z)[0].double().cpu().numpy().reshape(len(values), side, side)
    return out


def run_fig3(protocol: Protocol, *, progress: bool = False, device: str | None = None,
             threads: int | str | None = None, max_models_per_batch: int | None = None) -> Fig3Result:
    """Fig. 3: the digit-on-canvas data; Fig. 2's curves plus the latent traversals of panel E."""
    protocol = protocol.validated()
    if protocol.figure != "fig3":
        raise ValueError("run_fig3 needs a Fig. 3 protocol")
    prepared = _prepare_fig3(protocol)
    common, kept, start, timings = _run(protocol, prepared, progress, device, threads, max_models_per_batch)
    values = np.linspace(-protocol.traversal_range, protocol.traversal_range, protocol.traversal_steps)
    used = [protocol.betas[_nearest_beta_index(protocol.betas, b)] for b in protocol.traversal_betas]
    side = prepared.extra["canvas"]["side"]
    images = np.stack([traversal_images(*kept[(0, _nearest_beta_index(protocol.betas, b))], values, side)
                       for b in protocol.traversal_betas])
    return Fig3Result(wall_time=time.perf_counter() - start, timings=timings, traversal=images,
                      traversal_betas=np.asarray(used, dtype=float), traversal_values=values,
                      canvas=prepared.extra["canvas"], **common)

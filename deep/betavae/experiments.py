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
from .stopping import PAPER_BUDGET
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
    # converged runs and their yardstick (arrays (n_seeds, n_betas)); None in results from before they existed
    epochs_run: np.ndarray | None = None
    converged: np.ndarray | None = None
    last_improvement: np.ndarray | None = None  # nats per example over the stopping rule's last window
    linear_optimum: dict | None = None          # quantity -> (n_seeds, n_betas): the linear optimum on each training set
    tie_fresh: np.ndarray | None = None         # TIE on a fresh sample from p(x), same size, same alignment method
    tie_identity_fresh: np.ndarray | None = None
    problems: dict | None = None                # "train"/"fresh" -> (n_seeds, n_betas) AlignmentProblem: re-alignable
    source: str = "run"                         # "run" (trained in this process) or "artifact" (deep.betavae.evidence)
    provenance: dict | None = None              # an artifact's: command, versions, code hash (deep.betavae.evidence)
    spot_check: object | None = None            # an artifact's re-run check (deep.betavae.spot_check.SpotCheck)

    @property
    def gap_to_linear_optimum(self) -> np.ndarray | None:
        """Trained objective minus the linear beta-VAE's optimum on the same training set, nats per example
        (:mod:`deep.betavae.yardstick`); positive where the network beats the linear family."""
        if self.linear_optimum is None:
            return None
        return self.objective - self.linear_optimum["objective"]

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
                if self.epochs_run is not None:
                    row["epochs_run"] = int(self.epochs_run[i, j])
                    row["converged"] = bool(self.converged[i, j])
                    gain = float(self.last_improvement[i, j])
                    row["last_improvement"] = gain if math.isfinite(gain) else None     # None: run too short to tell
                if self.linear_optimum is not None:
                    row["linear_optimum"] = {q: float(v[i, j]) for q, v in self.linear_optimum.items()}
                    row["gap_to_linear_optimum"] = float(self.gap_to_linear_optimum[i, j])
                if self.tie_fresh is not None:
                    row["tie_fresh"] = float(self.tie_fresh[i, j])
                    row["tie_identity_fresh"] = float(self.tie_identity_fresh[i, j])
                if self.problems is not None:
                    row["alignment_problems"] = {where: problem_json(p[i][j]) for where, p in self.problems.items()}
                out.append(row)
        return out

    def to_json(self) -> dict:
        return {"figure": self.figure, "betas": self.betas.tolist(), "seeds": list(self.seeds), "source": self.source,
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


def problem_json(problem) -> dict:
    """An AlignmentProblem as plain lists (what a stored run needs to be re-aligned)."""
    return {name: np.asarray(getattr(problem, name)).tolist()
            for name in ("precision", "mean_variance", "second_moment", "cross_moment")}


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
    train_inputs: np.ndarray     # (R, n, D): row i is realisation protocol.replicates[i]
    eval_inputs: np.ndarray      # (R, n, D)
    eval_observed: np.ndarray    # (R, n, N_obs)
    fresh_inputs: np.ndarray     # (R, n, D): a fresh sample of the same size (TIE on fresh data)
    fresh_observed: np.ndarray
    train_observed: np.ndarray
    images: str
    extra: dict


def _datasets(p: Protocol, make):
    """Training and fresh data of every realisation the protocol runs, and the evaluation set it asks for."""
    train = [make(data_module.numpy_stream(p.seed, "data", r)) for r in p.replicates]
    fresh = [make(data_module.numpy_stream(p.seed, "data", r, 1)) for r in p.replicates]
    ev = fresh if p.eval_on == "fresh" else train
    stack = lambda sets, name: np.stack([getattr(d, name) for d in sets])   # noqa: E731
    return dict(train_inputs=stack(train, "inputs"), eval_inputs=stack(ev, "inputs"),
                eval_observed=stack(ev, "observed"), fresh_inputs=stack(fresh, "inputs"),
                fresh_observed=stack(fresh, "observed"), train_observed=stack(train, "observed"))


def _prepare_fig2(p: Protocol) -> _Prepared:
    digits = data_module.load_mnist(p.mnist) if p.mnist else data_module.sklearn_digits()
    A = data_module.mixing_matrix(digits, p.k)
    index = data_module.representatives(digits, range(p.k)).tolist()
    return _Prepared(arch=Architecture(N=A.shape[0], k=p.k), A=A,
                     **_datasets(p, lambda g: data_module.fig2_dataset(A, p.examples, g)),
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
    canvas = {"side": geometry.canvas, "digit_side": geometry.digit, "pixels_per_unit": geometry.pixels_per_unit,
              "origin": geometry.origin, "digit_class": p.digit, "digit_index": index,
              "placement": "bilinear splatting; x[0] right, x[1] down; top-left corner = origin + "
                           "pixels_per_unit * (x[1], x[0])"}
    return _Prepared(arch=Architecture(N=geometry.canvas ** 2, k=2), A=A,
                     **_datasets(p, lambda g: data_module.fig3_dataset(digit, p.examples, g, geometry, A)),
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
    reps = p.replicates
    models = [ModelKey(replicate=r, beta_index=j, beta=float(b)) for r in reps for j, b in enumerate(p.betas)]
    chunks = _chunks(models, prepared.arch, p, max_models_per_batch)
    bar = tqdm(total=len(chunks) * p.max_epochs, desc=f"{p.figure}: train {len(models)} models", unit="epoch",
               disable=not progress, leave=False)
    terms, fresh, kept, t_train, t_eval = {}, {}, {}, 0.0, 0.0
    keep = _traversal_models(p) if p.figure == "fig3" else set()
    final_loss, epochs_run, converged, improvement = {}, {}, {}, {}
    rule = p.stopping or PAPER_BUDGET
    with torch_threads(chosen_threads):
        for chunk in chunks:
            t0 = time.perf_counter()
            done = [0]

            def tick(e):
                bar.update(e - done[0])
                done[0] = e
            trained = train_batched(prepared.arch, chunk, prepared.train_inputs, epochs=p.epochs,
                                    batch_size=p.batch_size, seed=p.seed, learning_rate=p.learning_rate,
                                    common_random_numbers=p.common_random_numbers, dtype=dtype, device=device,
                                    progress=tick, stopping=p.stopping, replicates=reps)
            bar.update(p.max_epochs - done[0])
            t1 = time.perf_counter()
            common = dict(samples=p.mc_samples, exact_max_k=p.exact_alignment_max_k, replicates=reps)
            for m, values in zip(chunk, evaluate(trained, prepared.eval_inputs, prepared.eval_observed, prepared.A,
                                                 **common)):
                terms[(m.replicate, m.beta_index)] = values
            # TIE on fresh data needs no reconstruction term: 2 Monte-Carlo samples keep that part cheap
            for m, values in zip(chunk, evaluate(trained, prepared.fresh_inputs, prepared.fresh_observed, prepared.A,
                                                 **{**common, "samples": 2})):
                fresh[(m.replicate, m.beta_index)] = values
            ran = trained.epochs_run
            for i, m in enumerate(chunk):
                key = (m.replicate, m.beta_index)
                final_loss[key] = float(trained.loss_history[int(ran[i]) - 1, i])
                epochs_run[key] = int(ran[i])
                # without a stopping rule, the rule is read off the end of the run (nan: too short to tell)
                improvement[key] = rule.last_improvement(-trained.loss_history[:int(ran[i]), i])
                converged[key] = bool(trained.converged[i]) if p.stopping is not None else \
                    bool(improvement[key] <= rule.tolerance)
                if key in keep:
                    kept[key] = (trained, i)
            t_train += t1 - t0
            t_eval += time.perf_counter() - t1
    bar.close()
    t2 = time.perf_counter()
    rows = [(r, j) for r in reps for j in range(len(p.betas))]
    grid = lambda table, f=lambda v: v: np.array([[f(table[(r, j)]) for j in range(len(p.betas))] for r in reps])  # noqa
    arrays = {q: grid(terms, lambda t, q=q: getattr(t, q)) for q in QUANTITIES}
    alignment = tuple(tuple(terms[(r, j)].alignment for j in range(len(p.betas))) for r in reps)
    linear = _linear_optima(p, prepared)
    t_eval += time.perf_counter() - t2
    common = dict(protocol=p.to_json(), betas=np.asarray(p.betas, dtype=float), seeds=reps,
                  final_loss=grid(final_loss), alignment=alignment, reference=_reference(p, prepared.A),
                  images=prepared.images,
                  device={**device_record(device), "threads_used": chosen_threads, "threads_choice": why,
                          "models_per_batched_program": max(len(c) for c in chunks), "batched_programs": len(chunks)},
                  versions=versions(), epochs_run=grid(epochs_run), last_improvement=grid(improvement), converged=grid(converged).astype(bool),
                  linear_optimum=linear, tie_fresh=grid(fresh, lambda t: t.tie),
                  tie_identity_fresh=grid(fresh, lambda t: t.tie_identity),
                  problems={"train": tuple(tuple(terms[(r, j)].problem for j in range(len(p.betas))) for r in reps),
                            "fresh": tuple(tuple(fresh[(r, j)].problem for j in range(len(p.betas))) for r in reps)},
                  **arrays)
    assert len(rows) == len(models)
    return common, kept, start, {"train": t_train, "evaluate": t_eval}


def _linear_optima(p: Protocol, prepared: _Prepared) -> dict:
    """The linear beta-VAE's optimum on each realisation's training set, (n_seeds, n_betas) per quantity."""
    from .yardstick import linear_optimum
    per = [linear_optimum(prepared.train_inputs[i], p.k, p.betas, observed=prepared.train_observed[i], A=prepared.A)
           for i in range(len(p.replicates))]
    return {q: np.array([getattr(y, q) for y in per]) for q in ("objective", "elbo", "reconstruction", "kl", "tie")}


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
    return {(p.first_seed, _nearest_beta_index(p.betas, b)) for b in p.traversal_betas}


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
    images = np.stack([traversal_images(*kept[(protocol.first_seed, _nearest_beta_index(protocol.betas, b))], values, side)
                       for b in protocol.traversal_betas])
    return Fig3Result(wall_time=time.perf_counter() - start, timings=timings, traversal=images,
                      traversal_betas=np.asarray(used, dtype=float), traversal_values=values,
                      canvas=prepared.extra["canvas"], **common)

"""Cross-check: the linear beta-VAE of Section IV.B trained with torch against the closed form.

For each beta and seed the network of :mod:`deep.linear` is trained

* path ``"exact"`` (a): on eq. (21) with its constants, deterministically (L-BFGS + Newton finish
  with a saddle test, :func:`deep.linear_train.train_exact`);
* path ``"sampled"`` (b): on minibatches x = A s + eta with the reparameterisation estimator
  (Adam, :func:`deep.linear_train.train_sampled`),

and every quantity of :data:`deep.linear_compare.QUANTITIES` is compared with
``numerics.optimum``'s closed form. ``max_relative_error`` is the largest relative error over all
quantities, betas and seeds of path (a); path (b) is reported per beta with its predicted
Monte-Carlo error (:func:`deep.linear_compare.mc_prediction`), never in ``max_relative_error``.
The torch autograd gradient is compared with the gradient generated from SymPy
(``numerics._generated.grad_*``) at random points (``gradient_check``).

Protocols (:func:`protocol`): ``"audit"`` (the audit's default run, a few seconds),
``"quick"`` (``crosscheck --quick``), ``"full"`` (``crosscheck``) and ``"deep"`` (the audit's
``--deep``). With ``betas=None`` the betas are chosen from the problem's collapse thresholds
lambda_i = 1 + a_i by :func:`default_betas`: both sides of 1 and of every threshold, never on one.

Runs on CUDA when available, else on the CPU with one torch thread (these matrices are tiny: with
two threads on this two-core machine, under load from another process, a path (b) step was
measured 10x slower). float64 throughout; identical seeds give identical numbers.

>>> import numpy as np
>>> r = run_crosscheck(np.array([[2.73, 0.73], [0.73, 2.73]]), [0.5, 2.0], [0], paths=("exact",))
>>> r.max_relative_error < 1e-8, r.gradient_check["max_relative_error"] < 1e-10
(True, True)
"""
from __future__ import annotations

import contextlib
import json
import math
import time
from dataclasses import asdict, dataclass, field, replace

import numpy as np
import torch

from numerics import _generated as gen
from numerics import provenance
from numerics.optimum import spectrum

from .linear import DTYPE, NAMES, default_device, exact_objective
from .linear_compare import QUANTITIES, compare, mc_prediction, reference
from .linear_metrics import trained_terms
from .linear_train import ExactSettings, SampledSettings, train_exact, train_sampled

PATHS = ("exact", "sampled")
GRADIENT_TOL = 1e-10
MC_Z_LIMIT = 6.0   # path (b) is "within Monte-Carlo error" when every z <= this (see linear_compare)
MC_PREDICTION_FLOOR = 1e-8   # a predicted rms relative error below this counts as "not predicted"


# ============================================================================ protocols
@dataclass(frozen=True)
class Protocol:
    """What a cross-check runs. ``None`` betas: :func:`default_betas` of the problem."""

    name: str
    betas: tuple[float, ...] | None = None
    seeds: tuple[int, ...] = (0, 1)
    paths: tuple[str, ...] = PATHS
    sampled_betas: tuple[float, ...] | str = "subset"  # "subset" (:func:`sampled_betas`), "all", or explicit
    sampled_seeds: int | None = 1                       # path (b) uses the first this-many seeds (None: all)
    exact: ExactSettings = field(default_factory=ExactSettings)
    sampled: SampledSettings = field(default_factory=SampledSettings)
    gradient_points: int = 3
    mc_prediction: bool = True
    mc_grad_samples: int = 5000

    def as_dict(self) -> dict:
        return asdict(self)


def audit_protocol() -> Protocol:
    """The audit's default run: path (a) on 5 betas x 2 seeds, path (b) on 3 betas, 1 seed, small budget.

    For the paper's problem the betas are 0.5, 1.087, 1.4375, 9.1, 76.2: both sides of beta = 1, of
    the first collapse threshold 1.25 and of the second, 66.25. Path (b) runs at 0.5, 1.4375 and 9.1
    with 300 Adam steps (its errors are reported, not judged). No Monte-Carlo prediction (time).
    """
    return Protocol(name="audit", betas=None, seeds=(0, 1), sampled_betas="subset", sampled_seeds=1,
                    sampled=SampledSettings(steps=300, batch=256, lr=1e-2, decay_fraction=0.8, average_fraction=0.2),
                    gradient_points=2, mc_prediction=False)


def protocol(name: str) -> Protocol:
    """``"audit"`` (~7 s for the paper's problem in a fresh process on this machine), ``"quick"`` (~45 s),
    ``"full"`` (~3 min: path (b) at every beta, 20000 steps) or ``"deep"`` (~7 min: 5 seeds on path (a),
    2 on path (b))."""
    if name == "audit":
        return audit_protocol()
    if name == "quick":
        return Protocol(name="quick", seeds=(0, 1), sampled_seeds=1,
                        sampled=SampledSettings(steps=10000, batch=256, lr=1e-2, decay_fraction=0.8,
                                                average_fraction=0.2))
    if name == "full":
        return Protocol(name="full", seeds=(0, 1, 2), sampled_seeds=1, sampled_betas="all",
                        sampled=SampledSettings(steps=20000, batch=256, lr=1e-2, decay_fraction=0.8,
                                                average_fraction=0.2), mc_grad_samples=20000)
    if name == "deep":
        return Protocol(name="deep", seeds=(0, 1, 2, 3, 4), sampled_seeds=2, sampled_betas="all",
                        sampled=SampledSettings(steps=20000, batch=256, lr=1e-2, decay_fraction=0.8,
                                                average_fraction=0.2), mc_grad_samples=20000)
    raise ValueError(f"unknown protocol '{name}' (audit, quick, full, deep)")


def collapse_thresholds(A) -> np.ndarray:
    """beta = lambda_i = 1 + a_i, ascending (a_i the eigenvalues of A^T A)."""
    return np.sort(1.0 + spectrum(A).a)


def default_betas(A, *, reduced: bool = False, margin: float = 1.15, max_thresholds: int = 6) -> tuple[float, ...]:
    """Betas on both sides of 1 and of every collapse threshold t (t / margin and t * margin), none on one.

    Between two thresholds more than a factor 4 apart their geometric mean is added. Values within
    5% of a threshold are dropped (there the optimum is degenerate and convergence slow). For many
    thresholds only ``max_thresholds`` of them, spread over the range, are bracketed. ``reduced``
    keeps five: below 1, just above 1 and below the first threshold, just above it, a middle value
    and beyond the last threshold (the audit protocol).
    """
    t_all = collapse_thresholds(A)
    t = t_all
    if len(t) > max_thresholds:
        t = t[np.unique(np.round(np.linspace(0, len(t) - 1, max_thresholds)).astype(int))]
    near = lambda b: np.any(np.abs(b / t_all - 1) < 0.05)      # noqa: E731
    first, last = float(t[0]), float(t[-1])
    if reduced:
        below_first = first / margin if first / margin > 1.0 else math.sqrt(first)
        cands = [0.5, below_first, first * margin, math.sqrt(first * last) if last > 4 * first else None,
                 last * margin]
    else:
        cands = [0.5, 1.0]
        for x in t:
            cands += [x / margin, x * margin]
        for lo, hi in zip(t[:-1], t[1:]):
            if hi > 4 * lo:
                cands.append(math.sqrt(lo * hi))
    out = []
    for b in sorted(c for c in cands if c is not None and c > 0):
        if near(b) or any(abs(b / o - 1) < 0.02 for o in out):
            continue
        out.append(float(f"{b:.6g}"))
    return tuple(out)


def sampled_betas(betas, A) -> tuple[float, ...]:
    """Path (b)'s subset: the smallest beta, the first one above the first threshold, and the one
    closest (in log beta) to the geometric mean of that one and the largest."""
    betas = sorted(betas)
    first = float(collapse_thresholds(A)[0])
    above = [b for b in betas if b > first] or [betas[-1]]
    rest = [b for b in betas if b > above[0]]
    picks = [betas[0], above[0]]
    if rest:
        mid = math.sqrt(above[0] * betas[-1])
        picks.append(min(rest, key=lambda b: abs(math.log(b / mid))))
    return tuple(sorted(set(picks)))


# ============================================================================ results
@dataclass(frozen=True)
class Record:
    """One trained network (path, beta, seed) against the closed form."""

    path: str
    beta: float
    seed: int
    comparisons: dict            # quantity -> Comparison
    max_relative_error: float
    optimiser: dict              # iterations, stopping, Hessian test (a); steps, samples (b)
    monte_carlo: dict | None     # path (b): predicted rms relative error per quantity and z = observed / predicted
    alignment: dict              # the signed permutation that minimised TIE
    wall_time: float

    def as_dict(self) -> dict:
        return {"path": self.path, "beta": self.beta, "seed": self.seed, "max_relative_error": self.max_relative_error,
                "quantities": {k: {"trained": c.trained, "closed_form": c.closed_form,
                                   "relative_error": c.relative_error} for k, c in self.comparisons.items()},
                "optimiser": self.optimiser, "monte_carlo": self.monte_carlo, "alignment": self.alignment,
                "wall_time": self.wall_time}


@dataclass(frozen=True)
class CrosscheckResult:
    """Outcome of :func:`run_crosscheck`; ``to_json()`` gives the JSON text (``as_dict()`` the data)."""

    max_relative_error: float                 # path (a): over every quantity, beta and seed
    records: tuple[Record, ...]
    gradient_check: dict
    protocol: dict
    wall_time: float
    problem: dict = field(default_factory=dict)
    environment: dict = field(default_factory=dict)

    def by_path(self, path: str) -> tuple[Record, ...]:
        return tuple(r for r in self.records if r.path == path)

    def sampled_max_relative_error(self) -> float:
        errs = [r.max_relative_error for r in self.by_path("sampled")]
        return max(errs) if errs else math.nan

    def per_beta(self) -> list[dict]:
        """For each path and beta: worst relative error per quantity over the seeds, iterations per seed."""
        out = []
        for path in PATHS:
            recs = self.by_path(path)
            for beta in sorted({r.beta for r in recs}):
                rs = [r for r in recs if r.beta == beta]
                out.append({"path": path, "beta": beta, "seeds": [r.seed for r in rs],
                            "max_relative_error": max(r.max_relative_error for r in rs),
                            "relative_error": {q: max(r.comparisons[q].relative_error for r in rs) for q in QUANTITIES},
                            "objective_spread_over_seeds": float(np.ptp([r.comparisons["objective"].trained for r in rs])),
                            "iterations": [_iterations(r) for r in rs]})
        return out

    def as_dict(self) -> dict:
        # a path that was not run has no error: null, not NaN
        return {"command": "crosscheck",
                "max_relative_error": self.max_relative_error if self.by_path("exact") else None,
                "sampled_max_relative_error": self.sampled_max_relative_error() if self.by_path("sampled") else None,
                "gradient_check": self.gradient_check, "problem": self.problem, "protocol": self.protocol,
                "environment": self.environment, "wall_time": self.wall_time, "per_beta": self.per_beta(),
                "records": [r.as_dict() for r in self.records]}

    def to_json(self, indent: int | None = 1) -> str:
        return json.dumps(_finite(self.as_dict()), indent=indent)


def _iterations(r: Record):
    o = r.optimiser
    if r.path == "exact":
        return {"seed": r.seed, "lbfgs": o["lbfgs_iterations"], "newton": o["newton_steps"], "escapes": o["escapes"],
                "kind": o["kind"]}
    return {"seed": r.seed, "adam_steps": o["steps"], "samples": o["samples"]}


def _finite(x):
    """JSON has no inf/nan: write them as strings."""
    if isinstance(x, float) and not math.isfinite(x):
        return str(x)
    if isinstance(x, dict):
        return {k: _finite(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_finite(v) for v in x]
    return x


def environment(device) -> dict:
    return {"versions": provenance.versions(), "dtype": "float64", "device": str(device),
            "torch_threads": torch.get_num_threads()}


# ============================================================================ gradient check
def gradient_check(A, points: int = 3, seed: int = 0, max_rows: int = 512, device=None) -> dict:
    """torch autograd gradient of eq. (21) vs ``numerics._generated.grad_*`` at random parameter points.

    Per parameter: max |g_torch - g_generated| / max |g_generated|. The generated code forms the
    N x N Sigma_x, so for N > ``max_rows`` the first ``max_rows`` rows of A are used (the check is
    of the formulas, any A will do). Points: weights N(0, 1/fan_in), W_sigma N(0, 0.1^2/N), biases N(0, 0.3^2).
    """
    A = np.asarray(A, float)[:max_rows]
    N, k = A.shape
    Sigma = A @ A.T + np.eye(N)
    rng = np.random.default_rng(seed)
    At = torch.as_tensor(A, dtype=DTYPE, device=device)
    worst = {name: 0.0 for name in NAMES}
    for _ in range(points):
        beta = float(np.exp(rng.uniform(np.log(0.2), np.log(20))))
        cols = [rng.normal(size=(k, N)) / np.sqrt(N), 0.3 * rng.normal(size=(k, 1)),
                0.1 * rng.normal(size=(k, N)) / np.sqrt(N), 0.3 * rng.normal(size=(k, 1)),
                rng.normal(size=(N, k)) / np.sqrt(k), 0.3 * rng.normal(size=(N, 1))]
        tensors = [torch.tensor(c.reshape(c.shape[0]) if c.shape[1:] == (1,) else c, dtype=DTYPE, device=At.device,
                                requires_grad=True) for c in cols]
        f = exact_objective(*tensors, At, beta)
        grads = torch.autograd.grad(f, tensors)
        for name, g_t in zip(NAMES, grads):
            g_g = np.asarray(getattr(gen, f"grad_{name}")(*cols, Sigma, beta)).reshape(tuple(g_t.shape))
            diff = np.max(np.abs(g_t.detach().cpu().numpy() - g_g)) / max(np.max(np.abs(g_g)), 1e-300)
            worst[name] = max(worst[name], float(diff))
    m = max(worst.values())
    return {"points": points, "rows_of_A": N, "k": k, "per_parameter": worst, "max_relative_error": m,
            "tolerance": GRADIENT_TOL, "passed": bool(m <= GRADIENT_TOL),
            "method": "torch.autograd of deep.linear.exact_objective vs numerics._generated.grad_* (SymPy)"}


# ============================================================================ running
@contextlib.contextmanager
def _threads(device):
    if device.type != "cpu":
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _seed_list(seeds, base: int = 0) -> tuple[int, ...]:
    if isinstance(seeds, (int, np.integer)):
        if seeds < 1:
            raise ValueError(f"seeds must be >= 1, got {seeds}")
        return tuple(range(int(base), int(base) + int(seeds)))
    out = tuple(int(s) for s in seeds)
    if not out:
        raise ValueError("no seed given")
    return out


def _check_betas(betas) -> tuple[float, ...]:
    out = tuple(float(b) for b in betas)
    if not out:
        raise ValueError("no beta given")
    for b in out:
        if not math.isfinite(b) or b <= 0:
            raise ValueError(f"beta must be a finite number > 0, got {b}")
    return out


def near_threshold(betas, A, rel: float = 1e-3) -> tuple[float, ...]:
    """The betas within ``rel`` of a collapse threshold (degenerate optimum, slow convergence)."""
    t = collapse_thresholds(A)
    return tuple(b for b in betas if np.any(np.abs(b / t - 1) <= rel))


def run_crosscheck(A, betas=None, seeds=None, *, paths=PATHS, quick: bool = False, protocol: Protocol | None = None,
                   seed: int = 0, sampled_steps: int | None = None, device=None,
                   progress: bool = False) -> CrosscheckResult:
    """Train the linear model on both paths and compare it with the closed form.

    ``betas``: iterable of beta > 0, or None for the protocol's (:func:`default_betas` of A).
    ``seeds``: an int S (seeds ``seed .. seed + S - 1``) or an iterable of seeds; None: the protocol's.
    ``protocol``: a :class:`Protocol` (default ``"quick"`` if ``quick`` else ``"full"``); explicit
    ``betas`` / ``seeds`` / ``paths`` override it. Path (b) runs on ``protocol.sampled_betas``
    (``"subset"``: :func:`sampled_betas`; ``"all"``; every beta when ``betas`` is given) with the first
    ``protocol.sampled_seeds`` seeds; ``sampled_steps`` overrides its number of Adam steps.
    Raises ValueError on bad input.
    """
    t0 = time.perf_counter()
    A = np.asarray(A, dtype=float)
    if A.ndim != 2 or A.shape[1] > A.shape[0] or not np.all(np.isfinite(A)):
        raise ValueError(f"mixing matrix must be a finite N x k array with k <= N, got shape {A.shape}")
    proto = protocol if protocol is not None else globals()["protocol"]("quick" if quick else "full")
    paths = tuple(paths)
    if not paths or any(p not in PATHS for p in paths):
        raise ValueError(f"paths must be a non-empty subset of {PATHS}, got {paths}")
    user_betas = betas is not None
    betas = _check_betas(betas) if user_betas else (
        _check_betas(proto.betas) if proto.betas is not None else default_betas(A, reduced=proto.name == "audit"))
    seed_list = _seed_list(seeds, seed) if seeds is not None else tuple(proto.seeds)
    if "sampled" in paths:
        rule = proto.sampled_betas
        s_betas = (betas if user_betas or rule == "all" else sampled_betas(betas, A) if rule == "subset"
                   else _check_betas(rule))
        s_seeds = seed_list[:proto.sampled_seeds] if proto.sampled_seeds else seed_list
    else:
        s_betas, s_seeds = (), ()
    if sampled_steps is not None:
        if int(sampled_steps) < 10:
            raise ValueError(f"sampled_steps must be >= 10, got {sampled_steps}")
        proto = replace(proto, sampled=replace(proto.sampled, steps=int(sampled_steps)))
    proto = replace(proto, betas=betas, seeds=seed_list, paths=paths, sampled_betas=tuple(s_betas))
    dev = torch.device(device) if device is not None else default_device()
    N, k = A.shape
    jobs = ([("exact", b, s) for b in betas for s in seed_list] if "exact" in paths else []) + \
           [("sampled", b, s) for b in s_betas for s in s_seeds]
    records = []
    with _threads(dev):
        At = torch.as_tensor(A, dtype=DTYPE, device=dev)
        grad = gradient_check(A, proto.gradient_points, seed=seed_list[0], device=dev)
        refs, mc = {}, {}
        bar = _progress(len(jobs), progress)
        for path, beta, s in jobs:
            ref = refs.setdefault(beta, reference(A, beta))
            t1 = time.perf_counter()
            if path == "exact":
                run = train_exact(At, beta, s, proto.exact)
                opt = {"optimiser": "L-BFGS (strong Wolfe) + Newton finish", "lbfgs_iterations": run.lbfgs_iterations,
                       "function_evaluations": run.function_evaluations, "newton_steps": run.newton_steps,
                       "escapes": run.escapes, "grad_max": run.grad_norm, "hessian_top": run.hessian_top,
                       "hessian_bottom": run.hessian_bottom, "hessian_method": run.hessian_method, "kind": run.kind,
                       "converged": run.converged, "objective": run.objective}
            else:
                run = train_sampled(At, beta, s, proto.sampled)
                opt = {"optimiser": "Adam, reparameterisation, averaged final phase", "steps": run.steps,
                       "batch": proto.sampled.batch, "samples": run.samples, "final_loss": run.final_loss}
            terms = trained_terms(run.params, A, beta)
            comps = compare(terms, ref)
            monte = None
            if path == "sampled":
                monte = _monte_carlo(A, beta, proto, comps, mc, dev)
            records.append(Record(path=path, beta=beta, seed=s, comparisons=comps,
                                  max_relative_error=max(c.relative_error for c in comps.values()), optimiser=opt,
                                  monte_carlo=monte,
                                  alignment={"permutation": list(terms.alignment.permutation),
                                             "signs": list(terms.alignment.signs), "method": terms.alignment.method},
                                  wall_time=time.perf_counter() - t1))
            bar.update(1)
        bar.close()
    exact = [r.max_relative_error for r in records if r.path == "exact"]
    t = collapse_thresholds(A)
    return CrosscheckResult(
        max_relative_error=max(exact) if exact else math.nan, records=tuple(records), gradient_check=grad,
        protocol={**proto.as_dict(), "mc_z_limit": MC_Z_LIMIT}, wall_time=time.perf_counter() - t0,
        problem={"N": N, "k": k, "collapse_thresholds": [float(x) for x in t],
                 "near_threshold": list(near_threshold(betas, A))},
        environment={**environment(dev), "seeds": list(seed_list)})


def _monte_carlo(A, beta, proto: Protocol, comps, cache, dev):
    if not proto.mc_prediction:
        return None
    N, k = A.shape
    if 3 * k * N + 2 * k + N > 2500:
        return {"skipped": "more than 2500 parameters: the Hessian for the prediction is not formed"}
    s = proto.sampled
    n = (s.steps - s.average_start) * s.batch
    if beta not in cache:
        cache[beta] = mc_prediction(A, beta, n, grad_samples=proto.mc_grad_samples, device=dev)
    pred = cache[beta]
    # where the first-order prediction vanishes (encoder parameters of collapsed units: their per-sample
    # gradient is exactly 0 at the optimum, they are noisy only through second-order coupling) there is no z
    z = {q: (comps[q].relative_error / pred.rms[q] if pred.rms[q] > MC_PREDICTION_FLOOR else None) for q in QUANTITIES}
    zs = [v for v in z.values() if v is not None]
    return {"samples_averaged": n, "predicted_rms_relative_error": pred.rms, "z": z, "max_z": max(zs) if zs else None,
            "within_monte_carlo_error": bool(zs) and max(zs) <= MC_Z_LIMIT, "z_limit": MC_Z_LIMIT,
            "not_predicted": [q for q, v in z.items() if v is None],
            "method": "Polyak-Juditsky: averaged iterates ~ N(optimum, H^-1 S H^-1 / n), first order"}


class _NoBar:
    def update(self, n):
        pass

    def close(self):
        pass


def _progress(total, enabled):
    import sys
    if not enabled or not sys.stderr.isatty():
        return _NoBar()
    from tqdm import tqdm
    return tqdm(total=total, desc="crosscheck", file=sys.stderr, leave=False)


def audit_crosscheck(deep: bool = False, progress: bool = False) -> CrosscheckResult:
    """The paper's problem (N = 128, k = 2) with :func:`audit_protocol` (or the ``"deep"`` protocol)."""
    from numerics.problems import paper_problem
    return run_crosscheck(paper_problem().A, protocol=protocol("deep" if deep else "audit"), progress=progress)


# ============================================================================ text output
COLUMNS = (("d^2", ("dtd_eigenvalues",)), ("Sigma_z", ("sigma_z",)),
           ("zeros", ("w_sigma", "b_mu", "b_D", "dtd_offdiagonal")), ("recon", ("reconstruction",)),
           ("KL", ("kl",)), ("ELBO", ("elbo",)), ("loglik", ("log_likelihood",)), ("MIE", ("mie",)),
           ("TIE", ("tie",)))


def format_result(r: CrosscheckResult, description: str = "") -> str:
    """The readable table of ``crosscheck`` (relative errors against the closed form, iterations)."""
    p, pr = r.problem, r.protocol
    lines = [f"crosscheck: {description}" if description else "crosscheck",
             "collapse thresholds beta = " + ", ".join(f"{t:.6g}" for t in p.get("collapse_thresholds", []))
             + f"; protocol {pr['name']}; {r.environment.get('device')}, float64; wall time {r.wall_time:.1f} s"]
    g = r.gradient_check
    lines.append(f"gradient check: torch autograd vs the SymPy-generated gradient at {g['points']} random points: "
                 f"max relative difference {g['max_relative_error']:.1e} (tolerance {g['tolerance']:g})")
    lines.append("relative error = |trained - closed form| / max(|closed form|, 1); 'zeros' = max of |W_sigma|, "
                 "|b_mu|, |b_D|, off-diagonal of D^T D")
    head = f"{'beta':>9} " + " ".join(f"{name:>8}" for name, _ in COLUMNS)
    for path in PATHS:
        recs = r.by_path(path)
        if not recs:
            continue
        seeds = sorted({x.seed for x in recs})
        lines.append("")
        if path == "exact":
            lines.append(f"path (a): exact objective (eq. 21 with constants), L-BFGS (strong Wolfe) + Newton finish; "
                         f"worst over seeds {', '.join(map(str, seeds))}")
            lines.append(head + "  | L-BFGS iters   Newton  escapes  Hessian")
        else:
            s = pr["sampled"]
            lines.append(f"path (b): Adam on fresh samples x = A s + eta, reparameterised ({s['steps']} steps x "
                         f"{s['batch']}, lr {s['lr']:g}, iterates averaged over the last {s['average_fraction']:.0%}); "
                         f"seeds {', '.join(map(str, seeds))}")
            lines.append(head + "  | max z (error / predicted Monte-Carlo rms)")
        for beta in sorted({x.beta for x in recs}):
            rs = [x for x in recs if x.beta == beta]
            cells = " ".join(f"{max(x.comparisons[q].relative_error for x in rs for q in qs):8.1e}" for _, qs in COLUMNS)
            if path == "exact":
                it = ",".join(str(x.optimiser["lbfgs_iterations"]) for x in rs)
                nw = ",".join(str(x.optimiser["newton_steps"]) for x in rs)
                es = ",".join(str(x.optimiser["escapes"]) for x in rs)
                kinds = sorted({x.optimiser["kind"] for x in rs})
                tail = f"  | {it:>12} {nw:>8} {es:>8}  {'/'.join(kinds)}"
            else:
                zs = [x.monte_carlo.get("max_z") for x in rs if x.monte_carlo and x.monte_carlo.get("max_z") is not None]
                tail = "  | " + (", ".join(f"{z:.3g}" for z in zs) if zs else "not predicted")
            lines.append(f"{beta:9.5g} " + cells + tail)
        if path == "exact":
            lines.append(f"max_relative_error (path a, every quantity, beta and seed) = {r.max_relative_error:.2e}")
        else:
            lines.append(f"largest relative error of path (b) = {r.sampled_max_relative_error():.2e} "
                         f"(not part of max_relative_error; z <= {MC_Z_LIMIT:g} means within Monte-Carlo error)")
    if p.get("near_threshold"):
        lines.append("note: beta " + ", ".join(f"{b:g}" for b in p["near_threshold"]) +
                     " sits on a collapse threshold: the optimum is degenerate there and converges slowly")
    return "\n".join(lines)

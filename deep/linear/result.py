"""The outcome of a cross-check: one record per trained network, their summary, and its JSON.

A :class:`CrosscheckRecord` is one network (path, beta, seed) against the closed form; a
:class:`CrosscheckResult` holds the records with the gradient check, the plan that was run, the
problem and the environment. ``max_relative_error`` covers path (a) only: path (b) carries
Monte-Carlo noise and is reported per beta (:meth:`CrosscheckResult.per_beta`). A path that was
not run has no error (None, null in the JSON). :meth:`CrosscheckResult.to_json` is the ``crosscheck --json``
document as plain data; :func:`numerics.artifacts.dumps` writes it (an infinite error as "inf", never NaN).

>>> from deep.linear.compare import QUANTITIES, QuantityComparison
>>> exact = {q: QuantityComparison(1.0, 1.0, 0.0) for q in QUANTITIES}
>>> work = {"lbfgs_iterations": 40, "newton_steps": 3, "escapes": 0, "kind": "maximum"}
>>> from numerics.gauge import Alignment
>>> identity = Alignment((0, 1), (1, 1), cost=0.0, method="exact", evaluated=8, how="all 8 signed permutations")
>>> rec = CrosscheckRecord("exact", 2.0, 0, exact, 0.0, work, monte_carlo=None, alignment=identity, wall_time=0.1)
>>> doc = CrosscheckResult(0.0, (rec,), gradient_check={}, protocol={"name": "example"}, wall_time=0.1).to_json()
>>> doc["sampled_max_relative_error"], doc["sampled_max_z"], doc["per_beta"][0]["iterations"]
(None, None, [{'seed': 0, 'lbfgs': 40, 'newton': 3, 'escapes': 0, 'kind': 'maximum'}])
"""
from __future__ import annotations

from dataclasses import dataclass, field

from numerics.gauge import Alignment

import numpy as np

from .compare import QUANTITIES, QuantityComparison
from .plan import PATHS


@dataclass(frozen=True)
class CrosscheckRecord:
    """One trained network (path, beta, seed) against the closed form."""

    path: str
    beta: float
    seed: int
    comparisons: dict[str, QuantityComparison]       # quantity -> trained, closed form, relative error
    max_relative_error: float
    optimiser: dict              # iterations, stopping, Hessian test (a); steps, samples (b)
    monte_carlo: dict | None     # path (b): predicted rms relative error per quantity and z = observed / predicted
    alignment: Alignment | None  # the signed permutation that minimised TIE (None: no sources, no TIE)
    wall_time: float
    time_constant: dict | None = None   # path (b): predicted time constant and the window rule (time_constants.py)

    def iterations(self) -> dict:
        """What the optimiser did, in short: L-BFGS iterations, Newton steps, escapes (a); Adam steps and the
        refinement's Newton passes (b)."""
        o = self.optimiser
        if self.path == "exact":
            return {"seed": self.seed, "lbfgs": o["lbfgs_iterations"], "newton": o["newton_steps"],
                    "escapes": o["escapes"], "kind": o["kind"]}
        out = {"seed": self.seed, "adam_steps": o["steps"], "samples": o["samples"]}
        ref = o.get("refinement") or {}
        if "passes" in ref:
            out.update(newton_passes=ref["passes"], refinement_converged=ref["converged"])
        return out

    def to_json(self) -> dict:
        return {"path": self.path, "beta": self.beta, "seed": self.seed, "max_relative_error": self.max_relative_error,
                "quantities": {k: {"trained": c.trained, "closed_form": c.closed_form,
                                   "relative_error": c.relative_error} for k, c in self.comparisons.items()},
                "optimiser": self.optimiser, "monte_carlo": self.monte_carlo,
                "alignment": self.alignment.to_json() if self.alignment is not None else None,
                "time_constant": self.time_constant, "wall_time": self.wall_time}


@dataclass(frozen=True)
class CrosscheckResult:
    """Outcome of :func:`deep.linear.crosscheck.run_crosscheck`; :meth:`to_json` gives the JSON document as plain data."""

    max_relative_error: float | None          # path (a): over every quantity, beta and seed (None: not run)
    records: tuple[CrosscheckRecord, ...]
    gradient_check: dict
    protocol: dict                            # the plan that was run (jsonable(CrosscheckPlan) and the z limit)
    wall_time: float
    problem: dict = field(default_factory=dict)
    environment: dict = field(default_factory=dict)

    def by_path(self, path: str) -> tuple[CrosscheckRecord, ...]:
        return tuple(r for r in self.records if r.path == path)

    def sampled_max_relative_error(self) -> float | None:
        """Path (b)'s largest relative error over every quantity, beta and seed (None: path (b) was not run)."""
        errs = [r.max_relative_error for r in self.by_path("sampled")]
        return max(errs) if errs else None

    @property
    def sampled_max_z(self) -> float | None:
        """Path (b)'s largest z (error / predicted Monte-Carlo rms) over every quantity, beta and seed; None when
        path (b) did not run or got no prediction. <= MC_Z_LIMIT (6) means within Monte-Carlo error."""
        zs = [r.monte_carlo["max_z"] for r in self.by_path("sampled")
              if r.monte_carlo and r.monte_carlo.get("max_z") is not None]
        return max(zs) if zs else None

    def per_beta(self) -> list[dict]:
        """For each path and beta: worst relative error per quantity over the seeds, iterations per seed."""
        out = []
        for path in PATHS:
            recs = self.by_path(path)
            for beta in sorted({r.beta for r in recs}):
                rs = [r for r in recs if r.beta == beta]
                out.append({"path": path, "beta": beta, "seeds": [r.seed for r in rs],
                            "max_relative_error": max(r.max_relative_error for r in rs),
                            "relative_error": {q: _worst(r.comparisons[q].relative_error for r in rs) for q in QUANTITIES},
                            "objective_spread_over_seeds": float(np.ptp([r.comparisons["objective"].trained for r in rs])),
                            "iterations": [r.iterations() for r in rs],
                            **({"time_constant": rs[0].time_constant} if path == "sampled" else {})})
        return out

    def to_json(self) -> dict:
        # a path that was not run has no error: None (null)
        return {"command": "crosscheck",
                "max_relative_error": self.max_relative_error if self.by_path("exact") else None,
                "sampled_max_relative_error": self.sampled_max_relative_error(),
                "sampled_max_z": self.sampled_max_z,
                "gradient_check": self.gradient_check, "problem": self.problem, "protocol": self.protocol,
                "environment": self.environment, "wall_time": self.wall_time, "per_beta": self.per_beta(),
                "records": [r.to_json() for r in self.records]}


def _worst(errors):
    """The largest relative error; None where the quantity is not defined (TIE without sources)."""
    defined = [e for e in errors if e is not None]
    return max(defined) if defined else None

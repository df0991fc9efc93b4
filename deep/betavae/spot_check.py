"""The spot check: re-train a few of a stored campaign's networks and require the stored numbers back.

The default audit decides the Fig. 2/3 claims from stored evidence (:mod:`deep.betavae.evidence`) instead of
re-training every network; before it does, :func:`spot_check` re-trains realisation ``first_seed`` of the stored
protocol at two betas (same seeds, same stopping rule) and compares each quantity with the stored value. The
tolerance is stated per quantity: ``abs_tol`` nats plus ``seed_fraction`` x the seed-to-seed standard deviation of
that quantity at that beta in the stored campaign. Why not bit-for-bit: a model trained in a batch of 2 instead of
30 gets the same random numbers, but the batched matrix products may round its last bits differently, and hundreds
of epochs of Adam amplify that; the seed spread measures how far such a perturbation can move a result.

>>> import numpy as np
>>> rows = compare({"kl": np.array([[1.0, 2.0], [1.2, 2.4]])}, {"kl": np.array([[1.01, 2.0]])}, [0], [0, 1])
>>> rows[0].quantity, rows[0].holds, round(rows[0].tolerance, 4)
('kl', True, 0.0554)
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

QUANTITIES = ("objective", "elbo", "reconstruction", "kl", "tie")
ABS_TOL = 0.02
SEED_FRACTION = 0.25


@dataclass(frozen=True)
class SpotRow:
    quantity: str
    beta: float
    seed: int
    stored: float
    rerun: float
    tolerance: float

    @property
    def difference(self) -> float:
        return self.rerun - self.stored

    @property
    def holds(self) -> bool:
        return bool(abs(self.difference) <= self.tolerance)


@dataclass(frozen=True)
class SpotCheck:
    """Rows per (quantity, beta); ``passed`` when every row holds; the re-run's wall time."""

    betas: tuple[float, ...]
    seed: int
    rows: tuple[SpotRow, ...]
    wall_time: float
    tolerance_rule: str

    @property
    def passed(self) -> bool:
        return all(r.holds for r in self.rows)

    def worst(self) -> SpotRow:
        return max(self.rows, key=lambda r: abs(r.difference) / r.tolerance)

    def to_json(self) -> dict:
        return {"betas": list(self.betas), "seed": self.seed, "passed": self.passed, "wall_time": self.wall_time,
                "tolerance_rule": self.tolerance_rule,
                "rows": [{"quantity": r.quantity, "beta": r.beta, "seed": r.seed, "stored": r.stored, "rerun": r.rerun,
                          "difference": r.difference, "tolerance": r.tolerance, "holds": r.holds} for r in self.rows]}


def compare(stored: dict, rerun: dict, seeds_row, beta_columns, betas=None, seed: int = 0) -> list[SpotRow]:
    """Rows comparing ``rerun[q][0, c]`` with ``stored[q][seeds_row[0], beta_columns[c]]``; tolerance from the stored
    seed spread of each column."""
    out = []
    for q in stored:
        table = np.asarray(stored[q], dtype=float)
        for c, j in enumerate(beta_columns):
            spread = float(table[:, j].std(ddof=1)) if table.shape[0] > 1 else 0.0
            out.append(SpotRow(quantity=q, beta=float(betas[j]) if betas is not None else float(j), seed=seed,
                               stored=float(table[seeds_row[0], j]), rerun=float(np.asarray(rerun[q])[0, c]),
                               tolerance=ABS_TOL + SEED_FRACTION * spread))
    return out


def spot_check(stored, betas=None, *, device=None, threads=None) -> SpotCheck:
    """Re-train the stored result's first realisation at ``betas`` (default :func:`default_betas`) and compare."""
    from .evidence import protocol_from_json
    from .experiments import run_fig2, run_fig3
    from .protocol import Protocol

    p: Protocol = protocol_from_json(stored.protocol)
    grid = [float(b) for b in stored.betas]
    betas = tuple(default_betas(grid) if betas is None else betas)
    columns = [grid.index(float(b)) for b in betas]
    seed = int(stored.seeds[0])
    rerun_protocol = p.with_changes(seeds=1, first_seed=seed, betas=betas)
    t0 = time.perf_counter()
    runner = run_fig3 if p.figure == "fig3" else run_fig2
    rerun = runner(rerun_protocol, device=device, threads=threads)
    wall = time.perf_counter() - t0
    again = {q: np.asarray(getattr(rerun, q), dtype=float) for q in QUANTITIES}
    again["tie"] = np.array([[_exact_tie(rerun, c) for c in range(len(betas))]])
    rows = compare({q: getattr(stored, q) for q in QUANTITIES}, again, [0], columns, grid, seed)
    rule = (f"|re-run - stored| <= {ABS_TOL} nats + {SEED_FRACTION} x the stored seed-to-seed standard deviation of "
            "the quantity at that beta")
    return SpotCheck(betas=betas, seed=seed, rows=tuple(rows), wall_time=wall, tolerance_rule=rule)


def _exact_tie(rerun, column: int) -> float:
    """The re-run's TIE aligned as stored evidence is (deep.betavae.evidence: exactly, with the same node limit)."""
    from numerics.gauge import align

    from .evidence import ALIGN_NODE_LIMIT, tie_with
    problem = rerun.problems["train"][0][column]
    return tie_with(float(rerun.tie_identity[0, column]), problem,
                    align(problem, exact_max_k=problem.k, node_limit=ALIGN_NODE_LIMIT))


def default_betas(grid) -> tuple[float, float]:
    """Two betas of the grid: 1 (or the nearest) and the largest (a converged, collapsed network: cheap to re-train)."""
    grid = sorted(float(b) for b in grid)
    one = min(grid, key=lambda b: abs(np.log(b)))
    return (one, grid[-1]) if grid[-1] != one else (grid[0], one)

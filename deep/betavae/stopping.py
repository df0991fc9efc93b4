"""When a trained network has converged: a stopping rule on its training objective, and the record of a run.

The objective a network is trained on (eq. 6 averaged over its training set, minus sign dropped: larger is better)
is recorded once per epoch as the mean of that epoch's mini-batch objectives, a noisy estimate (one reparameterised
sample per example, parameters moving within the epoch). The rule compares the means of two consecutive windows of
``window`` epochs: the run has converged at the end of the first window whose mean improves on the previous
window's by at most ``tolerance`` nats per example (a decrease also counts: the objective no longer rises beyond
noise). It is checked every ``window`` epochs from ``min_epochs`` on; a run still improving at ``max_epochs`` is
reported as not converged, with its last improvement.

Why windows rather than one epoch: the per-epoch estimate has a standard deviation of about 0.1 nat at small
beta (Monte-Carlo noise of the reconstruction term), so a per-epoch change says nothing at the 0.05-nat level;
the mean of 50 epochs has about 1/7 of that noise.

>>> rule = StoppingRule(window=2, tolerance=0.1, min_epochs=4, max_epochs=100)
>>> rule.converged_at([1.0, 2.0, 3.0, 3.5, 3.55, 3.6, 3.6, 3.61])     # windows 1.5, 3.25, 3.575, 3.605
8
>>> rule.converged_at([1.0, 2.0, 3.0, 4.0]) is None
True
>>> rule.last_improvement([1.0, 2.0, 3.0, 4.0])
2.0
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class StoppingRule:
    """Converged when the mean objective of the last ``window`` epochs exceeds that of the ``window`` before it by at
    most ``tolerance`` (nats per example), checked every ``window`` epochs once ``min_epochs`` have run."""

    window: int = 50
    tolerance: float = 0.05
    min_epochs: int = 100
    max_epochs: int = 1000

    def __post_init__(self):
        if not (isinstance(self.window, int) and self.window >= 1):
            raise ValueError(f"window must be an integer >= 1, got {self.window!r}")
        if not (np.isfinite(self.tolerance) and self.tolerance > 0):
            raise ValueError(f"tolerance must be > 0, got {self.tolerance!r}")
        if not (isinstance(self.min_epochs, int) and self.min_epochs >= 2 * self.window):
            raise ValueError(f"min_epochs must be an integer >= 2 x window = {2 * self.window}, got {self.min_epochs!r}")
        if not (isinstance(self.max_epochs, int) and self.max_epochs >= self.min_epochs):
            raise ValueError(f"max_epochs must be an integer >= min_epochs, got {self.max_epochs!r}")

    def is_check_epoch(self, epochs_done: int) -> bool:
        """Whether the rule is evaluated after ``epochs_done`` epochs."""
        return epochs_done >= self.min_epochs and epochs_done % self.window == 0

    def last_improvement(self, history) -> float:
        """Mean of the last window minus the mean of the window before it (nan when fewer than 2 windows)."""
        h = np.asarray(history, dtype=float)
        w = self.window
        if h.size < 2 * w:
            return float("nan")
        return float(h[-w:].mean() - h[-2 * w:-w].mean())

    def converged_at(self, history):
        """The number of epochs after which ``history`` (objective per epoch, larger is better) first meets the rule,
        or None."""
        h = np.asarray(history, dtype=float)
        for e in range(self.min_epochs, min(h.size, self.max_epochs) + 1):
            if self.is_check_epoch(e) and self.last_improvement(h[:e]) <= self.tolerance:
                return e
        return None

    def to_json(self) -> dict:
        return {"rule": "mean training objective of the last `window` epochs minus that of the `window` epochs before "
                        "it <= `tolerance` nats per example, checked every `window` epochs from `min_epochs`; "
                        "not converged if still improving at `max_epochs`", **asdict(self)}


#: the paper's budget with the rule applied: runs stop when converged, never beyond the paper's 1000 epochs
PAPER_BUDGET = StoppingRule(window=50, tolerance=0.05, min_epochs=100, max_epochs=1000)

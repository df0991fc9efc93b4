"""Hunting counterexamples with hypothesis: a property is searched for a violation, and a violation
found is shrunk to a minimal one, which the audit reports as evidence.

Runs are reproducible: derandomised (the examples depend only on the property's code and the
strategy), no example database, no deadline. ``BETAVAE_HYPOTHESIS_PROFILE=thorough`` multiplies the
number of examples by 10 (the default profile keeps the audit within its time budget).

>>> from hypothesis import strategies as st
>>> r = hunt(st.integers(0, 100), lambda n: PropertyResult(n < 37, {"n": n}), max_examples=200)
>>> r.counterexample, r.detail
(37, {'n': 37})
>>> print(hunt_step("n < 37 for every n", r, "eq. 0").line())
FAILS [eq. 0]: n < 37 for every n: violated; shrunk counterexample 37: {'n': 37}
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Callable

from hypothesis import HealthCheck, Phase, find, settings
from hypothesis.errors import NoSuchExample, Unsatisfiable

from .ledger import note
from .outcome import Step
from .properties import PropertyResult

PROFILE_ENV = "BETAVAE_HYPOTHESIS_PROFILE"

# example budgets of the default profile (x10 with BETAVAE_HYPOTHESIS_PROFILE=thorough)
CHEAP, HIGH_PRECISION, SOLVER_EXAMPLES = 200, 60, 5


def scale() -> int:
    """Multiplier of every example budget: 1 (default profile) or 10 (thorough)."""
    return 10 if os.environ.get(PROFILE_ENV, "").strip().lower() == "thorough" else 1


@dataclass(frozen=True)
class Hunt:
    """The result of searching ``max_examples`` instances for a violation of a property."""

    examples: int                 # instances evaluated
    counterexample: Any = None    # the shrunk instance that violates the property (None: none found)
    detail: dict | None = None    # the property's numbers at the counterexample

    @property
    def found(self) -> bool:
        return self.detail is not None


def _keep_hypothesis_files_out_of_cwd() -> None:
    """Hypothesis writes a ``.hypothesis`` directory into the working directory by default; the audit's runs
    belong in the toolkit's cache instead (unless the user chose a place with HYPOTHESIS_STORAGE_DIRECTORY)."""
    if os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):
        return
    from pathlib import Path

    from hypothesis.configuration import set_hypothesis_home_dir
    root = Path(os.environ.get("BETAVAE_CACHE") or Path.home() / ".cache" / "betavae-audit")
    set_hypothesis_home_dir(root / "hypothesis")


def hunt(strategy, prop: Callable[[Any], PropertyResult], *, max_examples: int = 100) -> Hunt:
    """Search for an instance where ``prop(instance).holds`` is False; shrink it if found."""
    _keep_hypothesis_files_out_of_cwd()
    note("seeds", "hypothesis", f"derandomized (examples are a function of the property and its strategy), "
                                f"x{scale()} example budget")
    count = [0]

    def violates(instance) -> bool:
        count[0] += 1
        return not prop(instance).holds

    config = settings(max_examples=max_examples * scale(), derandomize=True, database=None, deadline=None,
                      suppress_health_check=list(HealthCheck),
                      phases=[Phase.generate, Phase.shrink])
    try:
        instance = find(strategy, violates, settings=config)
    except (NoSuchExample, Unsatisfiable):
        return Hunt(examples=count[0])
    return Hunt(examples=count[0], counterexample=instance, detail=prop(instance).detail)


def plain(x):
    """A counterexample as plain data (numpy arrays as lists), for evidence and JSON."""
    if hasattr(x, "tolist") and hasattr(x, "dtype"):
        return x.tolist()
    if isinstance(x, tuple):
        return tuple(plain(v) for v in x)
    if isinstance(x, list):
        return [plain(v) for v in x]
    return x


def describe(h: Hunt) -> str:
    """What a hunt found, in words."""
    if not h.found:
        return f"no violation in {h.examples} random instances"
    return f"violated; shrunk counterexample {plain(h.counterexample)}: {h.detail}"


def hunt_step(name: str, h: Hunt, equation: str, role: str = "claim") -> Step:
    """The step of a check that a hunt decides: it holds when no violation was found (grade ``sampled``)."""
    basis = f"{h.examples} random instances (hypothesis)" + (", counterexample found" if h.found else "")
    return Step(name, not h.found, describe(h), equation, role, grade="sampled", basis=basis)

"""What a claim check returns: a verdict computed from steps, with its evidence.

A check is made of *steps*. A ``claim`` step tests the paper's statement; a ``support`` step
cross-checks the toolkit itself (two independent routes agree, a counterexample re-verified): a
support step that fails means the check cannot be trusted, so the audit reports an error rather
than a verdict. Verdicts are built only through the constructors below, which insist on the field
each verdict needs (a counterexample for ``refuted``, the erratum for ``corrected``, the condition
for ``qualified``, the reason for ``not-checked``).

>>> s = Step("L*(beta) non-increasing on 50 random problems", True, "no counterexample", "Prop. 1")
>>> confirmed("holds", [s]).verdict
'confirmed'
>>> import numpy as np
>>> Step("a numpy comparison", np.float64(1.0) < 2.0, "").holds is True
True
>>> refuted("fails", [s], counterexample={})      # doctest: +IGNORE_EXCEPTION_DETAIL
Traceback (most recent call last):
ValueError: refuted needs a non-empty counterexample
"""
from __future__ import annotations

from dataclasses import dataclass, field

VERDICTS = ("confirmed", "refuted", "corrected", "qualified", "not-checked")
# Evidence grades, strongest first. proved: for every problem of the claim's class (symbolically, or by a decision
# procedure's certificate); exhaustive: every case of a finite class checked; sampled: random problems (hypothesis);
# measured: trained networks. A verdict's grade is the weakest grade among the steps that decide it.
GRADES = ("proved", "exhaustive", "sampled", "measured")


@dataclass(frozen=True)
class Step:
    """One computed fact of a check."""

    name: str
    holds: bool
    detail: str
    equation: str = ""           # the equation or proposition it bears on, e.g. "eq. 10"
    role: str = "claim"          # "claim" (the paper's statement) or "support" (the toolkit's own cross-check)
    grade: str | None = None     # how strong the evidence is: one of GRADES (None: not graded)
    basis: str = ""              # what the grade rests on: the proof's key in the derivation document for "proved",
    #                              the number of problems for "sampled", the cases for "exhaustive", seeds for "measured"

    def __post_init__(self):
        # a numpy comparison gives numpy.bool_, which JSON and `is True` do not treat as a bool: store a bool
        if getattr(self.holds, "dtype", None) is not None and self.holds.dtype.kind == "b" and self.holds.shape == ():
            object.__setattr__(self, "holds", bool(self.holds))
        if not isinstance(self.holds, bool):
            raise TypeError(f"step '{self.name}': holds must be a bool, got {type(self.holds).__name__}")
        if self.role not in ("claim", "support", "finding"):
            raise ValueError(f"step '{self.name}': role must be claim, support or finding, got '{self.role}'")
        if self.grade is not None and self.grade not in GRADES:
            raise ValueError(f"step '{self.name}': grade must be one of {', '.join(GRADES)}, got '{self.grade}'")
        if self.grade is not None and not self.basis:
            raise ValueError(f"step '{self.name}': grade '{self.grade}' needs its basis (proof key, problem count, ...)")

    def line(self) -> str:
        mark = "holds" if self.holds else "FAILS"
        where = f" [{self.equation}]" if self.equation else ""
        return f"{mark}{where}: {self.name}: {self.detail}"


@dataclass(frozen=True)
class Outcome:
    verdict: str
    evidence: str
    steps: tuple[Step, ...] = ()
    counterexample: dict | None = None
    erratum: str | None = None
    condition: str | None = None
    reason: str | None = None
    figures: tuple[str, ...] = ()
    protocol: dict | None = None
    data: dict = field(default_factory=dict)
    # trained-network claims: {"seeds", "epochs", "converged", "max_abs_gap_to_linear_optimum", "source"}
    experiment: dict | None = None

    def failing_support(self) -> list[Step]:
        return [s for s in self.steps if s.role == "support" and not s.holds]

    def deciding_steps(self) -> list[Step]:
        """The steps the verdict rests on (claim and finding roles; support steps cross-check the toolkit)."""
        return [s for s in self.steps if s.role != "support"]

    @property
    def grade(self) -> str | None:
        """The weakest grade among the deciding steps; None when one of them is ungraded or there are none.

        >>> p = Step("identity for all problems", True, "", grade="proved", basis="proofs/prop1-active")
        >>> q = Step("200 random problems", True, "", grade="sampled", basis="200 hypothesis examples")
        >>> confirmed("holds", [p]).grade, confirmed("holds", [p, q]).grade, confirmed("holds", [p, Step("x", True, "")]).grade
        ('proved', 'sampled', None)
        """
        deciding = self.deciding_steps()
        if not deciding or any(s.grade is None for s in deciding):
            return None
        return max((s.grade for s in deciding), key=GRADES.index)

    @property
    def grade_basis(self) -> str:
        """What the grade rests on: the bases of the deciding steps of that (weakest) grade."""
        g = self.grade
        if g is None:
            return ""
        return "; ".join(dict.fromkeys(s.basis for s in self.deciding_steps() if s.grade == g))


class CheckIntegrityError(RuntimeError):
    """A support step of a check failed: the toolkit disagrees with itself, no verdict can be given."""


def _outcome(verdict, evidence, steps, **kw) -> Outcome:
    steps = tuple(steps)
    bad = [s for s in steps if s.role == "support" and not s.holds]
    if bad:
        raise CheckIntegrityError("; ".join(s.line() for s in bad))
    return Outcome(verdict=verdict, evidence=evidence, steps=steps, **kw)


def confirmed(evidence: str, steps, **kw) -> Outcome:
    return _outcome("confirmed", evidence, steps, **kw)


def refuted(evidence: str, steps, *, counterexample: dict, **kw) -> Outcome:
    if not counterexample:
        raise ValueError("refuted needs a non-empty counterexample")
    return _outcome("refuted", evidence, steps, counterexample=counterexample, **kw)


def corrected(evidence: str, steps, *, erratum: str, **kw) -> Outcome:
    if not erratum:
        raise ValueError("corrected needs the erratum it depends on")
    return _outcome("corrected", evidence, steps, erratum=erratum, **kw)


def qualified(evidence: str, steps, *, condition: str, **kw) -> Outcome:
    if not condition:
        raise ValueError("qualified needs the condition under which the claim holds")
    return _outcome("qualified", evidence, steps, condition=condition, **kw)


def not_checked(reason: str, steps=(), **kw) -> Outcome:
    if not reason:
        raise ValueError("not-checked needs a reason")
    return Outcome(verdict="not-checked", evidence=reason, steps=tuple(steps), reason=reason, **kw)

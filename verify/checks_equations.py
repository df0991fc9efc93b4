"""Claims that are printed equations: the verdict follows from the SymPy comparison of the printed
form with the re-derived one (:mod:`derivations.errata`), whose own verdict is computed, never typed.

Mapping of the derivation's comparison verdicts to audit verdicts:

* ``confirmed`` -> confirmed;
* ``equivalent-condition`` (a stationarity condition ``0 = expr`` whose expr is a non-zero multiple of
  the derivative) -> confirmed as a condition;
* ``confirmed-up-to-constant`` -> confirmed when the dropped constant is free of beta, otherwise
  qualified (fine for optimising at fixed beta, not for comparing values across beta);
* ``conditional`` -> qualified, with the condition;
* ``erratum`` -> corrected, naming the erratum; where every erratum of the equation is a notation
  repair (kind ``notation ...``, see :mod:`derivations.notation`), the evidence says what was repaired
  and how the repaired reading compares (e.g. eq. 23: the conditions themselves are right).
"""
from __future__ import annotations

import sympy as sp

from .outcome import Step, confirmed, corrected, qualified


def _step(c) -> Step:
    return Step(f"eq. ({c.equation}) {c.title}", c.verdict in ("confirmed", "equivalent-condition"),
                f"{c.verdict}: {c.evidence}", f"eq. {c.equation}")


def equation_check(prefix: str):
    """The check of printed equation ``prefix`` (all its lines, e.g. 23.1-23.4)."""

    def check(ctx):
        from derivations.symbols import beta
        comps = ctx.comparisons(prefix)
        if not comps:
            raise LookupError(f"the derivation has no comparison for eq. ({prefix})")
        steps = [_step(c) for c in comps]
        errata = [c for c in comps if c.verdict == "erratum"]
        if errata and all(c.kind.startswith("notation") for c in errata):
            return _notation_only(comps, errata, steps)
        if errata:
            names = "; ".join(f"eq. ({c.equation}): {c.kind}" for c in errata)
            substantive = [c for c in errata if not c.kind.startswith("notation")]
            repairs = "; ".join(f"eq. ({c.equation}) {c.kind}, read as {c.corrected}"
                                for c in errata if c.kind.startswith("notation"))
            also = f" The notation was repaired as well: {repairs}." if repairs else ""
            return corrected(f"Holds once the erratum is fixed. {substantive[0].evidence}{also}", steps, erratum=names,
                             data={"corrected": [str(c.corrected) for c in errata if c.corrected is not None]})
        conditional = [c for c in comps if c.verdict == "conditional"]
        if conditional:
            cond = conditional[0].details.get("condition", "")
            return qualified(f"Equal to the derived form when {cond}. {conditional[0].evidence}", steps, condition=cond)
        constants = [c for c in comps if c.verdict == "confirmed-up-to-constant"]
        beta_dependent = [c for c in constants
                          if c.details.get("constant") is not None and sp.sympify(c.details["constant"]).has(beta)]
        if beta_dependent:
            cst = beta_dependent[0].details["constant"]
            return qualified(f"Equal to the derived form up to the additive constant {cst}, which is free of the "
                             f"parameters but depends on beta. {beta_dependent[0].evidence}", steps,
                             condition=f"as an objective to optimise at fixed beta (the dropped {cst} matters when "
                                       "values are compared across beta, as in Proposition 1)")
        conditions = [c for c in comps if c.verdict == "equivalent-condition"]
        note = (" As conditions 0 = expr they are right; the printed expressions are "
                + ", ".join(sorted({f"{c.details.get('factor')}x" for c in conditions}))
                + " the derivatives.") if conditions else ""
        what = "; ".join(f"eq. ({c.equation}) {c.title}: {c.evidence}" for c in comps)
        return confirmed(f"The printed form agrees with the derivation ({len(comps)} comparison(s): {what}).{note}", steps)
    check.__name__ = f"check_eq{prefix}"
    return check


def _notation_only(comps, errata, steps):
    """Corrected because of notation repairs alone: say what was repaired and that the rest agrees."""
    names = "; ".join(f"eq. ({c.equation}): {c.kind}" for c in errata)
    repairs = " ".join(f"eq. ({c.equation}): {c.evidence}" for c in errata)
    others = [c for c in comps if not c.kind.startswith("notation")]
    fine = all(c.verdict in ("confirmed", "equivalent-condition") for c in others)
    verdicts = ", ".join(f"{c.equation}: {c.verdict}" for c in others)
    if others and fine and all(c.verdict == "equivalent-condition" for c in others):
        rest = f"Once repaired, the conditions themselves are right ({verdicts}: same zero set as dL/dtheta = 0)."
    elif others and fine:
        rest = f"Once repaired, the printed form itself is right ({verdicts})."
    else:
        rest = f"Once repaired, the printed form compares as: {verdicts or 'no other comparison'}."
    return corrected(f"Holds once the notation is repaired: {names}. {rest} What was repaired: {repairs}", steps,
                     erratum=names, data={"corrected": [str(c.corrected) for c in errata if c.corrected is not None]})

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

Evidence grade of each comparison (:func:`comparison_grade`, computed from the record, never typed): an erratum
refutes the printed form by one instance (a non-zero symbolic difference with a numeric counterexample, a
derivative off by a factor, or a literal reading that is ill-formed), so it is ``proved``. An agreement is
``proved`` only where the compared expressions are general in N, k; :func:`derivations.errata.compare` decides on
explicit expressions, so a matrix expression (MatrixSymbol) in the record is the display it was given, and the
agreement was an identity at concrete dimension with symbolic entries: ``sampled``, with the dimension where the
record tells it (``details['dims']``, the evidence's "(N,k) = ...", or the entries of the compared matrices).

>>> import sympy as sp
>>> from derivations.comparison import Comparison
>>> TrS, k = sp.symbols("TrS k", positive=True)
>>> comparison_grade(Comparison("39", "KL", "", "", TrS - k, TrS - k, "confirmed", "printed - derived simplifies to 0"))
('proved', 'comparison eq. (39): SymPy identity in general N, k')
>>> D = sp.Matrix(3, 2, lambda i, j: sp.Symbol(f"D_{i + 1}{j + 1}"))
>>> comparison_grade(Comparison("26", "E, F", "", "", D, D, "confirmed", "printed - derived simplifies to 0"))[1]
'comparison eq. (26): SymPy identity at concrete dimension (entries D_11..D_32), every entry a symbol; not a proof for every N, k'
"""
from __future__ import annotations

import re

import sympy as sp

from .outcome import Step, confirmed, corrected, qualified

# the dimensions a record's evidence names, as derivations.errata.dropped_constant_comparisons writes them
_DIMS_IN_EVIDENCE = re.compile(r"\(N, ?k\) = (\(\(\d+, \d+\)(?:, \(\d+, \d+\))*\))")
_ENTRY = re.compile(r"^([A-Za-z]+)_(\d)(\d?)$")     # D_32, x_3: the entry names of derivations.symbols.concrete


def comparison_grade(c) -> tuple[str, str]:
    """(grade, basis) of one :class:`~derivations.comparison.Comparison`: what its verdict rests on."""
    where = f"comparison eq. ({c.equation})"
    if c.verdict == "erratum":
        if "difference" in c.details and "point" in c.details:
            how = "symbolic difference and numeric counterexample"
        elif "factor" in c.details:
            how = f"printed = ({c.details['factor']}) x derived, a non-zero symbolic difference"
        else:
            error = re.search(r"ShapeError|IndexError", c.evidence)
            how = (f"the literal printed form is ill-formed (SymPy raises {error.group(0)})" if error
                   else "the literal printed form leaves a non-zero symbolic residual")
        return "proved", f"{where}: {how}"
    if c.details.get("dims") == "general" or _general(c.printed, c.derived):
        return "proved", f"{where}: SymPy identity in general N, k"
    return "sampled", (f"{where}: SymPy identity at {_dimension(c)}, every entry a symbol; "
                       "not a proof for every N, k")


def _general(printed, derived) -> bool:
    """Scalar SymPy expressions without a matrix symbol, N or k free in them (see the module docstring)."""
    exprs = (printed, derived)
    if not all(isinstance(e, sp.Expr) and not isinstance(e, sp.MatrixExpr) and not e.atoms(sp.MatrixSymbol)
               for e in exprs):
        return False
    return bool({s.name for e in exprs for s in e.free_symbols} & {"N", "k"})


def _dimension(c) -> str:
    dims = c.details.get("dims")
    if dims:
        return f"concrete dimension (N,k) = {dims}"
    m = _DIMS_IN_EVIDENCE.search(c.evidence)
    if m:
        return f"concrete dimension (N,k) = {m.group(1)}"
    entries = _entries(c.printed) | _entries(c.derived)
    if entries:
        return "concrete dimension (entries " + ", ".join(f"{n}_{lo}..{n}_{hi}" for n, (lo, hi) in sorted(entries.items())) + ")"
    return "concrete dimension"


def _entries(expr) -> dict:
    """name -> (first, last) entry of the explicit matrices in ``expr`` (empty for a display or a matrix symbol)."""
    if isinstance(expr, sp.MatrixBase):
        symbols = expr.free_symbols
    elif isinstance(expr, sp.Expr) and not expr.atoms(sp.MatrixSymbol):
        symbols = expr.free_symbols
    else:
        return {}
    found = {}
    for s in symbols:
        m = _ENTRY.match(s.name)
        if m:
            found.setdefault(m.group(1), []).append((int(m.group(2)), int(m.group(3) or 0)))
    return {n: ("".join(str(i) for i in min(ix) if i), "".join(str(i) for i in max(ix) if i)) for n, ix in found.items()}


def _step(c) -> Step:
    grade, basis = comparison_grade(c)
    return Step(f"eq. ({c.equation}) {c.title}", c.verdict in ("confirmed", "equivalent-condition"),
                f"{c.verdict}: {c.evidence}", f"eq. {c.equation}", grade=grade, basis=basis)


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

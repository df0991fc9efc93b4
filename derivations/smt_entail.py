"""Inequalities SymPy's simplifier cannot settle, decided by z3 (nonlinear real arithmetic), with their certificate.

A query asks whether ``premises`` entail ``goal`` over the reals: z3 is given the premises and the negated goal.
``unsat`` means no real point satisfies them, so the goal follows (z3's nlsat procedure is complete for polynomial
real arithmetic); ``sat`` comes with a model, a point where the premises hold and the goal fails. The certificate
kept in the derivation document is z3's answer and the query itself as SMT-LIB text (``Solver.sexpr()``), so anyone
can rerun it with any SMT solver. :func:`entailment_step` turns a query into a :func:`derivations.steps.decided` step
whose ``holds`` is z3's answer, never typed.

>>> import z3
>>> x = z3.Real("x")
>>> e = entails([x > 1], x * x > 1)
>>> e.answer, e.entailed
('unsat', True)
>>> entails([x > 1, x < 0], x == 5).entailed      # contradictory premises: unsat, but vacuous, so not entailed
False
>>> entails([x > -2], x * x > 1).answer           # x = 0 is a counterexample
'sat'
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import sympy as sp
import z3

from .steps import ProofStep, decided

TIMEOUT_MS = 60_000


@dataclass(frozen=True)
class Entailment:
    """z3's answer to "premises and not goal": ``unsat`` (the goal follows), ``sat`` (``model`` refutes it), or
    ``unknown``; ``smtlib`` is the query as z3 received it."""

    answer: str
    smtlib: str
    model: dict            # variable name -> value (Fraction, or a decimal string for an algebraic number); sat only
    version: str
    premises: str = "sat"  # z3's answer for the premises alone: "sat" unless they are contradictory (vacuous query)

    @property
    def entailed(self) -> bool:
        return self.answer == "unsat" and self.premises == "sat"

    def certificate(self, what: str = "") -> str:
        head = (f"z3 {self.version} (nonlinear real arithmetic) answers '{self.answer}' for the premises together with "
                f"the negated goal" + (f" ({what})" if what else "") + f", and '{self.premises}' for the premises alone "
                + ("(not vacuous)." if self.premises == "sat" else "(so the answer proves nothing)."))
        if self.answer == "sat":
            head += " Model: " + ", ".join(f"{k} = {v}" for k, v in sorted(self.model.items())) + "."
        return head + " Query (SMT-LIB):\n" + self.smtlib.strip()


def _value(v):
    if z3.is_rational_value(v):
        return Fraction(v.numerator_as_long(), v.denominator_as_long())
    if z3.is_algebraic_value(v):
        return v.approx(30).as_decimal(25).rstrip("?")
    return str(v)


def _constants(formulas) -> list:
    """The free real variables of ``formulas``, in order of first appearance."""
    seen, out, stack = set(), [], list(reversed(formulas))
    while stack:
        e = stack.pop()
        if z3.is_const(e) and e.decl().kind() == z3.Z3_OP_UNINTERPRETED:
            if e.decl().name() not in seen:
                seen.add(e.decl().name())
                out.append(e)
        else:
            stack.extend(reversed(e.children()))
    return out


def entails(premises, goal, *, timeout_ms: int = TIMEOUT_MS) -> Entailment:
    """Ask z3 whether the z3 formulas ``premises`` entail ``goal`` over the reals (see the module docstring)."""
    solver = z3.Solver()
    solver.set(timeout=timeout_ms)
    solver.add(*premises)
    alone = str(solver.check())                  # contradictory premises would entail anything
    solver.add(z3.Not(goal))
    smtlib = solver.sexpr()            # before check(): the query exactly as stated, no solver-internal names
    answer = solver.check()
    model = {}
    if answer == z3.sat:
        m = solver.model()
        model = {c.decl().name(): _value(m.eval(c, model_completion=True)) for c in _constants([*premises, goal])}
    return Entailment(answer=str(answer), smtlib=smtlib, model=model, version=z3.get_version_string(),
                      premises=alone)


def entailment_step(key: str, title: str, lhs, rhs, relation: str, premises, goal, *, method: str,
                    equation: str | None = None, note: str = "") -> ProofStep:
    """The inequality ``lhs relation rhs`` (SymPy, for the document) as decided by z3 on its z3 form ``goal`` under
    ``premises``: holds exactly when z3 answers ``unsat`` for the negation."""
    e = entails(premises, goal)
    return decided(key, title, lhs, rhs, relation, e.entailed, e.certificate(), method, equation=equation, note=note)


def counterexample_step(key: str, title: str, premises, goal, lhs, rhs, relation: str, *, method: str,
                        equation: str | None = None, note: str = "") -> ProofStep:
    """A query that must FAIL (a premise dropped): holds when z3 answers ``sat`` and its model, read back, makes
    ``lhs relation rhs`` true, where ``lhs`` and ``rhs`` are SymPy expressions in the z3 variables' names (the
    goal's violation, evaluated by SymPy at the model). The step records the evaluated values."""
    e = entails(premises, goal)
    values = {k: (sp.Rational(v.numerator, v.denominator) if isinstance(v, Fraction) else sp.Float(v, 25))
              for k, v in e.model.items()}

    def at_model(expr):          # matched by name: the SymPy symbols may carry assumptions the z3 names do not
        expr = sp.sympify(expr)
        return expr.subs({x: values[x.name] for x in expr.free_symbols if x.name in values})
    left, right = at_model(lhs), at_model(rhs)
    ops = {">": sp.Gt, ">=": sp.Ge, "<": sp.Lt, "<=": sp.Le}
    holds = e.answer == "sat" and not (left.free_symbols | right.free_symbols) and bool(ops[relation](left, right))
    return decided(key, title, left, right, relation, holds, e.certificate("a counterexample is expected"), method,
                   equation=equation, note=note)

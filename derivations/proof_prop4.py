"""Proposition 4 (Appendix A, eqs. 28-32) for every objective, by its reduction to real arithmetic, checked by z3.

For O(kappa, beta) = A(kappa) - beta B(kappa), pick any maximiser kappa_1 at beta_1 and any kappa_2 at beta_2. All the
proof by contradiction (29)-(32) uses of them is four real numbers A_1 = A(kappa_1), A_2, B_1, B_2 and the two
optimality inequalities

    A_1 - beta_1 B_1 >= A_2 - beta_1 B_2      (kappa_1 maximises O at beta_1)
    A_2 - beta_2 B_2 >= A_1 - beta_2 B_1      (kappa_2 maximises O at beta_2).

With beta_2 > beta_1 they entail B_2 <= B_1. The section records: the certificate by hand (the two inequalities add up
to (beta_2 - beta_1)(B_1 - B_2) >= 0, an identity SymPy checks); z3's answer ``unsat`` for the premises with the
negated conclusion, with the query as SMT-LIB text (linear in the four numbers for fixed betas; z3 decides it with the
betas as real variables too); and one z3 model for each premise dropped, showing the check can fail.

Assumed: maximisers exist at beta_1 and beta_2 (the argmax is not empty) and A, B are real-valued there. Not assumed:
continuity, differentiability, uniqueness of the maximisers (the result holds for every choice among ties), anything
about the parameter set (finite, discrete or a manifold) or the sign of beta.

>>> sec = prop4_section()
>>> sec.holds, [s.relation for s in sec.steps][:2]
(True, ['=', '<='])
"""
from __future__ import annotations

from functools import lru_cache

import sympy as sp
import z3

from .smt_entail import counterexample_step, entailment_step
from .steps import Section, prove

A1, A2, B1, B2, b1, b2 = sp.symbols("A1 A2 B1 B2 beta1 beta2", real=True)
Z3 = "z3 nonlinear real arithmetic (the four numbers and both betas real variables)"


def _premises():
    zA1, zA2, zB1, zB2, zb1, zb2 = z3.Reals("A1 A2 B1 B2 beta1 beta2")
    opt1 = zA1 - zb1 * zB1 >= zA2 - zb1 * zB2
    opt2 = zA2 - zb2 * zB2 >= zA1 - zb2 * zB1
    return {"optimality at beta1": opt1, "optimality at beta2": opt2, "beta2 > beta1": zb2 > zb1}, zB2 <= zB1


@lru_cache(maxsize=None)
def prop4_section() -> Section:
    """Prop. 4's reduction: the Farkas-type identity, z3's ``unsat``, and a counterexample per dropped premise."""
    sec = Section("prop4.smt", "Proposition 4 for every objective: the reduction to four numbers, decided by z3",
                  "The proof (eqs. 29-32) only uses A and B at the two maximisers: with kappa_1 optimal at beta_1, kappa_2 "
                  "optimal at beta_2 and beta_2 > beta_1, B(kappa_2) <= B(kappa_1). Assumed: the maximisers exist; "
                  "nothing about continuity, uniqueness (every choice among tied maximisers) or the parameter set.")
    sec.add(prove("prop4.smt.farkas", "the two optimality inequalities add up to (beta2 - beta1)(B1 - B2) >= 0 "
                  "(certificate: multipliers 1 and 1; divide by beta2 - beta1 > 0)",
                  (A1 - b1 * B1 - (A2 - b1 * B2)) + (A2 - b2 * B2 - (A1 - b2 * B1)), (b2 - b1) * (B1 - B2),
                  "polynomial identity (SymPy)", equation="30"))
    premises, goal = _premises()
    sec.add(entailment_step("prop4.smt.unsat", "optimality of kappa_1 at beta1 and of kappa_2 at beta2, and beta2 > beta1, "
                            "entail B(kappa_2) <= B(kappa_1)", B2, B1, "<=", list(premises.values()), goal, method=Z3,
                            equation="32"))
    for name in premises:
        kept = [f for n, f in premises.items() if n != name]
        tag = {"optimality at beta1": "opt1", "optimality at beta2": "opt2", "beta2 > beta1": "order"}[name]
        sec.add(counterexample_step(f"prop4.smt.without-{tag}", f"without '{name}' the conclusion fails: z3 finds "
                                    "four numbers and two betas with B2 > B1", kept, goal, B2, B1, ">", method=Z3))
    return sec


def section_builders() -> dict:
    """This module's section, for :func:`derivations.document.section_builders`."""
    return {"prop4.smt": prop4_section}

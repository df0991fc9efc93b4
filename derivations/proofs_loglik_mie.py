"""The data log-likelihood and MIE at the optimum, for every N, k and spectrum (per unit, on both branches).

* Log-likelihood: the gap to beta = 1 per unit is g(lambda/(1 + lambda - beta))/2 (active) or g(lambda)/2
  (collapsed), so E log p*(beta) is largest at beta = 1. Its slope is positive for beta < 1 on every unit (every
  unit is active there, lambda_i >= 1), negative on (1, lambda_i), zero beyond. Hence it is strictly increasing on
  (0, 1] for every problem (so never non-increasing), and it is non-monotone exactly when lambda_max > 1 (A != 0);
  for A = 0 it rises to beta = 1 and stays constant.
* MIE: per unit, on the active branch, MIE_i = (1/2)[lambda d^2 (beta - 1)^2 / ((d^2 + beta)^2 (d^2 + 1)) + g(rho)]
  with d^2 = lambda - beta > 0 and rho = beta (d^2 + 1)/(d^2 + beta) (a mean term and the variance ratio of q(z_i|x)
  to the model posterior), zero on the collapsed branch. So MIE_i >= 0, with equality iff beta = 1 or beta >=
  lambda_i; MIE* = sum_i MIE_i vanishes iff beta = 1 or beta >= lambda_max, and is positive elsewhere.

>>> loglik_section().holds
True
"""
from __future__ import annotations

from functools import lru_cache

import sympy as sp

from .closed_form import lam
from .proofs_units import branch, branch_hypotheses, d_dbeta, decide, g, slope, slope_note, unit_terms
from .steps import Section, prove
from .symbols import beta

UNIT = "scalar, per unit"


def _log_simplify(e):
    return sp.simplify(sp.expand_log(sp.simplify(e), force=True))


@lru_cache(maxsize=None)
def loglik_section() -> Section:
    sec = Section("loglik-proof", "The data log-likelihood at the optimum is largest at beta = 1 and never non-increasing",
                  "E_x log p*(x) = constant + sum_i LL_i (unit-sums/units.log_likelihood). Per unit: the gap to beta = 1 "
                  "is a value of g (lemma-g), so LL* is largest at beta = 1. Its slope is > 0 for beta < 1 (every unit "
                  "is active there: prop3-proof/prop3.below_one_active), < 0 on (1, lambda_i), 0 for beta >= lambda_i. "
                  "So LL* is strictly increasing on (0, 1] for every problem: the claim that it decreases "
                  "monotonically is false for every A (A = 0 included). It is non-monotone (rises, then falls) exactly "
                  "when lambda_max > 1, i.e. A != 0; for A = 0 it is constant on [1, oo).")
    T = unit_terms()["log_likelihood"]
    at_one = branch(T, "active").subs(beta, 1)
    c = 1 + lam - beta
    sec.add(prove("loglik.gap.active", "active branch: LL_i(1) - LL_i(beta) = g(lambda/(1 + lambda - beta))/2",
                  at_one - branch(T, "active"), g(lam / c) / 2, UNIT, equation="57", simplifier=_log_simplify))
    sec.add(prove("loglik.gap.active.zero", "lambda/(1 + lambda - beta) - 1 = (beta - 1)/(1 + lambda - beta): the active "
                  "gap vanishes only at beta = 1", lam / c - 1, (beta - 1) / c, UNIT))
    sec.add(prove("loglik.gap.collapsed", "collapsed branch: LL_i(1) - LL_i(beta) = g(lambda)/2",
                  at_one - branch(T, "collapsed"), g(lam) / 2, UNIT, equation="57", simplifier=_log_simplify))
    s = slope(T, "active")
    sec.add(decide("loglik.rising", "active branch, beta < 1: dLL_i/dbeta > 0 (every problem: LL* strictly increasing "
                   "on (0, 1])", s, 0, ">", branch_hypotheses("active", [sp.Lt(beta, 1)]), equation="57",
                   note=slope_note(T, "active")))
    sec.add(decide("loglik.falling", "active branch, 1 < beta < lambda: dLL_i/dbeta < 0 (LL* strictly decreasing on "
                   "(1, lambda_max) when lambda_max > 1)", s, 0, "<",
                   branch_hypotheses("active", [sp.Gt(beta, 1)]), equation="57", note=slope_note(T, "active")))
    sec.add(prove("loglik.collapsed.flat", "collapsed branch: dLL_i/dbeta = 0", d_dbeta(T, "collapsed"), 0, UNIT))
    return sec


@lru_cache(maxsize=None)
def mie_section() -> Section:
    sec = Section("mie-proof", "MIE at the optimum: zero exactly at beta = 1 and for beta >= lambda_max, positive elsewhere",
                  "MIE* = sum_i MIE_i with no constant (unit-sums/units.mie). On the active branch (d^2 = lambda - beta "
                  "> 0) MIE_i splits into a mean term, a non-negative rational function (z3), and g(rho)/2 with rho the "
                  "ratio of q(z_i|x)'s variance to the model posterior's (lemma-g); rho = 1 only at beta = 1. So "
                  "MIE_i > 0 on the active branch except at beta = 1, where it is 0, and MIE_i = 0 on the collapsed "
                  "branch. Summing non-negative terms: MIE* = 0 iff every unit's term is 0, i.e. beta = 1 or beta >= "
                  "lambda_i for every i (beta >= lambda_max). MIE* is non-monotone exactly when lambda_max > 1: "
                  "positive on (0, 1), 0 at 1, positive on (1, lambda_max), 0 beyond.")
    T = unit_terms()["mie"]
    d2 = lam - beta
    rho = beta * (d2 + 1) / (d2 + beta)
    mean = lam * d2 * (beta - 1) ** 2 / ((d2 + beta) ** 2 * (d2 + 1))
    sec.add(prove("mie.active.split", "active branch: MIE_i = (1/2)[lambda d^2 (beta - 1)^2/((d^2 + beta)^2 (d^2 + 1)) "
                  "+ g(rho)], d^2 = lambda - beta, rho = beta (d^2 + 1)/(d^2 + beta)",
                  branch(T, "active"), (mean + g(rho)) / 2, UNIT, equation="16", simplifier=_log_simplify))
    sec.add(decide("mie.active.mean_nonneg", "active branch: the mean term is >= 0", mean, 0, ">=",
                   branch_hypotheses("active")))
    sec.add(prove("mie.active.rho", "rho - 1 = (beta - 1) d^2/(d^2 + beta): with d^2 > 0, rho = 1 only at beta = 1",
                  rho - 1, (beta - 1) * d2 / (d2 + beta), UNIT))
    sec.add(decide("mie.active.d2_positive", "active branch: d^2 = lambda - beta > 0", d2, 0, ">",
                   branch_hypotheses("active")))
    sec.add(prove("mie.active.at_one", "MIE_i = 0 at beta = 1", branch(T, "active").subs(beta, 1), 0, UNIT,
                  simplifier=_log_simplify))
    sec.add(prove("mie.collapsed.zero", "collapsed branch: MIE_i = 0", branch(T, "collapsed"), 0, UNIT))
    return sec

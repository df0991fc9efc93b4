"""Propositions 1-3 proved for the tractable model, for every N, k and spectrum (per unit, on both branches).

With the unit shares of :mod:`derivations.proofs_units` (section ``unit-sums``: each total is a beta-free constant
plus a sum of unit shares, continuous at every collapse threshold beta = lambda_i):

* Prop. 1: on each branch dL_i/dbeta = -KL_i, and KL_i >= 0; so dL*/dbeta = -KL* <= 0 on both sides of every
  threshold, and L* is non-increasing. Eq. (21) as printed drops a constant whose beta-derivative is k/2, so for it
  dL*/dbeta = -KL* - k/2.
* Prop. 2: dKL_i/dbeta < 0 and d recon_i/dbeta < 0 on the active branch, = 0 on the collapsed one, and eq. (13):
  d recon_i/dbeta = beta dKL_i/dbeta. So KL* and recon* are non-increasing, strictly while beta < lambda_max.
* Prop. 3: eq. (15) on each branch, and ELBO_i(1) - ELBO_i(beta) = g(beta)/2 (active) or g(lambda)/2 (collapsed),
  with g >= 0 (section ``lemma-g``): ELBO* is largest at beta = 1 (lambda_i >= 1 puts beta = 1 on the active branch
  or the join).

>>> prop1_section().holds and prop2_section().holds
True
"""
from __future__ import annotations

from functools import lru_cache

import sympy as sp

from .closed_form import lam
from .objective import dropped_constant
from .proofs_units import BRANCHES, branch, branch_hypotheses, d_dbeta, decide, g, slope, slope_note, unit_terms
from .steps import Section, decided, prove
from .symbols import beta, k

UNIT = "scalar, per unit"
_JOIN = ("Both one-sided derivatives at beta = lambda_i are the branch derivatives evaluated there (each branch form "
         "is smooth up to the join, and the unit share is continuous: section unit-sums), so each identity holds on "
         "both sides of every collapse threshold.")


def _log_simplify(e):
    return sp.simplify(sp.expand_log(sp.simplify(e.doit()), force=True))


@lru_cache(maxsize=None)
def prop1_section() -> Section:
    sec = Section("prop1-proof", "Proposition 1 for every problem: dL*/dbeta = -KL* <= 0",
                  "Per unit, on each branch, the beta-derivative of the unit's objective is minus its KL, and its KL is "
                  "non-negative. " + _JOIN + " The constant part of L* is free of beta (unit-sums/units.objective). "
                  "Eq. (21) as printed drops the constant derived - printed = -N log(2 pi)/2 + beta k/2 (section eq21), "
                  "so for it dL*/dbeta = -KL* - k/2.")
    T = unit_terms()
    for which in BRANCHES:
        sec.add(prove(f"prop1.{which}.identity", f"{which} branch: dL_i/dbeta = -KL_i",
                      d_dbeta(T["objective"], which), -branch(T["kl"], which), UNIT, equation="10",
                      simplifier=_log_simplify))
    # KL_i > 0 on the active branch: log(lambda/beta) with lambda/beta > 1; SymPy's assumptions decide log(1 + u/beta)
    u = sp.Symbol("u", positive=True)
    kl_active = sp.expand_log(branch(T["kl"], "active").subs(lam, beta + u), force=True)
    sec.add(prove("prop1.active.kl_form", "active branch, lambda = beta + u (u > 0): KL_i = log(1 + u/beta)/2",
                  kl_active, sp.log(1 + u / beta) / 2, UNIT, simplifier=_log_simplify))
    positive = bool(sp.log(1 + u / beta).is_positive)
    sec.add(decided("prop1.active.kl_positive", "active branch: KL_i = log(1 + u/beta)/2 > 0", sp.log(1 + u / beta) / 2,
                    0, ">", positive, "SymPy assumptions: u > 0, beta > 0 give 1 + u/beta > 1, so log(1 + u/beta) "
                    f"is positive (is_positive = {positive})", "SymPy assumptions"))
    sec.add(prove("prop1.collapsed.kl_zero", "collapsed branch: KL_i = 0", branch(T["kl"], "collapsed"), 0, UNIT))
    sec.add(prove("prop1.eq21.slope", "d/dbeta of eq. (21)'s dropped constant (derived - printed) is k/2: for eq. (21) "
                  "as printed, dL*/dbeta = -KL* - k/2", sp.diff(dropped_constant(), beta), k / 2,
                  "general N, k", equation="21"))
    return sec


@lru_cache(maxsize=None)
def prop2_section() -> Section:
    sec = Section("prop2-proof", "Proposition 2 and eq. (13) for every problem: KL* and recon* non-increasing",
                  "Per unit: strictly negative beta-derivatives on the active branch (z3), zero on the collapsed one, "
                  "and eq. (13), d recon_i/dbeta = beta dKL_i/dbeta, on both. " + _JOIN + " Summing over units: KL* "
                  "and the reconstruction term are non-increasing in beta, strictly decreasing while beta < lambda_max "
                  "(the top unit is active there) and constant for beta >= lambda_max (every unit collapsed).")
    T = unit_terms()
    for name, label in (("kl", "KL_i"), ("reconstruction", "recon_i")):
        sec.add(decide(f"prop2.{name}.active.falling", f"active branch: d{label}/dbeta < 0",
                       slope(T[name], "active"), 0, "<", branch_hypotheses("active"),
                       equation="12" if name == "kl" else "13", note=slope_note(T[name], "active")))
        sec.add(prove(f"prop2.{name}.collapsed.flat", f"collapsed branch: d{label}/dbeta = 0",
                      d_dbeta(T[name], "collapsed"), 0, UNIT))
    for which in BRANCHES:
        sec.add(prove(f"prop2.eq13.{which}", f"{which} branch: d recon_i/dbeta = beta dKL_i/dbeta (eq. 13 via Prop. 1)",
                      d_dbeta(T["reconstruction"], which), beta * d_dbeta(T["kl"], which), UNIT, equation="13",
                      simplifier=_log_simplify))
    return sec


@lru_cache(maxsize=None)
def prop3_section() -> Section:
    sec = Section("prop3-proof", "Proposition 3 and eq. (15) for every problem: ELBO* is largest at beta = 1",
                  "Eq. (15) per unit on each branch; the ELBO gap to beta = 1 per unit is g(beta)/2 (active) or "
                  "g(lambda)/2 (collapsed), >= 0 by lemma-g, zero only at beta = 1 (or, collapsed, lambda = 1). "
                  "Since lambda_i >= 1, beta = 1 lies on the active branch of every unit (or at the join, where the "
                  "branches agree), so ELBO_i(1) is the active form at beta = 1. The slope of ELBO_i is positive below "
                  "beta = 1 (every unit is active there) and non-positive above: ELBO* rises to beta = 1 and falls after.")
    T = unit_terms()
    for which in BRANCHES:
        sec.add(prove(f"prop3.eq15.{which}", f"{which} branch: dELBO_i/dbeta = (beta - 1) dKL_i/dbeta",
                      d_dbeta(T["elbo"], which), (beta - 1) * d_dbeta(T["kl"], which), UNIT, equation="15",
                      simplifier=_log_simplify))
    at_one = branch(T["elbo"], "active").subs(beta, 1)
    sec.add(prove("prop3.gap.active", "active branch: ELBO_i(1) - ELBO_i(beta) = g(beta)/2",
                  at_one - branch(T["elbo"], "active"), g(beta) / 2, UNIT, simplifier=_log_simplify))
    sec.add(prove("prop3.gap.collapsed", "collapsed branch: ELBO_i(1) - ELBO_i(beta) = g(lambda)/2",
                  at_one - branch(T["elbo"], "collapsed"), g(lam) / 2, UNIT, simplifier=_log_simplify))
    sec.add(decide("prop3.rising", "active branch, beta < 1: dELBO_i/dbeta > 0", slope(T["elbo"], "active"), 0, ">",
                   branch_hypotheses("active", [sp.Lt(beta, 1)]), equation="15",
                   note=slope_note(T["elbo"], "active")))
    sec.add(decide("prop3.falling", "active branch, beta > 1: dELBO_i/dbeta < 0", slope(T["elbo"], "active"), 0, "<",
                   branch_hypotheses("active", [sp.Gt(beta, 1)]), equation="15",
                   note=slope_note(T["elbo"], "active")))
    sec.add(decide("prop3.below_one_active", "beta < 1 puts every unit on the active branch (lambda >= 1)",
                   beta, lam, "<", [sp.Lt(beta, 1), sp.Ge(lam, 1)]))
    return sec

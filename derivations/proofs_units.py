"""Per-unit proofs: the closed forms of one latent unit on its two branches, and how inequalities are decided.

Every term of the tractable model at the optimum is a beta-free constant plus a sum over the k latent units of a
per-unit closed form (:mod:`derivations.closed_form`, ``mode_*``) in lambda_i >= 1 and beta, piecewise in beta:
the *active* branch beta < lambda_i and the *collapsed* branch beta >= lambda_i. A fact proved for one unit on both
branches, with the two branches joined continuously at beta = lambda_i, holds for every N, k and spectrum.

The branch forms are not retyped: :func:`branch` feeds the closed form a point of the branch (lambda = beta + u,
u > 0; beta = lambda + v, v >= 0), lets SymPy's assumptions resolve each Max/Min, and substitutes back.
An inequality SymPy's simplifier cannot settle is decided by z3's nonlinear real arithmetic (:func:`decide`: the
negation under the stated hypotheses is unsat), and the certificate is kept in the document.

>>> from derivations.symbols import beta
>>> branch(unit_terms()["reconstruction"], "active"), branch(unit_terms()["reconstruction"], "collapsed")
(-beta/2, -lambda/2)
>>> decide("demo", "1/beta > 0", 1 / beta, 0, ">").holds
True
"""
from __future__ import annotations

from functools import lru_cache

import sympy as sp

from .closed_form import closed_form_totals, lam, mode_kl, mode_loglik, mode_mie, mode_reconstruction
from .smt_entail import entails
from .steps import Section, decided, prove
from .symbols import N, beta

BRANCHES = ("active", "collapsed")
_u = sp.Symbol("u", positive=True)        # active: lambda = beta + u
_v = sp.Symbol("v", nonnegative=True)     # collapsed: beta = lambda + v
Y = sp.Symbol("y", positive=True)         # the argument of the lemma g(y) = y - 1 - log y
Z3_TIMEOUT_MS = 20000


def g(y):
    """g(y) = y - 1 - log y >= 0 for y > 0, zero only at y = 1 (section ``lemma-g``): every gap below is a sum of g's."""
    return y - 1 - sp.log(y)


def unit_terms(lam_=lam, beta_=beta) -> dict:
    """One unit's share of each total at the optimum (the totals minus their beta-free constants)."""
    recon = -mode_reconstruction(lam_, beta_) / 2
    kl = mode_kl(lam_, beta_)
    return {"reconstruction": recon, "kl": kl, "objective": recon - beta_ * kl, "elbo": recon - kl,
            "log_likelihood": -mode_loglik(lam_, beta_) / 2, "mie": mode_mie(lam_, beta_)}


class Undecided(ValueError):
    """A Max/Min whose arguments SymPy's assumptions cannot order on the branch."""


def _order(args, want_max):
    best = args[0]
    for a in args[1:]:
        diff = sp.factor(sp.together(a - best))
        if diff.is_nonnegative:
            best = a if want_max else best
        elif diff.is_nonpositive:
            best = best if want_max else a
        else:
            raise Undecided(f"cannot order {a} and {best}")
    return best


def resolve_minmax(expr):
    """Replace every Max/Min of ``expr`` by the argument SymPy's assumptions prove largest/smallest."""
    while expr.has(sp.Max, sp.Min):
        expr = expr.replace(sp.Max, lambda *a: _order(a, True)).replace(sp.Min, lambda *a: _order(a, False))
    return expr


def branch(expr, which: str):
    """``expr`` (in lambda, beta, with Max/Min) on one branch, as an expression in lambda and beta without Max/Min."""
    if which == "active":
        return sp.simplify(resolve_minmax(expr.subs(lam, beta + _u)).subs(_u, lam - beta))
    if which == "collapsed":
        return sp.simplify(resolve_minmax(expr.subs(beta, lam + _v)).subs(_v, beta - lam))
    raise ValueError(f"branch must be one of {BRANCHES}, got {which!r}")


def branch_hypotheses(which: str, extra=()) -> list:
    """The hypotheses of a branch (lambda >= 1 always: lambda = 1 + a with a >= 0)."""
    base = [sp.Gt(beta, 0), sp.Ge(lam, 1)]
    return base + [sp.Lt(beta, lam) if which == "active" else sp.Ge(beta, lam)] + list(extra)


# ------------------------------------------------------------------ deciding inequalities with z3
def _to_z3(expr, env):
    import z3
    if expr.is_Symbol:
        if expr not in env:
            env[expr] = z3.Real(expr.name)
        return env[expr]
    if expr.is_Integer:
        return z3.RealVal(int(expr))
    if expr.is_Rational:
        return z3.RealVal(int(expr.p)) / z3.RealVal(int(expr.q))
    if expr.is_Add:
        out = _to_z3(expr.args[0], env)
        for a in expr.args[1:]:
            out = out + _to_z3(a, env)
        return out
    if expr.is_Mul:
        out = _to_z3(expr.args[0], env)
        for a in expr.args[1:]:
            out = out * _to_z3(a, env)
        return out
    if expr.is_Pow and expr.exp.is_Integer:
        base, n = _to_z3(expr.base, env), int(expr.exp)
        out = z3.RealVal(1)
        for _ in range(abs(n)):
            out = out * base
        return out if n >= 0 else 1 / out
    raise TypeError(f"not a rational function (z3 nonlinear real arithmetic): {expr}")


_Z3_REL = {">=": lambda a, b: a >= b, ">": lambda a, b: a > b, "<=": lambda a, b: a <= b, "<": lambda a, b: a < b}


def _relation(rel):
    ops = {sp.GreaterThan: ">=", sp.StrictGreaterThan: ">", sp.LessThan: "<=", sp.StrictLessThan: "<"}
    return ops[type(rel)]


def z3_check(lhs, rhs, relation: str, hypotheses=()) -> tuple[bool, str]:
    """Decide ``lhs relation rhs`` for all reals satisfying ``hypotheses`` (and every symbol's SymPy sign assumption):
    (True, certificate) when z3 finds the negation unsat; (False, z3's answer and any model) otherwise."""
    lhs, rhs = sp.sympify(lhs), sp.sympify(rhs)
    hyps = list(hypotheses)
    for s in sorted((lhs - rhs).free_symbols | set().union(*(h.free_symbols for h in hyps)), key=str):
        if s.is_positive:
            hyps.append(sp.Gt(s, 0, evaluate=False))
        elif s.is_nonnegative:
            hyps.append(sp.Ge(s, 0, evaluate=False))
    if any(h is sp.false for h in hyps):
        return False, "not decided: a hypothesis is false (the statement would hold vacuously)"
    hyps = [h for h in hyps if h is not sp.true]
    env: dict = {}
    try:
        premises = [_Z3_REL[_relation(h)](_to_z3(h.lhs, env), _to_z3(h.rhs, env)) for h in hyps]
        goal = _Z3_REL[relation](_to_z3(lhs, env), _to_z3(rhs, env))
    except TypeError as exc:
        return False, f"not decided: {exc}"
    # the one z3 query of the derivation (smt_entail): vacuous premises refused, the SMT-LIB query kept
    e = entails(premises, goal, timeout_ms=Z3_TIMEOUT_MS)
    stated = f"hypotheses [{', '.join(map(str, hyps))}] and not ({lhs} {relation} {rhs}) is {e.answer}"
    return e.entailed, stated + ". " + e.certificate()


def decide(key, title, lhs, rhs, relation, hypotheses=(), *, note="", equation=None):
    """A decided inequality step: z3 settles ``lhs relation rhs`` under ``hypotheses``."""
    holds, certificate = z3_check(lhs, rhs, relation, hypotheses)
    return decided(key, title, lhs, rhs, relation, holds, certificate, "z3 nonlinear real arithmetic",
                   note=note, equation=equation)


def d_dbeta(expr, which: str):
    """d/dbeta of ``expr`` on one branch, unevaluated (so the document shows what is differentiated; prove() evaluates)."""
    return sp.Derivative(branch(expr, which), beta)


def slope(expr, which: str):
    """d/dbeta of ``expr`` on one branch, simplified (a rational function of lambda, beta when z3 is to decide it)."""
    return sp.factor(sp.simplify(sp.diff(branch(expr, which), beta)))


def slope_note(expr, which: str) -> str:
    """What a decided slope step differentiates, for its note."""
    return f"d/dbeta [{branch(expr, which)}] = {slope(expr, which)} on the {which} branch"


# ------------------------------------------------------------------ sections shared by the proofs
@lru_cache(maxsize=None)
def lemma_section() -> Section:
    sec = Section("lemma-g", "Lemma: g(y) = y - 1 - log y >= 0, with equality only at y = 1",
                  "Every gap below (ELBO, log-likelihood, MIE) is a sum of values of g. Proof: g(1) = 0, and g' < 0 on "
                  "(0, 1), g' > 0 on (1, oo) (decided by z3), so by the mean value theorem g(y) > g(1) = 0 for y != 1.")
    sec.add(prove("lemma.g.one", "g(1) = 0", g(sp.Integer(1)), 0, "scalar"))
    dg = sp.factor(sp.diff(g(Y), Y))
    sec.add(decide("lemma.g.falling", "g'(y) < 0 for 0 < y < 1", dg, 0, "<", [sp.Lt(Y, 1)]))
    sec.add(decide("lemma.g.rising", "g'(y) > 0 for y > 1", dg, 0, ">", [sp.Gt(Y, 1)]))
    return sec


@lru_cache(maxsize=None)
def structure_section(k_example: int = 3) -> Section:
    sec = Section("unit-sums", "Every term at the optimum is a beta-free constant plus a sum of per-unit closed forms",
                  "closed_form_totals sums the per-unit closed forms over the list of the k top eigenvalues of Sigma_x, "
                  "for any k; its remaining part -(N/2) log 2pi - (N - k)/2 (the N - k directions outside the latent "
                  f"space have eigenvalue 1) is free of beta. Checked with N symbolic and k = {k_example} symbolic "
                  "eigenvalues: each total minus the sum of its unit shares has zero beta-derivative (MIE: is zero). "
                  "So a monotonicity, derivative or sign fact proved for one unit on both branches holds for the totals. "
                  "These proofs take the closed-form optimum as given: sections closed and optimum derive it (the "
                  "stationarity conditions, and the best point of the form D = U diag(d)); that no other stationary "
                  "point is better is checked numerically (the stationarity solver), not proved.")
    lams = sp.symbols(f"lambda1:{k_example + 1}", positive=True)
    totals = closed_form_totals(N, list(lams))
    for name in ("objective", "kl", "reconstruction", "elbo", "log_likelihood"):
        rest = sp.expand(totals[name] - sum(unit_terms(l_)[name] for l_ in lams))
        sec.add(prove(f"units.{name}", f"{name} minus the sum of its unit shares is free of beta",
                      sp.diff(rest, beta), 0, f"N symbolic, k = {k_example}",
                      note=f"the constant is {sp.simplify(rest)}"))
    sec.add(prove("units.mie", "MIE is the sum of its unit shares (no constant)",
                  totals["mie"], sum(unit_terms(l_)["mie"] for l_ in lams), f"N symbolic, k = {k_example}",
                  simplifier=sp.expand))
    for name in ("objective", "kl", "reconstruction", "elbo", "log_likelihood", "mie"):
        for which in BRANCHES:
            e = branch(unit_terms()[name], which)
            sec.add(prove(f"units.{name}.{which}", f"the {which} branch of the unit's {name} has no Max/Min",
                          sp.Integer(int(e.has(sp.Max, sp.Min))), 0, "SymPy assumptions on the branch",
                          note=f"{name} on the {which} branch: {e}"))
        sec.add(prove(f"units.{name}.join", f"the unit's {name} is continuous at beta = lambda (the branches agree)",
                      branch(unit_terms()[name], "active").subs(beta, lam),
                      branch(unit_terms()[name], "collapsed").subs(beta, lam), "scalar, per unit"))
    return sec

"""Stationarity conditions, eqs. (22)-(23) and (42)-(47), by differentiating the derived objective.

Two differentiations, checked against each other:

* general dimension: the trace terms with SymPy's matrix calculus, the elementwise
  exponentials with index calculus (derivative with respect to an entry ``W_sigma[a, b]`` with
  symbolic a, b, KroneckerDeltas resolved by SymPy);
* concrete dimension: the explicit objective of :mod:`derivations.objective`, differentiated entry
  by entry.

The vectorised gradient (:data:`gradient_forms`), which the numeric code is generated from,
is proved equal to both.

>>> sorted(gradient_forms())
['D', 'W_mu', 'W_sigma', 'b_D', 'b_mu', 'b_sigma']
"""
from __future__ import annotations

from functools import lru_cache

import sympy as sp
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
from sympy.matrices.expressions.diagonal import DiagMatrix, DiagonalOf

from .explicit import explicit
from .objective import concrete_objective, objective_terms, substitute_concrete
from .steps import INDEX, Section, concrete_method, prove
from .symbols import (D, I_N, N, Sigma_x, W_mu, W_sigma, b_D, b_mu, b_sigma, beta, concrete, k,
                      symmetrize)

a_idx, b_idx = sp.symbols("a b", integer=True, nonnegative=True)
PARAMS = {"W_mu": W_mu, "b_mu": b_mu, "W_sigma": W_sigma, "b_sigma": b_sigma, "D": D, "b_D": b_D}


def unit_variance_vector():
    """e = E_x[diag Sigma_z] = exp(b_sigma + diag(W_sigma Sigma_x W_sigma^T)/2), a k-vector (eq. 21)."""
    return ElementwiseApplyFunction(sp.exp, b_sigma + DiagonalOf(W_sigma * Sigma_x * W_sigma.T) / 2)


def unit_weight_vector():
    """c = diag(D^T D) + beta, the weight of each unit's variance in eq. (21)."""
    return DiagonalOf(D.T * D) + beta * sp.OneMatrix(k, 1)


def gradient_forms() -> dict[str, sp.MatrixExpr]:
    """The gradient dL/dtheta of the full objective, vectorised (what eqs. 42-47 should read)."""
    e, c = unit_variance_vector(), unit_weight_vector()
    ce = sp.HadamardProduct(c, e)
    return {
        "W_mu": -(D.T * (D * W_mu - I_N) + beta * W_mu) * Sigma_x,
        "b_mu": -(D.T * (D * b_mu + b_D) + beta * b_mu),
        "D": -((D * W_mu - I_N) * Sigma_x * W_mu.T + (D * b_mu + b_D) * b_mu.T + D * DiagMatrix(e)),
        "b_D": -(D * b_mu + b_D),
        "W_sigma": -DiagMatrix(ce) * W_sigma * Sigma_x / 2,
        "b_sigma": -ce / 2 + beta * sp.OneMatrix(k, 1) / 2,
    }


def _trace_part():
    T = objective_terms()
    return -(T["recon_quadratic"] + T["recon_bias"]) / 2 - beta * T["kl_mean"] / 2


def _sum_part():
    T = objective_terms()
    return -T["recon_variance"] / 2 - beta * (T["kl_variance"] - T["kl_logdet"]) / 2


@lru_cache(maxsize=None)
def matrix_calculus_gradient(name: str):
    """d(trace terms)/d(param) at general N, k by SymPy's matrix calculus, with Sigma_x symmetric."""
    P = PARAMS[name]
    parts = [t.diff(P) for t in sp.Add.make_args(sp.expand(_trace_part())) if t.has(P)]
    if not parts:
        return sp.ZeroMatrix(*P.shape)
    return symmetrize(sp.MatAdd(*parts).doit())


@lru_cache(maxsize=None)
def index_calculus_gradient(name: str):
    """d(unit sums)/d(param[a, b]) at general N, k with symbolic a, b (index calculus)."""
    P = PARAMS[name]
    entry = P[a_idx, b_idx] if P.shape[1] != 1 else P[a_idx, 0]
    return _sum_part().diff(entry).doit()


@lru_cache(maxsize=None)
def derived_gradient_explicit(name: str, n: int = 3, kk: int = 2) -> sp.Matrix:
    """The general-dimension gradient (matrix part + index part) evaluated at concrete (n, kk)."""
    P = PARAMS[name]
    rows, cols = (int(d.subs({N: n, k: kk})) for d in P.shape)
    mat = explicit(matrix_calculus_gradient(name), n, kk)
    if not isinstance(mat, sp.MatrixBase):
        mat = sp.zeros(rows, cols)
    g = index_calculus_gradient(name)
    idx = sp.Matrix(rows, cols, lambda r, c: substitute_concrete(g.subs({a_idx: r, b_idx: c}), n, kk)
                    if g != 0 else 0)
    return (mat + idx).applyfunc(lambda v: v.subs(_sigma_symmetric(n)))


def _sigma_symmetric(n):
    # Concrete Sigma_x is built symmetric already; nothing to do, kept for clarity.
    return {}


@lru_cache(maxsize=None)
def concrete_gradient(name: str, n: int = 3, kk: int = 2) -> sp.Matrix:
    """Entry-by-entry derivative of the explicit objective (the independent route)."""
    C = concrete(n, kk)
    L = concrete_objective(n, kk).objective
    M = getattr(C, name)
    return M.applyfunc(lambda s: sp.diff(L, s))


def _exp_simplify(e):
    return sp.expand(sp.powsimp(sp.expand(e), combine="exp"))


@lru_cache(maxsize=None)
def stationarity_section(n: int = 3, kk: int = 2) -> Section:
    sec = Section("eq23", "Stationarity conditions (eqs. 22-23, 42-47, Appendix B-B)",
                  "The gradient of the full objective with respect to each parameter, by matrix "
                  "calculus (trace terms) and index calculus (the unit sums), checked against the "
                  "entry-by-entry derivative of the explicit objective at concrete dimension; and the "
                  "vectorised form used for code generation checked against both.")
    forms = gradient_forms()
    for name in PARAMS:
        derived = derived_gradient_explicit(name, n, kk)
        sec.add(prove(f"grad.{name}.routes", f"dL/d{name}: general-dimension derivative = entrywise derivative",
                      derived, concrete_gradient(name, n, kk), INDEX + "; checked at " + concrete_method(n, kk),
                      simplifier=_exp_simplify))
        sec.add(prove(f"grad.{name}.vectorised", f"dL/d{name} = vectorised form",
                      explicit(forms[name], n, kk), derived, concrete_method(n, kk), simplifier=_exp_simplify))
    return sec

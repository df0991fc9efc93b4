"""Evaluate a general-dimension matrix expression to an explicit matrix at concrete (N, k).

SymPy's ``subs`` on diagonal and elementwise matrix expressions is fragile, so this walks
the expression tree itself. Supported: MatrixSymbol, MatAdd, MatMul, MatPow(-1), Transpose,
Inverse, Identity, ZeroMatrix, OneMatrix, Trace, DiagonalOf, DiagMatrix, HadamardProduct,
ElementwiseApplyFunction, and scalar expressions containing these.

>>> import sympy as sp
>>> from derivations.symbols import D, concrete
>>> explicit(sp.Trace(D.T * D), 3, 2) == sum(d**2 for d in concrete(3, 2).D)
True
"""
from __future__ import annotations

import sympy as sp
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
from sympy.matrices.expressions.diagonal import DiagMatrix, DiagonalMatrix, DiagonalOf
from sympy.matrices.expressions.matexpr import MatrixElement

from .symbols import N, concrete, k


def explicit(expr, n: int = 3, kk: int = 2, extra: dict | None = None):
    C = concrete(n, kk)
    table = {sym.name: mat for sym, mat in C.substitutions().items() if isinstance(sym, sp.MatrixSymbol)}
    if extra:
        table.update({s.name if isinstance(s, sp.MatrixSymbol) else s: v for s, v in extra.items()})
    dims = {N: n, k: kk}
    return _ev(sp.sympify(expr), table, dims)


def _dim(d, dims):
    return int(sp.sympify(d).subs(dims))


def _ev(e, table, dims):
    if isinstance(e, sp.MatrixSymbol):
        return sp.Matrix(table[e.name])
    if isinstance(e, sp.Identity):
        return sp.eye(_dim(e.rows, dims))
    if isinstance(e, sp.ZeroMatrix):
        return sp.zeros(_dim(e.rows, dims), _dim(e.cols, dims))
    if isinstance(e, sp.OneMatrix):
        return sp.ones(_dim(e.rows, dims), _dim(e.cols, dims))
    if isinstance(e, sp.MatAdd):
        parts = [_ev(a, table, dims) for a in e.args]
        out = parts[0]
        for p in parts[1:]:
            out = out + p
        return out
    if isinstance(e, sp.MatMul):
        out = None
        scalar = sp.Integer(1)
        for a in e.args:
            v = _ev(a, table, dims)
            if isinstance(v, sp.MatrixBase):
                out = v if out is None else out * v
            else:
                scalar *= v
        return scalar * out if out is not None else scalar
    if isinstance(e, sp.Transpose):
        return _ev(e.arg, table, dims).T
    if isinstance(e, sp.Inverse):
        from .steps import inv
        return inv(_ev(e.arg, table, dims))
    if isinstance(e, sp.MatPow):
        base = _ev(e.base, table, dims)
        if e.exp == -1:
            from .steps import inv
            return inv(base)
        return base ** e.exp
    if isinstance(e, sp.Determinant):
        return sp.expand(_ev(e.arg, table, dims).det())
    if isinstance(e, sp.Trace):
        return _ev(e.arg, table, dims).trace()
    if isinstance(e, DiagonalOf):
        m = _ev(e.arg, table, dims)
        return sp.Matrix([m[i, i] for i in range(m.rows)])
    if isinstance(e, (DiagMatrix,)):
        v = _ev(e.args[0], table, dims)
        return sp.diag(*list(v))
    if isinstance(e, DiagonalMatrix):
        m = _ev(e.arg, table, dims)
        return sp.diag(*[m[i, i] for i in range(m.rows)])
    if isinstance(e, sp.HadamardProduct):
        parts = [_ev(a, table, dims) for a in e.args]
        out = parts[0]
        for p in parts[1:]:
            out = out.multiply_elementwise(p)
        return out
    if isinstance(e, ElementwiseApplyFunction):
        return _ev(e.expr, table, dims).applyfunc(e.function)
    if isinstance(e, sp.Sum):
        import itertools
        names = [lim[0] for lim in e.limits]
        ranges = [range(_dim(lim[1], dims), _dim(lim[2], dims) + 1) for lim in e.limits]
        return sum((_ev(e.function.subs(dict(zip(names, vals)), simultaneous=True), table, dims)
                    for vals in itertools.product(*ranges)), sp.Integer(0))
    if isinstance(e, MatrixElement):
        m = _ev(e.parent, table, dims)
        return m[int(e.i), int(e.j)]
    if isinstance(e, sp.MatrixExpr):
        raise TypeError(f"explicit: unsupported matrix expression {type(e).__name__}")
    if e.is_Atom:
        return e.subs(dims)
    args = [_ev(a, table, dims) for a in e.args]
    args = [a[0, 0] if isinstance(a, sp.MatrixBase) and a.shape == (1, 1) else a for a in args]
    return e.func(*args)

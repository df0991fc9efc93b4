"""Exact rational algebra on a mixing matrix: its entries as rationals, the Gram matrix A^T A, its rank and
whether it has a repeated eigenvalue, all decided without rounding (numpy, no SymPy).

Floats are read at their exact binary value (so 0.73 is not 73/100: pass "0.73" or Fraction(73, 100) for the
decimal), strings and fractions as rationals. For a float array the Gram matrix is formed from integer
mantissas (:func:`float_gram`), without a Fraction per entry; otherwise column by column over a common
denominator (:func:`exact_gram`). Repeated eigenvalues are decided for k <= EXACT_CHARPOLY_MAX_K by the gcd of
the characteristic polynomial (Faddeev-LeVerrier) and its derivative; beyond, :attr:`ExactProblem.repeated`
is None and the caller decides numerically.

>>> ex = exact_problem([["2.73", "0.73"], ["0.73", "2.73"]])         # Fig. 3's matrix, decimal strings
>>> ex.gram[0], ex.rank, ex.repeated
([Fraction(39929, 5000), Fraction(19929, 5000)], 2, False)
>>> charpoly([[Fraction(2), Fraction(0)], [Fraction(0), Fraction(3)]])   # (t - 2)(t - 3)
[Fraction(1, 1), Fraction(-5, 1), Fraction(6, 1)]
"""
from __future__ import annotations

import math
import numbers
import operator
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

import mpmath
import numpy as np

EXACT_CHARPOLY_MAX_K = 10    # beyond this, repeated eigenvalues are detected numerically (charpoly too costly)


def _to_fraction(x) -> Fraction:
    if isinstance(x, Fraction):
        return Fraction(int(x.numerator), int(x.denominator))
    if isinstance(x, (bool, np.bool_)):
        raise ValueError("mixing matrix entries must be numbers, got a bool")
    if isinstance(x, (int, np.integer)):
        return Fraction(int(x))
    if isinstance(x, (float, np.floating)):
        if not math.isfinite(float(x)):
            raise ValueError(f"mixing matrix has a non-finite entry: {x!r}")
        return Fraction(float(x))
    if isinstance(x, str):
        try:
            return Fraction(x.strip())
        except (ValueError, ZeroDivisionError):
            raise ValueError(f"mixing matrix entry {x!r} is not a finite rational literal") from None
    if isinstance(x, Decimal):
        if not x.is_finite():
            raise ValueError(f"mixing matrix has a non-finite entry: {x!r}")
        return Fraction(x)
    if isinstance(x, mpmath.mpf) or type(x).__name__ == "mpf":
        if not mpmath.isfinite(x):
            raise ValueError(f"mixing matrix has a non-finite entry: {x!r}")
        man, exp = x.man_exp
        return Fraction(int(man)) * (Fraction(2) ** int(exp))
    if isinstance(x, (complex, np.complexfloating)) or type(x).__name__ == "mpc":
        raise ValueError(f"mixing matrix must be real, got {x!r}")
    if isinstance(x, numbers.Rational):
        return Fraction(int(x.numerator), int(x.denominator))
    try:                                   # e.g. sympy.Rational / Integer (str gives p/q)
        return Fraction(str(x))
    except (ValueError, ZeroDivisionError):
        raise ValueError(f"cannot read mixing matrix entry {x!r} as an exact rational") from None


def exact_matrix(A) -> tuple[tuple[Fraction, ...], ...]:
    """A (numpy array, nested list of numbers / Fractions / strings, or mpmath matrix) as exact rationals."""
    if isinstance(A, mpmath.matrix) or type(A).__name__ == "matrix" and hasattr(A, "rows") and hasattr(A, "cols"):
        rows = [[A[i, j] for j in range(A.cols)] for i in range(A.rows)]
    else:
        arr = np.asarray(A, dtype=object) if not isinstance(A, np.ndarray) else A
        if arr.ndim != 2:
            raise ValueError(f"mixing matrix must be 2-D (N x k), got {arr.ndim}-D")
        rows = arr.tolist()
    if not rows or not rows[0]:
        raise ValueError("mixing matrix is empty")
    k = len(rows[0])
    if any(len(r) != k for r in rows):
        raise ValueError("mixing matrix rows have different lengths")
    N = len(rows)
    if k > N:
        raise ValueError(f"mixing matrix must be N x k with k <= N, got shape ({N}, {k})")
    out = tuple(tuple(_to_fraction(x) for x in r) for r in rows)
    if all(x == 0 for r in out for x in r):
        raise ValueError("mixing matrix is zero: TIE is constant for beta >= 1, no unique minimiser")
    return out


def exact_gram(A) -> list[list[Fraction]]:
    """A^T A exactly: each column over a common denominator, then integer dot products."""
    k = len(A[0])
    cols, dens = [], []
    for j in range(k):
        col = [r[j] for r in A]
        D = math.lcm(*(x.denominator for x in col))
        cols.append([x.numerator * (D // x.denominator) for x in col])
        dens.append(D)
    M = [[Fraction(0)] * k for _ in range(k)]
    for i in range(k):
        for j in range(i, k):
            M[i][j] = M[j][i] = Fraction(sum(map(operator.mul, cols[i], cols[j])), dens[i] * dens[j])
    return M


def charpoly(M) -> list[Fraction]:
    """det(t I - M), coefficients highest degree first (Faddeev-LeVerrier, exact)."""
    k = len(M)
    coeffs = [Fraction(1)]
    Mk = [[Fraction(0)] * k for _ in range(k)]
    c = Fraction(1)
    for m in range(1, k + 1):
        Mk = [[sum((M[i][l] * Mk[l][j] for l in range(k)), Fraction(0)) + (c if i == j else 0) for j in range(k)]
              for i in range(k)]
        AM = [[sum((M[i][l] * Mk[l][j] for l in range(k)), Fraction(0)) for j in range(k)] for i in range(k)]
        c = -sum((AM[i][i] for i in range(k)), Fraction(0)) / m
        coeffs.append(c)
    return coeffs


def _poly_rem(p, q):
    p = list(p)
    while len(p) >= len(q) and any(p):
        f = p[0] / q[0]
        for i in range(len(q)):
            p[i] -= f * q[i]
        p.pop(0)
    while p and p[0] == 0:
        p.pop(0)
    return p


def _poly_gcd_degree(p, q) -> int:
    while q:
        p, q = q, _poly_rem(p, q)
    return len(p) - 1


def exact_rank(M) -> int:
    """Rank of a matrix of Fractions (Gauss-Jordan elimination, exact)."""
    M = [list(r) for r in M]
    rank, rows, cols = 0, len(M), len(M[0])
    for c in range(cols):
        piv = next((r for r in range(rank, rows) if M[r][c] != 0), None)
        if piv is None:
            continue
        M[rank], M[piv] = M[piv], M[rank]
        for r in range(rows):
            if r != rank and M[r][c] != 0:
                f = M[r][c] / M[rank][c]
                M[r] = [x - f * y for x, y in zip(M[r], M[rank])]
        rank += 1
    return rank


@dataclass(frozen=True)
class ExactProblem:
    """A mixing matrix read exactly, and what is decided about A^T A without rounding."""

    A: tuple | None          # the entries as Fractions (None for a float array: only its Gram matrix is formed)
    gram: list               # A^T A, k x k Fractions
    k: int
    rank: int                # rank of A^T A (= rank of A)
    repeated: bool | None    # A^T A has a repeated eigenvalue (None: k > EXACT_CHARPOLY_MAX_K, not decided)


def float_gram(A: np.ndarray) -> list[list[Fraction]]:
    """Exact A^T A for a float array without per-entry Fractions: A = m 2^e with integer m (np.frexp)."""
    if not np.all(np.isfinite(A)):
        raise ValueError("mixing matrix has a non-finite entry (NaN or inf)")
    if A.ndim != 2 or A.shape[0] == 0 or A.shape[1] == 0:
        raise ValueError(f"mixing matrix must be a non-empty 2-D (N x k) array, got shape {A.shape}")
    N, k = A.shape
    if k > N:
        raise ValueError(f"mixing matrix must be N x k with k <= N, got shape ({N}, {k})")
    if not np.any(A):
        raise ValueError("mixing matrix is zero: TIE is constant for beta >= 1, no unique minimiser")
    m, e = np.frexp(A)
    mi = (m * 2.0 ** 53).astype(np.int64)
    ei = e.astype(np.int64) - 53
    cols, shifts = [], []
    for j in range(k):
        nz = mi[:, j] != 0
        emin = int(ei[nz, j].min()) if np.any(nz) else 0
        sh = np.where(nz, ei[:, j] - emin, 0)
        cols.append([int(a) << int(b) for a, b in zip(mi[:, j].tolist(), sh.tolist())])
        shifts.append(emin)
    M = [[Fraction(0)] * k for _ in range(k)]
    for i in range(k):
        for j in range(i, k):
            M[i][j] = M[j][i] = Fraction(sum(map(operator.mul, cols[i], cols[j]))) * Fraction(2) ** (shifts[i] + shifts[j])
    return M


def exact_problem(A) -> ExactProblem:
    """A read exactly (a float array, or anything :func:`exact_matrix` reads): A^T A, its rank, repeated eigenvalues."""
    if isinstance(A, np.ndarray) and A.dtype.kind == "f":
        M = float_gram(A)
        Ae = None
    else:
        if isinstance(A, np.ndarray) and A.dtype.kind == "c":
            raise ValueError("mixing matrix must be real")
        Ae = exact_matrix(A)
        M = exact_gram(Ae)
    k = len(M)
    repeated = None
    if k <= EXACT_CHARPOLY_MAX_K:
        p = charpoly(M)
        dp = [c * (len(p) - 1 - i) for i, c in enumerate(p[:-1])]
        repeated = k > 1 and _poly_gcd_degree(p, dp) > 0
    return ExactProblem(A=Ae, gram=M, k=k, rank=exact_rank(M), repeated=repeated)

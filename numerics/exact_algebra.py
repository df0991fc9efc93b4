"""Exact rational algebra on a mixing matrix: its entries as rationals, the Gram matrix A^T A, its rank and
whether it has a repeated eigenvalue, all decided without rounding (numpy and python-flint, no SymPy).

Floats are read at their exact binary value (so 0.73 is not 73/100: pass "0.73" or Fraction(73, 100) for the
decimal), strings and fractions as rationals. For a float array the Gram matrix is formed from integer
mantissas (:func:`float_gram`), without a Fraction per entry; otherwise column by column over a common
denominator (:func:`exact_gram`); either way the integer product is flint's ``fmpz_mat`` (C, exact). The rank is
flint's exact integer rank of the scaled Gram matrix. Repeated eigenvalues (:func:`has_repeated_eigenvalue`, any k)
are decided on the characteristic polynomial p of the scaled Gram matrix: p squarefree modulo a prime proves
p squarefree (its discriminant is then nonzero), and where a few primes say otherwise flint's exact integer
characteristic polynomial and gcd(p, p') decide. The pure-Python routes of earlier versions (Faddeev-LeVerrier
:func:`charpoly`, Gauss-Jordan :func:`exact_rank`) are kept: :func:`exact_problem_reference` uses them, and the
tests compare the two.

>>> ex = exact_problem([["2.73", "0.73"], ["0.73", "2.73"]])         # Fig. 3's matrix, decimal strings
>>> ex.gram[0], ex.rank, ex.repeated
([Fraction(39929, 5000), Fraction(19929, 5000)], 2, False)
>>> charpoly([[Fraction(2), Fraction(0)], [Fraction(0), Fraction(3)]])   # (t - 2)(t - 3)
[Fraction(1, 1), Fraction(-5, 1), Fraction(6, 1)]
>>> has_repeated_eigenvalue([[Fraction(2), Fraction(0)], [Fraction(0), Fraction(2)]])
True
"""
from __future__ import annotations

import math
import numbers
import operator
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

import flint
import mpmath
import numpy as np

# the reference route (exact_problem_reference) decides repeated eigenvalues up to this k (Faddeev-LeVerrier in
# Fractions), numerically beyond; exact_problem decides them for every k
EXACT_CHARPOLY_MAX_K = 10
# primes for the modular squarefree test (the largest primes below 2^62, 2^61 and 2^60)
_PRIMES = (4611686018427387847, 2305843009213693951, 1152921504606846883)


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


def exact_gram(A, *, product=None) -> list[list[Fraction]]:
    """A^T A exactly: each column over a common denominator, then integer dot products."""
    k = len(A[0])
    cols, dens = [], []
    for j in range(k):
        col = [r[j] for r in A]
        D = math.lcm(*(x.denominator for x in col))
        cols.append([x.numerator * (D // x.denominator) for x in col])
        dens.append(D)
    G = (product or _int_gram)(cols)
    return [[Fraction(G[i][j], dens[i] * dens[j]) for j in range(k)] for i in range(k)]


def _int_gram(cols) -> list[list[int]]:
    """C^T C for integer columns ``cols`` (flint ``fmpz_mat``, exact), as Python ints."""
    C = flint.fmpz_mat(len(cols[0]), len(cols), [x for row in zip(*cols) for x in row])
    return [[int(x) for x in row] for row in (C.transpose() * C).tolist()]


def _python_gram(cols) -> list[list[int]]:
    """The same product in Python integers (the reference route)."""
    k = len(cols)
    G = [[0] * k for _ in range(k)]
    for i in range(k):
        for j in range(i, k):
            G[i][j] = G[j][i] = sum(map(operator.mul, cols[i], cols[j]))
    return G


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


def float_gram(A: np.ndarray, *, product=None) -> list[list[Fraction]]:
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
    G = (product or _int_gram)(cols)
    return [[_times_power_of_two(G[i][j], shifts[i] + shifts[j]) for j in range(k)] for i in range(k)]


def _times_power_of_two(n: int, e: int) -> Fraction:
    return Fraction(n << e) if e >= 0 else Fraction(n, 1 << -e)


def _scaled_integer(M) -> flint.fmpz_mat:
    """D M as an integer matrix (D the lcm of the denominators): same rank, eigenvalues D a_j, same eigenvectors."""
    D = math.lcm(*(x.denominator for row in M for x in row))
    return flint.fmpz_mat([[x.numerator * (D // x.denominator) for x in row] for row in M])


def _squarefree_mod(Z: flint.fmpz_mat, p: int) -> bool:
    c = flint.nmod_mat(Z.tolist(), p).charpoly()
    return c.gcd(c.derivative()).degree() == 0


def has_repeated_eigenvalue(M, Z: flint.fmpz_mat | None = None) -> bool:
    """Whether the symmetric rational matrix M has a repeated eigenvalue, decided exactly for any size.

    Its characteristic polynomial p (of the integer matrix Z = D M) is monic, so p mod q is the characteristic
    polynomial of Z mod q; if that is squarefree, disc(p) is nonzero mod q, hence nonzero, and p has simple roots.
    Otherwise (a repeated eigenvalue, or a prime dividing the discriminant) gcd(p, p') over the integers decides.
    """
    k = len(M)
    if k < 2:
        return False
    Z = _scaled_integer(M) if Z is None else Z
    if any(_squarefree_mod(Z, q) for q in _PRIMES):
        return False
    p = Z.charpoly()
    return p.gcd(p.derivative()).degree() > 0


def _read(A, product=None):
    if isinstance(A, np.ndarray) and A.dtype.kind == "f":
        return None, float_gram(A, product=product)
    if isinstance(A, np.ndarray) and A.dtype.kind == "c":
        raise ValueError("mixing matrix must be real")
    Ae = exact_matrix(A)
    return Ae, exact_gram(Ae, product=product)


def exact_problem(A) -> ExactProblem:
    """A read exactly (a float array, or anything :func:`exact_matrix` reads): A^T A, its rank, repeated eigenvalues."""
    Ae, M = _read(A)
    Z = _scaled_integer(M)
    return ExactProblem(A=Ae, gram=M, k=len(M), rank=Z.rank(), repeated=has_repeated_eigenvalue(M, Z))


def exact_problem_reference(A) -> ExactProblem:
    """The same in pure Python as before flint (the Gram product in Python integers, Gauss-Jordan rank in Fractions,
    Faddeev-LeVerrier up to EXACT_CHARPOLY_MAX_K and ``repeated`` None beyond): the reference the tests and
    benchmarks/bench_optimal_beta_k.py compare :func:`exact_problem` with."""
    Ae, M = _read(A, product=_python_gram)
    k = len(M)
    repeated = None
    if k <= EXACT_CHARPOLY_MAX_K:
        p = charpoly(M)
        dp = [c * (len(p) - 1 - i) for i, c in enumerate(p[:-1])]
        repeated = k > 1 and _poly_gcd_degree(p, dp) > 0
    return ExactProblem(A=Ae, gram=M, k=k, rank=exact_rank(M), repeated=repeated)

"""A symmetric eigendecomposition to hundreds of digits: float64 LAPACK, then Ogita-Aishima refinement in flint.

mpmath's ``eigsy`` runs the QR algorithm in pure Python at the working precision, ~k^3 multiprecision operations
in the interpreter (~1.7 s at k = 32 and 90 digits, growing like k^3). Here numpy's ``eigh`` gives every eigenpair
to ~16 digits and the refinement of Ogita & Aishima (Japan J. Indust. Appl. Math. 35, 2018, "Iterative refinement
for symmetric eigenvalue decomposition") doubles the correct digits per step using only matrix products, done by
flint's ``arb_mat`` in C (each step at about twice the precision of the last, so the final step costs most):

    R = I - X^T X,  S = X^T M X,  l_i = S_ii / (1 - R_ii),
    E_ij = (S_ij + l_j R_ij) / (l_j - l_i)  (i != j),  E_ii = R_ii / 2,  X <- X + X E.

It needs every eigenvalue separated from the others by more than the current error
(2 (|S - diag l| + |M| |R|)); where they are not (a cluster the float start cannot resolve) it returns None and the
caller falls back to ``eigsy``. The iteration takes its last step at the full precision once R and the off-diagonal
of S are below 2^-(bits/2 + 16): the Rayleigh quotients l_i of that step and the updated vectors then carry ``bits``
bits. The digits are confirmed, as everywhere in :mod:`numerics.optimal_beta`, by two working precisions
(:mod:`numerics.certify`).

>>> import mpmath
>>> from fractions import Fraction
>>> a, Q = refined_eigh([[Fraction(2), Fraction(1)], [Fraction(1), Fraction(1, 3)]], bits=200)   # 7/6 +- sqrt(61)/6
>>> with mpmath.workdps(70):
...     abs(mpmath.mpf(a[0]) - (7 + mpmath.sqrt(61)) / 6) < 1e-58, abs(mpmath.mpf(Q[0, 0].mid()) ** 2
...                                                              + mpmath.mpf(Q[1, 0].mid()) ** 2 - 1) < 1e-58
(True, True)
"""
from __future__ import annotations

import math

import flint
import numpy as np

from .blas_threads import single_threaded_openblas

MAX_STEPS = 14           # refinement steps before giving up (each roughly doubles the correct bits)
GUARD_BITS = 32


def _max_abs(entries) -> float:
    return max((abs(float(x)) for x in entries), default=0.0)


class _Start:
    """The last matrix refined (held by reference) and the best eigenvectors found for it: the second working
    precision of numerics.certify starts from the first's vectors (one step instead of three)."""

    gram = Z = den = norm_m = X = None
    have = 0


_last = _Start()


def _start(gram):
    if _last.gram is gram:
        return _last
    k = len(gram)
    den = math.lcm(*(x.denominator for row in gram for x in row))
    Z = flint.fmpz_mat([[x.numerator * (den // x.denominator) for x in row] for row in gram])
    M0 = np.array([[float(x) for x in row] for row in gram])
    with single_threaded_openblas():           # k <= a few hundred: threads only spin on a loaded machine
        w, V = np.linalg.eigh(M0)
    order = np.argsort(-w, kind="stable")
    V = V[:, order]
    # a reproducible sign for each eigenvector (LAPACK's is not): its entry of largest magnitude positive
    V = V * np.where(V[np.argmax(np.abs(V), axis=0), np.arange(k)] < 0, -1.0, 1.0)
    start = _Start()
    start.gram, start.Z, start.den, start.norm_m = gram, Z, den, float(np.max(np.abs(w))) if k else 0.0
    start.have = 40                             # a float64 start: ~45 correct bits where eigenvalues are separated
    with flint.ctx.workprec(2 * start.have + GUARD_BITS):
        start.X = flint.arb_mat(V.tolist())
    return start


def refined_eigh(gram, bits: int):
    """Eigenvalues (descending, arb list) and eigenvectors (``arb_mat``, column j for eigenvalue j) of the symmetric
    rational matrix ``gram`` (lists of Fractions), to ``bits`` bits; None when an eigenvalue cluster stops it."""
    global _last
    k = len(gram)
    start = _start(gram)
    Z, den, norm_m, X = start.Z, start.den, start.norm_m, start.X
    if norm_m == 0.0:
        return None
    target = bits + GUARD_BITS
    have = min(start.have, -(-bits // 2))       # at least one step, and the last, at the full precision
    for _ in range(MAX_STEPS):
        prec = min(target, 2 * have + GUARD_BITS)
        with flint.ctx.workprec(prec):
            M = flint.arb_mat(Z) / den
            XT = X.transpose()
            R = _eye(k) - XT * X
            S = XT * (M * X)
            r, s = R.entries(), S.entries()
            lam = [s[i * k + i] / (1 - r[i * k + i]) for i in range(k)]
            off = [s[i * k + j] for i in range(k) for j in range(k) if i != j]
            err_r, err_s = _max_abs(r), _max_abs(off) / norm_m
            err = max(err_r, err_s)
            delta = 2 * k * (err_s + err_r) * norm_m
            lam_f = [float(x) for x in lam]
            if k > 1 and min(lam_f[i] - lam_f[i + 1] for i in range(k - 1)) <= max(delta, 1e-300):
                return None                     # a cluster (or a lost order): the caller falls back to eigsy
            # quadratic convergence: after this step the vectors carry ~2x the bits of `err`, the Rayleigh quotients
            # already do (the two working precisions of numerics.certify confirm the digits in the end)
            last = prec == target and err <= 2.0 ** -(bits // 2 + 16)
            E = []
            for i in range(k):
                li, base = lam[i], i * k
                E.append([r[base + i] / 2 if i == j else (s[base + j] + lam[j] * r[base + j]) / (lam[j] - li)
                          for j in range(k)])
            X = (X + X * flint.arb_mat(E)).mid()
            if last:
                start.X, start.have, _last = X, bits, start
                return [x.mid() for x in lam], X
        gained = -math.log2(err) if err > 0 else target
        have = max(have, min(target, int(2 * gained - math.log2(k + 1) - 8)))
    return None


def _eye(k):
    return flint.arb_mat([[1 if i == j else 0 for j in range(k)] for i in range(k)])

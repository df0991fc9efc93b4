"""The paper's symbols, named as in the paper (Section IV.B, eqs. 17-27).

Two families are provided:

* general dimension: ``N``, ``k`` are symbolic integers and every matrix is a
  :class:`sympy.MatrixSymbol` (``W_mu`` is k x N, ``D`` is N x k, ...);
* concrete dimension: :func:`concrete` returns explicit matrices whose entries
  are independent real symbols (``D_11``, ``D_12``, ...), used where SymPy's
  matrix expressions cannot carry a step (elementwise exponentials, diagonals).

>>> from derivations.symbols import W_mu, D, N, k
>>> (D * W_mu).shape == (N, N)
True
>>> C = concrete(3, 2)
>>> C.D.shape, C.Sigma_x.is_symmetric()
((3, 2), True)
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import sympy as sp

N, k = sp.symbols("N k", integer=True, positive=True)
beta = sp.Symbol("beta", positive=True)
pi = sp.pi

# Encoder, eq. (20): mu_z = W_mu x + b_mu,  Sigma_z = diag(exp(W_sigma x + b_sigma))
W_mu = sp.MatrixSymbol("W_mu", k, N)
b_mu = sp.MatrixSymbol("b_mu", k, 1)
W_sigma = sp.MatrixSymbol("W_sigma", k, N)
b_sigma = sp.MatrixSymbol("b_sigma", k, 1)
# Decoder: y ~ N(D z + b_D, I_N)
D = sp.MatrixSymbol("D", N, k)
b_D = sp.MatrixSymbol("b_D", N, 1)
# Ground truth, eqs. (17)-(18): x = A s + eta,  Sigma_x = A A^T + I_N
A = sp.MatrixSymbol("A", N, k)
Sigma_x = sp.MatrixSymbol("Sigma_x", N, N)
x = sp.MatrixSymbol("x", N, 1)
I_N = sp.Identity(N)
I_k = sp.Identity(k)

PARAMETERS = (W_mu, b_mu, W_sigma, b_sigma, D, b_D)
# The general model (issue 13): decoder p(x|z) = N(D z + b_D, sigma_d2 I_N), prior p(z) = N(0, sigma_p2 I_k),
# data noise x = A s + eta, eta ~ N(0, sigma_eta2 I_N); the paper's model has all three equal to 1.
sigma_d2, sigma_p2, sigma_eta2 = sp.symbols("sigma_d2 sigma_p2 sigma_eta2", positive=True)


def symmetrize(expr):
    """Use Sigma_x^T = Sigma_x (a covariance is symmetric)."""
    return expr.subs(Sigma_x.T, Sigma_x)


@dataclass(frozen=True)
class Concrete:
    """Explicit matrices with independent symbolic entries at fixed (N, k)."""

    N: int
    k: int
    W_mu: sp.Matrix
    b_mu: sp.Matrix
    W_sigma: sp.Matrix
    b_sigma: sp.Matrix
    D: sp.Matrix
    b_D: sp.Matrix
    A: sp.Matrix
    Sigma_x: sp.Matrix
    x: sp.Matrix

    def substitutions(self) -> dict:
        """Map each general-dimension MatrixSymbol to its explicit matrix."""
        general = (W_mu, b_mu, W_sigma, b_sigma, D, b_D, A, Sigma_x, x)
        explicit = (self.W_mu, self.b_mu, self.W_sigma, self.b_sigma, self.D,
                    self.b_D, self.A, self.Sigma_x, self.x)
        subs = {N: self.N, k: self.k}
        for g, e in zip(general, explicit):
            subs[g.subs({N: self.N, k: self.k})] = sp.ImmutableMatrix(e)
        return subs

    def parameter_symbols(self) -> list[sp.Symbol]:
        out = []
        for m in (self.W_mu, self.b_mu, self.W_sigma, self.b_sigma, self.D, self.b_D):
            out.extend(m)
        return out


def _matrix(name: str, rows: int, cols: int) -> sp.Matrix:
    if cols == 1:
        return sp.Matrix(rows, 1, lambda i, j: sp.Symbol(f"{name}_{i + 1}", real=True))
    return sp.Matrix(rows, cols, lambda i, j: sp.Symbol(f"{name}_{i + 1}{j + 1}", real=True))


def _symmetric(name: str, n: int) -> sp.Matrix:
    def entry(i, j):
        a, b = min(i, j), max(i, j)
        return sp.Symbol(f"{name}_{a + 1}{b + 1}", real=True)
    return sp.Matrix(n, n, entry)


@lru_cache(maxsize=None)
def concrete(n: int = 3, kk: int = 2) -> Concrete:
    """Explicit symbolic matrices at N = n, k = kk (Sigma_x symmetric, otherwise free)."""
    return Concrete(
        N=n, k=kk,
        W_mu=_matrix("Wmu", kk, n), b_mu=_matrix("bmu", kk, 1),
        W_sigma=_matrix("Wsigma", kk, n), b_sigma=_matrix("bsigma", kk, 1),
        D=_matrix("D", n, kk), b_D=_matrix("bD", n, 1),
        A=_matrix("A", n, kk), Sigma_x=_symmetric("Sigma", n), x=_matrix("x", n, 1),
    )

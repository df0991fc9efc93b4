"""Ground-truth posterior (eq. 19, Appendix B-C) and model posterior and evidence (eqs. 24, 55-59).

The matrix identities the paper uses, push-through (52) and Woodbury (54), are proved at
general dimension by clearing inverses: an identity ``X^-1 Y = Z W^-1`` is equivalent to
``Y W = X Z`` for invertible X, W, which is a polynomial identity in non-commuting
matrices that SymPy expands to zero. The densities are then checked at concrete
dimension by Bayes' rule, with every entry symbolic.

>>> sec = ground_truth_section()
>>> all(s.holds for s in sec.steps)
True
"""
from __future__ import annotations

from functools import lru_cache

import sympy as sp

from .gaussian import LogDensity, expect_polynomial, gaussian_log_density, log_density_residual
from .steps import GENERAL, Section, concrete_method, inv, prove, rational_simplify, record
from .symbols import N, k

U = sp.MatrixSymbol("U", N, k)
V = sp.MatrixSymbol("V", k, N)
B = sp.MatrixSymbol("B", N, N)
A_ = sp.MatrixSymbol("A", N, k)
D_ = sp.MatrixSymbol("D", N, k)
I_N, I_k = sp.Identity(N), sp.Identity(k)


def ground_truth_posterior(A: sp.Matrix, x: sp.Matrix):
    """Eq. (19): (mean, covariance) of p_gt(s|x) for explicit A, x."""
    kk = A.shape[1]
    cov = inv(A.T * A + sp.eye(kk))
    return cov * A.T * x, cov


def model_posterior(D: sp.Matrix, x: sp.Matrix):
    """Eq. (24): (mean, covariance) of p_theta(z|x) for explicit D, x (b_D = 0)."""
    return ground_truth_posterior(D, x)


@lru_cache(maxsize=None)
def identities_section() -> Section:
    sec = Section("identities", "Matrix identities (eqs. 52, 54)",
                  "Both identities are proved for all N, k by clearing the inverses and expanding "
                  "the resulting polynomial identity in non-commuting matrix symbols.")
    sec.add(prove("identity.push_through", "(I_N + U V) U = U (I_k + V U), i.e. (I_N+UV)^-1 U = U (I_k+VU)^-1",
                  (I_N + U * V) * U, U * (I_k + V * U), GENERAL, equation="52"))
    Cinv = sp.MatrixSymbol("C^{-1}", k, k)
    C = I_k + V * B.I * U
    woodbury = B.I - B.I * U * Cinv * V * B.I
    sec.add(prove("identity.woodbury_expand",
                  "(B + U V)(B^-1 - B^-1 U C^-1 V B^-1) - I_N = -U (C C^-1 - I_k) V B^-1, C = I_k + V B^-1 U",
                  (B + U * V) * woodbury - I_N, -U * (C * Cinv - I_k) * V * B.I, GENERAL, equation="54",
                  note="The right side vanishes because C C^-1 = I_k; hence the Woodbury identity (54)."))
    # Sylvester's determinant identity, used for the normalisation of the evidence (57).
    Dc = sp.Matrix(3, 2, lambda i, j: sp.Symbol(f"D_{i + 1}{j + 1}", real=True))
    sec.add(prove("identity.sylvester", "det(I_N + D D^T) = det(I_k + D^T D)",
                  (sp.eye(3) + Dc * Dc.T).det(), (sp.eye(2) + Dc.T * Dc).det(), concrete_method(3, 2)))
    return sec


@lru_cache(maxsize=None)
def ground_truth_section(n: int = 3, kk: int = 2) -> Section:
    sec = Section("eq19", "Ground-truth posterior (eq. 19, Appendix B-C)",
                  "The joint (s, x) is Gaussian; conditioning (48-49) with Cov(x, s) = A (50) gives "
                  "the posterior, which push-through (52) and Woodbury (54) bring to the form (19).")
    A = sp.Matrix(n, kk, lambda i, j: sp.Symbol(f"A_{i + 1}{j + 1}", real=True))
    s = sp.Matrix(kk, 1, lambda i, j: sp.Symbol(f"s_{i + 1}", real=True))
    eta = sp.Matrix(n, 1, lambda i, j: sp.Symbol(f"eta_{i + 1}", real=True))
    xv = sp.Matrix(n, 1, lambda i, j: sp.Symbol(f"x_{i + 1}", real=True))
    # (50): Cov(x, s) = E[(A s + eta) s^T] with (s, eta) ~ N(0, I).
    joint = list(s) + list(eta)
    zero = sp.zeros(n + kk, 1)
    eye = sp.eye(n + kk)
    cov_xs = sp.Matrix(n, kk, lambda i, j: expect_polynomial(((A * s + eta)[i] * s[j]), joint, zero, eye))
    sec.add(prove("eq50", "Cov(x, s) = E[(A s + eta) s^T] = A", cov_xs, A, concrete_method(n, kk), equation="50"))
    cov_xx = sp.Matrix(n, n, lambda i, j: expect_polynomial(((A * s + eta)[i] * (A * s + eta)[j]), joint, zero, eye))
    sec.add(prove("eq18", "Sigma_x = E[x x^T] = A A^T + I_N", cov_xx, A * A.T + sp.eye(n), concrete_method(n, kk),
                  equation="18"))
    Sx = A * A.T + sp.eye(n)
    # (49) specialised with (50): mean A^T Sigma_x^-1 x, covariance I - A^T Sigma_x^-1 A.
    Sx_inv = inv(Sx)
    mean49 = A.T * Sx_inv * xv
    cov49 = sp.eye(kk) - A.T * Sx_inv * A
    bayes = [gaussian_log_density(s, sp.zeros(kk, 1), sp.eye(kk)), gaussian_log_density(xv, A * s, sp.eye(n)),
             -gaussian_log_density(xv, sp.zeros(n, 1), Sx)]
    mean19, cov19 = ground_truth_posterior(A, xv)
    post = gaussian_log_density(s, mean19, precision=A.T * A + sp.eye(kk))
    sec.add(record("eq19.bayes", "log p(s) + log p(x|s) - log p(x) = log N(s; (A^T A + I_k)^-1 A^T x, (A^T A + I_k)^-1)",
                   sum(t.expr() for t in bayes), post.expr(), log_density_residual(bayes, [post]),
                   concrete_method(n, kk), equation="19",
                   note="Bayes' rule with the generative model (17), independent of the conditioning formula. "
                        "Checked part by part: powers of 2pi, determinants, quadratic forms."))
    # (51) and (53) at general dimension.
    sec.add(prove("eq51.cleared", "(A^T A + I_k) A^T = A^T (A A^T + I_N), i.e. A^T (AA^T+I)^-1 = (A^T A + I)^-1 A^T",
                  (A_.T * A_ + I_k) * A_.T, A_.T * (A_ * A_.T + I_N), GENERAL, equation="51"))
    Xinv = sp.MatrixSymbol("X^{-1}", k, k)   # X = A^T A + I_k
    X = A_.T * A_ + I_k
    sec.add(prove("eq53.cleared",
                  "(A^T A + I_k)(I_k - X^-1 A^T A) = I_k + A^T A - (X X^-1) A^T A  with X = A^T A + I_k",
                  X * (I_k - Xinv * A_.T * A_), I_k + A_.T * A_ - X * Xinv * A_.T * A_, GENERAL, equation="53",
                  note="With X X^-1 = I_k the right side is I_k, so I_k - A^T (AA^T + I)^-1 A = (A^T A + I_k)^-1."))
    sec.add(prove("eq19.mean", "A^T Sigma_x^-1 x = (A^T A + I_k)^-1 A^T x", mean49, mean19,
                  concrete_method(n, kk), equation="19", simplifier=rational_simplify))
    sec.add(prove("eq19.cov", "I_k - A^T Sigma_x^-1 A = (A^T A + I_k)^-1", cov49, cov19,
                  concrete_method(n, kk), equation="19", simplifier=rational_simplify))
    return sec


@lru_cache(maxsize=None)
def model_posterior_section(n: int = 3, kk: int = 2) -> Section:
    sec = Section("eq24", "Evidence and model posterior (eqs. 24, 55-59, Appendix B-D)",
                  "The decoder p(x|z) = N(Dz, I_N) with prior N(0, I_k) (b_D = 0 at the optimum, eq. 22). "
                  "Completing the square in z gives the evidence; Bayes' rule gives the posterior.")
    D = sp.Matrix(n, kk, lambda i, j: sp.Symbol(f"D_{i + 1}{j + 1}", real=True))
    z = sp.Matrix(kk, 1, lambda i, j: sp.Symbol(f"z_{i + 1}", real=True))
    xv = sp.Matrix(n, 1, lambda i, j: sp.Symbol(f"x_{i + 1}", real=True))
    P = sp.eye(kk) + D.T * D
    h = D.T * xv
    # log of  int N(x; Dz, I) N(z; 0, I) dz  by the completed square:
    # log of the integral: -(n/2) log 2pi - (1/2) log det P + h^T P^-1 h / 2 - |x|^2 / 2, in LogDensity parts
    log_evidence = LogDensity(n, sp.expand(P.det()), sp.expand((xv.T * xv)[0, 0]) - (h.T * inv(P) * h)[0, 0])
    exponent = (-((xv - D * z).T * (xv - D * z))[0, 0] / 2 - (z.T * z)[0, 0] / 2)
    sec.add(prove("eq56.square", "-|x - Dz|^2/2 - |z|^2/2 = -z^T P z/2 + h^T z - |x|^2/2, P = I + D^T D, h = D^T x",
                  exponent, -(z.T * P * z)[0, 0] / 2 + (h.T * z)[0, 0] - (xv.T * xv)[0, 0] / 2,
                  concrete_method(n, kk), equation="56"))
    evidence = gaussian_log_density(xv, sp.zeros(n, 1), D * D.T + sp.eye(n))
    sec.add(record("eq57", "log int N(x; Dz, I) N(z; 0, I) dz = log N(x; 0, D D^T + I_N)", log_evidence.expr(),
                   evidence.expr(), log_density_residual([log_evidence], [evidence]), concrete_method(n, kk),
                   equation="57"))
    mean24, cov24 = model_posterior(D, xv)
    bayes = [gaussian_log_density(xv, D * z, sp.eye(n)), gaussian_log_density(z, sp.zeros(kk, 1), sp.eye(kk)),
             -evidence]
    post = gaussian_log_density(z, mean24, precision=D.T * D + sp.eye(kk))
    sec.add(record("eq24", "log p(x|z) + log p(z) - log p(x) = log N(z; (D^T D + I)^-1 D^T x, (D^T D + I)^-1)",
                   sum(t.expr() for t in bayes), post.expr(), log_density_residual(bayes, [post]),
                   concrete_method(n, kk), equation="24"))
    sec.add(prove("eq57.woodbury", "I_N - D (I_k + D^T D)^-1 D^T = (I_N + D D^T)^-1",
                  sp.eye(n) - D * inv(P) * D.T, inv(sp.eye(n) + D * D.T), concrete_method(n, kk),
                  equation="57", simplifier=rational_simplify))
    return sec

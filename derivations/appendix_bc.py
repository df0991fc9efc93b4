"""Comparisons of Appendix B's remaining printed equations (35, 41, 49, 50, 52, 54, 57, 61) with the derivation.

Each ``compare_NN`` takes the transcription to test (default: :mod:`derivations.printed`'s) so that a test can
hand it a deliberately wrong one and see that it is not confirmed; the verdict always comes from
:func:`derivations.errata.compare`, i.e. from the computed residual. Dimensions are small and every entry
symbolic, so the whole set costs a few seconds.

>>> compare_50().verdict
'confirmed'
>>> compare_50(lambda Am: 2 * Am).verdict
'erratum'
"""
from __future__ import annotations

import sympy as sp

from . import printed as P
from .comparison import Comparison
from .gaussian import expect_polynomial, mgf
from .inference_error import gaussian_kl_explicit
from .posterior import ground_truth_posterior
from .steps import inv, rational_simplify
from .symbols import concrete

def _vec(name, n):
    return sp.Matrix(n, 1, lambda i, j: sp.Symbol(f"{name}_{i + 1}", real=True))


def _mat(name, rows, cols):
    return sp.Matrix(rows, cols, lambda i, j: sp.Symbol(f"{name}_{i + 1}{j + 1}", real=True))


def _sym(name, n):
    return sp.Matrix(n, n, lambda i, j: sp.Symbol(f"{name}_{min(i, j) + 1}{max(i, j) + 1}", real=True))


def _flat(*ms):
    return sp.Matrix.vstack(*[m.reshape(m.rows * m.cols, 1) for m in ms])


def log_simplify(e):
    """Exact normal form with logarithms of products split (det ratios of eq. 61)."""
    return rational_simplify(sp.expand_log(sp.expand(e).replace(sp.log, lambda a: sp.log(sp.factor(a))), force=True))


def _compare(*args, **kw):
    from .errata import compare   # errata imports this module inside all_comparisons()
    return compare(*args, **kw)


# ------------------------------------------------------------------ eq. 35: differentiating the generating functional
def compare_35(operator=P.printed_35) -> Comparison:
    n_, m_ = 3, 2
    J, Am, Sz, zs = _vec("J", m_), _mat("A", m_, n_), _sym("Sz", n_), _vec("z", n_)
    Z = mgf(Am.T * J, sp.zeros(n_, 1), Sz)        # eq. (34) = E[exp(J^T A z)], z ~ N(0, Sigma_z)
    expectation = expect_polynomial((zs.T * Am.T * Am * zs)[0, 0], list(zs), sp.zeros(n_, 1), Sz)
    return _compare("35", "Source derivative of the generating functional", operator(Z, J), expectation,
                    display=("(d/dJ)^T (d/dJ) Z[J] at J = 0, Z[J] of eq. (34)", "E[z^T A^T A z] (engine moments)"),
                    kind="wrong value", corrected="E[z^T A^T A z]")


# ------------------------------------------------------------------ eq. 41: the objective in index notation
def compare_41(transcription=P.printed_41) -> list[Comparison]:
    from .errata import dropped_constant_comparisons
    from .objective import objective_expr
    return dropped_constant_comparisons(
        "41", "Objective in index notation", lambda n, kk: transcription(concrete(n, kk)),
        (P.TEXT["41"], objective_expr()),
        "the same constant as eq. (21) drops, free of the parameters but not of beta; the index form is otherwise "
        "eq. (21) term by term.")


# ------------------------------------------------------------------ eqs. 49-50: conditioning the joint Gaussian
def _joint_moments(n, kk):
    """(A, x, Cov(x, s), Sigma_x, Sigma_s) of eq. (17) by the engine, (s, eta) ~ N(0, I)."""
    Am, s, eta, xv = concrete(n, kk).A, _vec("s", kk), _vec("eta", n), concrete(n, kk).x
    joint, zero, eye = list(s) + list(eta), sp.zeros(n + kk, 1), sp.eye(n + kk)
    xs = Am * s + eta
    E = lambda u, v: sp.Matrix(len(u), len(v), lambda i, j: expect_polynomial(u[i] * v[j], joint, zero, eye))  # noqa: E731
    return Am, xv, E(xs, s), E(xs, xs), E(s, s)


def compare_49(formula=P.printed_49) -> Comparison:
    n, kk = 3, 2
    Am, xv, cov_xs, Sx, Ss = _joint_moments(n, kk)
    mean, cov = formula(cov_xs, Ss, Sx, sp.zeros(kk, 1), sp.zeros(n, 1), xv)
    m19, c19 = ground_truth_posterior(Am, xv)       # Bayes' rule (engine section eq19.bayes)
    return _compare("49", "Conditioning formula for (s, x) of eq. (17)", _flat(mean, cov), _flat(m19, c19),
                    simplifier=rational_simplify, kind="wrong formula",
                    display=(P.TEXT["49"], "N(s; (A^T A + I_k)^-1 A^T x, (A^T A + I_k)^-1) by Bayes' rule"))


def compare_50(result=P.printed_50, dims=(3, 2)) -> Comparison:
    Am, _, cov_xs, _, _ = _joint_moments(*dims)
    return _compare("50", "Cov(x, s) for x = A s + eta", result(Am), cov_xs, kind="wrong covariance",
                    display=("Cov(x, s) = A", "E[(A s + eta) s^T] (engine moments)"))


# ------------------------------------------------------------------ eqs. 52, 54: matrix identities
def compare_52(identity=P.printed_52) -> Comparison:
    parts = []
    for n, kk in ((3, 2), (2, 3)):
        left, right = identity(_mat("U", n, kk), _mat("V", kk, n))
        parts.append((left, right))
    return _compare("52", "Push-through identity", _flat(*[p[0] for p in parts]), _flat(*[p[1] for p in parts]),
                    simplifier=rational_simplify, kind="false identity",
                    display=("(I_N + U V)^-1 U", "U (I_k + V U)^-1"))


def compare_54(right_side=P.printed_54) -> Comparison:
    printed, derived = [], []
    for n, kk in ((2, 1), (2, 2)):
        B_, U_, V_ = _mat("B", n, n), _mat("U", n, kk), _mat("V", kk, n)
        printed.append(right_side(B_, U_, V_))
        derived.append(inv(B_ + U_ * V_))
    return _compare("54", "Woodbury identity", _flat(*printed), _flat(*derived), simplifier=rational_simplify,
                    kind="false identity", display=("B^-1 - B^-1 U (I_k + V B^-1 U)^-1 V B^-1", "(B + U V)^-1"))


# ------------------------------------------------------------------ eq. 57: the model's evidence
def compare_57(marginal=P.printed_57) -> Comparison:
    n, kk = 3, 2
    Dm, z, eta = concrete(n, kk).D, _vec("z", kk), _vec("eta", n)
    joint, zero, eye = list(z) + list(eta), sp.zeros(n + kk, 1), sp.eye(n + kk)
    xs = Dm * z + eta                                # the model at b_D = 0: x | z ~ N(Dz, I_N), z ~ N(0, I_k)
    mean = sp.Matrix(n, 1, lambda i, j: expect_polynomial(xs[i], joint, zero, eye))
    cov = sp.Matrix(n, n, lambda i, j: expect_polynomial(xs[i] * xs[j], joint, zero, eye))
    mean_p, cov_p = marginal(Dm)
    return _compare("57", "Evidence of the model (b_D = 0)", _flat(mean_p, cov_p), _flat(mean, cov),
                    kind="wrong marginal", display=("N(0, D D^T + I_N)", "mean and covariance of D z + eta (engine)"))


# ------------------------------------------------------------------ eq. 61: the Gaussian KL
def compare_61(formula=P.printed_61) -> Comparison:
    n, kk = 3, 2
    mu, Fm, xv, G = _vec("mu", kk), _mat("F", kk, n), _vec("x", n), _sym("G", kk)
    s = sp.symbols(f"s1:{kk + 1}", positive=True)   # Sigma_z = diag(s), eq. (20)
    derived = gaussian_kl_explicit(mu, s, Fm * xv, G)      # KL(N(mu, diag s) || N(Fx, G^-1)), engine
    return _compare("61", "Gaussian KL inside MIE (E^-1 = G)", formula(Fm * xv, mu, G, sp.diag(*s)), derived,
                    simplifier=log_simplify, kind="wrong KL formula",
                    display=(P.TEXT["61"], "E_q[log q(z|x) - log N(z; Fx, E)] (engine)"))


def comparisons() -> list[Comparison]:
    """The new comparisons, in equation order."""
    return [compare_35(), *compare_41(), compare_49(), compare_50(), compare_52(), compare_54(), compare_57(),
            compare_61()]

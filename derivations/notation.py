"""Notation errata: where the reading had to REPAIR the paper's own notation, the repair is an erratum.

Policy (one rule for every equation). A reading that repairs the literal text -- an undefined symbol (one
the context gives no meaning: C in eq. 47), index ranges that do not fit the matrices, an index that the
announced summation convention would sum while the same index stays free in that term (eqs. 23.3 and 46:
[WσΣ]_ab Wσ_ab in the exponent beside the free factor [WσΣ]_ab), a reversed conditional, a product or sum
that is not conformable -- is itself an erratum of kind ``notation (...)``, with the repair stated in
``corrected``, whether or not a conclusion changes. A reading that only applies a standard or announced
convention is a convention, not a repair, and is said so in :data:`derivations.printed.READING`: v^2 for
v^T v, Tr log E for log det E, the Einstein summation announced in App. B-B, E-1ii as (E^-1)_ii, a subscript
pair on a bracketed matrix ([M]_aa, [M]_bb in eqs. 21, 23, 44-47) as an entry rather than a sum, and the n
of eq. (34) as the dimension of the integration variable z of a generic Gaussian (its measure dz gives it).

Each repair is its own :class:`~derivations.comparison.Comparison` (verdict ``erratum``, kind
``notation ...``), next to the comparison of the repaired reading, which stays as it is (e.g. the
derivative factor of eqs. 42-47). The verdict is computed from the literal text: a ShapeError or
IndexError for ill-formed products and index ranges, a non-zero residual where the literal reading is
a different expression (undefined C, the triple index, the reversed conditional).

>>> sorted({c.equation for c in notation_errata()})
['23', '23.3', '43', '46', '47', '50', '59', '61']
"""
from __future__ import annotations

from functools import lru_cache

import sympy as sp

from . import printed as P
from .comparison import Comparison
from .gaussian import expect_polynomial
from .steps import inv
from .symbols import N, concrete, k


def _compare(*args, **kw):
    from .errata import compare
    return compare(*args, **kw)


def _erratum_or_confirmed(equation, title, broken: str | None, printed, derived, kind, corrected, reading_key=None):
    """A record whose verdict is 'erratum' exactly when the literal text failed to evaluate (``broken``)."""
    verdict = "erratum" if broken else "confirmed"
    evidence = broken or "the literal text evaluates as written"
    return Comparison(equation, title, P.TEXT.get(equation, ""), P.READING.get(reading_key or equation, ""),
                      printed, derived, verdict, evidence, corrected=corrected if broken else None,
                      kind=kind if broken else "")


# ------------------------------------------------------------------ eq. 23: index ranges
def index_ranges_23(n: int = 3, kk: int = 2) -> Comparison:
    """The note 'a = 1..N; b = 1..k' applied to each line's [.]_ab (or [.]_a) at concrete (N, k)."""
    from .stationarity import gradient_forms
    G = gradient_forms()
    dims = {N: n, k: kk}
    ranges = {name: {"N": n, "k": kk}[v] for name, v in P.INDEX_RANGES_23.items()}
    lines = {1: "W_mu", 2: "D", 3: "W_sigma", 4: "b_sigma"}
    misfits, fits = [], []
    for line, name in lines.items():
        rows, cols = (int(sp.sympify(d).subs(dims)) for d in G[name].shape)
        entry = sp.zeros(rows, cols)
        wanted = [(a, b) for a in range(ranges["a"]) for b in range(ranges["b"] if line != 4 else 1)]
        try:
            for a, b in wanted:
                entry[a, b]
            over = (rows, cols if line != 4 else 1) != (ranges["a"], ranges["b"] if line != 4 else 1)
            if over:      # every index exists but some entries are never addressed
                misfits.append(f"line {line} ({name}, {rows} x {cols}): entries outside a <= {ranges['a']}, "
                               f"b <= {ranges['b']} never addressed")
        except IndexError as err:
            misfits.append(f"line {line} ({name}, {rows} x {cols}): IndexError ({err})")
        if not misfits or not misfits[-1].startswith(f"line {line} "):
            fits.append(f"line {line} ({name}, {rows} x {cols})")
    if misfits:
        broken = (f"At N = {n}, k = {kk} the printed ranges a = 1..N, b = 1..k do not fit: " + "; ".join(misfits)
                  + f". Only {', '.join(fits) or 'no line'} fits. The repair reads each line with its own ranges (a = 1..k, "
                  "b = 1..N for lines 1 and 3; a = 1..N, b = 1..k for line 2; a = 1..k for line 4). The conditions "
                  "themselves are compared in 23.1-23.4.")
    return _erratum_or_confirmed("23", "Index ranges of eq. (23)", broken, "a = 1, ..., N; b = 1, ..., k (all four lines)",
                                 "ranges from the shapes of W_mu, D, W_sigma (k x N, N x k, k x N) and b_sigma (k)",
                                 "notation (index ranges fit only line 2)",
                                 "a = 1..k, b = 1..N (lines 1, 3); a = 1..N, b = 1..k (line 2); a = 1..k (line 4)",
                                 reading_key="23.1")


# ------------------------------------------------------------------ eqs. 23.3, 46: index b three times
@lru_cache(maxsize=None)
def triple_index_46() -> Comparison:
    from .explicit import explicit
    from .stationarity import gradient_forms
    n, kk = 3, 2
    C = concrete(n, kk)
    c = _compare("46", "Exponent of dL/dW_sigma read literally (b free)", P.printed_46_literal(C),
                 explicit(gradient_forms()["W_sigma"], n, kk), stationarity=True,
                 kind="notation (index b three times in one term; read as a sum over b inside the exponent)",
                 corrected="exp(1/2 [W_sigma Sigma W_sigma^T]_aa + b_sigma_a)",
                 display=("e^{1/2 [W_sigma Sigma]_ab W_sigma_ab + b_sigma_a} (b free)",
                          "e^{1/2 [W_sigma Sigma W_sigma^T]_aa + b_sigma_a}"))
    if c.verdict != "erratum":
        return c
    ev = ("In '([D^T D]aa + beta) e^{1/2 [W_sigma Sigma]ab W_sigma_ab + b_sigma_a} [W_sigma Sigma]ab' the index b "
          "appears three times in one term, which no summation convention defines. Read literally (b free) the "
          "expression is not a constant multiple of dL/dW_sigma: " + c.evidence + ". Repaired as a sum over b "
          "inside the exponent; both readings have the same zero set (the prefactor is positive).")
    return Comparison(**{**c.__dict__, "evidence": ev})


def triple_index_23() -> Comparison:
    c = triple_index_46()
    return Comparison(**{**c.__dict__, "equation": "23.3", "title": "Exponent of line 3 read literally (b free)",
                         "printed_text": P.TEXT["23.3"], "reading": P.READING["23.3"],
                         "evidence": "The same exponent as eq. (46): " + c.evidence})


# ------------------------------------------------------------------ eq. 43: non-conformable product
def product_43() -> Comparison:
    C = concrete(3, 2)
    try:
        P.printed_43_literal(C)
        broken = None
    except sp.ShapeError as err:
        broken = (f"'(D b_mu + b_D) D' is not defined: SymPy raises ShapeError ({err}) at N = 3, k = 2 (an N-vector "
                  "times an N x k matrix). Repaired as (D b_mu + b_D)^T D, whose transpose is D^T (D b_mu + b_D).")
    return _erratum_or_confirmed("43", "Product (D b_mu + b_D) D as printed", broken, "(D b_mu + b_D) D + beta b_mu",
                                 "D^T (D b_mu + b_D) + beta b_mu", "notation (product not conformable)",
                                 "[(D b_mu + b_D)^T D]^T + beta b_mu = D^T (D b_mu + b_D) + beta b_mu")


# ------------------------------------------------------------------ eq. 47: undefined C
def undefined_47() -> Comparison:
    from .explicit import explicit
    from .stationarity import gradient_forms
    n, kk = 3, 2
    C = concrete(n, kk)
    Cm = sp.Matrix(n, n, lambda i, j: sp.Symbol(f"C_{min(i, j) + 1}{max(i, j) + 1}", real=True))
    c = _compare("47", "dL/db_sigma with the undefined C kept free", P.printed_47_literal(C, Cm),
                 explicit(gradient_forms()["b_sigma"], n, kk), stationarity=True,
                 kind="notation (undefined symbol C, read as Sigma)", corrected="C -> Sigma (= Sigma_x)",
                 display=("([D^T D]_aa + beta) e^{1/2 [W_sigma C W_sigma^T]_aa + b_sigma_a} - beta",
                          "dL/db_sigma (derived)"))
    if c.verdict != "erratum":
        return c
    return Comparison(**{**c.__dict__, "evidence": "C is not defined anywhere in the paper. Kept as a free symmetric "
                         "matrix the printed expression is not a multiple of dL/db_sigma: " + c.evidence
                         + ". It is one when C = Sigma (the comparison of eq. 47 under that reading)."})


# ------------------------------------------------------------------ eq. 50: Cov(s, eta) added to an N x k matrix
def covariance_50() -> Comparison:
    n, kk = 3, 2
    s, eta = sp.Matrix(kk, 1, lambda i, j: sp.Symbol(f"s_{i + 1}", real=True)), \
        sp.Matrix(n, 1, lambda i, j: sp.Symbol(f"eta_{i + 1}", real=True))
    joint = list(s) + list(eta)
    cov_s_eta = sp.Matrix(kk, n, lambda i, j: expect_polynomial(s[i] * eta[j], joint, sp.zeros(n + kk, 1),
                                                                 sp.eye(n + kk)))
    try:
        P.printed_50_middle(concrete(n, kk).A, sp.eye(kk), cov_s_eta)
        broken = None
    except sp.ShapeError as err:
        broken = (f"'A Sigma_s + Cov(s, eta)' is not defined: Cov(s, eta) = E[s eta^T] is {kk} x {n} (zero), A Sigma_s "
                  f"is {n} x {kk}; SymPy raises ShapeError ({err}). Cov(As + eta, s) = A Sigma_s + Cov(eta, s): "
                  "repaired as Cov(eta, s); both are zero, so the result A stands.")
    return _erratum_or_confirmed("50", "Middle member A Sigma_s + Cov(s, eta)", broken, "A Sigma_s + Cov(s, eta)",
                                 "A Sigma_s + Cov(eta, s)", "notation (Cov(s, eta) for Cov(eta, s): sum not conformable)",
                                 "Cov(As + eta, s) = A Sigma_s + Cov(eta, s) = A")


# ------------------------------------------------------------------ eqs. 59, 61: p(x|z) for p(z|x)
def reversed_59() -> Comparison:
    """The printed left side p(x|z) = N(x; Dz, I_N) against the posterior N(z; mu_z|x, Sigma_z|x) it names."""
    from .gaussian import gaussian_log_density, log_density_residual
    from .posterior import model_posterior
    n, kk = 3, 2
    C = concrete(n, kk)
    z = sp.Matrix(kk, 1, lambda i, j: sp.Symbol(f"z_{i + 1}", real=True))
    mean, _ = model_posterior(C.D, C.x)
    lhs = gaussian_log_density(C.x, C.D * z, sp.eye(n))
    named = gaussian_log_density(z, mean, precision=C.D.T * C.D + sp.eye(kk))
    res = log_density_residual([lhs], [named])
    broken = None
    if any(v != 0 for v in res):
        parts = ", ".join(f"{name} {'non-zero' if v != 0 else 'zero'}"
                          for name, v in zip(("2pi power", "determinant part", "quadratic part"), res))
        broken = ("log p_theta(x|z) = log N(x; Dz, I_N) minus log N(z; mu_z|x, Sigma_z|x) (the density the right side "
                  f"names) leaves a non-zero residual at N = {n}, k = {kk} ({parts}). The left side is repaired as "
                  "p_theta(z|x).")
    return _erratum_or_confirmed("59", "Left side p_theta(x|z) of eq. (59)", broken, "p_theta(x|z) = N(x; Dz, I_N)",
                                 "p_theta(z|x) = N(z; mu_z|x, Sigma_z|x)", "notation (conditional reversed)",
                                 "p_theta(z|x) = N(mu_z|x, Sigma_z|x)")


def reversed_61(n: int = 2, kk: int = 1) -> Comparison:
    """D_KL(q(z|x) || p_theta(x|z)) taken literally, against the printed right side with E, F of eq. (26)."""
    from .appendix_bc import log_simplify
    C = concrete(n, kk)
    z = sp.Matrix(kk, 1, lambda i, j: sp.Symbol(f"z_{i + 1}", real=True))
    mu = sp.Matrix(kk, 1, lambda i, j: sp.Symbol(f"mu_{i + 1}", real=True))
    s = sp.symbols(f"s1:{kk + 1}", positive=True)
    # E_q[log q(z|x) - log N(x; Dz, I_N)]: the 'KL' against the printed second argument, a density of x
    log_q = -kk * sp.log(2 * sp.pi) / 2 - sum(sp.log(v) for v in s) / 2 \
        - sum((z[i] - mu[i]) ** 2 / s[i] for i in range(kk)) / 2
    r = C.x - C.D * z
    log_lik = -n * sp.log(2 * sp.pi) / 2 - (r.T * r)[0, 0] / 2
    literal = expect_polynomial(sp.expand(log_q - log_lik), list(z), mu, sp.diag(*s))
    G = C.D.T * C.D + sp.eye(kk)                  # E^-1 of eq. (26)
    printed = P.printed_61(inv(G) * C.D.T * C.x, mu, G, sp.diag(*s))
    c = _compare("61", "KL against p_theta(x|z) taken literally", literal, printed, simplifier=log_simplify,
                 kind="notation (conditional reversed: p_theta(x|z) for p_theta(z|x) inside the KL)",
                 corrected="MIE = E_p(x)[D_KL(q_phi(z|x) || p_theta(z|x))]",
                 display=("E_q[log q(z|x) - log p_theta(x|z)], p_theta(x|z) = N(x; Dz, I_N)",
                          "the printed right side with E, F of eq. (26)"))
    if c.verdict != "erratum":
        return c
    return Comparison(**{**c.__dict__, "evidence": "p_theta(x|z) is a density of x, not of z; taken literally the "
                         "'KL' differs from the printed right side (which is KL(q(z|x) || p_theta(z|x))): "
                         + c.evidence + f" (at N = {n}, k = {kk})."})


def notation_errata() -> list[Comparison]:
    """The repairs, in equation order (eqs. 36 and 58 are recorded with their comparisons in derivations.errata)."""
    return [index_ranges_23(), triple_index_23(), product_43(), triple_index_46(), undefined_47(), covariance_50(),
            reversed_59(), reversed_61()]

"""What the paper printed, transcribed as SymPy, with the reading chosen for each equation.

The source is a PDF text extraction (``../shared/paper``): sub- and superscripts are flattened
(``W σ ab`` is W^sigma_ab), ``>`` is a transpose. ``TEXT`` holds the extraction verbatim (whitespace
normalised); ``READING`` states how it was read and any ambiguity. Transcriptions are at
general dimension where the printed form allows, otherwise explicit at concrete dimension
(``explicit_*`` builders take a :class:`~derivations.symbols.Concrete`).

>>> sorted(TEXT)[:4]
['19', '21', '22', '23.1']
"""
from __future__ import annotations

import sympy as sp

from .symbols import (A, D, I_k, I_N, N, Sigma_x, W_mu, W_sigma, b_D, b_mu, b_sigma, beta, k, x)

TEXT = {
    "19": "µs|x = (A>A + Ik)−1A>x and Σs|x = (A>A + Ik)−1.",
    "21": "Lβ =− 1/2 { Tr[(DWµ − IN)Σx(DWµ − IN)>] + βTr[WµΣx(Wµ)>] + Σ_i^k ([D>D]ii + β) e^{1/2 [WσΣx(Wσ)>]ii + bσi} "
          "+ (Dbµ + bD)2 + β(bµ)2 − β Σ_i^k bσi }",
    "22": "bµ = bD = 0,",
    "23.1": "0 = [(D>(DWµ − IN) + βWµ)Σx]ab,",
    "23.2": "0 = [(DWµ − IN)Σx(Wµ)>]ab + Dab e^{1/2 [WσΣx(Wσ)>]bb + bσb},",
    "23.3": "0 = ([D>D]aa + β) e^{1/2 [WσΣx]ab Wσab + bσa} [WσΣx]ab,",
    "23.4": "0 = ([D>D]aa + β) e^{1/2 [WσΣx(Wσ)>]aa + bσa} − β.",
    "24": "µz|x = (D>D + Ik)−1D>x and Σz|x = (D>D + Ik)−1.",
    "25": "MIE/TIE = 1/2 { Σ_i^k E−1ii exp[1/2 (WσΣx(Wσ)>)ii + bσi] − Σ_i^k bσi + Tr log E "
          "+ Tr[(F−Wµ)>E−1(F−Wµ)Σx] − k },",
    "26": "E = (D>D + Ik)−1, F = (D>D + Ik)−1D>,",
    "27": "E = (A>A + Ik)−1, F = (A>A + Ik)−1A>.",
    "36": "Z[J] = exp{ 1/2 (JA)>Σz(JA) }.",
    "37": "Ez∼N(0,Σz)[z>A>Az] = Tr(AΣzA>)",
    "38": "Ez∼qφ(z|x)[log pθ(x|z)] = −(Dµz + bD − x)2 − Tr(D>DΣz).   (up to constants)",
    "39": "DKL(qφ(z|x)‖p(z)) = −1/2 (k + Tr log Σz − µ>z µz − TrΣz)",
    "40": "L = 1/2 Ep(x)[ −(Dµz + bD − x)>(Dµz + bD − x) − βµ>z µz − Tr(D>DΣz) + βTr log Σz − βTrΣz ].  (neglecting constant terms)",
    "42": "0 = ∂L/∂Wµab = [(D>(DWµ − IN) + βWµ)Σ]ab,",
    "43": "0 = ∂L/∂bµa = [(Dbµ + bD)D + βbµ]a,",
    "44": "0 = ∂L/∂Dab = [(DWµ − IN)Σ(Wµ)>]ab + [Dbµ + bD]a bµb + Dab e^{1/2 [WσΣ(Wσ)>]bb + bσb},",
    "45": "0 = ∂L/∂bDa = [Dbµ + bD]a",
    "46": "0 = ∂L/∂Wσab = ([D>D]aa + β) e^{1/2 [WσΣ]ab Wσab + bσa} [WσΣ]ab,",
    "47": "0 = ∂L/∂bσa = ([D>D]aa + β) e^{1/2 [WσC(Wσ)>]aa + bσa} − β.",
    "49": "µs|x = µs + Cov(x, s)>(Σx)−1(x − µx),  Σs|x = Σs − Cov(x, s)>(Σx)−1Cov(x, s).",
    "50": "Cov(x, s) = Cov(As+η, s) = AΣs + Cov(s,η) = A.",
    "51": "µs|x = A>(AA> + IN)−1x = (A>A + Ik)−1A>x,",
    "52": "(IN + UV)−1U = U(Ik + VU)−1.",
    "53": "Σs|x = Ik −A>(AA> + IN)−1A = Ik −A>A(A>A + Ik)−1 = Ik −A>A[(A>A)−1 − (A>A)−1(A>A + Ik)−1] = (A>A + Ik)−1,",
    "54": "(B+UV)−1 = B−1−B−1U(Ik+VB−1U)−1VB−1.",
    "57": "pθ(x) = N (0, (DD> + IN )).",
    "58": "pθ(x|z) = N (Dz, IN )N (0, Ik) / N (0, (DD> + IN ))",
    "59": "pθ(x|z) = N ((DD> + IN )−1D>, (DD> + IN )−1) ≡ N (µz|x,Σz|x).",
    "61": "MIE = Ep(x)[DKL(qφ(z|x)‖pθ(x|z))] = 1/2 Ep(x)[ (Fx− µz)>E−1(Fx− µz) + Tr(E−1Σz) − log(det Σz / det E) − k ].",
}

READING = {
    "21": "(Dbµ + bD)2 and β(bµ)2 read as squared Euclidean norms; the sums run over latent units i = 1..k.",
    "23.1": "Indices a, b range over the shape of W_mu (k x N); the paper's note 'a = 1..N; b = 1..k' fits D only.",
    "23.3": "The exponent '1/2 [WσΣx]ab Wσab' is read with the Einstein convention the appendix announces, "
            "summing over b: [W_sigma Sigma_x W_sigma^T]_aa. The literal reading (b free) is not a function of the unit a "
            "alone; either reading gives the same zero set, since the prefactor is positive.",
    "25": "'E−1ii' read as (E^-1)_ii (a diagonal entry of the precision); the alternative 1/E_ii is checked below and "
          "does not match the derivation. 'Tr log E' read as log det E.",
    "36": "J is a column vector, as in eq. (34) (J^T A z).",
    "38": "'(·)2' read as the squared norm; 'up to constants' read as additive constants.",
    "43": "'(Dbµ + bD)D' read as the row vector (D b_mu + b_D)^T D, i.e. [D^T (D b_mu + b_D)]_a.",
    "46": "Same exponent reading as 23.3 (Einstein sum over b inside the exponent).",
    "47": "'WσC(Wσ)>': C is not defined anywhere in the paper (a notational slip of the paper, since Sigma is "
          "extracted correctly everywhere else); read as Sigma (= Sigma_x), as in (44) and (23).",
    "58": "The left side is printed as p_theta(x|z); the right side is Bayes' rule for p_theta(z|x).",
    "59": "Printed mean '(DD> + IN)−1D>' has no x; printed covariance is N x N.",
    "61": "Inside the KL the second argument is printed p_theta(x|z); read as the model posterior p_theta(z|x) that "
          "E, F of eq. (60) describe.",
}


# ------------------------------------------------------------------ general-dimension transcriptions
def sq(v):
    """Squared norm v^T v of a column MatrixExpr, as a scalar."""
    return sp.Trace(v.T * v)


def e_unit(i, M=Sigma_x):
    return sp.exp((W_sigma * M * W_sigma.T)[i, i] / 2 + b_sigma[i, 0])


def printed_21():
    i = sp.Symbol("i", integer=True, nonnegative=True)
    return -sp.Rational(1, 2) * (
        sp.Trace((D * W_mu - I_N) * Sigma_x * (D * W_mu - I_N).T) + beta * sp.Trace(W_mu * Sigma_x * W_mu.T)
        + sp.Sum(((D.T * D)[i, i] + beta) * e_unit(i), (i, 0, k - 1))
        + sq(D * b_mu + b_D) + beta * sq(b_mu) - beta * sp.Sum(b_sigma[i, 0], (i, 0, k - 1)))


def printed_19(A_=A, x_=x):
    return (A_.T * A_ + I_k).I * A_.T * x_, (A_.T * A_ + I_k).I


def printed_24():
    return (D.T * D + I_k).I * D.T * x, (D.T * D + I_k).I


# Stationarity: each entry [.]_ab as a function of explicit matrices (a Concrete-like namespace `m`)
def _ce(m):
    """Unit exponentials e_a = exp(1/2 [W_sigma Sigma W_sigma^T]_aa + b_sigma_a), explicit."""
    Q = m.W_sigma * m.Sigma_x * m.W_sigma.T
    return [sp.exp(Q[a, a] / 2 + m.b_sigma[a]) for a in range(Q.shape[0])]


def printed_42(m):
    return (m.D.T * (m.D * m.W_mu - sp.eye(m.N)) + beta * m.W_mu) * m.Sigma_x


def printed_43(m):
    return ((m.D * m.b_mu + m.b_D).T * m.D).T + beta * m.b_mu


def printed_44(m):
    e = _ce(m)
    out = (m.D * m.W_mu - sp.eye(m.N)) * m.Sigma_x * m.W_mu.T + (m.D * m.b_mu + m.b_D) * m.b_mu.T
    return out + sp.Matrix(m.N, m.k, lambda a, b: m.D[a, b] * e[b])


def printed_45(m):
    return m.D * m.b_mu + m.b_D


def printed_46(m):
    DD = m.D.T * m.D
    WS = m.W_sigma * m.Sigma_x
    # Einstein reading of the exponent: sum_b [W Sigma]_ab W_ab = [W Sigma W^T]_aa
    e = [sp.exp(sum(WS[a, b] * m.W_sigma[a, b] for b in range(m.N)) / 2 + m.b_sigma[a]) for a in range(m.k)]
    return sp.Matrix(m.k, m.N, lambda a, b: (DD[a, a] + beta) * e[a] * WS[a, b])


def printed_46_literal(m):
    """The other reading: b free inside the exponent."""
    DD = m.D.T * m.D
    WS = m.W_sigma * m.Sigma_x
    return sp.Matrix(m.k, m.N, lambda a, b: (DD[a, a] + beta) * sp.exp(WS[a, b] * m.W_sigma[a, b] / 2 + m.b_sigma[a])
                     * WS[a, b])


def printed_47(m):
    DD = m.D.T * m.D
    e = _ce(m)
    return sp.Matrix(m.k, 1, lambda a, _: (DD[a, a] + beta) * e[a] - beta)


def printed_23(m, line):
    """Eq. (23): eqs. (42), (44), (46), (47) with b_mu = b_D = 0 (eq. 22)."""
    return {1: printed_42, 2: printed_44, 3: printed_46, 4: printed_47}[line](m)


def printed_25(E_inv_, F_, m, e_ii_reading="precision"):
    """Eq. (25) explicit. ``e_ii_reading``: 'precision' -> (E^-1)_ii; 'inverse-entry' -> 1/E_ii."""
    e = _ce(m)
    E = E_inv_.inv()
    diag = [E_inv_[i, i] if e_ii_reading == "precision" else 1 / E[i, i] for i in range(m.k)]
    G = F_ - m.W_mu
    return (sum(diag[i] * e[i] for i in range(m.k)) - sum(m.b_sigma) + sp.log(E.det())
            + (G.T * E_inv_ * G * m.Sigma_x).trace() - m.k) / 2


def printed_36(J, Amat, Sz):
    """exp{(1/2) (J A)^T Sigma_z (J A)}: raises ShapeError unless the product is conformable."""
    JA = J * Amat
    return sp.exp((JA.T * Sz * JA)[0, 0] / 2)


def printed_38(r_sq, tr_dds):
    """-(D mu + b_D - x)^2 - Tr(D^T D Sigma_z), with the two pieces given."""
    return -r_sq - tr_dds


def printed_39(k_, tr_log_S, mu_sq, tr_S):
    return -(k_ + tr_log_S - mu_sq - tr_S) / 2


def printed_40(r_sq, mu_sq, tr_dds, tr_log_S, tr_S):
    return (-r_sq - beta * mu_sq - tr_dds + beta * tr_log_S - beta * tr_S) / 2


def printed_59(Dm):
    """(mean coefficient, covariance) as printed: ((D D^T + I_N)^-1 D^T, (D D^T + I_N)^-1)."""
    n = Dm.shape[0]
    C = (Dm * Dm.T + sp.eye(n)).inv()
    return C * Dm.T, C


def printed_53_lines(Am):
    kk = Am.shape[1]
    n = Am.shape[0]
    AtA = Am.T * Am
    return [
        sp.eye(kk) - Am.T * (Am * Am.T + sp.eye(n)).inv() * Am,
        sp.eye(kk) - AtA * (AtA + sp.eye(kk)).inv(),
        sp.eye(kk) - AtA * (AtA.inv() - AtA.inv() * (AtA + sp.eye(kk)).inv()),
        (AtA + sp.eye(kk)).inv(),
    ]

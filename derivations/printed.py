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

from .symbols import A, D, I_k, I_N, Sigma_x, W_mu, W_sigma, b_D, b_mu, b_sigma, beta, k, x

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
    "35": "(δ/δJ)>(δ/δJ) Z[J]|J=0 = Ez∼N(0,Σz)[z>A>Az]",
    "36": "Z[J] = exp{ 1/2 (JA)>Σz(JA) }.",
    "37": "Ez∼N(0,Σz)[z>A>Az] = Tr(AΣzA>)",
    "38": "Ez∼qφ(z|x)[log pθ(x|z)] = −(Dµz + bD − x)2 − Tr(D>DΣz).   (up to constants)",
    "39": "DKL(qφ(z|x)‖p(z)) = −1/2 (k + Tr log Σz − µ>z µz − TrΣz)",
    "40": "L = 1/2 Ep(x)[ −(Dµz + bD − x)>(Dµz + bD − x) − βµ>z µz − Tr(D>DΣz) + βTr log Σz − βTrΣz ].  (neglecting constant terms)",
    "41": "L =− 1/2 { (DijWµjk − δik)Σkl(WµmlDim − δil) − β Σ_i bσi + β(Wµ)ijΣjkWµik + (Dijbµj + bDi)2 + β(bµi)2 "
          "+ Σ_i (D2li + β) exp(1/2 WσijΣjkWσik + bσi) }",
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
    # Policy (derivations.errata): a reading that REPAIRS the paper's notation (undefined symbol, index ranges that do
    # not fit, an index summed and free in one term, a reversed conditional, a non-conformable product) is itself a
    # notation erratum (derivations.notation); a reading that only applies a standard or announced convention is not.
    "21": "(Dbµ + bD)2 and β(bµ)2 read as squared Euclidean norms (the convention v2 = v^T v, not a repair); the sums "
          "run over latent units i = 1..k.",
    "23.1": "Indices a, b range over the shape of W_mu (k x N). The paper's note 'a = 1..N; b = 1..k' fits only line 2 "
            "(D, N x k): reading lines 1, 3, 4 with their own ranges is a repair (notation erratum of eq. 23).",
    "23.3": "The exponent '1/2 [WσΣx]ab Wσab' is read as a sum over b: [W_sigma Sigma_x W_sigma^T]_aa. The index b "
            "appears three times in one term: the announced Einstein convention would sum it in the exponent while it stays "
            "free in the factor [WσΣx]ab, so the term is ill-formed and the reading is a repair (notation erratum of "
            "eq. 23.3). The literal reading (b free) "
            "is not a function of the unit a alone; both give the same zero set, since the prefactor is positive.",
    "25": "'E−1ii' read as (E^-1)_ii (a diagonal entry of the precision) and 'Tr log E' as log det E: conventions, not "
          "repairs; the alternative 1/E_ii is checked below and does not match the derivation.",
    "35": "Z[J] is that of eq. (34): the density of N(0, Sigma_z) times exp(J^T A z), i.e. the moment-generating "
          "function of z at t = A^T J (the engine's mgf); its n is the dimension of z, the normalisation of "
          "N(0, Sigma_z) in a generic lemma (a convention, not a repair). (d/dJ)^T (d/dJ) read as the Laplacian "
          "sum_i d^2/dJ_i^2. Compared with E[z^T A^T A z] from the engine's moments, z in R^3, A 2 x 3.",
    "36": "J is a column vector, as in eq. (34) (J^T A z).",
    "38": "'(·)2' read as the squared norm (convention); 'up to constants' read as additive constants.",
    "39": "'Tr log Σz' read as log det Sigma_z (convention).",
    "41": "Einstein summation over repeated indices, as App. B-B announces, and Σ for Σx (announced): conventions, not "
          "repairs. '(Dijbµj + bDi)2' is the square of that entry summed over i (v2 = v^T v); 'D2li' is (D_li)^2 summed "
          "over l; each index runs over the dimension of the slot it occupies. Transcribed literally as explicit sums "
          "at (N, k) = (3, 2) and (2, 3).",
    "43": "'(Dbµ + bD)D' is an N-vector times an N x k matrix, not conformable: read as the row vector "
          "(D b_mu + b_D)^T D, i.e. [D^T (D b_mu + b_D)]_a -- a repair (notation erratum of eq. 43).",
    "44": "'[WσΣ(Wσ)>]bb' and '[D>D]aa' (here and in 21, 23, 46, 47) are read as diagonal entries, the usual meaning of "
          "[M]_ii, not as Einstein sums over the repeated index: a convention, not a repair.",
    "46": "Same exponent reading as 23.3 (sum over b inside the exponent): a repair (notation erratum of eq. 46).",
    "47": "'WσC(Wσ)>': C is not defined anywhere in the paper (a notational slip, since Sigma is extracted correctly "
          "everywhere else); read as Sigma (= Sigma_x), as in (44) and (23) -- a repair (notation erratum of eq. 47).",
    "49": "Conditioning of a joint Gaussian, Cov(x, s) = E[(x - mu_x)(s - mu_s)^T] (N x k, the orientation the formula "
          "needs); specialised to (17): mu_s = 0, mu_x = 0, Sigma_s = I_k, and Sigma_x, Cov(x, s) computed by the "
          "engine from x = A s + eta. Compared with the posterior from Bayes' rule (engine) at N = 3, k = 2.",
    "50": "Cov(x, s) = E[x s^T] (N x k). The middle member 'AΣs + Cov(s,η)' adds the k x N matrix Cov(s, eta) to the "
          "N x k matrix A Sigma_s: read as Cov(eta, s) -- a repair (notation erratum of eq. 50); both are zero, so the "
          "result A is unaffected.",
    "52": "U in R^{N x k}, V in R^{k x N} with independent symbolic entries; both sides compared entry by entry at "
          "(N, k) = (3, 2) and (2, 3).",
    "54": "B in R^{N x N} (generic, invertible), U, V as in (52); the middle factor I_k + V B^-1 U as printed. Compared "
          "with (B + UV)^-1 computed directly, at (N, k) = (2, 1) and (2, 2).",
    "57": "The evidence of the model at b_D = 0: Section IV.B computes the model posterior 'at the network optimum', where "
          "eq. (22) gives b_D = 0 (and eq. 56 writes N(Dz, I_N)). Compared by mean and covariance (the marginal of a "
          "linear-Gaussian model is Gaussian, determined by them), computed by the engine from x = D z + eta.",
    "58": "The left side is printed as p_theta(x|z); the right side is Bayes' rule for p_theta(z|x).",
    "59": "Printed mean '(DD> + IN)−1D>' has no x; printed covariance is N x N. The left side p_theta(x|z) is read as "
          "p_theta(z|x), the posterior that '≡ N(µz|x, Σz|x)' names -- a repair (notation erratum of eq. 59).",
    "61": "Inside the KL the second argument is printed p_theta(x|z), a density of x; read as the model posterior "
          "p_theta(z|x) that E, F of eq. (60) describe -- a repair (notation erratum of eq. 61). With that reading the "
          "formula is compared with KL(q(z|x) || N(Fx, E)) from the engine (Sigma_z diagonal, eq. 20), k = 2.",
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


# ------------------------------------------------------------------ Appendix B, eqs. 35-61 (explicit)
def printed_35(Z, J):
    """(d/dJ)^T (d/dJ) Z[J] at J = 0: the Laplacian in the components of the source J."""
    return sum(sp.diff(Z, j, 2) for j in J).subs({j: 0 for j in J})


def printed_41(m):
    """Eq. (41) literally, every repeated index an explicit sum over the dimension of its slot."""
    n, kk, Dm, W, S, Ws, bm, bD, bs = m.N, m.k, m.D, m.W_mu, m.Sigma_x, m.W_sigma, m.b_mu, m.b_D, m.b_sigma
    R, K = range(n), range(kk)
    d = lambda a, b: 1 if a == b else 0   # noqa: E731 - Kronecker delta
    first = sum((sum(Dm[i, j] * W[j, k_] for j in K) - d(i, k_)) * S[k_, l_]
                * (sum(W[m_, l_] * Dm[i, m_] for m_ in K) - d(i, l_)) for i in R for k_ in R for l_ in R)
    second = beta * sum(W[i, j] * S[j, k_] * W[i, k_] for i in K for j in R for k_ in R)
    bias = sum((sum(Dm[i, j] * bm[j] for j in K) + bD[i]) ** 2 for i in R)
    units = sum((sum(Dm[l_, i] ** 2 for l_ in R) + beta)
                * sp.exp(sum(Ws[i, j] * S[j, k_] * Ws[i, k_] for j in R for k_ in R) / 2 + bs[i]) for i in K)
    return -sp.Rational(1, 2) * (first - beta * sum(bs) + second + bias + beta * sum(b ** 2 for b in bm) + units)


def printed_49(cov_xs, Sigma_s, Sigma_x_, mu_s, mu_x, x_):
    """(mean, covariance) of s|x by the printed conditioning formula."""
    Sx_inv = Sigma_x_.inv()
    return mu_s + cov_xs.T * Sx_inv * (x_ - mu_x), Sigma_s - cov_xs.T * Sx_inv * cov_xs


def printed_50(Am):
    """Cov(x, s) = A, the printed end result."""
    return Am


def printed_50_middle(Am, Sigma_s, cov_s_eta):
    """The printed middle member A Sigma_s + Cov(s, eta): ShapeError unless Cov(s, eta) (k x N) fits N x k."""
    return Am * Sigma_s + cov_s_eta


def printed_52(U_, V_):
    """(left, right) of the push-through identity (I_N + UV)^-1 U = U (I_k + VU)^-1."""
    n, kk = U_.shape
    return (sp.eye(n) + U_ * V_).inv() * U_, U_ * (sp.eye(kk) + V_ * U_).inv()


def printed_54(B_, U_, V_):
    """The printed right side B^-1 - B^-1 U (I_k + V B^-1 U)^-1 V B^-1."""
    kk = U_.shape[1]
    Bi = B_.inv()
    return Bi - Bi * U_ * (sp.eye(kk) + V_ * Bi * U_).inv() * V_ * Bi


def printed_57(Dm):
    """(mean, covariance) of the printed marginal N(0, D D^T + I_N)."""
    n = Dm.shape[0]
    return sp.zeros(n, 1), Dm * Dm.T + sp.eye(n)


def printed_61(Fx, mu, E_inv_, Sigma_z):
    """The right side of eq. (61) inside E_p(x): 1/2 [(Fx-mu)^T E^-1 (Fx-mu) + Tr(E^-1 Sigma_z) - log(det Sigma_z/det E) - k]."""
    r = Fx - mu
    det_E = 1 / E_inv_.det()
    return ((r.T * E_inv_ * r)[0, 0] + (E_inv_ * Sigma_z).trace() - sp.log(Sigma_z.det() / det_E) - mu.shape[0]) / 2


# ------------------------------------------------------------------ literal readings that need a repair
INDEX_RANGES_23 = {"a": "N", "b": "k"}   # the paper's note under eq. (23): 'a = 1, ..., N; b = 1, ..., k'


def printed_43_literal(m):
    """'(D b_mu + b_D) D' as written: an N-vector times an N x k matrix (ShapeError unless N = 1)."""
    return (m.D * m.b_mu + m.b_D) * m.D + beta * m.b_mu


def printed_47_literal(m, C):
    """Eq. (47) with its undefined C kept as a free matrix."""
    DD = m.D.T * m.D
    Q = m.W_sigma * C * m.W_sigma.T
    return sp.Matrix(m.k, 1, lambda a, _: (DD[a, a] + beta) * sp.exp(Q[a, a] / 2 + m.b_sigma[a]) - beta)

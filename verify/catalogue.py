"""The claims catalogue: every claim of the paper, with a stable id, its section, the paper's words,
and the check that decides its verdict. This list is the single source of truth: the audit runs it,
the report prints it, and ``tests/test_claims.py`` generates one pytest test per entry
(``pytest -m claims``, ``pytest -k prop1``).

>>> len(ids()) == len(set(ids()))
True
>>> claim("prop1").section
'III, Prop. 1'
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from . import checks_deep as deep
from . import checks_fig1 as fig1
from . import checks_literature as lit
from . import checks_literature_units as lit_units
from . import checks_propositions as props
from . import checks_protocol as protocol
from . import checks_theorem as theorem
from . import checks_tractable as tract
from .checks_equations import equation_check


# The shared results a check may ask of the audit context (verify.context.AuditContext), declared per claim so that
# the audit can prepare and schedule them: the derivation document, and the three trained-network runs.
DOCUMENT, FIG2, FIG3, CROSSCHECK = "document", "fig2", "fig3", "crosscheck"
NEEDS = (DOCUMENT, FIG2, FIG3, CROSSCHECK)
TRAINING = frozenset({FIG2, FIG3, CROSSCHECK})


@dataclass(frozen=True)
class Claim:
    id: str
    section: str
    statement: str               # the paper's words (PDF extraction, lightly cleaned)
    check: Callable
    kind: str                    # proposition | equation | analysis | figure | trained | protocol
    needs: frozenset = frozenset()   # the shared results of NEEDS its check reads (enforced by run_claim)

    def __post_init__(self):
        object.__setattr__(self, "needs", frozenset(self.needs))
        unknown = self.needs - set(NEEDS)
        if unknown:
            raise ValueError(f"claim {self.id}: unknown needs {sorted(unknown)} (known: {', '.join(NEEDS)})")

    @property
    def trained(self) -> bool:
        """Needs trained networks (torch)."""
        return bool(self.needs & TRAINING)

    @property
    def test(self) -> str:
        """The pytest node that decides this verdict."""
        return f"tests/test_claims.py::test_claim[{self.id}]"


def _eq(number, section, statement, prefix=None):
    return Claim(f"eq{number}", section, statement, equation_check(prefix or str(number)), "equation",
                 needs={DOCUMENT})


CLAIMS: tuple[Claim, ...] = (
    # ---- Section II-III: general results
    Claim("eq4", "II, eq. 4", "ln pθ(x) − DKL(qφ(z|x)||pθ(z|x)) = Eqφ(z|x)[ln pθ(x|z)] − DKL(qφ(z|x)||p(z)).",
          tract.check_eq4, "analysis"),
    Claim("prop1", "III, Prop. 1", "The optimal value of the β-VAE objective, L*(β), is non-increasing with increasing β: "
          "∂L*(β)/∂β = −DKL(qφ*(z|x)||p(z)) ≤ 0. (10)", props.check_prop1, "proposition",
          needs={DOCUMENT}),
    Claim("prop2", "III, Prop. 2", "The KL divergence between the inference model and the prior is non-increasing with "
          "increasing β (12). Together with Proposition 1, this implies that dEqφ*(z|x)[log pθ*(x|z)]/dβ ≤ 0 (13).",
          props.check_prop2, "proposition", needs={DOCUMENT}),
    Claim("prop3", "III, Prop. 3", "ELBO* is maximized at β = 1 (via eqs. 14-15).", props.check_prop3, "proposition",
          needs={DOCUMENT}),
    Claim("prop4", "App. A, Prop. 4", "For O(κ; β) = A(κ) − βB(κ) maximised over κ, with κ*(β) = argmax O: as β "
          "increases B(κ*(β)) is nonincreasing.", props.check_prop4, "proposition"),
    Claim("sec3-mie-nonmonotone", "III, eq. 16", "As reconstruction performance worsens with β, it is reasonable to "
          "expect that the data likelihood decreases with β. Because ELBO is non-monotonic with a maximum, even if the "
          "data log-likelihood was monotonic with β, we can expect a non-monotonic behavior of MIE with an optimal value.",
          tract.check_sec3_mie, "analysis", needs={DOCUMENT}),
    Claim("sec4a-fixed-decoder", "IV.A", "[With the decoder fixed] ELBO* is maximized at β = 1 from Proposition 3, which "
          "can be seen to apply to fixed θ. This means MIE is minimum at β = 1.", props.check_sec4a, "analysis",
          needs={DOCUMENT}),
    # ---- Section IV.B: the tractable model
    _eq(19, "IV.B, eq. 19", "pg-t(s|x) = N(µs|x, Σs|x), µs|x = (AᵀA + Ik)⁻¹Aᵀx, Σs|x = (AᵀA + Ik)⁻¹."),
    Claim("sec4b-posterior-nondiagonal", "IV.B", "Note that the covariance matrix of the posterior is non-diagonal. Even "
          "though the latent factors are statistically independent, when conditioned on data they are dependent.",
          tract.check_posterior_nondiagonal, "analysis"),
    Claim("sec4b-decoder-capable", "IV.B", "Our decoder is fully capable of modeling the data generative process (18), by "
          "choosing D = A, bD = 0 and σy² = 1.", tract.check_decoder_capable, "analysis"),
    _eq(21, "IV.B, eq. 21", "The β-VAE objective with the data integrated out (eq. 21)."),
    _eq(22, "IV.B, eq. 22", "Setting the derivatives to zero gives bµ = bD = 0."),
    _eq(23, "IV.B, eq. 23", "The remaining stationarity conditions (four lines, a = 1..N, b = 1..k)."),
    _eq(24, "IV.B, eq. 24", "pθ(z|x) = N(µz|x, Σz|x), µz|x = (DᵀD + Ik)⁻¹Dᵀx, Σz|x = (DᵀD + Ik)⁻¹."),
    _eq(25, "IV.B, eq. 25", "MIE/TIE after integrating out the data (eq. 25 with E, F of eqs. 26/27)."),
    _eq(26, "IV.B, eq. 26", "For MIE: E = (DᵀD + Ik)⁻¹, F = (DᵀD + Ik)⁻¹Dᵀ."),
    _eq(27, "IV.B, eq. 27", "For TIE: E = (AᵀA + Ik)⁻¹, F = (AᵀA + Ik)⁻¹Aᵀ."),
    Claim("sec4b-trained-linear", "IV.B", "As an example, we numerically solve eq. (23) for N = 128, k = 2, "
          "Aij = ½(1 + δij), and use the optimal network parameters to calculate ELBO and inference errors.",
          deep.check_trained_linear, "trained", needs={CROSSCHECK}),
    Claim("fig1-elbo-max-at-1", "IV.B, Fig. 1A", "We see that ELBO is maximized at β = 1.", fig1.check_fig1_elbo, "figure",
          needs={DOCUMENT}),
    Claim("fig1-mie-finite-optimum", "IV.B, Fig. 1B", "The inference error [MIE] is not monotonically decreasing and has "
          "a minimum at some β.", fig1.check_fig1_mie, "figure", needs={DOCUMENT}),
    Claim("fig1-tie-finite-optimum", "IV.B, Fig. 1B", "The inference error [TIE] is not monotonically decreasing and has "
          "a minimum at some β.", fig1.check_fig1_tie, "figure", needs={DOCUMENT}),
    Claim("fig1-loglik-decreasing", "IV.B", "Also, data log-likelihood is monotonically decreasing with β (not shown).",
          fig1.check_fig1_loglik, "figure", needs={DOCUMENT}),
    Claim("fig1-reconstruction-decreasing", "IV.B, Fig. 1C", "[The reconstruction objective is] monotonically "
          "decreasing with β, confirming our propositions.", fig1.check_fig1_reconstruction, "figure",
          needs={DOCUMENT}),
    Claim("fig1-kl-decreasing", "IV.B, Fig. 1D", "[The conditional independence loss is] monotonically decreasing with "
          "β, confirming our propositions.", fig1.check_fig1_kl, "figure", needs={DOCUMENT}),
    Claim("abstract-finite-optimal-beta", "Abstract, I", "This incompatibility leads to a non-monotonic inference "
          "performance in β-VAE with a finite optimal β.", tract.check_finite_optimal_beta, "analysis"),
    # ---- Beyond the paper: the general linear model and the literature
    Claim("beta-is-decoder-variance", "Beyond, decoder variance (Lucas et al. 2019)", "Beyond the paper: the β-VAE "
          "optimum is the plain VAE's (β = 1) whose decoder variance is β; generally the optimum at (β, σd²) is the "
          "unit model's at β' = βσd², and L(β, σd²) = L_unit(β')/σd² + (N/2)log(2π)/σd² − (N/2)log(2πσd²) (the "
          "equivalence of β and the decoder's noise variance, e.g. Lucas, Tucker, Grosse & Norouzi 2019). So the ELBO "
          "and the log-likelihood of the unit-variance decoder peak at β = 1, because β = 1 is the true noise model.",
          lit.check_beta_is_decoder_variance, "analysis"),
    Claim("lit-ppca", "Beyond, Tipping & Bishop 1999", "Beyond the paper: at β = 1 the optimum is the maximum-likelihood "
          "probabilistic PCA solution of Tipping & Bishop (1999), W = U(Λ − σ²I)^{1/2}R with σ² the known decoder "
          "variance, columns with λ ≤ σ² zero.", lit.check_lit_ppca, "analysis"),
    Claim("lit-collapse-threshold", "Beyond, Lucas et al. 2019", "Beyond the paper: unit i collapses (decoder gain 0, "
          "q(z_i|x) = p(z_i), KL_i = 0) exactly when λ_i ≤ βσd² (Lucas, Tucker, Grosse & Norouzi 2019, \"Don't blame "
          "the ELBO!\"); the paper's thresholds β = 1.25 and 66.25 are an instance.",
          lit_units.check_lit_collapse, "analysis"),
    Claim("lit-pca-alignment", "Beyond, Rolinek et al. 2019", "Beyond the paper: the optimal decoder's columns are "
          "aligned with principal directions (eigenvectors) of Σx, not with the sources (Rolinek, Zietlow & Martius "
          "2019), which is why the gauge-aligned TIE stays positive at every β when the columns of A are not "
          "orthogonal.", lit_units.check_lit_pca_alignment, "analysis"),
    Claim("thm-orthogonal-columns", "Beyond, Abstract", "Beyond the paper (the audit's theorem): with TIE aligned to the "
          "sources at the β-VAE optimum, the TIE-optimal β* equals 1 exactly when the columns of A are orthogonal (AᵀA "
          "diagonal, zero columns included) and β* > 1 otherwise, for every N, k, rank and repeated singular value; "
          "β* < 1 never.", theorem.check_orthogonal_theorem, "analysis"),
    # ---- Appendix B: derivation details
    _eq(35, "App. B-A, eq. 35", "(δ/δJ)ᵀ(δ/δJ) Z[J]|J=0 = Ez∼N(0,Σz)[zᵀAᵀAz], with Z[J] of eq. (34)."),
    _eq(36, "App. B-A, eq. 36", "Z[J] = exp{½ (JA)ᵀΣz(JA)}."),
    _eq(37, "App. B-A, eq. 37", "Ez∼N(0,Σz)[zᵀAᵀAz] = Tr(AΣzAᵀ)."),
    _eq(38, "App. B-A, eq. 38", "Eqφ(z|x)[log pθ(x|z)] = −(Dµz + bD − x)² − Tr(DᵀDΣz) (up to constants)."),
    _eq(39, "App. B-A, eq. 39", "DKL(qφ(z|x)||p(z)) = −½(k + Tr log Σz − µzᵀµz − TrΣz)."),
    _eq(40, "App. B-A, eq. 40", "The objective before the data average (neglecting constant terms)."),
    _eq(41, "App. B-B, eq. 41", "The objective in index notation with the Einstein summation convention (eq. 41)."),
    *(_eq(n, f"App. B-B, eq. {n}", f"0 = ∂L/∂{name} = … (eq. {n})")
      for n, name in ((42, "Wµ"), (43, "bµ"), (44, "D"), (45, "bD"), (46, "Wσ"), (47, "bσ"))),
    _eq(49, "App. B-C, eq. 49", "µs|x = µs + Cov(x, s)ᵀ(Σx)⁻¹(x − µx), Σs|x = Σs − Cov(x, s)ᵀ(Σx)⁻¹Cov(x, s) "
        "(conditioning the joint Gaussian of (s, x))."),
    _eq(50, "App. B-C, eq. 50", "Cov(x, s) = Cov(As+η, s) = AΣs + Cov(s,η) = A."),
    _eq(51, "App. B-C, eq. 51", "µs|x = Aᵀ(AAᵀ + IN)⁻¹x = (AᵀA + Ik)⁻¹Aᵀx."),
    _eq(52, "App. B-C, eq. 52", "Push-through identity: (IN + UV)⁻¹U = U(Ik + VU)⁻¹ for U ∈ RN×k, V ∈ Rk×N."),
    _eq(53, "App. B-C, eq. 53", "Σs|x = Ik − Aᵀ(AAᵀ + IN)⁻¹A = … = (AᵀA + Ik)⁻¹."),
    _eq(54, "App. B-C, eq. 54", "Woodbury identity: (B + UV)⁻¹ = B⁻¹ − B⁻¹U(Ik + VB⁻¹U)⁻¹VB⁻¹."),
    _eq(57, "App. B-D, eq. 57", "pθ(x) = N(0, DDᵀ + IN)."),
    _eq(58, "App. B-D, eq. 58", "pθ(x|z) = N(Dz, IN)N(0, Ik) / N(0, DDᵀ + IN)."),
    _eq(59, "App. B-D, eq. 59", "pθ(x|z) = N((DDᵀ + IN)⁻¹Dᵀ, (DDᵀ + IN)⁻¹) ≡ N(µz|x, Σz|x)."),
    _eq(61, "App. B-E, eq. 61", "MIE = Ep(x)[DKL(qφ(z|x)||pθ(x|z))] = ½ Ep(x)[(Fx − µz)ᵀE⁻¹(Fx − µz) + Tr(E⁻¹Σz) "
        "− log(det Σz / det E) − k]."),
    # ---- Section V and Appendix C: trained deep networks
    Claim("fig2-elbo-max-near-1", "V, Fig. 2A", "After being maximized around β = 1 the entire ELBO term decreases with β.",
          deep.check_fig2_elbo, "trained", needs={FIG2}),
    Claim("fig2-tie-finite-optimum", "V, Fig. 2B", "We also calculate the TIE for the β-VAE at various β, which follows a "
          "non-monotonic trend and has an optimal β.", deep.check_fig2_tie, "trained", needs={FIG2}),
    Claim("fig2-reconstruction-decreasing", "V, Fig. 2C", "[The reconstruction objective is] decreasing with β.",
          deep.check_fig2_reconstruction, "trained", needs={FIG2}),
    Claim("fig2-kl-decreasing", "V, Fig. 2D", "[The conditional independence loss is] decreasing with β.",
          deep.check_fig2_kl, "trained", needs={FIG2}),
    Claim("fig3-elbo-max-near-1", "App. C, Fig. 3A", "Another simulation consistent with our findings: ELBO as a function "
          "of β [maximised around β = 1].", deep.check_fig3_elbo, "trained", needs={FIG3}),
    Claim("fig3-tie-nonmonotone", "App. C, Fig. 3B", "TIE as a function of β. Its minima over various random "
          "initialization follow a non-monotonic trend.", deep.check_fig3_tie, "trained", needs={FIG3}),
    Claim("fig3-reconstruction-decreasing", "App. C, Fig. 3C", "Reconstruction objective as a function of β "
          "[decreasing].", deep.check_fig3_reconstruction, "trained", needs={FIG3}),
    Claim("fig3-kl-decreasing", "App. C, Fig. 3D", "Conditional Independence Loss as a function of β [decreasing].",
          deep.check_fig3_kl, "trained", needs={FIG3}),
    Claim("fig3-traversal-orthogonal", "App. C, Fig. 3E", "Reconstruction of the digits noticeably worsens with higher "
          "β, while units in the bottleneck encode for structured, orthogonal axes of motion [β = 1 vs β = 60].",
          deep.check_fig3_traversal, "trained", needs={FIG3}),
    Claim("appc-protocol", "V, App. C", "The experimental protocol (architecture, data, realizations, how the inference "
          "error is computed), as stated in Section V, Appendix C and the captions of Figs. 2-3.",
          protocol.check_appc_protocol, "protocol"),
)


def ids() -> list[str]:
    return [c.id for c in CLAIMS]


def claim(claim_id: str) -> Claim:
    for c in CLAIMS:
        if c.id == claim_id:
            return c
    raise KeyError(claim_id)

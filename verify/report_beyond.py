"""The report's section "Beyond the paper": what Section IV.B would have gained from four results of the literature,
written from the verdicts the audit computed for them (verify.checks_literature, verify.checks_literature_units).

A result the audit confirmed is used as stated; a qualified one with its condition; any other verdict is reported as
such and not used as an explanation.

>>> from verify.outcome import Outcome
>>> text = beyond_the_paper_markdown({"lit-ppca": Outcome("confirmed", "holds")})
>>> text.splitlines()[0], "Tipping & Bishop" in text, text.count("not run in this audit")
('## Beyond the paper', True, 3)
"""
from __future__ import annotations

from collections.abc import Mapping

#: claim id -> (the result, what Section IV.B gains from it)
GAINS = {
    "beta-is-decoder-variance": (
        "β is the decoder's noise variance: the β-VAE optimum is the plain VAE's with decoder variance βσd²",
        "Prop. 3 becomes a statement about noise models: at β = 1 the objective is the ELBO of the decoder being "
        "evaluated, so the bound and that decoder's data log-likelihood both peak there (below β = 1 the optimum "
        "assumes too little noise, above too much), and the remark that the log-likelihood decreases with β "
        "(fig1-loglik-decreasing) could not have been made. In the paper the decoder's variance is the true noise "
        "(σ_η² = σ_d² = 1); in general the decoder reproduces A Aᵀ at β = σ_η²/σ_d², not at the peak."),
    "lit-ppca": (
        "at β = 1 the optimum is probabilistic PCA (Tipping & Bishop 1999)",
        "the β = 1 optimum of eq. (23), which the paper solves numerically, is known in closed form: D = U(Λ − I)^{1/2}R "
        "with R a signed permutation (the factorised posterior picks the axis-aligned member of T&B's family), so "
        "D Dᵀ = A Aᵀ (the decoder models p(x) exactly) and MIE(1) = 0 follow without computation."),
    "lit-collapse-threshold": (
        "unit i collapses exactly when λ_i ≤ βσd² (Lucas, Tucker, Grosse & Norouzi 2019)",
        "the kinks of Fig. 1 at β = 1.25 and 66.25 are Lucas et al.'s posterior-collapse condition at the eigenvalues "
        "of A Aᵀ + I; beyond 66.25 every unit is collapsed and every curve is flat."),
    "lit-pca-alignment": (
        "the optimal decoder is aligned with the principal directions of Σx, not the sources (Rolinek, Zietlow & "
        "Martius 2019)",
        "this explains why the gauge-aligned TIE stays positive at every β when the columns of A are not orthogonal "
        "(the phase diagram of abstract-finite-optimal-beta measures how little any β gains): "
        "the optimum recovers principal components, which are mixtures of the sources, and no diagonal posterior "
        "reaches the true, coupled one."),
}


def _verdict_and_evidence(outcome) -> tuple[str, str, str]:
    """An :class:`verify.outcome.Outcome`, a claims.json record (dict) or None (the claim was not run)."""
    if outcome is None:
        return "not run in this audit", "", ""
    if isinstance(outcome, Mapping):
        return (str(outcome.get("verdict", "error")), str(outcome.get("evidence", "")),
                str(outcome.get("condition") or ""))
    return outcome.verdict, outcome.evidence, outcome.condition or ""


def beyond_the_paper_markdown(outcomes: Mapping) -> str:
    """Markdown for the report from ``outcomes``: claim id -> Outcome, claims.json record or None (ids missing from
    the mapping count as not run)."""
    out = ["## Beyond the paper", "",
           "Four results of the literature on the linear model, each checked by the audit (claims below), and what "
           "Section IV.B would have gained from them:", ""]
    for claim_id, (result, gain) in GAINS.items():
        verdict, evidence, condition = _verdict_and_evidence(outcomes.get(claim_id))
        if verdict == "confirmed":
            out.append(f"- **{result}** ([{claim_id}](#{claim_id}), confirmed): {gain}")
        elif verdict == "qualified":
            out.append(f"- **{result}** ([{claim_id}](#{claim_id}), qualified: {condition}): {gain}")
        else:
            said = f": {evidence}" if evidence else ""
            out.append(f"- *{result}* ([{claim_id}](#{claim_id}), {verdict}{said}): not used to explain the paper.")
    return "\n".join(out + [""])

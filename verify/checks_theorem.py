"""Claims proved for every problem: the orthogonal-columns theorem, and Proposition 4 by its reduction to four numbers.

:func:`check_orthogonal_theorem` decides the claim "beta* > 1 exactly when the columns of A are not orthogonal"
from the proof sections of :mod:`derivations.theorem_orthogonal` (grade ``proved``), with
:func:`numerics.optimal_beta.optimal_beta` on hand-made matrices as a second, numeric route (support steps): exact
rational orthogonal columns (repeated singular values, a zero column, k = 3 included) give beta* = 1 and TIE(1) = 0,
non-orthogonal ones (rank 1, equal norms, k = 3) beta* > 1; the rank-1 example's beta* against its hand root
(sqrt(2081) - 1)/40; and the limit (sqrt(41) - 1)/4 of beta* for A^T A = 4 [[1, e], [e, 1]] as e -> 0 (a hand root of
2 b^2 + b - 5 = 0), which differs from beta* = 1 at e = 0: beta* is not continuous in A at a repeated eigenvalue.
:func:`prop4_proof_step` is Prop. 4's graded step from :mod:`derivations.proof_prop4`.

>>> prop4_proof_step().grade, prop4_proof_step().holds
('proved', True)
"""
from __future__ import annotations

import math
from fractions import Fraction as Fr

import numpy as np

from numerics.model import paper_mixing
from numerics.optimal_beta import optimal_beta

from .ledger import note
from .outcome import Step, confirmed, not_checked

DIGITS = 30

#: exactly orthogonal columns (rational): beta* = 1, TIE(1) = 0
ORTHOGONAL = {
    "3-4-5 rotation x diag(2, 1/2)": [[Fr(6, 5), Fr(-2, 5)], [Fr(8, 5), Fr(3, 10)]],
    "2 x (3-4-5 rotation): repeated singular value 2": [[Fr(6, 5), Fr(-8, 5)], [Fr(8, 5), Fr(6, 5)]],
    "k = 3, a zero column": [[1, 0, 0], [0, 0, 2], [0, 0, 0]],
    "k = 3, N = 4, columns (1,2,2,0), 2 (2,1,-2,0), 3 (2,-2,1,0)": [[1, 4, 6], [2, 2, -6], [2, -4, 3], [0, 0, 0]],
    "k = 3, repeated singular value 3 and a zero column": [[3, 0, 0], [0, 0, 0], [0, 0, 3]],
}
_t = Fr(1, 1000)
#: columns not orthogonal: beta* > 1
OBLIQUE = {
    "the paper's A (N = 128)": None,
    "rank 1, [[1, 2], [2, 4]]": [[1, 2], [2, 4]],
    "equal norms 2, inner product 4 x 2t/(1 + t^2), t = 1/1000": [[2, 2 * 2 * _t / (1 + _t * _t)],
                                                                   [0, 2 * (1 - _t * _t) / (1 + _t * _t)]],
    "k = 3, [[1, 0, 1], [0, 1, 1], [0, 0, 1]]": [[1, 0, 1], [0, 1, 1], [0, 0, 1]],
    "k = 3, a zero column, the others oblique": [[1, 1, 0], [0, 1, 0], [0, 0, 0]],
}

#: proof steps of the claim: (what it establishes, section key, step keys)
PROOF = (
    ("beta* >= 1 for every A, k, rank and eigenbasis: below beta = 1 every unit's slope is negative, so TIE strictly "
     "decreases on (0, 1]", "orthogonal", ("orthogonal.unit.derivative", "orthogonal.unit.factor", "orthogonal.below-one",
                                          "orthogonal.zero-unit.below")),
    ("orthogonal columns (A^T A diagonal, eigenvectors of positive eigenvalues standard): TIE(1) = sum_j a_j (1 - c_j) "
     "= 0 and TIE >= F >= 0 with F > 0 off beta = 1, so beta* = 1, unique", "orthogonal",
     ("orthogonal.at-one.value", "orthogonal.bound", "orthogonal.unit.factor", "orthogonal.above-one",
      "orthogonal.unit.collapsed", "orthogonal.zero-unit")),
    ("columns not orthogonal: every branch optimal at 1 has right derivative (1/2) sum_{a_j > 0} (c_j - 1) < 0, so "
     "beta* > 1 (any k: unit vectors have |entries| <= 1, with equality only for +-e_m; rank deficiency: units with "
     "a_j = 0 collapse at 1 and contribute nothing beyond)", "orthogonal",
     ("orthogonal.at-one.derivative", "orthogonal.zero-unit", "orthogonal.unit-vector.k2", "orthogonal.unit-vector.k3",
      "orthogonal.unit-vector.k4", "orthogonal.unit-vector.k5", "orthogonal.diagonal")),
    ("k = 2, every Gram matrix [[p, r], [r, q]] (r = 0, p = q, rank 1 included): r != 0 leaves no eigenvector of a "
     "positive eigenvalue standard; r = 0, p != q makes them standard; r = 0, p = q admits rotated bases",
     "orthogonal.k2", ("orthogonal.k2.eigenvalue.top", "orthogonal.k2.eigenvalue.low", "orthogonal.k2.rank-one",
                       "orthogonal.k2.top", "orthogonal.k2.low", "orthogonal.k2.diagonal", "orthogonal.k2.repeated")),
    ("k = 2, the premise for every eigenbasis: eq. (25) with the latents relabelled equals the per-unit structured "
     "form for every rotation Q and all 8 signed permutations", "orthogonal.k2",
     tuple(f"orthogonal.k2.tie.{p}.{s}" for p in ("01", "10") for s in ("++", "+-", "-+", "--"))),
)


def _sections():
    from derivations.theorem_orthogonal import orthogonal_k2_section, orthogonal_section
    return {s.key: s for s in (orthogonal_section(), orthogonal_k2_section())}


def proof_steps() -> list[Step]:
    """One graded claim step per part of the proof, holding when every derivation step it names holds."""
    sections = _sections()
    out = []
    for what, sec_key, keys in PROOF:
        by_key = {s.key: s for s in sections[sec_key].steps}
        missing = [k for k in keys if k not in by_key]
        failing = [k for k in keys if k in by_key and not by_key[k].holds]
        holds = not missing and not failing
        detail = ("every step holds: " + ", ".join(keys)) if holds else \
            f"missing {missing}, not holding {failing}"
        if sec_key == "orthogonal":
            detail += (" (for TIE as the sum of per-unit terms of closed_form.tie_closed_form, the audit's TIE: that it "
                       "is eq. (25) at the optimum is proved for k = 2, every eigenbasis, and checked numerically beyond)")
        out.append(Step(what, holds, detail, "abstract, Sec. IV.B", grade="proved",
                        basis=", ".join(f"{sec_key}/{k}" for k in keys)))
    return out


def _result(A):
    return optimal_beta(paper_mixing() if A is None else A, digits=DIGITS)


def numeric_steps() -> list[Step]:
    """The second route: beta* from numerics.optimal_beta (mpmath), and two hand computations."""
    import warnings

    with warnings.catch_warnings():             # repeated eigenvalues warn; the theorem covers them
        warnings.simplefilter("ignore")
        orth = {name: _result(A) for name, A in ORTHOGONAL.items()}
        obl = {name: _result(A) for name, A in OBLIQUE.items()}
    orth_ok = all(Fr(r.beta_star) == 1 and Fr(r.tie_star) == 0 for r in orth.values())
    obl_ok = all(Fr(r.beta_star) > 1 for r in obl.values())
    steps = [
        Step(f"optimal_beta: beta* = 1 and TIE(1) = 0 to {DIGITS} digits for orthogonal columns", orth_ok,
             "; ".join(f"{n}: beta* = {r.beta_star}, TIE* = {r.tie_star}" for n, r in orth.items()), "abstract",
             role="support"),
        Step("optimal_beta: beta* > 1 for columns that are not orthogonal", obl_ok,
             "; ".join(f"{n}: beta* = {r.beta_star[:14]}" for n, r in obl.items()), "abstract", role="support"),
    ]
    # rank 1, A^T A = [[5, 10], [10, 20]]: a = 25 with q = (1, 2)/sqrt 5, best c = 2/sqrt 5; stationarity of the one active
    # unit, beta c sqrt(25/(26 - beta)) = 1, is 20 b^2 + b - 26 = 0 (by hand)
    root = (math.sqrt(2081) - 1) / 40
    b_r1 = float(obl["rank 1, [[1, 2], [2, 4]]"].beta_star)
    steps.append(Step("rank 1, A = [[1, 2], [2, 4]]: beta* is the hand root (sqrt(2081) - 1)/40 of 20 b^2 + b - 26",
                      abs(b_r1 - root) < 1e-12, f"optimal_beta {b_r1:.15f}, hand {root:.15f}", "abstract", role="support"))
    limit = (math.sqrt(41) - 1) / 4
    b_eq = float(obl["equal norms 2, inner product 4 x 2t/(1 + t^2), t = 1/1000"].beta_star)
    steps.append(Step("A^T A = 4 [[1, e], [e, 1]], e -> 0: beta* tends to (sqrt(41) - 1)/4, the root of 2 b^2 + b - 5 "
                      "(eigenvectors at 45 degrees, c = 1/sqrt 2), not to beta* = 1 of e = 0", abs(b_eq - limit) < 1e-5,
                      f"e = 2t/(1 + t^2), t = 1/1000: beta* = {b_eq:.10f}; limit {limit:.10f}", "abstract", role="support"))
    return steps


PREMISE_SEEDS, PREMISE_BETAS = (0, 1, 2), (0.5, 1.0, 1.7, 3.0)


def premise_step() -> Step:
    """k >= 3: the premise of the per-unit argument, TIE at the optimum = the per-unit form of section tie (proved
    symbolically at k = 2 only), checked against the dense Gaussian KL of eq. (25) minimised over all 2^k k! signed
    permutations (verify.dense_gaussian, an independent N x N route) on random problems: graded sampled."""
    from numerics.data_spectrum import DataSpectrum
    from numerics.optimum import general_terms, optimum_parameters

    from . import dense_gaussian as G
    worst, cases = 0.0, 0
    for k in (3, 4):
        for seed in PREMISE_SEEDS:
            A = np.random.default_rng(seed).standard_normal((k + 2, k)) / np.sqrt(k)
            data = DataSpectrum.from_mixing(A)
            for beta in PREMISE_BETAS:
                dense = G.tie(optimum_parameters(data, beta), A).value
                unit = general_terms(data, beta).tie
                worst = max(worst, abs(dense - unit) / max(1.0, abs(dense)))
                cases += 1
    return Step("k >= 3: the premise, TIE at the optimum = sum of the per-unit forms (symbolic only at k = 2), agrees "
                "with the dense Gaussian KL of eq. (25) over every signed permutation", worst <= 1e-9,
                f"largest relative difference {worst:.1e} over {cases} cases", "eq. 25", grade="sampled",
                basis=f"k = 3, 4: {len(PREMISE_SEEDS)} random N = k + 2 problems each x {len(PREMISE_BETAS)} betas, "
                      "dense N x N Gaussian KL, all signed permutations")


def check_orthogonal_theorem(ctx):
    note("precision", "proof", "SymPy identities and z3 nonlinear real arithmetic (exact)")
    note("precision", "optimal_beta", f"mpmath, {DIGITS} digits confirmed at higher precision")
    claim = proof_steps()
    steps = claim + [premise_step()] + numeric_steps()
    if not all(s.holds for s in claim):
        bad = "; ".join(s.line() for s in claim if not s.holds)
        return not_checked(f"the proof does not go through: {bad}", steps)
    return confirmed(
        "Proved for every mixing matrix A != 0 with k = 2 (any N, rank, multiplicity), and for every k >= 3 given the "
        "per-unit form of TIE at the optimum, which is proved symbolically at k = 2 and checked against the dense "
        "Gaussian KL at k = 3, 4 (so the claim's grade is sampled; the unit-vector lemma is proved by z3 for k <= 5 and "
        "is elementary beyond): with the gauge-aligned TIE at the optimum "
        "(minimised over the optimum's signed permutations, and, at a repeated eigenvalue, over its eigenbases; the "
        "toolkit's eigenbasis is the standard one whenever A^T A is diagonal), beta* = 1 (unique, TIE(1) = 0) when the "
        "columns of A are orthogonal (A^T A diagonal, zero columns included) and beta* > 1 otherwise; beta* < 1 never. "
        "Caveat: at a repeated eigenvalue the optimum set contains rotated eigenbases, for which beta* > 1 even with "
        "orthogonal columns (A = 2 I_2 at 45 degrees: (sqrt(41) - 1)/4), and beta* jumps there as A varies "
        "(A^T A = 4 [[1, e], [e, 1]]: beta* -> 1.3508 as e -> 0, beta* = 1 at e = 0), so a float matrix whose equal-norm "
        "columns are orthogonal only up to rounding gets a beta* well above 1.", steps)


def prop4_proof_step() -> Step:
    """Prop. 4 for every objective A - beta B: z3's ``unsat`` for the reduction and the Farkas identity
    (:mod:`derivations.proof_prop4`), and z3's counterexamples once a premise is dropped."""
    from derivations.proof_prop4 import prop4_section
    sec = prop4_section()
    by_key = {s.key: s for s in sec.steps}
    core = ("prop4.smt.unsat", "prop4.smt.farkas")
    sensitive = [k for k in by_key if k.startswith("prop4.smt.without-")]
    holds = all(k in by_key and by_key[k].holds for k in core) and len(sensitive) == 3 and \
        all(by_key[k].holds for k in sensitive)
    detail = ("z3 answers unsat for optimality at beta1 and beta2, beta2 > beta1 and B(kappa2) > B(kappa1); the two "
              "optimality inequalities add up to (beta2 - beta1)(B1 - B2) >= 0; dropping any one premise, z3 finds a "
              "counterexample. Assumes only that the maximisers exist (no continuity, no uniqueness)")
    return Step("B(kappa*(beta)) is non-increasing for every objective A - beta B whose maximisers exist (any choice "
                "among ties)", holds, detail if holds else "a step of section prop4.smt does not hold", "Prop. 4",
                grade="proved", basis=", ".join(f"{sec.key}/{k}" for k in core))

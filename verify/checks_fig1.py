"""Checks of the Fig. 1 claims (Section IV.B): ELBO, reconstruction, KL, log-likelihood, MIE and TIE of the paper's
problem along beta, decided by the closed form.

The paper's problem is N = 128, k = 2, A_ij = (1 + delta_ij)/2 (collapse thresholds beta = 1.25 and 66.25). The ELBO,
reconstruction, KL, log-likelihood and MIE claims rest on proofs for every problem (:mod:`verify.proofs`), which cover
the paper's; hypothesis hunts over beta and the 400-point grid stay as second routes (support steps). TIE is decided
on the paper's A itself (grade ``sampled``).

>>> float(tie_grid([1.25, 66.25]).min()) > 0
True
"""
from __future__ import annotations

import numpy as np
from scipy.optimize import minimize_scalar

from numerics import generated as gen
from numerics.curve import beta_curve as _beta_curve
from numerics.gauge import relabel_parameters, signed_permutation_matrix, signed_permutations
from numerics.optimum import closed_form_optimum, closed_form_terms
from numerics.model import spectrum
from numerics.problems import paper_problem

from . import properties as P
from . import strategies as S
from .hunt import CHEAP, describe, hunt, hunt_step, plain
from .ledger import note
from .outcome import Step, confirmed, qualified, refuted
from .proofs import proof_steps



def beta_curve(A, betas):
    note("precision", "closed_form", "float64 (numpy)")
    return _beta_curve(A, betas)


GRID = np.geomspace(0.05, 200.0, 400)


def paper_A():
    return paper_problem().A


def _paper_thresholds():
    return spectrum(paper_A()).collapse_thresholds


def _plot_fig1(ctx):
    path = ctx.figure_path("fig1.png")
    if path is not None and "fig1" not in ctx._memo:
        from numerics.curve import plot_curve
        plot_curve(beta_curve(paper_A(), GRID), path, title=paper_problem().description)
        ctx._memo["fig1"] = path
    return ("fig1.png",) if path is not None else ()


def loglik_dense(A, beta) -> float:
    """E_x log N(x; 0, D D^T + I) at the closed-form optimum with N x N matrices (an independent route:
    no per-unit formula, the optimum's D and a dense log-determinant)."""
    o = closed_form_optimum(A, beta)
    N = A.shape[0]
    C = o.D @ o.D.T + np.eye(N)
    Sx = A @ A.T + np.eye(N)
    return float(-0.5 * (N * np.log(2 * np.pi) + np.linalg.slogdet(C)[1] + np.trace(np.linalg.solve(C, Sx))))


# ------------------------------------------------------------------------------ Fig. 1
def check_fig1_elbo(ctx):
    A = paper_A()
    h = hunt(S.betas(), lambda b: P.prop3_elbo_max_at_one(A, b), max_examples=CHEAP)
    c = beta_curve(A, GRID)
    elbo = c.column("elbo")
    one = closed_form_terms(A, 1.0).elbo
    f, _ = P.CLOSED_FORM.mp(A)
    left, right = P.one_sided_derivatives(lambda b: f(b).elbo, 1)
    below, above = P.one_sided_derivatives(lambda b: f(b).elbo, 0.9)[1], P.one_sided_derivatives(lambda b: f(b).elbo, 1.1)[0]
    steps = proof_steps(ctx, "elbo-max-at-one", "for every problem, hence the paper's (N = 128, k = 2): ELBO*(beta) <= "
                        "ELBO*(1), increasing below beta = 1 and non-increasing above (eq. 15)", "Fig. 1A")
    steps += [hunt_step("ELBO*(beta) <= ELBO*(1) for beta drawn over [0.05, 55]", h, "Fig. 1A", "support"),
              Step("ELBO*(1) is the largest value on a 400-point grid over [0.05, 200]", bool(np.all(elbo <= one + 1e-9)),
                   f"ELBO*(1) = {one:.10g}; grid max {elbo.max():.10g} at beta = {GRID[int(np.argmax(elbo))]:.4g}",
                   "Fig. 1A", role="support", grade="sampled", basis=f"the paper's A, {len(GRID)} betas"),
              Step("dELBO*/dbeta > 0 below 1 and < 0 above (mpmath, 50 digits)", bool(below > 0 and above < 0),
                   f"at 0.9: {P.significant(below, 12)}; at 1.1: {P.significant(above, 12)}; at 1 (left, right): "
                   f"{P.significant(left, 6)}, {P.significant(right, 6)}", "eq. 15", role="support", grade="sampled",
                   basis="the paper's A, beta = 0.9, 1, 1.1")]
    if not steps[0].holds:
        return refuted("ELBO* is not maximised at beta = 1 for the paper's problem", steps,
                       counterexample={"instance": plain(h.counterexample), "values": h.detail})
    return confirmed(f"ELBO* is maximised at beta = 1 (ELBO*(1) = {one:.10g}); it increases below and decreases above "
                     "(proved for every problem, hence the paper's).", steps, figures=_plot_fig1(ctx))


def _monotone_check(ctx, name, prop, label, equation):
    A = paper_A()
    lam_max = float(_paper_thresholds()[-1])
    h = hunt(S.beta_pairs(-3, 6), lambda bb: prop(A, *bb), max_examples=CHEAP)
    values = beta_curve(A, GRID).column(name)
    before = GRID < lam_max
    diffs = np.diff(values)
    strict = bool(np.all(diffs[before[1:]] < 0))
    flat = bool(np.all(np.abs(diffs[~before[:-1]]) <= 1e-9 * max(1.0, np.abs(values).max())))
    grid = f"the paper's A, {len(GRID)} betas"
    steps = proof_steps(ctx, "kl-recon-nonincreasing", f"for every problem, hence the paper's (N = 128, k = 2): {label} "
                        "non-increasing in beta, strictly decreasing for beta < lambda_max", equation)
    steps += [proof_steps(ctx, "kl-recon-nonincreasing", f"{label} constant for beta >= lambda_max = {lam_max:g} "
                          "(every unit collapsed; every problem)", equation, role="finding")[0],
              hunt_step(f"{label} non-increasing for beta pairs over [0.05, 403]", h, equation, "support"),
              Step(f"{label} strictly decreasing for beta < lambda_max = {lam_max:g}", strict,
                   "on a 400-point grid" if strict else "not strictly decreasing", equation, role="support",
                   grade="sampled", basis=grid),
              Step(f"{label} constant for beta >= lambda_max (every unit collapsed)", flat,
                   f"{name} = {values[-1]:.10g} there", equation, role="support", grade="sampled", basis=grid)]
    # a proof that fails, or a hunt that finds an increase, makes a support step fail: the audit reports an error
    if h.found:
        return refuted(f"{label} increases somewhere", steps,
                       counterexample={"instance": plain(h.counterexample), "values": h.detail})
    return confirmed(f"{label} is non-increasing in beta: strictly decreasing for beta < lambda_max = {lam_max:g}, "
                     f"constant beyond (all units collapsed, q(z|x) = p(z)); proved for every problem, hence the "
                     "paper's.", steps, figures=_plot_fig1(ctx))


def check_fig1_reconstruction(ctx):
    return _monotone_check(ctx, "reconstruction", P.prop2_reconstruction_nonincreasing, "the reconstruction objective",
                           "Fig. 1C")


def check_fig1_kl(ctx):
    return _monotone_check(ctx, "kl", P.prop2_kl_nonincreasing, "the conditional independence loss (KL)", "Fig. 1D")


def loglik_nonincreasing(A, b1, b2) -> P.PropertyResult:
    l1, l2 = closed_form_terms(A, b1).log_likelihood, closed_form_terms(A, b2).log_likelihood
    return P.PropertyResult(l2 <= l1 + 1e-9 * abs(l1), {"beta1": b1, "beta2": b2, "loglik(beta1)": l1, "loglik(beta2)": l2})


def loglik_steps(ctx, A, h, ll, equation):
    """The proved refutation of 'the data log-likelihood decreases with beta' and its second routes: the hunt must find
    the increase the proof predicts (on (0, 1]), and ``ll`` (the log-likelihood on GRID) is largest at beta = 1."""
    at_one = closed_form_terms(A, 1.0).log_likelihood
    arg = float(GRID[int(np.argmax(ll))])
    steps = proof_steps(ctx, "loglik-max-at-one", "data log-likelihood non-increasing in beta (decided for every "
                        "problem, A = 0 included, hence the paper's)", equation,
                        establishes=False, detail="the derivation document proves the opposite: per unit the slope is "
                        "> 0 for beta < 1 (every unit is active there), so LL* is strictly increasing on (0, 1], and "
                        "LL*(1) - LL*(beta) is a sum of g(.)/2 >= 0")
    steps += [proof_steps(ctx, "loglik-max-at-one", "the log-likelihood is largest at beta = 1 (every problem)", equation,
                          role="finding")[0],
              Step("the hunt finds the increase the proof predicts", h.found, describe(h), equation, role="support",
                   grade="sampled", basis=f"{h.examples} random instances (hypothesis)"),
              Step("the log-likelihood is largest at beta = 1 on the grid", bool(np.all(ll <= at_one + 1e-9)),
                   f"E log p(x) at beta = 1: {at_one:.10g}; grid argmax beta = {arg:.4g}", equation, role="support",
                   grade="sampled", basis=f"the paper's A, {len(GRID)} betas")]
    return steps


def check_fig1_loglik(ctx):
    A = paper_A()
    h = hunt(S.beta_pairs(-3, 5), lambda bb: loglik_nonincreasing(A, *bb), max_examples=CHEAP)
    ll = beta_curve(A, GRID).column("log_likelihood")
    steps = loglik_steps(ctx, A, h, ll, "Sec. IV.B ('not shown')")
    if not h.found:
        return refuted("the data log-likelihood is not non-increasing (proved), though the hunt found no increase",
                       steps, counterexample={"proof": steps[0].basis})
    b1, b2 = h.counterexample
    dense = (loglik_dense(A, b1), loglik_dense(A, b2))
    steps.append(Step("counterexample recomputed with N x N matrices (dense log-determinant at the optimum's D)",
                      bool(dense[1] > dense[0]) and abs(dense[0] - h.detail["loglik(beta1)"]) <= 1e-8 * abs(dense[0]),
                      f"loglik({b1:.6g}) = {dense[0]:.12g} < loglik({b2:.6g}) = {dense[1]:.12g}", "eq. 57", role="support",
                      grade="sampled", basis="the hunt's counterexample"))
    return refuted(f"the data log-likelihood increases from beta = {b1:.6g} to {b2:.6g}: it is largest at beta = 1, where "
                   "the decoder models p(x) exactly (D D^T = A A^T), and increases on (0, 1) (proved for every problem)",
                   steps, counterexample={"instance": {"beta1": b1, "beta2": b2}, "values": h.detail,
                                          "dense_recomputation": list(dense)}, figures=_plot_fig1(ctx))


def mie_facts(A):
    lam = spectrum(A).collapse_thresholds
    lam_max = float(lam[-1])
    c = beta_curve(A, GRID)
    mie = c.column("mie")
    at_one = closed_form_terms(A, 1.0).mie
    beyond = [closed_form_terms(A, b).mie for b in (lam_max, 1.5 * lam_max, 10 * lam_max)]
    inside = (GRID < lam_max * (1 - 1e-9)) & (np.abs(GRID - 1) > 1e-3)
    return lam_max, mie, at_one, beyond, inside


def mie_steps(ctx, A, mie, at_one, beyond, inside, lam_max, equation):
    """MIE's shape, proved for every problem (non-monotone exactly when A != 0), with the grid as a second route."""
    nonzero = bool(np.any(A != 0))       # exact: lambda_max = 1 + |A|_2^2 > 1 iff A != 0
    grid = f"the paper's A, {len(GRID)} betas"
    nonmono = bool(np.any(np.diff(mie) > 0) and np.any(np.diff(mie) < 0))
    proved = proof_steps(ctx, "mie-zero-set", "MIE is not monotone: for every problem with A != 0 (lambda_max > 1), "
                         "hence the paper's", equation)
    proved[0] = Step(proved[0].name, proved[0].holds and nonzero, proved[0].detail + f"; the paper's A != 0: {nonzero}",
                     equation, "claim", grade="proved", basis=proved[0].basis)
    steps = proved + [
        proof_steps(ctx, "mie-zero-set", "MIE = 0 at beta = 1 (every problem)", "eq. 16", role="finding")[0],
        proof_steps(ctx, "mie-zero-set", f"MIE = 0 for every beta >= lambda_max = {lam_max:g} (all units collapsed; "
                    "every problem)", "eq. 16", role="finding")[0],
        proof_steps(ctx, "mie-zero-set", "MIE > 0 for every other beta (every problem)", "eq. 16", role="finding")[0],
        Step("MIE is not monotone in beta on the grid", nonmono, f"MIE(0.05) = {mie[0]:.6g}, MIE(1) = {at_one:.3g}, "
             f"max {mie.max():.6g} at beta = {GRID[int(np.argmax(mie))]:.4g}", equation, role="support",
             grade="sampled", basis=grid),
        Step("MIE = 0 at beta = 1 and beyond lambda_max, > 0 elsewhere on the grid",
             bool(abs(at_one) <= 1e-10 and max(abs(x) for x in beyond) <= 1e-10 and np.all(mie[inside] > 0)),
             f"MIE(1) = {at_one:.3g}; at lambda_max x (1, 1.5, 10): {beyond}; min elsewhere below lambda_max: "
             f"{mie[inside].min():.3g}", "eq. 16", role="support", grade="sampled", basis=grid)]
    return steps


def check_fig1_mie(ctx):
    A = paper_A()
    lam_max, mie, at_one, beyond, inside = mie_facts(A)
    steps = mie_steps(ctx, A, mie, at_one, beyond, inside, lam_max, "Fig. 1B")
    if not steps[0].holds:
        return refuted("MIE is monotone", steps, counterexample={"values": mie.tolist()[:5]})
    # The statement asks for a non-monotone MIE with a minimum at some beta, both of which hold; where the minimum
    # lies (the plain VAE, and the collapsed range) is what the evidence must say, not a condition on the claim.
    return confirmed(
        f"MIE is non-monotone and has a minimum: MIE = 0 at beta = 1, the plain VAE, and again for every "
        f"beta >= lambda_max = {lam_max:g}, where all units have collapsed and q(z|x) = p(z) = p_theta(z|x); MIE > 0 "
        "in between (proved for every problem with A != 0, hence the paper's). So the MIE-optimal beta is the VAE's: "
        "a finite optimal beta other than 1 exists only for TIE (fig1-tie-finite-optimum).", steps,
        figures=_plot_fig1(ctx))


def representative_ties(A, betas):
    """TIE along ``betas`` for each equally optimal representative of the closed-form optimum.

    The objective (6) is invariant under z -> G z for every signed permutation G
    (:func:`numerics.gauge.relabel_parameters`, G[j, perm[j]] = signs[j]),
    so the optimum is a set; TIE (3) is not invariant. Each G is applied to the canonical optimum (fixed signs,
    units by eigenvalue) at every beta, which gives a continuous branch; TIE is evaluated densely by eq. (25)
    with E, F of eq. (27), an independent route from the per-unit closed form.
    Returns {(perm, signs): array of TIE}.
    """
    A = np.asarray(A, dtype=float)
    N, k = A.shape
    Sx = A @ A.T + np.eye(N)
    E_inv = A.T @ A + np.eye(k)
    F = np.linalg.solve(E_inv, A.T)
    out = {}
    optima = [closed_form_optimum(A, b) for b in betas]
    for perm, signs in signed_permutations(k):
        G = signed_permutation_matrix(perm, signs)
        out[(perm, signs)] = np.array([gen.inference_error(*relabel_parameters(o, G).arrays()[:4], Sx, E_inv, F)
                                       for o in optima], dtype=float)
    return out


def tie_grid(lam) -> np.ndarray:
    """Betas for judging monotonicity: log-spaced, plus dense points on both sides of every collapse threshold,
    where a branch's TIE can turn within 1% of lambda_i (a 90-point grid alone called 4 of 8 branches monotone
    for the paper's A, a 4000-point grid 2)."""
    lam = np.asarray(lam, dtype=float)
    near = [l * (1 - np.geomspace(1e-7, 0.2, 40)) for l in lam] + [l * (1 + np.geomspace(1e-7, 0.2, 10)) for l in lam]
    return np.unique(np.concatenate([np.geomspace(0.05, 1.5 * float(lam.max()), 90), *near]))


def _relative(G, G_ref) -> str:
    R = np.rint(G @ G_ref.T).astype(int)
    if np.array_equal(R, -np.eye(len(R), dtype=int)):
        return "z -> -z (every sign flipped)"
    return f"z -> G z with G = {R.tolist()}"


def _fig1_tie_proofs(ctx):
    """The claim's two proved steps (section fig1-tie with the orthogonal-columns theorem at k = 2): the aligned TIE
    has a finite minimiser beta* > 1 below the plateau; the representative z -> -z has a TIE that never increases
    (so the step 'every representative's TIE is not monotone' fails)."""
    sections = {s.key: s for s in ctx.document().sections}
    held = {f"{sec}/{st.key}": st.holds for sec in ("fig1-tie", "orthogonal", "orthogonal.k2")
            for st in sections[sec].steps}
    from .checks_theorem import PROOF
    theorem = [f"{sec}/{key}" for _, sec, keys in PROOF if sec in ("orthogonal", "orthogonal.k2") for key in keys]
    finite_keys = theorem + [k for k in held if k.startswith("fig1-tie/") and "flipped" not in k and "signed" not in k]
    flipped_keys = ["fig1-tie/fig1-tie.eigen.top", "fig1-tie/fig1-tie.eigen.low", "fig1-tie/fig1-tie.signed.slope",
                    "fig1-tie/fig1-tie.flipped.falling", "orthogonal/orthogonal.unit.collapsed"]
    for keys in (finite_keys, flipped_keys):
        missing = [k for k in keys if k not in held]
        if missing:
            raise LookupError(f"the derivation document lacks {missing}")
    finite = Step("the aligned TIE has a finite optimal beta* in (1, 265/4), below TIE(1) and the plateau, so it is not "
                  "monotone (the paper's A^T A is not diagonal: the orthogonal-columns theorem at k = 2; TIE(1) < plateau)",
                  all(held[k] for k in finite_keys), "proved in the derivation document, sections fig1-tie, orthogonal, "
                  "orthogonal.k2", "Fig. 1B", grade="proved", basis=", ".join(finite_keys))
    flipped = Step("every equally optimal representative (z -> G z, G a signed permutation) has a TIE that is not "
                   "monotonically decreasing in beta", not all(held[k] for k in flipped_keys),
                   "no: for z -> -z of the aligned solution every overlap is -1/sqrt(2) and every unit's slope is "
                   "negative while active, zero once collapsed (proved)", "eq. 3", grade="proved",
                   basis=", ".join(flipped_keys))
    return finite, flipped


def check_fig1_tie(ctx):
    from numerics.optimal_beta import optimal_beta
    A = paper_A()
    note("precision", "optimal_beta", "mpmath, 30 digits confirmed at higher precision")
    r = optimal_beta(A, digits=30)
    b_star, t_star = float(r.beta_star), float(r.tie_star)
    t_one = closed_form_terms(A, 1.0).tie
    plateau = float(r.tie_plateau)
    lam = _paper_thresholds()
    res = minimize_scalar(lambda b: closed_form_terms(A, b).tie, bounds=(0.5, float(lam[0]) - 1e-9), method="bounded",
                          options={"xatol": 1e-10})
    finite, flipped = _fig1_tie_proofs(ctx)
    steps = [finite,
             Step("TIE has a finite minimiser beta* with TIE(beta*) < TIE(1) and < TIE(beta -> inf)",
                  bool(0 < b_star < np.inf and t_star < t_one and t_star < plateau),
                  f"beta* = {r.beta_star} ({r.kind}), TIE* = {r.tie_star}; TIE(1) = {t_one:.12g}; "
                  f"TIE for beta >= lambda_max = {plateau:.12g}", "Fig. 1B", role="support", grade="sampled",
                  basis="the paper's A, optimal_beta at 30 digits (confirmed at higher precision)"),
             Step("float bounded minimisation of the closed-form TIE agrees with the 30-digit beta*",
                  abs(res.x - b_star) <= 1e-6 * b_star, f"scipy: beta = {res.x:.10g}", "Fig. 1B", role="support",
                  grade="sampled", basis="the paper's A, bounded scalar minimisation"),
             Step("local minima", True, "; ".join(f"beta = {m.beta[:14]} ({m.kind}), TIE = {m.tie[:14]}"
                                                    for m in r.local_minima), "Fig. 1B", role="support",
                  grade="sampled", basis="the paper's A, optimal_beta at 30 digits")]
    grid = tie_grid(lam)
    reps = representative_ties(A, grid)
    i_one = int(np.argmin(np.abs(grid - 1.0)))
    g_aligned, aligned = min(reps.items(), key=lambda gt: float(gt[1][i_one]))
    at = [int(np.argmin(np.abs(grid - b))) for b in (0.05, 1.0, float(lam[-1]) * 1.2)]
    closed = [closed_form_terms(A, float(grid[i])).tie for i in at]
    steps.append(Step("dense eq. (25)/(27) TIE of the best-aligned representative equals the closed form's gauge-aligned TIE",
                      bool(np.allclose(aligned[at], closed, rtol=1e-9, atol=1e-9)),
                      f"dense {[round(float(aligned[i]), 9) for i in at]} vs closed form {[round(c, 9) for c in closed]}",
                      "eq. 25", role="support", grade="sampled", basis="the paper's A, 3 betas"))
    Sx = A @ A.T + np.eye(A.shape[0])
    spread = 0.0
    for b in (0.5, 1.0, 3.0):
        o, L = closed_form_optimum(A, b), closed_form_terms(A, b).objective
        for g in reps:
            G = signed_permutation_matrix(*g)
            spread = max(spread, abs(float(gen.objective(*relabel_parameters(o, G).arrays(), Sx, b)) - L) / abs(L))
    steps.append(Step("every representative z -> G z is equally optimal: the objective (6) with every constant, "
                      "evaluated by the generated N x N formula at its parameters, equals the closed-form L*",
                      spread <= 1e-10, f"max relative difference {spread:.2g} over {len(reps)} representatives at "
                      "beta = 0.5, 1, 3", "eq. 6", role="support", grade="sampled",
                      basis=f"the paper's A, {len(reps)} representatives x 3 betas"))
    monotone = {g: t for g, t in reps.items() if np.all(np.diff(t) <= 1e-9 * np.abs(t[:-1]).max())}
    G_al = signed_permutation_matrix(*g_aligned)
    steps.append(flipped)
    steps.append(Step("the grid finds representatives whose TIE is non-increasing, as the proof predicts for z -> -z",
                      bool(monotone),
                      f"{len(monotone)} of {len(reps)} representatives have TIE non-increasing on {len(grid)} betas "
                      f"({grid[0]:.3g}..{grid[-1]:.4g}, dense at each threshold)" + "".join(
                          f"; relative to the aligned solution, {_relative(signed_permutation_matrix(*g), G_al)}: "
                          f"TIE({grid[0]:.3g}) = {t[0]:.6g}, TIE(1) = {t[i_one]:.6g}, "
                          f"TIE(beyond lambda_max) = {t[-1]:.6g}"
                          for g, t in list(monotone.items())[:2]), "eq. 3", role="support", grade="sampled",
                      basis=f"the paper's A, {len(reps)} representatives x {len(grid)} betas"))
    if not steps[0].holds:
        return refuted("TIE has no interior optimum", steps, counterexample={"beta_star": r.beta_star})
    data = {"beta_star": r.beta_star, "tie_star": r.tie_star}
    if not flipped.holds:            # the proved representative with a non-increasing TIE: the claim needs alignment
        g, t = next(iter(monotone.items()))
        return qualified(
            f"With the latents aligned to the sources, TIE has a finite optimal beta* = {r.beta_star} > 1 (30 digits, "
            f"confirmed at higher precision), TIE* = {r.tie_star} < TIE(1) = {t_one:.10g}. But the optimum is a set: "
            "the objective is unchanged by any signed permutation of z, and TIE (3) is not. For the equally optimal "
            f"solution {_relative(signed_permutation_matrix(*g), G_al)} (relative to the aligned one) TIE decreases "
            f"monotonically from {t[0]:.6g} (beta = {grid[0]:.3g}) to {t[-1]:.6g} at collapse (beta >= lambda_max = {float(lam[-1]):g}).",
            steps, condition="TIE is evaluated with the latents aligned to the sources (the signed permutation of z "
                             "that minimises TIE, as this toolkit measures it); the paper does not say which of the "
                             "equally optimal solutions of eq. (23) it used", figures=_plot_fig1(ctx), data=data)
    return confirmed(f"TIE has a finite optimal beta* = {r.beta_star} > 1 (30 digits, confirmed at higher precision), "
                     f"TIE* = {r.tie_star} < TIE(1) = {t_one:.10g}, for every equally optimal representative.", steps,
                     figures=_plot_fig1(ctx), data=data)

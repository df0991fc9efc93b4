"""Checks of Propositions 1-4 (Section III, Appendix A) and Section IV.A: proofs and hypothesis hunts.

Propositions 1-3 and Section IV.A rest on proofs in the derivation document for every problem of the tractable
model (:mod:`verify.proofs`, grade ``proved``); their hunts stay as a second, independent route (support steps:
a violation found would contradict the proof). Proposition 4's check searches random problems for a violation
(:mod:`verify.hunt`); a violation found is shrunk and becomes the counterexample of a ``refuted`` verdict. The
hunts' quantities at the optimum come from the closed form and, on smaller problems, from the general stationarity
solver (eq. 23 in full, random starts), so the propositions are checked at optima found without the closed form too.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import sympy as sp
from hypothesis import strategies as st

from . import properties as P
from . import strategies as S
from .hunt import CHEAP, HIGH_PRECISION, SOLVER_EXAMPLES, describe, hunt, hunt_step, plain
from .ledger import note
from .outcome import Step, confirmed, refuted
from .proofs import proof_steps


class _CachedSolver(P.Solver):
    """The general solver, memoised per (A, beta): one hunt's instances reuse the other's solves."""

    name = P.SOLVER.name

    @lru_cache(maxsize=512)
    def _at(self, shape, data, beta):
        return super().at(np.frombuffer(data).reshape(shape), beta)

    def at(self, A, beta):
        A = np.ascontiguousarray(A, dtype=float)
        return self._at(A.shape, A.tobytes(), float(beta))


SOLVER = _CachedSolver(starts=8, seed=0)
small_matrices = S.mixing_matrices(max_n=4, max_k=2)


def _solver_agrees(x) -> P.PropertyResult:
    """Support: the best stationary point found from random starts has the closed form's objective."""
    A, b = x
    s, c = SOLVER.at(A, b).objective, P.CLOSED_FORM.at(A, b).objective
    return P.PropertyResult(abs(s - c) <= 1e-8 * max(1.0, abs(c)), {"solver L*": s, "closed-form L*": c})


# ------------------------------------------------------------------------------ Proposition 1
def printed_21_slope(ctx) -> tuple[object, str]:
    """d/dbeta of (derived - printed) for eq. 21, from the derivation's comparison (SymPy)."""
    from derivations.symbols import beta
    # eq. 21 may also carry notation records: the one that measured the dropped constant is the one needed
    (c21,) = [c for c in ctx.comparisons("21") if c.details.get("constant") is not None]
    constant = c21.details["constant"]
    return sp.diff(constant, beta), str(constant)


def check_prop1(ctx):
    pairs_beta = st.tuples(S.mixing_matrices(), S.beta_pairs())
    at_beta = st.tuples(S.mixing_matrices(), S.betas())
    h1 = hunt(pairs_beta, lambda x: P.prop1_nonincreasing(x[0], *x[1]), max_examples=CHEAP)
    h2 = hunt(at_beta, lambda x: P.prop1_identity(x[0], x[1]), max_examples=HIGH_PRECISION)
    h3 = hunt(st.tuples(small_matrices, S.beta_pairs(-2, 2.5)),
              lambda x: P.prop1_nonincreasing(x[0], *x[1], model=SOLVER), max_examples=SOLVER_EXAMPLES)
    h4 = hunt(st.tuples(small_matrices, S.betas(-2, 2.5)), _solver_agrees, max_examples=SOLVER_EXAMPLES)
    slope_expr, constant = printed_21_slope(ctx)
    from derivations.symbols import k as k_sym

    def printed(x):
        A, b = x
        slope = float(slope_expr.subs(k_sym, A.shape[1]))
        # L_printed = L_full - c(beta): its beta-derivative carries -dc/dbeta
        return P.prop1_identity(A, b, constant_slope=slope)
    h5 = hunt(at_beta, printed, max_examples=HIGH_PRECISION)
    steps = proof_steps(ctx, "prop1", "for every problem (all N, k and spectra; each unit on both branches and at the "
                        "join beta = lambda_i): dL*/dbeta = -KL* <= 0, so L* is non-increasing", "eq. 10")
    # the hunts are a second, independent route: a violation found would contradict the proof (an error, not a verdict)
    steps += [
        hunt_step("L*(beta) non-increasing at the closed-form optimum (full objective, every constant)", h1, "eq. 10",
                  "support"),
        hunt_step("dL*/dbeta = -KL* (both one-sided derivatives, mpmath at 50 digits)", h2, "eq. 10", "support"),
        hunt_step(f"L*(beta) non-increasing at the optimum of the general solver ({SOLVER.name}, N <= 4, k <= 2)", h3,
                  "eq. 10", "support"),
        hunt_step("the general solver's best stationary point attains the closed-form L*", h4, "eq. 23", "support"),
    ]
    # Proposition 1 is about the objective (6); eq. (21) as printed is eq21's own claim. Here the 50-digit route must
    # see eq. (21)'s dropped constant exactly when the derivation says it depends on beta: two routes that agree.
    beta_dependent = bool(sp.sympify(slope_expr) != 0)
    steps.append(Step("the 50-digit route finds dL*/dbeta != -KL* for eq. (21) as printed exactly when its dropped "
                      "constant depends on beta (derivation)", h5.found == beta_dependent,
                      describe(h5) + f"; derived - printed = {constant}, d/dbeta = {slope_expr}", "eq. 21",
                      role="support", grade="sampled", basis=f"{h5.examples} random instances (hypothesis)"))
    proved21, _ = proof_steps(ctx, "eq21-slope", "the proof's slope of eq. (21)'s dropped constant (k/2) is the "
                              "derivative of the constant the eq. (21) comparison measured", "eq. 21 (derivation)",
                              role="support")
    from derivations.proofs_propositions import prop1_section
    (proof_slope,) = [s.rhs for s in prop1_section().steps if s.key == "prop1.eq21.slope"]
    steps.append(Step(proved21.name, proved21.holds and sp.simplify(proof_slope - slope_expr) == 0,
                      f"proof: {proof_slope}; comparison: {slope_expr}", "eq. 21 (derivation)", "support",
                      grade="proved", basis=proved21.basis))
    return confirmed(
        "Eq. (10) holds at the global optimum of the full objective (6)/(33), proved for every problem: per latent "
        "unit on both collapse branches and at the join, dL*/dbeta = -KL* <= 0, so L* is non-increasing; hypothesis "
        "hunts agree (50-digit derivatives, closed form and the solver's optima). " + (
            f"(Eq. (21) as printed drops the constant {constant}, which depends on beta, so for it dL*/dbeta = -KL* - "
            f"{slope_expr}: that is eq. (21)'s qualification, claim eq21, not Proposition 1's; hypothesis example: "
            f"{plain(h5.counterexample)}.)" if beta_dependent else
            f"(Eq. (21) as printed drops the constant {constant}, free of beta: eq. (10) holds for it too.)"),
        steps, data={"printed_21_counterexample": h5.detail})


# ------------------------------------------------------------------------------ Proposition 2
def check_prop2(ctx):
    pairs_beta = st.tuples(S.mixing_matrices(), S.beta_pairs())
    small_pairs = st.tuples(small_matrices, S.beta_pairs(-2, 2.5))
    hk = hunt(pairs_beta, lambda x: P.prop2_kl_nonincreasing(x[0], *x[1]), max_examples=CHEAP)
    hr = hunt(pairs_beta, lambda x: P.prop2_reconstruction_nonincreasing(x[0], *x[1]), max_examples=CHEAP)
    hd = hunt(st.tuples(S.mixing_matrices(), S.betas()), lambda x: P.prop2_derivatives(x[0], x[1]),
              max_examples=HIGH_PRECISION)
    hks = hunt(small_pairs, lambda x: P.prop2_kl_nonincreasing(x[0], *x[1], model=SOLVER), max_examples=SOLVER_EXAMPLES)
    hrs = hunt(small_pairs, lambda x: P.prop2_reconstruction_nonincreasing(x[0], *x[1], model=SOLVER),
               max_examples=SOLVER_EXAMPLES)
    steps = proof_steps(ctx, "kl-recon-nonincreasing", "for every problem (each unit on both branches, and the join): "
                        "dKL*/dbeta <= 0 and d recon*/dbeta = beta dKL*/dbeta <= 0 (eq. 13)", "eqs. 12-13")
    steps += [
        hunt_step("KL* non-increasing in beta (closed form)", hk, "eq. 12", "support"),
        hunt_step("reconstruction* non-increasing in beta (closed form)", hr, "eq. 13", "support"),
        hunt_step("dKL*/dbeta <= 0 and d recon*/dbeta <= 0 on both sides (mpmath, 50 digits)", hd, "eqs. 12-13",
                  "support"),
        hunt_step("KL* non-increasing at the general solver's optima", hks, "eq. 12", "support"),
        hunt_step("reconstruction* non-increasing at the general solver's optima", hrs, "eq. 13", "support"),
    ]
    return confirmed("KL* and the reconstruction term are non-increasing in beta at every optimum, proved for every "
                     "problem (per unit on both collapse branches; eq. 13: d recon*/dbeta = beta dKL*/dbeta); "
                     "hypothesis hunts agree (closed form, solver, and high-precision one-sided derivatives).", steps)


# ------------------------------------------------------------------------------ Proposition 3
def check_prop3(ctx):
    he = hunt(st.tuples(S.mixing_matrices(), S.betas()), lambda x: P.prop3_elbo_max_at_one(x[0], x[1]),
              max_examples=CHEAP)
    hi = hunt(st.tuples(S.mixing_matrices(), S.betas()), lambda x: P.prop3_identity(x[0], x[1]),
              max_examples=HIGH_PRECISION)
    hs = hunt(st.tuples(small_matrices, S.betas(-2, 2.5)),
              lambda x: P.prop3_elbo_max_at_one(x[0], x[1], model=SOLVER), max_examples=SOLVER_EXAMPLES)
    steps = proof_steps(ctx, "elbo-max-at-one", "for every problem: eq. (15) per unit on both branches, and "
                        "ELBO*(1) - ELBO*(beta) = sum of g(.)/2 >= 0, so ELBO* is largest at beta = 1", "Prop. 3, eq. 15")
    steps += [
        hunt_step("ELBO*(beta) <= ELBO*(1) (closed form)", he, "Prop. 3", "support"),
        hunt_step("dELBO*/dbeta = (beta - 1) dKL*/dbeta on both sides (mpmath, 50 digits)", hi, "eq. 15", "support"),
        hunt_step("ELBO*(beta) <= ELBO*(1) at the general solver's optima", hs, "Prop. 3", "support"),
    ]
    return confirmed("ELBO* is largest at beta = 1, proved for every problem (the gap to beta = 1 is a sum of "
                     "g(y) = y - 1 - log y >= 0 over units), and eq. (15) holds on both collapse branches; hypothesis "
                     "hunts agree (50-digit derivatives, the solver's optima).", steps)


# ------------------------------------------------------------------------------ Proposition 4
def check_prop4(ctx):
    from .checks_theorem import prop4_proof_step
    proof = prop4_proof_step()
    hf = hunt(st.tuples(S.finite_objectives(), S.rational_beta_pairs()), lambda x: P.prop4_finite(x[0], *x[1]),
              max_examples=CHEAP)
    hp = hunt(st.tuples(S.polynomial_families(), S.rational_beta_pairs()), lambda x: P.prop4_family(x[0], *x[1]),
              max_examples=HIGH_PRECISION)
    # the hunts are the second, independent route: a violation they find contradicts the proof (an error, no verdict)
    steps = [proof,
             hunt_step("finite parameter sets (exact rationals, ties included): B(kappa*(beta)) non-increasing for every "
                       "choice of maximisers", hf, "Prop. 4", role="support"),
             hunt_step("smooth quartic families (global maximisers from the roots of O', ties kept)", hp, "Prop. 4",
                       role="support")]
    if not proof.holds:
        return refuted("z3 does not confirm the reduction of the proof (eqs. 29-32)", steps,
                       counterexample={"derivation section": "prop4.smt", "detail": proof.detail})
    return confirmed("B(kappa*(beta)) is non-increasing for every objective A - beta B whose maximisers exist, with "
                     "ties resolved in every possible way: the proof by contradiction (eqs. 29-32) reduces to linear "
                     "real arithmetic over A(kappa1), A(kappa2), B(kappa1), B(kappa2), which z3 proves (unsat), and "
                     f"no finite set or quartic family sampled contradicts it ({hf.examples + hp.examples} instances).",
                     steps)


# ------------------------------------------------------------------------------ Section IV.A
def _encoder_stationary(x) -> P.PropertyResult:
    """Support: the generated encoder gradients vanish at the fixed-decoder encoder optimum, and the two MIE routes agree."""
    from numerics import generated as gen
    A, D, b = x
    o = P.fixed_decoder_optimum(A, D, b)
    N = D.shape[0]
    S_ = A @ A.T + np.eye(N)
    params = (*o.encoder, D, np.zeros((N, 1)))
    g = max(float(np.abs(getattr(gen, f"grad_{n}")(*params, S_, b)).max())
            for n in ("W_mu", "b_mu", "W_sigma", "b_sigma"))
    scale = max(1.0, float(np.abs(S_).max()) * (1 + float(np.abs(D).max())) ** 2)
    routes = abs(o.mie - o.mie_by_identity) <= 1e-9 * max(1.0, abs(o.log_likelihood))
    return P.PropertyResult(g <= 1e-10 * scale and routes, {"max |encoder gradient|": g, "MIE eq. 25": o.mie,
                                                           "MIE = log p - ELBO": o.mie_by_identity})


@st.composite
def _data_and_decoder(draw):
    A = draw(S.mixing_matrices(max_n=6, max_k=3))
    D = np.array(draw(st.lists(S.ENTRY, min_size=A.size, max_size=A.size))).reshape(A.shape)
    return A, D


def check_sec4a(ctx):
    note("precision", "generated_formulas", "float64 (numpy)")
    inst = st.tuples(_data_and_decoder(), S.betas()).map(lambda t: (t[0][0], t[0][1], t[1]))
    hm = hunt(inst, lambda x: P.sec4a_mie_smallest_at_one(*x), max_examples=CHEAP)
    hs = hunt(inst, _encoder_stationary, max_examples=CHEAP // 2)
    steps = proof_steps(ctx, "fixed-decoder", "for every fixed decoder D: MIE(phi) - MIE(phi_1) is a sum of "
                        "non-negative terms for every encoder phi, phi_1 the beta = 1 encoder optimum, so MIE at the "
                        "encoder optimum is smallest at beta = 1 (gap identity of eq. 25 with symbolic entries at "
                        "N = 3, k = 2)", "Sec. IV.A, eq. 25")
    steps += [
        hunt_step("with D fixed (random, never trained), MIE(beta) >= MIE(1) at the encoder optimum", hm, "Sec. IV.A",
                  "support"),
        hunt_step("the encoder optimum is stationary (generated gradients) and MIE by eq. 25 = log p - ELBO (eq. 16)",
                  hs, "eqs. 16, 25", "support"),
    ]
    return confirmed("With the decoder fixed, MIE at the encoder optimum is smallest at beta = 1, proved for every "
                     "decoder: the beta = 1 encoder minimises MIE over all encoders (eq. 25 splits the gap into a "
                     "trace of a square, b_mu^T M b_mu and per-unit g(M_ii e_i) + q_i/2); random data/decoder pairs "
                     "agree (MIE(1) > 0 in general: a diagonal q cannot match a non-diagonal posterior).", steps)

"""Checks of Propositions 1-4 (Section III, Appendix A) and Section IV.A, by hypothesis hunts.

Each check searches random problems for a violation (:mod:`verify.hunt`); a violation found is
shrunk and becomes the counterexample of a ``refuted`` verdict. The quantities at the optimum come
from the closed form and, on smaller problems, from the general stationarity solver (eq. 23 in
full, random starts), so the propositions are checked at optima found without the closed form too.
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


def _first_counterexample(steps_hunts):
    for step, h in steps_hunts:
        if h.found:
            return {"step": step.name, "instance": plain(h.counterexample), "values": h.detail}
    return None


def _solver_agrees(x) -> P.PropertyResult:
    """Support: the best stationary point found from random starts has the closed form's objective."""
    A, b = x
    s, c = SOLVER.at(A, b).objective, P.CLOSED_FORM.at(A, b).objective
    return P.PropertyResult(abs(s - c) <= 1e-8 * max(1.0, abs(c)), {"solver L*": s, "closed-form L*": c})


def _verdict(pairs, statement_holds_evidence):
    steps = [s for s, _ in pairs]
    cx = _first_counterexample([(s, h) for s, h in pairs if s.role == "claim"])
    if cx:
        return refuted(f"counterexample found: {cx['step']}", steps, counterexample=cx)
    return confirmed(statement_holds_evidence, steps)


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
    pairs = [
        (hunt_step("L*(beta) non-increasing at the closed-form optimum (full objective, every constant)", h1, "eq. 10"), h1),
        (hunt_step("dL*/dbeta = -KL* (both one-sided derivatives, mpmath at 50 digits)", h2, "eq. 10"), h2),
        (hunt_step(f"L*(beta) non-increasing at the optimum of the general solver ({SOLVER.name}, N <= 4, k <= 2)", h3,
               "eq. 10"), h3),
        (hunt_step("the general solver's best stationary point attains the closed-form L*", h4, "eq. 23", "support"), h4),
    ]
    # Proposition 1 is about the objective (6); eq. (21) as printed is eq21's own claim. Here the 50-digit route must
    # see eq. (21)'s dropped constant exactly when the derivation says it depends on beta: two routes that agree.
    beta_dependent = bool(sp.sympify(slope_expr) != 0)
    printed_step = Step("the 50-digit route finds dL*/dbeta != -KL* for eq. (21) as printed exactly when its dropped "
                        "constant depends on beta (derivation)", h5.found == beta_dependent,
                        describe(h5) + f"; derived - printed = {constant}, d/dbeta = {slope_expr}", "eq. 21",
                        role="support")
    steps = [s for s, _ in pairs] + [printed_step]
    cx = _first_counterexample(pairs)
    if cx:
        return refuted(f"counterexample found: {cx['step']}", steps, counterexample=cx)
    return confirmed(
        "Eq. (10) holds at the global optimum of the full objective (6)/(33): L* is non-increasing and dL*/dbeta = -KL* "
        "to 50 digits, at the closed form and at the solver's optima. " + (
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
    pairs = [
        (hunt_step("KL* non-increasing in beta (closed form)", hk, "eq. 12"), hk),
        (hunt_step("reconstruction* non-increasing in beta (closed form)", hr, "eq. 13"), hr),
        (hunt_step("dKL*/dbeta <= 0 and d recon*/dbeta <= 0 on both sides (mpmath, 50 digits)", hd, "eqs. 12-13"), hd),
        (hunt_step("KL* non-increasing at the general solver's optima", hks, "eq. 12"), hks),
        (hunt_step("reconstruction* non-increasing at the general solver's optima", hrs, "eq. 13"), hrs),
    ]
    return _verdict(pairs, "KL* and the reconstruction term are non-increasing in beta at every optimum examined "
                           "(closed form, solver, and high-precision one-sided derivatives).")


# ------------------------------------------------------------------------------ Proposition 3
def check_prop3(ctx):
    he = hunt(st.tuples(S.mixing_matrices(), S.betas()), lambda x: P.prop3_elbo_max_at_one(x[0], x[1]),
              max_examples=CHEAP)
    hi = hunt(st.tuples(S.mixing_matrices(), S.betas()), lambda x: P.prop3_identity(x[0], x[1]),
              max_examples=HIGH_PRECISION)
    hs = hunt(st.tuples(small_matrices, S.betas(-2, 2.5)),
              lambda x: P.prop3_elbo_max_at_one(x[0], x[1], model=SOLVER), max_examples=SOLVER_EXAMPLES)
    pairs = [
        (hunt_step("ELBO*(beta) <= ELBO*(1) (closed form)", he, "Prop. 3"), he),
        (hunt_step("dELBO*/dbeta = (beta - 1) dKL*/dbeta on both sides (mpmath, 50 digits)", hi, "eq. 15"), hi),
        (hunt_step("ELBO*(beta) <= ELBO*(1) at the general solver's optima", hs, "Prop. 3"), hs),
    ]
    return _verdict(pairs, "ELBO* is largest at beta = 1 on every problem examined, and eq. (15) holds to 50 digits.")


# ------------------------------------------------------------------------------ Proposition 4
def check_prop4(ctx):
    hf = hunt(st.tuples(S.finite_objectives(), S.rational_beta_pairs()), lambda x: P.prop4_finite(x[0], *x[1]),
              max_examples=CHEAP)
    hp = hunt(st.tuples(S.polynomial_families(), S.rational_beta_pairs()), lambda x: P.prop4_family(x[0], *x[1]),
              max_examples=HIGH_PRECISION)
    pairs = [
        (hunt_step("finite parameter sets (exact rationals, ties included): B(kappa*(beta)) non-increasing for every "
               "choice of maximisers", hf, "Prop. 4"), hf),
        (hunt_step("smooth quartic families (global maximisers from the roots of O', ties kept)", hp, "Prop. 4"), hp),
    ]
    return _verdict(pairs, "B(kappa*(beta)) is non-increasing for every objective A - beta B examined, with ties "
                           "resolved in every possible way, as the proof by contradiction (eqs. 29-32) shows.")


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
    pairs = [
        (hunt_step("with D fixed (random, never trained), MIE(beta) >= MIE(1) at the encoder optimum", hm, "Sec. IV.A"), hm),
        (hunt_step("the encoder optimum is stationary (generated gradients) and MIE by eq. 25 = log p - ELBO (eq. 16)",
               hs, "eqs. 16, 25", "support"), hs),
    ]
    return _verdict(pairs, "With the decoder fixed, MIE at the encoder optimum is smallest at beta = 1 for every "
                           "random data/decoder pair examined (MIE(1) > 0 in general: a diagonal q cannot match a "
                           "non-diagonal posterior).")

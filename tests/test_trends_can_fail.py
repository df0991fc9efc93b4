"""The Fig. 2 / Fig. 3 trend decisions (``verify.checks_deep``, on ``verify.seed_statistics``) on synthetic per-seed
results with a known answer, and the trained-network metric that feeds them (the gauge-aligned TIE of
``deep.betavae.tie``) against eq. (25).

Each synthetic result is a (seeds x betas) table built so that the answer is known by construction: a clear
increase, a flat line whose seed noise averages out exactly, a clear decrease, a maximum at the grid's edge, an
interior minimum, too few seeds to decide; and the record of how its runs ended (converged or not).
"""
from itertools import permutations, product
from types import SimpleNamespace

import numpy as np
import pytest

from verify import checks_deep as CD
from verify.context import AuditContext

BETAS = np.array([0.25, 0.5, 1.0, 2.0, 4.0, 8.0])


def zero_mean_noise(n, scale=0.01, seed=0):
    """(n x 6) seed noise whose every column sums to 0: the seed mean is exactly the base curve, while the paired
    differences between neighbouring betas still spread (about 1.4 scale per seed)."""
    noise = np.random.default_rng(seed).normal(0, scale, size=(n, len(BETAS)))
    return noise - noise.mean(axis=0)


NOISE = zero_mean_noise(20)


def table(base, noise=NOISE):
    return np.asarray(base, dtype=float)[None, :] + noise


def context(betas=BETAS, runs=None, **arrays):
    """An audit context whose Fig. 2 and Fig. 3 runs are the given synthetic per-seed arrays (``runs``: extra
    fields of the result, such as the convergence record)."""
    n = next(iter(arrays.values())).shape[0]
    result = SimpleNamespace(betas=np.asarray(betas, dtype=float), seeds=tuple(range(n)), alignment=(),
                             protocol={"name": "synthetic", "seed": 0, "dtype": "float64", "mc_samples": 1},
                             **arrays, **(runs or {}))
    ctx = AuditContext()
    ctx._memo["fig2"] = ctx._memo["fig3"] = result
    return ctx


# ------------------------------------------------------------------------------ "decreasing with beta"
DECREASING = [(CD.check_fig2_kl, "kl"), (CD.check_fig2_reconstruction, "reconstruction"),
              (CD.check_fig3_kl, "kl"), (CD.check_fig3_reconstruction, "reconstruction")]
IDS = ["fig2-kl", "fig2-recon", "fig3-kl", "fig3-recon"]


@pytest.mark.parametrize("check, quantity", DECREASING, ids=IDS)
def test_clear_decrease_is_confirmed_with_its_interval_and_level(check, quantity):
    o = check(context(**{quantity: table([3.0, 2.5, 2.0, 1.2, 0.6, 0.1])}))
    assert o.verdict == "confirmed"
    # the overall change is exactly 0.1 - 3.0 = -2.9 by construction; the evidence gives it with its 95% interval
    assert "= -2.9 [95% CI" in o.evidence and "Bonferroni over 5 steps" in o.evidence


@pytest.mark.parametrize("check, quantity", DECREASING, ids=IDS)
def test_clear_increase_at_one_step_is_refuted_there(check, quantity):
    o = check(context(**{quantity: table([3.0, 2.5, 2.9, 1.2, 0.6, 0.1])}))
    assert o.verdict == "refuted"
    assert (o.counterexample["beta1"], o.counterexample["beta2"]) == (0.5, 1.0)
    assert o.counterexample["increase"] == pytest.approx(0.4) and o.counterexample["interval"][0] > 0
    assert o.counterexample["confidence"] == pytest.approx(1 - 0.05 / 5)     # Bonferroni over the 5 steps


@pytest.mark.parametrize("check, quantity", DECREASING, ids=IDS)
def test_flat_line_within_seed_noise_is_not_checked(check, quantity):
    assert check(context(**{quantity: table(np.full(6, 1.5))})).verdict == "not-checked"


@pytest.mark.parametrize("check, quantity", DECREASING, ids=IDS)
def test_rise_within_seed_noise_does_not_refute_an_overall_decrease(check, quantity):
    # a rise of 0.001 between betas 0.5 and 1, where the paired differences spread by ~0.014 per seed
    assert check(context(**{quantity: table([3.0, 2.0, 2.001, 1.0, 0.5, 0.1])})).verdict == "confirmed"


def test_increasing_curve_is_refuted_at_its_first_step():
    o = CD.check_fig2_kl(context(kl=table([0.1, 0.6, 1.2, 2.0, 2.5, 3.0])))
    assert o.verdict == "refuted" and o.counterexample["beta1"] == 0.25


def test_a_clear_decrease_on_too_few_seeds_is_underpowered():
    """4 seeds that all fall: 2 * 0.5^4 = 0.125, so no sign test at 5% can decide; 2 * 0.5^6 < 0.05 < 2 * 0.5^5,
    so the evidence asks for 6 seeds (the spread is tiny: the sign test, not the mean, sets the count)."""
    o = CD.check_fig2_kl(context(kl=table([3.0, 2.5, 2.0, 1.2, 0.6, 0.1], zero_mean_noise(4))))
    assert o.verdict == "not-checked" and "underpowered" in o.evidence and "6 seeds needed" in o.evidence
    enough = CD.check_fig2_kl(context(kl=table([3.0, 2.5, 2.0, 1.2, 0.6, 0.1], zero_mean_noise(6))))
    assert enough.verdict == "confirmed"


# ------------------------------------------------------------------------------ "ELBO largest near beta = 1"
@pytest.mark.parametrize("check", [CD.check_fig2_elbo, CD.check_fig3_elbo], ids=["fig2", "fig3"])
def test_elbo_peaking_at_one_and_falling_beyond_is_confirmed(check):
    o = check(context(elbo=table([-5.0, -4.0, -3.0, -3.5, -4.5, -6.0])))
    assert o.verdict == "confirmed"
    # best inside [0.5, 2] (beta = 1: -3) minus best outside (beta = 4: -4.5) = 1.5 exactly, every resample peaks at 1
    assert "= 1.5 [95% CI" in o.evidence and "1: 100%" in o.steps[0].detail


@pytest.mark.parametrize("base, argmax", [([-6.0, -5.0, -4.5, -4.0, -3.5, -3.0], 8.0),
                                          ([-3.0, -3.5, -4.0, -4.5, -5.0, -6.0], 0.25)], ids=["right", "left"])
def test_elbo_maximum_at_the_grid_edge_is_refuted(base, argmax):
    o = CD.check_fig2_elbo(context(elbo=table(base)))
    assert o.verdict == "refuted" and o.counterexample["argmax_beta"] == argmax


def test_elbo_peaking_at_one_but_rising_again_beyond_is_qualified():
    o = CD.check_fig2_elbo(context(elbo=table([-5.0, -4.0, -3.0, -4.0, -3.5, -6.0])))
    assert o.verdict == "qualified"


def test_elbo_peak_inside_the_band_within_noise_of_one_outside_is_not_checked():
    # beta = 2 (inside [0.5, 2]) and beta = 4 (outside) differ by 0.001, far below the paired spread
    o = CD.check_fig2_elbo(context(elbo=table([-5.0, -4.0, -3.5, -3.0, -2.999, -6.0])))
    assert o.verdict == "not-checked"


# ------------------------------------------------------------------------------ "TIE non-monotone, interior optimum"
def test_tie_with_an_interior_minimum_well_above_noise_at_both_ends_is_confirmed():
    o = CD.check_fig2_tie(context(tie=table([3.0, 2.0, 1.5, 1.0, 1.8, 2.6])))
    assert o.verdict == "confirmed" and o.data["optimal_beta"] == 2.0
    assert "= 1.6 [95% CI" in o.evidence           # min(3.0, 2.6) - 1.0, exactly, by construction


@pytest.mark.parametrize("base", [[3.0, 2.5, 2.0, 1.5, 1.0, 0.5], [0.5, 1.0, 1.5, 2.0, 2.5, 3.0]],
                         ids=["minimum-at-right-edge", "minimum-at-left-edge"])
def test_tie_with_its_minimum_at_the_grid_edge_is_refuted(base):
    o = CD.check_fig2_tie(context(tie=table(base)))
    assert o.verdict == "refuted" and o.counterexample["argmin_beta"] in (0.25, 8.0)


def test_tie_with_an_interior_minimum_within_noise_of_an_end_is_not_checked():
    o = CD.check_fig2_tie(context(tie=table([1.001, 1.0005, 1.0, 1.2, 1.5, 2.0])))
    assert o.verdict == "not-checked"


@pytest.mark.parametrize("check", [CD.check_fig2_tie, CD.check_fig3_tie], ids=["fig2", "fig3"])
def test_tie_optimal_only_after_alignment_is_qualified_and_as_trained_too_is_confirmed(check):
    """TIE (3) compares z with s as they are; a run reports it both aligned (minimum over signed permutations) and as
    trained. An interior optimum of the aligned TIE alone holds only under the alignment (qualified); when the TIE of
    the latents as trained has one too, the claim holds as the paper writes it (confirmed)."""
    aligned = table([3.0, 2.0, 1.5, 1.0, 1.8, 2.6])
    falling = table([9.0, 8.0, 7.0, 6.0, 5.0, 4.0])        # as trained: smallest at the right edge
    o = check(context(tie=aligned, tie_identity=falling))
    assert o.verdict == "qualified" and "aligned" in o.condition
    assert check(context(tie=aligned, tie_identity=aligned + 5.0)).verdict == "confirmed"


def test_fig3_tie_decides_on_the_lower_decile_and_fig2_on_the_mean():
    """30 seeds. At beta = 2, 9 seeds (30%) reach 0 and 21 stay at 1 (mean 0.7); every other column is the same for
    all seeds and falls to 0.4 at the right edge. So the seed mean is smallest at the edge, decided: 21 of 30 seeds
    lie 0.6 lower there (sign test 2 P(K <= 9) = 0.043) and the bootstrap mean at beta = 2 stays above 0.5 (Fig. 2's
    statistic: refuted); the lower decile (3rd smallest of 30) is 0 at beta = 2, and a resample draws fewer than 3 of
    the 9 low seeds with probability P(Bin(30, 0.3) <= 2) = 0.2%, so its interior minimum is decided (Fig. 3's
    statistic: confirmed)."""
    tie = np.array([[3.0, 2.0, 1.5, 0.0, 0.9, 0.4]] * 9 + [[3.0, 2.0, 1.5, 1.0, 0.9, 0.4]] * 21)
    ctx = context(tie=tie)
    o2 = CD.check_fig2_tie(ctx)
    assert o2.verdict == "refuted" and o2.counterexample["argmin_beta"] == 8.0
    o3 = CD.check_fig3_tie(ctx)
    assert o3.verdict == "confirmed" and o3.data["optimal_beta"] == 2.0 and "lower decile" in o3.evidence
    assert any("minimum TIE over seeds" in s.name and "2: 0," in s.detail for s in o3.steps)


def test_fig3_tie_on_fewer_than_twenty_seeds_is_underpowered():
    """The decile is resampled only once 2 seeds lie at or below it (20 seeds): a clear interior minimum on 10
    seeds is not decided, and the evidence says 20 seeds are needed."""
    o = CD.check_fig3_tie(context(tie=table([3.0, 2.0, 1.5, 1.0, 1.8, 2.6], zero_mean_noise(10))))
    assert o.verdict == "not-checked" and "underpowered" in o.evidence and "20 seeds needed" in o.evidence


# ------------------------------------------------------------------------------ convergence and the experiment record
def _runs(converged, epochs=300):
    converged = np.asarray(converged, dtype=bool)
    return {"converged": converged, "epochs_run": np.where(converged, epochs, 1000),
            "gap_to_linear_optimum": np.linspace(-0.5, 0.25, converged.size).reshape(converged.shape),
            "source": "artifact"}


DECREASE = [3.0, 2.5, 2.0, 1.2, 0.6, 0.1]


def test_every_claim_carries_the_experiment_record():
    """seeds, the most epochs any run trained, converged counts, max |gap| (here -0.5 by construction) and source."""
    flags = np.ones((20, 6), dtype=bool)
    flags[3, 2] = False
    o = CD.check_fig2_kl(context(kl=table(DECREASE), runs=_runs(flags)))
    assert o.experiment == {"seeds": 20, "epochs": 1000, "converged": {"runs": 120, "converged": 119},
                            "max_abs_gap_to_linear_optimum": 0.5, "source": "artifact",
                            "spot_check": None, "code_hash_matches": None}     # no spot check, no provenance here
    conv = [s for s in o.steps if s.name == "every training run converged"]
    assert len(conv) == 1 and not conv[0].holds and conv[0].role == "finding" and "(seed 3, beta 1)" in conv[0].detail
    assert o.verdict == "confirmed" and "1 of 120 runs did not converge" in o.evidence
    assert "119 of 120 runs converged" in o.grade_basis


def test_a_result_without_a_run_record_still_gets_one():
    o = CD.check_fig2_kl(context(kl=table(DECREASE)))
    assert o.experiment == {"seeds": 20, "epochs": None, "converged": None, "max_abs_gap_to_linear_optimum": None,
                            "source": None, "spot_check": None, "code_hash_matches": None}
    assert not any(s.name == "every training run converged" for s in o.steps)


@pytest.mark.parametrize("check, quantity", [(CD.check_fig2_kl, "kl"), (CD.check_fig3_elbo, "elbo"),
                                             (CD.check_fig2_tie, "tie")], ids=["kl", "elbo", "tie"])
def test_claims_whose_runs_mostly_did_not_converge_are_not_checked(check, quantity):
    base = {"kl": DECREASE, "elbo": [-5.0, -4.0, -3.0, -3.5, -4.5, -6.0], "tie": [3.0, 2.0, 1.5, 1.0, 1.8, 2.6]}
    flags = np.zeros((20, 6), dtype=bool)
    flags[:9] = True                                  # 54 of 120 converged: fewer than half
    o = check(context(**{quantity: table(base[quantity])}, runs=_runs(flags)))
    assert o.verdict == "not-checked" and o.evidence.startswith("runs did not converge: 54 of 120")
    flags[:11] = True                                 # 66 of 120: the trend tests decide, the evidence says it
    o = check(context(**{quantity: table(base[quantity])}, runs=_runs(flags)))
    assert o.verdict == "confirmed" and "54 of 120 runs did not converge" in o.evidence


# ------------------------------------------------------------------------------ the TIE that feeds them
def eq25_tie(W_mu, b_sigma, A, Sigma):
    """Eq. (25) with E, F of eq. (27) for q(z|x) = N(W_mu x, diag e^{b_sigma}) (W_sigma = 0, b_mu = 0), numpy:
    1/2 { sum_i (E^-1)_ii e^{b_sigma_i} - sum_i b_sigma_i + log det E + Tr[(F - W)^T E^-1 (F - W) Sigma] - k }."""
    k = A.shape[1]
    E_inv = A.T @ A + np.eye(k)
    F = np.linalg.solve(E_inv, A.T)
    G = F - W_mu
    return 0.5 * (np.diag(E_inv) @ np.exp(b_sigma) - b_sigma.sum() - np.linalg.slogdet(E_inv)[1]
                  + np.trace(G.T @ E_inv @ G @ Sigma) - k)


@pytest.fixture(scope="module")
def linear_encoder():
    """A small problem (N = 5, k = 3) and a linear encoder that is a signed permutation of the posterior mean,
    perturbed, so the best relabelling is not the identity."""
    rng = np.random.default_rng(7)
    N, k, n = 5, 3, 400
    A = rng.normal(size=(N, k))
    x = rng.normal(size=(n, k)) @ A.T + rng.normal(size=(n, N))
    F = np.linalg.solve(A.T @ A + np.eye(k), A.T)
    perm, signs = (2, 0, 1), np.array([-1.0, 1.0, -1.0])
    W = signs[:, None] * F[list(perm)] + 0.15 * rng.normal(size=(k, N))     # latent j ~ signs_j * source perm_j
    b_sigma = np.log(rng.uniform(0.2, 0.9, size=k))
    return A, x, W, b_sigma


def test_exact_tie_of_a_linear_encoder_equals_eq25_at_the_empirical_second_moment(linear_encoder):
    """The per-example KL is quadratic in x, so its average over the sample is eq. (25) with Sigma_x replaced by
    X^T X / n: an exact identity, not a Monte-Carlo estimate."""
    from deep.betavae.tie import true_inference_error
    A, x, W, b_sigma = linear_encoder
    r = true_inference_error(x @ W.T, np.tile(np.exp(b_sigma), (len(x), 1)), x, A)
    assert r.tie_identity == pytest.approx(eq25_tie(W, b_sigma, A, x.T @ x / len(x)), rel=1e-10)


def test_gauge_aligned_tie_is_the_minimum_of_eq25_over_all_signed_permutations(linear_encoder):
    from deep.betavae.tie import true_inference_error
    A, x, W, b_sigma = linear_encoder
    k = A.shape[1]
    Sigma = x.T @ x / len(x)
    best = None
    for perm in permutations(range(k)):
        for signs in product((1.0, -1.0), repeat=k):
            W2, b2 = np.empty_like(W), np.empty_like(b_sigma)
            for j in range(k):                        # latent j stands for source perm[j] with sign signs[j]
                W2[perm[j]], b2[perm[j]] = signs[j] * W[j], b_sigma[j]
            value = eq25_tie(W2, b2, A, Sigma)
            if best is None or value < best[0]:
                best = (value, perm, tuple(int(s) for s in signs))
    r = true_inference_error(x @ W.T, np.tile(np.exp(b_sigma), (len(x), 1)), x, A)
    assert r.tie == pytest.approx(best[0], rel=1e-10)
    assert (r.alignment.permutation, r.alignment.signs) == (best[1], best[2]) == ((2, 0, 1), (-1, 1, -1))
    assert r.tie < r.tie_identity - 0.1                  # the relabelling matters on this instance


def test_linear_network_tie_equals_eq25_at_the_population_covariance(linear_encoder):
    """deep.linear.metrics (the trained linear model's route) against the same numpy eq. (25), W_sigma = 0."""
    from deep.linear import metrics as lm
    from numerics.model import Parameters
    A, _, W, b_sigma = linear_encoder
    N, k = A.shape
    p = Parameters.of(W_mu=W, b_mu=np.zeros(k), W_sigma=np.zeros((k, N)), b_sigma=b_sigma, D=np.ones((N, k)),
                      b_D=np.zeros(N))
    assert lm.tie(p, A) == pytest.approx(eq25_tie(W, b_sigma, A, A @ A.T + np.eye(N)), rel=1e-12)


def test_traversal_axes_of_a_blank_or_static_traversal_are_none_not_nan():
    """A unit that does not move the digit has no direction, a blank canvas no centroid: the values are None (the
    claim is then refuted with JSON-safe evidence), never NaN, which no output may carry."""
    import numpy as np

    from numerics.artifacts import jsonable
    from verify.checks_deep import traversal_axes
    images = np.zeros((2, 5, 8, 8))
    for s in range(5):
        images[0, s, 2, 1 + s] = 1.0             # unit 0 moves a dot to the right
        images[1, s, 4, 4] = 1.0                 # unit 1 leaves it where it is
    axes = traversal_axes(images)
    assert axes["displacement_pixels"][0] == pytest.approx(4.0) and axes["displacement_pixels"][1] == 0.0
    assert axes["abs_cos"] is None
    blank = traversal_axes(np.zeros((2, 5, 8, 8)))
    assert blank == {"displacement_pixels": [None, None], "abs_cos": None}
    jsonable(axes), jsonable(blank)              # raises NaNInOutput on a NaN

"""The paired tests across seeds (``verify.seed_statistics``) against independent routes: simulated normal data whose
mean is known (coverage, type-I error, power), hand binomial sums and scipy's ``binomtest`` (the sign test and its
critical counts), the closed-form normal sample size, and explicit resamples (the weighted lower quantile)."""
import math
import time

import numpy as np
import pytest
from scipy import stats

from verify import seed_statistics as ss


# ------------------------------------------------------------------------------ the interval
def test_bootstrap_interval_covers_the_true_mean_at_its_stated_level():
    """1000 simulated data sets of 20 normal per-seed differences (mean 0.3, sd 1): the 95% interval covers 0.3 in
    93-97% of them. With 1000 data sets the coverage estimate has a standard error of 0.7%, so the band is +-2.9 SE
    around 95%; the plain (unexpanded) percentile interval would sit near 92.9% at n = 20."""
    rng = np.random.default_rng(11)
    data = rng.normal(0.3, 1.0, size=(1000, 20))
    covered = 0
    for d in data:
        i = ss.paired_interval(d, 0.95, resamples=4000)
        covered += i.low <= 0.3 <= i.high
    assert 0.93 <= covered / len(data) <= 0.97


def test_no_difference_is_decided_in_more_than_five_percent_of_null_data_sets():
    rng = np.random.default_rng(12)
    decided = sum(ss.paired_interval(d, 0.95, resamples=2000).direction != 0
                  for d in rng.normal(0.0, 1.0, size=(1000, 20)))
    assert decided / 1000 <= 0.05 + 0.015           # 0.015 ~ 2 standard errors of a 5% rate over 1000 data sets


def test_interval_is_deterministic_and_order_free():
    d = np.random.default_rng(3).normal(size=25)
    a, b = ss.paired_interval(d), ss.paired_interval(d)
    assert (a.low, a.high) == (b.low, b.high)
    c = ss.paired_interval(d[::-1])
    assert (c.estimate, c.sign_p) == pytest.approx((a.estimate, a.sign_p)) and c.high - c.low == pytest.approx(
        a.high - a.low, rel=0.05)


def test_two_seeds_decide_nothing_even_when_they_agree_exactly():
    """2 * 0.5^2 = 0.5: the sign test cannot reach 5% with 2 seeds, whatever the bootstrap says."""
    i = ss.paired_interval([-1.0, -1.0])
    assert i.high < 0 and i.direction == 0 and i.underpowered and i.seeds_needed == 6


# ------------------------------------------------------------------------------ the sign test
def test_sign_test_against_a_hand_binomial_sum():
    # 7 of 8 nonzero differences positive (the two zeros are dropped): p = 2 (C(8,0) + C(8,1)) / 2^8 = 18/256
    d = [1, 2, 3, 0.5, 0.1, 4, 2, -1, 0.0, 0.0]
    assert ss.sign_test_p(d) == 18 / 256
    assert ss.sign_test_p([0.0, 0.0]) == 1.0


@pytest.mark.parametrize("pos, neg", [(0, 1), (3, 3), (9, 1), (14, 6), (2, 25)])
def test_sign_test_equals_scipy_binomtest(pos, neg):
    d = [1.0] * pos + [-1.0] * neg
    assert ss.sign_test_p(d) == pytest.approx(stats.binomtest(pos, pos + neg, 0.5).pvalue, rel=1e-12)


@pytest.mark.parametrize("alpha", [0.05, 0.01, 0.05 / 19, 1e-4])
def test_critical_counts_are_the_smallest_counts_binomtest_rejects(alpha):
    k = ss._critical_counts(alpha, 256)
    for n in range(1, 61):
        rejecting = [c for c in range(n + 1) if c > n / 2 and stats.binomtest(c, n, 0.5).pvalue < alpha]
        assert k[n - 1] == (min(rejecting) if rejecting else math.inf), n


# ------------------------------------------------------------------------------ power
def test_seeds_needed_for_the_mean_is_the_normal_sample_size_by_hand():
    # ((z_0.975 + z_0.8) * sd / effect)^2 = ((1.959964 + 0.841621) / 0.5)^2 = 31.39 -> 32
    assert ss.seeds_needed(0.5, 1.0, 0.95, sign_test=False) == 32
    assert ss.seeds_needed(-0.5, 1.0, 0.95, sign_test=False) == 32
    assert ss.seeds_needed(0.0, 1.0, 0.95) is None


def test_seeds_needed_with_the_sign_test_is_its_exact_binomial_count():
    """Effect 0.8 sd: a seed's difference is positive with p = Phi(0.8); the count is the smallest n whose exact
    binomial power at the sign test's critical count reaches 0.8, found here by brute force with binomtest."""
    n = ss.seeds_needed(0.8, 1.0, 0.95)
    p = stats.norm.cdf(0.8)

    def power(m):
        crit = min(c for c in range(m + 1) if c > m / 2 and stats.binomtest(c, m, 0.5).pvalue < 0.05)
        return stats.binom.sf(crit - 1, m, p)
    assert power(n) >= 0.8 and all(power(m) < 0.8 for m in range(6, n))


def test_seeds_needed_gives_80_percent_power_in_simulation():
    """Normal per-seed differences with effect 0.8 sd, at the number of seeds the formula asks for: the decision
    (interval and sign test) is reached in 80% of 600 simulated data sets (band 74-90%: 2.5 standard errors, plus the
    normal approximation's slack); with half as many seeds it is reached clearly less often."""
    rng = np.random.default_rng(5)
    n = ss.seeds_needed(0.8, 1.0, 0.95)

    def rate(m):
        return np.mean([ss.paired_interval(d, 0.95, resamples=2000).direction == 1
                        for d in rng.normal(0.8, 1.0, size=(600, m))])
    assert 0.74 <= rate(n) <= 0.90
    assert rate(n // 2) < 0.6


# ------------------------------------------------------------------------------ tables
def _noisy(base, n=20, sd=0.05, seed=0):
    return np.asarray(base, dtype=float) + np.random.default_rng(seed).normal(0, sd, size=(n, len(base)))


def test_a_step_significant_alone_but_not_after_bonferroni_does_not_refute():
    """15 of 20 seeds rise by 1 at one step, 5 fall by 1 (mean +0.5): the sign test gives 2 P(K >= 15) = 0.041, below
    5% but above 5%/5 = 1% (the Bonferroni level over 5 steps), so the step alone is decided and the family is not."""
    rise = np.array([1.0] * 15 + [-1.0] * 5)
    assert ss.sign_test_p(rise) == pytest.approx(2 * stats.binom.sf(14, 20, 0.5))
    alone = ss.paired_interval(rise, 0.95)
    assert alone.direction == 1
    table = np.tile([5.0, 4.0, 3.0, 2.0, 1.0, 0.0], (20, 1))
    table[:, 3:] += rise[:, None]                     # the step from beta 3 to 4 rises by +-1
    m = ss.non_increasing([1, 2, 3, 4, 5, 6], table, 0.95)
    assert m.steps[2].confidence == pytest.approx(0.99) and m.steps[2].direction == 0
    assert m.verdict == "confirmed" and not m.increases


def test_argmax_is_reselected_in_every_resample():
    """Two betas with the same true mean (1 inside the band, 3 outside): the resampled argmax splits between them and
    the contrast best-inside - best-outside is undecided, whichever of the two the observed means happen to favour."""
    table = _noisy([-5.0, -3.0, -3.0, -6.0], n=20, sd=0.5, seed=2)
    p = ss.peak_within([0.3, 1.0, 3.0, 10.0], table, (0.5, 2.0))
    assert p.verdict == "undecided"
    assert p.argmax_frequency[1.0] > 0.15 and p.argmax_frequency[3.0] > 0.15
    assert sum(p.argmax_frequency.values()) == pytest.approx(1.0)


def test_weighted_lower_quantile_equals_the_quantile_of_each_explicit_resample():
    values = np.random.default_rng(8).normal(size=(30, 4))
    t = ss._Table(range(4), values, resamples=50, seed=3)
    observed, resampled = t.lower_quantile(0.1)
    assert np.array_equal(observed, np.sort(values, axis=0)[2])          # ceil(0.1 * 30) = 3rd smallest
    for r in range(50):
        explicit = np.repeat(values, t.counts[r], axis=0)                  # the resample, seed by seed
        assert np.array_equal(resampled[r], np.sort(explicit, axis=0)[2])


def test_lower_decile_needs_twenty_seeds_before_it_decides():
    base = [3.0, 2.0, 1.0, 2.0, 3.0]
    assert ss.interior_minimum(range(5), _noisy(base, n=20), statistic="quantile").verdict == "confirmed"
    small = ss.interior_minimum(range(5), _noisy(base, n=12), statistic="quantile")
    assert small.verdict == "undecided" and small.underpowered and small.contrast.seeds_needed == 20


def test_three_hundred_seeds_by_twenty_betas_in_well_under_a_second():
    table = _noisy(np.linspace(3, 0, 20), n=300, sd=1.0, seed=4)
    betas = np.exp(np.linspace(-3, 3, 20))
    ss.non_increasing(betas, table)                       # warm the caches of draws and critical counts
    start = time.perf_counter()
    ss.non_increasing(betas, table)
    ss.peak_within(betas, table)
    ss.interior_minimum(betas, table)
    assert time.perf_counter() - start < 1.5              # each well under a second (2 shared cores)


def _explicit_bounds(values, counts, statistic, n, confidence=0.95):
    """The expanded percentile bounds of ``statistic(seed-mean curve)`` over explicit resamples, row by row."""
    reps = [statistic(np.repeat(values, c, axis=0).mean(axis=0)) for c in counts]
    a = ss.expanded_alpha(n, confidence)
    return np.quantile(reps, [a / 2, 1 - a / 2])


def test_selections_are_made_again_inside_every_resample():
    """The contrasts of the argmax and of the interior minimum recomputed from each explicit resample (select, then
    difference): the intervals agree. On this table the selections change between resamples (two betas share the
    top mean, two the bottom), so an interval that kept the observed selection would differ."""
    values = _noisy([-5.0, -3.0, -3.0, -6.0, -3.1], n=20, sd=0.5, seed=2)
    betas = [0.3, 1.0, 3.0, 10.0, 0.7]
    counts = ss._counts(20, 300, 9)
    inside = np.array([False, True, False, False, True])
    p = ss.peak_within(betas, values, (0.5, 2.0), resamples=300, seed=9)
    low, high = _explicit_bounds(values, counts, lambda m: m[inside].max() - m[~inside].max(), 20)
    assert (p.contrast.low, p.contrast.high) == pytest.approx((low, high), abs=1e-12)
    assert 0.15 < p.argmax_frequency[1.0] < 0.85           # the selection does change between resamples
    tie = -values[:, [0, 1, 2, 4, 3]]                      # interior columns 1, 2 share the bottom mean
    m = ss.interior_minimum(range(5), tie, resamples=300, seed=9)
    low, high = _explicit_bounds(tie, counts, lambda c: min(c[0], c[-1]) - c[1:-1].min(), 20)
    assert (m.contrast.low, m.contrast.high) == pytest.approx((low, high), abs=1e-12)

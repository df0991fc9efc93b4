"""Paired tests across seeds for the trained-network trend claims of Figs. 2 and 3, at a stated confidence level.

A deep run gives a (seeds x betas) table per quantity. Seeds are paired across betas (common random numbers:
realisation s has the same data, initialisation and noise at every beta), so every comparison between betas is
made on per-seed differences, and every resample draws whole seeds (rows), keeping the pairing.

**The interval.** A percentile bootstrap of the statistic over seeds, *expanded* (Hesterberg 2015, "What teachers
should know about the bootstrap", sec. 5.5): the plain percentile interval of a mean is too narrow by the factor
sqrt((n-1)/n) z/t at small n, so its tail level alpha' is chosen with z_{alpha'/2} = sqrt(n/(n-1)) t_{alpha/2,n-1},
which gives the t interval's coverage for normal data and keeps the bootstrap's shape otherwise. Statistics that
select a beta (the argmax of ELBO, the minimum of TIE) re-select it in every resample.

**The decision.** A difference is decided when its interval excludes 0 *and* the exact two-sided sign test of the
per-seed differences (zeros dropped) rejects at the same level with the majority of seeds on that side. The sign
test makes the decision exact at any seed count, where the bootstrap is not to be trusted: with 2 seeds no sign
test reaches p < 0.05 (the smallest p is 2^(1-n)), so nothing is decided with fewer than 6 seeds at 95%.

**Power.** :func:`seeds_needed`: the seeds for the decision to be reached with probability 0.8 given the measured
per-seed mean and spread of the deciding difference, assuming normal per-seed differences: the larger of the normal
approximation for the mean and the exact binomial count for the sign test. An undecided result that needs more
seeds than were run is *underpowered*.

>>> import numpy as np
>>> d = np.array([-1.1, -0.9, -1.2, -0.8, -1.0, -1.05, -0.95, -1.0])
>>> i = paired_interval(d, 0.95)
>>> i.direction, i.low < -1.0 < i.high < 0
(-1, True)
>>> i.sign_p, i.seeds                # all 8 negative: 2 * 0.5^8
(0.0078125, 8)
>>> paired_interval(d[:2], 0.95).direction     # two seeds decide nothing: the sign test cannot reach 5%
0
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

CONFIDENCE = 0.95
RESAMPLES = 10_000
BOOTSTRAP_SEED = 20191212          # fixed: the same tables give the same intervals on every run
POWER = 0.8
LOWER_QUANTILE = 0.1               # Fig. 3's "minima over initialisations" is decided on this lower quantile
MIN_BELOW_QUANTILE = 2             # seeds at or below the quantile needed before it is resampled at all


# ------------------------------------------------------------------------------ the basic tests
def sign_test_p(differences) -> float:
    """Exact two-sided sign test of per-seed differences against a median of 0 (zeros dropped).

    >>> sign_test_p([1, 2, 3, 4, 5, -1, 0])     # 5 of 6 positive: 2 * (1 + 6) / 64
    0.21875
    """
    d = np.asarray(differences, dtype=float)
    pos, neg = int((d > 0).sum()), int((d < 0).sum())
    n = pos + neg
    return 1.0 if n == 0 else float(min(1.0, 2 * stats.binom.cdf(min(pos, neg), n, 0.5)))


def expanded_alpha(n: int, confidence: float) -> float:
    """The tail level of the expanded percentile interval for n seeds (module docstring).

    >>> round(expanded_alpha(20, 0.95), 4)     # 2 Phi(-sqrt(20/19) * 2.0930) = 2 Phi(-2.1474)
    0.0318
    >>> expanded_alpha(10**6, 0.95) > 0.0499   # no expansion left at large n
    True
    """
    t = stats.t.ppf(1 - (1 - confidence) / 2, n - 1)
    return float(2 * stats.norm.sf(math.sqrt(n / (n - 1)) * t))


def seeds_needed(effect: float, sd: float, confidence: float, power: float = POWER, *,
                 sign_test: bool = True) -> int | None:
    """Seeds for a two-sided test at ``confidence`` to decide a per-seed mean difference ``effect`` (per-seed
    standard deviation ``sd``) with probability ``power``; None when the effect is 0 (no number suffices).

    Normal approximation for the mean, n = ((z_{1-a/2} + z_power) sd / |effect|)^2; with ``sign_test``, also the
    smallest n at which the exact sign test reaches that power when a seed's difference has the effect's sign with
    probability Phi(|effect| / sd) (normal per-seed differences).

    >>> seeds_needed(1.0, 1.0, 0.95, sign_test=False)        # (1.96 + 0.8416)^2 = 7.85
    8
    >>> seeds_needed(1.0, 0.0, 0.95)                         # no spread: the sign test's floor, 2 * 0.5^6 < 0.05
    6
    """
    if effect == 0 or not math.isfinite(effect):
        return None
    alpha = 1 - confidence
    z = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)
    n = max(2, math.ceil((z * sd / abs(effect)) ** 2 - 1e-9))
    if sign_test:
        n = max(n, _sign_test_seeds(0.5 + 0.5 * math.erf(abs(effect) / (sd * math.sqrt(2))) if sd > 0 else 1.0,
                                    alpha, power))
    return n


def _sign_test_seeds(p: float, alpha: float, power: float) -> int:
    """Smallest n at which the exact two-sided sign test at level alpha rejects with probability >= power."""
    if p - 0.5 < 1e-6:
        return 10 ** 9
    z_a, z_b = stats.norm.ppf(1 - alpha / 2), stats.norm.ppf(power)
    approx = ((0.5 * z_a + z_b * math.sqrt(p * (1 - p))) / (p - 0.5)) ** 2
    if approx > 2_000:           # far beyond any run, where the count's discreteness no longer matters
        return int(math.ceil(approx))
    n = np.arange(1, int(2 * approx) + 101)
    k = _critical_counts(alpha, max(256, 1 << (n.size - 1).bit_length()))[: n.size]
    reach = stats.binom.sf(k - 1, n, p) >= power
    return int(n[np.argmax(reach)]) if reach.any() else int(math.ceil(approx))


@functools.lru_cache(maxsize=32)
def _critical_counts(alpha: float, top: int) -> np.ndarray:
    """For n = 1..top: the smallest count k with 2 P(K >= k) < alpha under the null (inf where none rejects)."""
    n = np.arange(1, top + 1)
    z_a = stats.norm.ppf(1 - alpha / 2)
    k = np.full(n.shape, np.inf)
    start = np.floor(n / 2 + 0.5 * z_a * np.sqrt(n)) - 3      # searched near its normal value
    for shift in range(8, -1, -1):
        k = np.where(2 * stats.binom.sf(start + shift - 1, n, 0.5) < alpha, start + shift, k)
    k = np.where(k <= n, k, np.inf)                            # below 2 * 0.5^n < alpha no count rejects
    k.setflags(write=False)
    return k


# ------------------------------------------------------------------------------ one interval
@dataclass(frozen=True)
class Interval:
    """The confidence interval of one statistic, with the sign test of its per-seed differences and the power."""

    what: str
    estimate: float
    low: float
    high: float
    confidence: float
    seeds: int
    sign_p: float | None               # None: a statistic without per-seed differences (a quantile across seeds)
    positives: int | None
    negatives: int | None
    seeds_needed: int | None           # for 80% power at this confidence (normal approximation); None: effect 0
    min_seeds: int = 2                 # fewer seeds than this decide nothing

    @property
    def direction(self) -> int:
        """+1 decided above 0, -1 decided below 0, 0 undecided (interval over 0, sign test not significant,
        or too few seeds)."""
        if self.seeds < self.min_seeds:
            return 0
        alpha = 1 - self.confidence
        for side, beyond, agree in ((1, self.low > 0, self.positives), (-1, self.high < 0, self.negatives)):
            if beyond and (self.sign_p is None or (self.sign_p < alpha and agree > (self.positives + self.negatives) / 2)):
                return side
        return 0

    @property
    def underpowered(self) -> bool:
        return self.direction == 0 and (self.seeds_needed is None or self.seeds_needed > self.seeds)

    def text(self) -> str:
        """The interval as the evidence states it."""
        sign = "" if self.sign_p is None else f", sign test p = {self.sign_p:.2g}"
        need = ("" if self.direction != 0 else
                "; no number of seeds decides a zero effect" if self.seeds_needed is None else
                f"; {self.seeds_needed} seeds needed for 80% power")
        return (f"{self.what} = {self.estimate:.4g} [{percent(self.confidence)} CI {self.low:.4g}, {self.high:.4g}"
                f"{sign}, {self.seeds} seeds{need}]")

    def to_json(self) -> dict:
        return {"what": self.what, "estimate": self.estimate, "low": self.low, "high": self.high,
                "confidence": self.confidence, "seeds": self.seeds, "sign_test_p": self.sign_p,
                "seeds_needed": self.seeds_needed, "decided": self.direction}


def percent(confidence: float) -> str:
    """>>> percent(0.95), percent(1 - 0.05 / 5)
    ('95%', '99%')"""
    return f"{100 * confidence:.4g}%"


def _interval(what, estimate, replicates, n, confidence, differences=None, min_seeds=2) -> Interval:
    replicates = np.asarray(replicates, dtype=float)
    if n < 2:
        low, high = -math.inf, math.inf
    else:
        a = expanded_alpha(n, confidence)
        low, high = (float(v) for v in np.quantile(replicates, [a / 2, 1 - a / 2]))
    if differences is not None:
        d = np.asarray(differences, dtype=float)
        sd = float(d.std(ddof=1)) if n > 1 else 0.0
        sign_p, pos, neg = sign_test_p(d), int((d > 0).sum()), int((d < 0).sum())
        needed = seeds_needed(float(d.mean()), sd, confidence)
    else:    # the spread of the bootstrap replicates stands for sd / sqrt(n)
        sign_p = pos = neg = None
        needed = seeds_needed(float(estimate), float(replicates.std()) * math.sqrt(n), confidence, sign_test=False)
        needed = None if needed is None else max(needed, min_seeds)
    return Interval(what, float(estimate), low, high, confidence, n, sign_p, pos, neg, needed, min_seeds)


@functools.lru_cache(maxsize=4)
def _counts(n: int, resamples: int, seed: int) -> np.ndarray:
    """How often each seed is drawn in each resample, (resamples, n): the same draws for every statistic."""
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, n, size=(resamples, n)) + n * np.arange(resamples)[:, None]
    counts = np.bincount(draws.ravel(), minlength=resamples * n).reshape(resamples, n)
    counts.setflags(write=False)
    return counts


def paired_interval(differences, confidence: float = CONFIDENCE, *, resamples: int = RESAMPLES,
                    seed: int = BOOTSTRAP_SEED, what: str = "mean difference") -> Interval:
    """Expanded percentile bootstrap interval of the mean of per-seed differences, with the exact sign test."""
    d = np.asarray(differences, dtype=float).ravel()
    n = d.size
    replicates = _counts(n, resamples, seed) @ d / n if n > 1 else np.full(1, d.mean())
    return _interval(what, float(d.mean()), replicates, n, confidence, differences=d)


# ------------------------------------------------------------------------------ tables: (seeds x betas)
class _Table:
    """A (seeds x betas) table with its resampled seed-means (one set of draws for every statistic)."""

    def __init__(self, betas, values, resamples, seed):
        self.betas = np.asarray(betas, dtype=float)
        self.values = np.asarray(values, dtype=float)
        self.n = self.values.shape[0]
        self.resamples, self.seed = resamples, seed
        self.mean = self.values.mean(axis=0)
        self.counts = _counts(self.n, resamples, seed) if self.n > 1 else np.ones((1, 1), dtype=int)
        self.means = self.counts @ self.values / self.n        # (resamples, betas)

    def difference(self, j, i, confidence, what) -> Interval:
        """Paired interval of column j minus column i."""
        d = self.values[:, j] - self.values[:, i]
        return _interval(what, float(d.mean()), self.means[:, j] - self.means[:, i], self.n, confidence, d)

    def lower_quantile(self, q):
        """(observed, resampled) lower q-quantile across seeds of every column: the ceil(q n)-th smallest value."""
        rank = max(1, math.ceil(q * self.n - 1e-9))
        observed = np.sort(self.values, axis=0)[rank - 1]
        out = np.empty((self.counts.shape[0], self.values.shape[1]))
        by_seed = np.ascontiguousarray(self.counts.T, dtype=np.int16)     # (seeds, resamples): rows gather fast
        for j in range(self.values.shape[1]):
            order = np.argsort(self.values[:, j], kind="stable")
            first = np.argmax(np.cumsum(by_seed[order], axis=0, dtype=np.int16) >= rank, axis=0)
            out[:, j] = self.values[order[first], j]
        return observed, out


def _b(beta) -> str:
    return f"{float(beta):.3g}"


@dataclass(frozen=True)
class Monotone:
    """Claim (a): a quantity is non-increasing along beta."""

    verdict: str                       # "confirmed", "refuted" or "undecided"
    betas: tuple
    mean: tuple
    steps: tuple                       # Interval per consecutive step, each at the Bonferroni level
    overall: Interval                  # last - first, at the family confidence
    family_confidence: float

    @property
    def increases(self) -> list[Interval]:
        return [s for s in self.steps if s.direction > 0]

    @property
    def deciding(self) -> Interval:
        """The interval the verdict rests on (for an undecided one, the route nearest to a decision)."""
        if self.increases:
            return self.increases[0]
        if self.overall.estimate < 0 or not self.steps:
            return self.overall
        return max(self.steps, key=lambda s: s.estimate / max(s.high - s.low, 1e-300))

    @property
    def underpowered(self) -> bool:
        return self.verdict == "undecided" and self.deciding.underpowered

    def step_text(self) -> str:
        return (f"each step at {percent(self.steps[0].confidence) if self.steps else '-'} "
                f"(Bonferroni over {len(self.steps)} steps, family {percent(self.family_confidence)})")


def non_increasing(betas, values, confidence: float = CONFIDENCE, *, resamples: int = RESAMPLES,
                   seed: int = BOOTSTRAP_SEED, name: str = "Q") -> Monotone:
    """Refuted if a consecutive step's interval (Bonferroni over the steps) is decided above 0; confirmed if none is
    and the overall change (last - first) is decided below 0; undecided otherwise.

    >>> import numpy as np
    >>> noise = np.random.default_rng(0).normal(0, 0.05, size=(20, 4))
    >>> non_increasing([1, 2, 3, 4], np.array([3.0, 2.0, 1.0, 0.0]) + noise).verdict
    'confirmed'
    >>> m = non_increasing([1, 2, 3, 4], np.array([3.0, 2.0, 2.5, 0.0]) + noise)
    >>> m.verdict, m.increases[0].what
    ('refuted', 'Q(3) - Q(2)')
    """
    t = _Table(betas, values, resamples, seed)
    m = len(t.betas) - 1
    step_conf = 1 - (1 - confidence) / max(m, 1)
    steps = tuple(t.difference(i + 1, i, step_conf, f"{name}({_b(t.betas[i + 1])}) - {name}({_b(t.betas[i])})")
                  for i in range(m))
    overall = t.difference(m, 0, confidence, f"{name}({_b(t.betas[-1])}) - {name}({_b(t.betas[0])})")
    if any(s.direction > 0 for s in steps):
        verdict = "refuted"
    elif overall.direction < 0:
        verdict = "confirmed"
    else:
        verdict = "undecided"
    return Monotone(verdict, tuple(t.betas.tolist()), tuple(t.mean.tolist()), steps, overall, confidence)


class _ContrastDecision:
    """A decision that rests on one re-selected contrast (``verdict``, ``contrast`` fields of the subclass)."""

    @property
    def deciding(self) -> Interval | None:
        return self.contrast

    @property
    def underpowered(self) -> bool:
        return self.verdict == "undecided" and self.contrast is not None and self.contrast.underpowered


@dataclass(frozen=True)
class Peak(_ContrastDecision):
    """Claim (b): the seed-mean curve is largest at a beta inside ``band``."""

    verdict: str                       # confirmed: the best beta in the band beats every beta outside; refuted: a
    betas: tuple                       # beta outside beats every beta inside; undecided otherwise
    mean: tuple
    band: tuple
    argmax_beta: float
    argmax_frequency: dict             # beta -> fraction of resamples whose seed-mean curve peaks there
    contrast: Interval | None          # max inside - max outside, both re-selected in every resample
    best_inside_beta: float
    best_outside_beta: float | None
    neighbours: tuple = ()             # value(argmax) - value(neighbour), Bonferroni over the neighbours
    beyond: Monotone | None = field(default=None)   # non-increasing from the argmax on

    def frequency_text(self) -> str:
        return ", ".join(f"{_b(b)}: {f:.0%}" for b, f in self.argmax_frequency.items() if f > 0)


def peak_within(betas, values, band=(0.5, 2.0), confidence: float = CONFIDENCE, *, resamples: int = RESAMPLES,
                seed: int = BOOTSTRAP_SEED, name: str = "ELBO") -> Peak:
    """Is the seed-mean of ``values`` largest inside ``band`` (the grid's beta nearest 1 when none falls inside)?

    >>> import numpy as np
    >>> noise = np.random.default_rng(0).normal(0, 0.05, size=(20, 5))
    >>> p = peak_within([0.1, 0.3, 1, 3, 10], np.array([-5.0, -4.0, -3.0, -4.0, -6.0]) + noise)
    >>> p.verdict, p.argmax_beta, p.argmax_frequency[1.0], p.beyond.verdict
    ('confirmed', 1.0, 1.0, 'confirmed')
    """
    t = _Table(betas, values, resamples, seed)
    inside = (t.betas >= band[0]) & (t.betas <= band[1])
    if not inside.any():
        inside[np.argmin(abs(np.log(t.betas)))] = True
    i_star = int(np.argmax(t.mean))
    picks = np.bincount(np.argmax(t.means, axis=1), minlength=len(t.betas)) / t.means.shape[0]
    frequency = {float(b): float(f) for b, f in zip(t.betas, picks)}
    i_in = int(np.flatnonzero(inside)[np.argmax(t.mean[inside])])
    contrast, j_out = None, None
    if (~inside).any():
        j_out = int(np.flatnonzero(~inside)[np.argmax(t.mean[~inside])])
        d = t.values[:, i_in] - t.values[:, j_out]
        reselected = t.means[:, inside].max(axis=1) - t.means[:, ~inside].max(axis=1)
        contrast = _interval(f"max {name} in [{_b(band[0])}, {_b(band[1])}] - max {name} outside",
                             float(t.mean[inside].max() - t.mean[~inside].max()), reselected, t.n, confidence, d)
    near = [j for j in (i_star - 1, i_star + 1) if 0 <= j < len(t.betas)]
    neighbour_conf = 1 - (1 - confidence) / max(len(near), 1)
    neighbours = tuple(t.difference(i_star, j, neighbour_conf, f"{name}({_b(t.betas[i_star])}) - {name}({_b(t.betas[j])})")
                       for j in near)
    beyond = (non_increasing(t.betas[i_star:], t.values[:, i_star:], confidence, resamples=resamples, seed=seed,
                             name=name) if i_star < len(t.betas) - 1 else None)
    if contrast is None:
        verdict = "confirmed"
    else:
        verdict = {1: "confirmed", -1: "refuted", 0: "undecided"}[contrast.direction]
    return Peak(verdict, tuple(t.betas.tolist()), tuple(t.mean.tolist()), tuple(band), float(t.betas[i_star]),
                frequency, contrast, float(t.betas[i_in]), None if j_out is None else float(t.betas[j_out]),
                neighbours, beyond)


@dataclass(frozen=True)
class InteriorMinimum(_ContrastDecision):
    """Claims (c) and (d): the curve (seed mean, or a lower quantile across seeds) is smallest strictly inside the
    grid, beyond seed noise at both ends."""

    verdict: str                       # confirmed: interior optimum; refuted: an end lies below every interior beta
    betas: tuple
    curve: tuple
    statistic: str                     # "mean" or "lower decile" (the quantile's name)
    argmin_beta: float                 # of the observed curve
    interior_argmin_beta: float | None
    contrast: Interval | None          # min(curve at the two ends) - min(curve inside), re-selected per resample


def interior_minimum(betas, values, confidence: float = CONFIDENCE, *, statistic: str = "mean",
                     quantile: float = LOWER_QUANTILE, resamples: int = RESAMPLES, seed: int = BOOTSTRAP_SEED,
                     name: str = "TIE") -> InteriorMinimum:
    """Decide an interior minimum of the seed-mean (``statistic="mean"``) or of the lower ``quantile`` across seeds
    (``statistic="quantile"``) on min(ends) - min(interior), the minimum re-selected in every resample.

    The minimum over seeds itself is not resampled: a bootstrap sample's minimum equals the sample's in ~63% of the
    draws, so its percentile interval says little. A lower quantile (default 10%) follows the best initialisations
    and is resampled once at least ``MIN_BELOW_QUANTILE`` seeds lie at or below it (20 seeds for the decile).

    >>> import numpy as np
    >>> noise = np.random.default_rng(0).normal(0, 0.05, size=(20, 5))
    >>> m = interior_minimum([0.1, 0.3, 1, 3, 10], np.array([3.0, 2.0, 1.0, 2.0, 3.0]) + noise)
    >>> m.verdict, m.interior_argmin_beta, m.contrast.low > 0.8
    ('confirmed', 1.0, True)
    """
    t = _Table(betas, values, resamples, seed)
    if statistic == "mean":
        curve, replicates, label, min_seeds = t.mean, t.means, "mean", 2
    elif statistic == "quantile":
        curve, replicates = t.lower_quantile(quantile)
        label = "lower decile" if quantile == 0.1 else f"lower {quantile:g}-quantile"
        min_seeds = math.ceil(MIN_BELOW_QUANTILE / quantile - 1e-9)
    else:
        raise ValueError(f"statistic must be 'mean' or 'quantile', got {statistic!r}")
    argmin = float(t.betas[int(np.argmin(curve))])
    if len(t.betas) < 3:
        return InteriorMinimum("undecided", tuple(t.betas.tolist()), tuple(curve.tolist()), label, argmin, None, None)
    ends = [0, len(t.betas) - 1]
    i_in = 1 + int(np.argmin(curve[1:-1]))
    e = ends[int(np.argmin(curve[ends]))]
    reselected = replicates[:, ends].min(axis=1) - replicates[:, 1:-1].min(axis=1)
    estimate = float(curve[ends].min() - curve[1:-1].min())
    what = f"min {label} {name} at the ends - min inside"
    differences = t.values[:, e] - t.values[:, i_in] if statistic == "mean" else None
    contrast = _interval(what, estimate, reselected, t.n, confidence, differences, min_seeds)
    verdict = {1: "confirmed", -1: "refuted", 0: "undecided"}[contrast.direction]
    return InteriorMinimum(verdict, tuple(t.betas.tolist()), tuple(curve.tolist()), label, argmin,
                           float(t.betas[i_in]), contrast)

"""What a cross-check of the trained linear model runs: betas, seeds, paths and training budgets.

A :class:`CrosscheckPlan` fixes everything :func:`deep.linear.crosscheck.run_crosscheck` needs besides the
problem. Four plans are named (:func:`named_plan`); which one a command runs is decided in
:mod:`deep.levels`:

==========  ==========================================================================  ==============
name        contents                                                                    time (paper)
==========  ==========================================================================  ==============
``audit``   path (a) on 5 betas x 2 seeds, path (b) on 3 betas, 1 seed, 300 Adam steps  ~7 s
``quick``   2 seeds, path (b) on 3 betas: 4000 Adam steps + Newton on 1M fresh samples    ~70 s
``full``    3 seeds, path (b) at every beta, Newton on 2M samples                         ~4-5.5 min
``deep``    5 seeds on path (a), 2 on path (b), every beta, as ``full``                    ~10 min (est.)
==========  ==========================================================================  ==============

(times for the paper's problem in a fresh process on the 2-core reference machine.) The plan's
``name`` is recorded with every result.

>>> p = named_plan("audit")
>>> p.name, p.seeds, p.sampled.steps, p.mc_prediction
('audit', (0, 1), 300, False)
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .train import ExactSettings, SampledSettings

PATHS = ("exact", "sampled")     # path (a): the exact objective; path (b): samples


@dataclass(frozen=True)
class CrosscheckPlan:
    """What a cross-check runs. Betas and path (b)'s betas are explicit or a rule of
    :func:`deep.linear.betas.plan_betas` / :func:`deep.linear.betas.plan_sampled_betas`. Its JSON record is
    its fields (:func:`numerics.artifacts.jsonable`)."""

    name: str
    betas: tuple[float, ...] | str = "thresholds"      # "thresholds" (default_betas), "reduced" (five), or explicit
    seeds: tuple[int, ...] = (0, 1)
    paths: tuple[str, ...] = PATHS
    sampled_betas: tuple[float, ...] | str = "subset"  # "subset" (crosscheck_betas.sampled_betas), "all", or explicit
    sampled_seeds: int | None = 1                       # path (b) uses the first this-many seeds (None: all)
    exact: ExactSettings = field(default_factory=ExactSettings)
    sampled: SampledSettings = field(default_factory=SampledSettings)
    gradient_points: int = 3
    mc_prediction: bool = True
    mc_grad_samples: int = 5000


# The Adam schedule every named plan uses for path (b); only the number of steps differs.
def _adam(steps: int) -> SampledSettings:
    return SampledSettings(steps=steps, batch=256, lr=1e-2, decay_fraction=0.8, average_fraction=0.2)


# Adam to the neighbourhood (averaged), then Newton on one fresh sample of `samples` pairs (deep.linear.refine):
# ~15 s per beta here at 1e6 samples, the sample kept in memory (1 GiB).
def _adam_and_refine(steps: int, samples: int) -> SampledSettings:
    return SampledSettings(steps=steps, batch=256, lr=1e-2, decay_fraction=0.5, average_fraction=0.2,
                           refine_samples=samples)


PLAN_NAMES = ("audit", "quick", "full", "deep")


def named_plan(name: str) -> CrosscheckPlan:
    """The plan called ``name`` (one of :data:`PLAN_NAMES`; see the module docstring); ValueError otherwise."""
    if name == "audit":
        # No Monte-Carlo prediction: it would take longer than the training. For the paper's problem the betas
        # are 0.5, 1.087, 1.4375, 9.1, 76.2 (both sides of 1, of the threshold 1.25 and of 66.25); path (b)
        # runs at 0.5, 1.4375 and 9.1, its errors reported, not judged.
        return CrosscheckPlan(name="audit", betas="reduced", seeds=(0, 1), sampled_betas="subset", sampled_seeds=1,
                              sampled=_adam(300), gradient_points=2, mc_prediction=False)
    if name == "quick":
        return CrosscheckPlan(name="quick", seeds=(0, 1), sampled_seeds=1, sampled=_adam_and_refine(4000, 1_000_000))
    if name == "full":
        return CrosscheckPlan(name="full", seeds=(0, 1, 2), sampled_seeds=1, sampled_betas="all",
                              sampled=_adam_and_refine(4000, 2_000_000), mc_grad_samples=20000)
    if name == "deep":
        return CrosscheckPlan(name="deep", seeds=(0, 1, 2, 3, 4), sampled_seeds=2, sampled_betas="all",
                              sampled=_adam_and_refine(4000, 2_000_000), mc_grad_samples=20000)
    raise ValueError(f"unknown crosscheck plan '{name}' ({', '.join(PLAN_NAMES)})")


def command_plan(quick: bool = False) -> CrosscheckPlan:
    """The ``crosscheck`` command's plan: ``quick`` with ``--quick``, else ``full``."""
    return named_plan("quick" if quick else "full")

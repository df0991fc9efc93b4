"""Levels of effort: one name per level, and what each runs (Fig. 2/3 protocols, the linear cross-check plan).

The trained-network results come in levels of effort. This module is the one place that says
which experiment each level runs; the names recorded with the results (the protocol's ``name``,
the plan's ``name``) are those of the presets in :mod:`deep.betavae.protocol` and :mod:`deep.linear.plan`.

=============  ==================================  ========================  ====================================
level          Figs. 2 and 3                       linear cross-check        used by
=============  ==================================  ========================  ====================================
``reduced``    ``reduced-fig2``/``-fig3`` (s)      plan ``audit`` (~7 s)     ``audit``'s cross-check, ``train --quick``
``long``       ``long-fig2``/``-fig3`` (min)       plan ``deep`` (~7 min)    ``audit --deep``'s cross-check, ``train``
``converged``  ``converged-fig2``/``-fig3`` (~1 h)  none                      ``audit`` (stored evidence + spot check),
                                                                             ``audit --deep`` (re-run)
``paper``      ``paper-fig2``/``-fig3`` (days)     none                      ``train --protocol paper``
=============  ==================================  ========================  ====================================

The ``crosscheck`` command has its own two plans, ``quick`` (``crosscheck --quick``) and ``full``
(the default): :func:`deep.linear.plan.command_plan`.

>>> level = audit_level(deep=False)
>>> level.name, level.figure("fig2").name, level.crosscheck().name
('reduced', 'reduced-fig2', 'audit')
>>> train_level(quick=False).figure("fig3").name
'long-fig3'
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .betavae import protocol as presets
from .linear.plan import CrosscheckPlan, named_plan


@dataclass(frozen=True)
class Level:
    """One level of effort: its Fig. 2 and Fig. 3 protocols and (where there is one) its cross-check plan."""

    name: str
    fig2: Callable[[], presets.Protocol]
    fig3: Callable[[], presets.Protocol]
    crosscheck_plan: str | None          # a name of deep.linear.plan.PLAN_NAMES

    def figure(self, figure: str) -> presets.Protocol:
        """The protocol of ``figure`` ('fig2' or 'fig3') at this level."""
        if figure not in ("fig2", "fig3"):
            raise ValueError(f"figure must be 'fig2' or 'fig3', got '{figure}'")
        return self.fig2() if figure == "fig2" else self.fig3()

    def crosscheck(self) -> CrosscheckPlan:
        """The linear cross-check plan at this level; ValueError where the level has none."""
        if self.crosscheck_plan is None:
            raise ValueError(f"the level '{self.name}' has no cross-check plan")
        return named_plan(self.crosscheck_plan)


LEVELS = {
    "reduced": Level("reduced", presets.reduced_fig2, presets.reduced_fig3, "audit"),
    "long": Level("long", presets.long_fig2, presets.long_fig3, "deep"),
    "converged": Level("converged", presets.converged_fig2, presets.converged_fig3, None),
    "paper": Level("paper", presets.paper_fig2, presets.paper_fig3, None),
}


def level(name: str) -> Level:
    """The level called ``name`` (reduced, long, paper); ValueError otherwise."""
    if name not in LEVELS:
        raise ValueError(f"unknown level '{name}' ({', '.join(LEVELS)})")
    return LEVELS[name]


def audit_level(deep: bool) -> Level:
    """The audit's level: ``long`` with ``--deep``, else ``reduced``."""
    return LEVELS["long" if deep else "reduced"]


def train_level(quick: bool) -> Level:
    """The ``train`` command's level: ``reduced`` with ``--quick``, else ``long``."""
    return LEVELS["reduced" if quick else "long"]


def audit_figure(figure: str, deep: bool = False, progress: bool = False):
    """The trained networks the audit's Fig. 2/3 verdicts rest on.

    ``deep``: the ``converged`` protocol re-run here (about an hour on 2 CPU cores). Otherwise the stored evidence of
    that protocol (:func:`deep.betavae.evidence.evidence_path`), after a spot check that re-trains its first
    realisation at two betas (:mod:`deep.betavae.spot_check`); the result carries ``spot_check`` and ``provenance``.
    Without stored evidence (a checkout that lacks it), the ``reduced`` protocol is run and says so (``source``
    "run", protocol ``reduced-*``).
    """
    import dataclasses
    import sys

    from .betavae.evidence import evidence_path, load_evidence
    from .betavae.experiments import run_fig2, run_fig3
    from .betavae.spot_check import spot_check

    runner = run_fig3 if figure == "fig3" else run_fig2
    if deep:
        return runner(LEVELS["converged"].figure(figure), progress=progress)
    path = evidence_path(figure)
    if not path.exists():
        print(f"warning: no stored evidence at {path}: {figure} runs the reduced protocol instead", file=sys.stderr)
        return runner(LEVELS["reduced"].figure(figure), progress=progress)
    stored = load_evidence(path)
    return dataclasses.replace(stored, spot_check=spot_check(stored))


def audit_crosscheck(deep: bool = False, progress: bool = False):
    """The audit's linear cross-check: the paper's problem (N = 128, k = 2) with the plan of :func:`audit_level`."""
    from numerics.problems import paper_problem

    from .linear.crosscheck import run_crosscheck
    return run_crosscheck(paper_problem().A, plan=audit_level(deep).crosscheck(), progress=progress)

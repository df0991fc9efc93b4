"""The subcommands of ``betavae-audit``, registered from one table (:data:`COMMANDS`): name, help, module.

Each module of this package holds one command: ``configure(parser)`` adds its arguments and
``run(args, invocation)`` runs it and returns the exit status (verify.output.Invocation carries the command line and
start time). Shared parsing and :class:`verify.commands.usage.UsageError` live in :mod:`verify.commands.usage`,
the mixing-matrix options in :mod:`verify.commands.problem_options`. Adding a command: write its module, add a row.

>>> [c.name for c in COMMANDS][:3]
['audit', 'derive', 'equations']
>>> command("curve").module
'verify.commands.curve'
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Command:
    """A subcommand: its name, one-line help, and the module holding its ``configure`` and ``run``."""

    name: str
    help: str
    module: str

    def load(self):
        return importlib.import_module(self.module)


def _here(name: str) -> str:
    return f"{__name__}.{name}"


COMMANDS: tuple[Command, ...] = (
    Command("audit", "check every claim of the paper; write report.md, claims.json, figures and the derivation",
            _here("audit")),
    Command("derive", "build the SymPy derivation; write LaTeX, errata JSON and PDF", _here("derive")),
    Command("equations", "the ledger of equations (1)-(61): each a definition, covered by a claim, or compared",
            _here("equations")),
    Command("curve", "quantities at the optimum along a beta grid (Fig. 1); --plot writes the figure", _here("curve")),
    Command("stationary", "solve the full stationarity system from random starts; classify by the Hessian",
            _here("stationary")),
    Command("optimal-beta", "the TIE-optimal beta to any number of correct digits (mpmath), exact where A is rational",
            _here("optimal_beta")),
    Command("phase-diagram", "the TIE-optimal beta over two-source mixing matrices (angle x norm ratio, angle x scale)",
            _here("phase_diagram")),
    Command("crosscheck", "train the linear model of Section IV.B with torch and compare it with the closed form",
            _here("crosscheck")),
    Command("train", "train the deep beta-VAE of Section V (Fig. 2; --fig3 for Fig. 3) over seeds x betas",
            _here("train")),
    Command("probe", "measure your own encoder (and decoder) against the exact theory: aligned TIE, KL, ELBO, gap "
                     "to the optimum", _here("probe")),
    Command("convert-beta", "the paper's beta and decoder variance behind a beta-VAE library's beta",
            _here("convert_beta")),
)


def command(name: str) -> Command:
    for c in COMMANDS:
        if c.name == name:
            return c
    raise KeyError(name)

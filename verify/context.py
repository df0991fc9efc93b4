"""What the claim checks share during one audit: options, and results computed once on demand.

The derivation document and the trained-network runs (Fig. 2, Fig. 3, the linear cross-check) are each computed
the first time a check asks for them and reused by the others (four Fig. 2 claims read one training run).

A check may read only the shared results its claim declares (``Claim.needs``): :meth:`AuditContext.declared`
makes any other request fail, so that the audit's schedule (verify.audit) can rely on the declarations.

>>> ctx = AuditContext()
>>> ctx.protocol_name
'Figs. 2-3: converged protocol, stored evidence after a spot check; linear cross-check: reduced'
>>> with ctx.declared(frozenset()):
...     ctx.fig2()
Traceback (most recent call last):
verify.context.UndeclaredNeed: the check read 'fig2', which its claim does not declare in verify/catalogue.py
"""
from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .ledger import note


class UndeclaredNeed(RuntimeError):
    """A check asked for a shared result its claim does not declare (a bug of the catalogue or of the check)."""


def _default_document():
    from derivations.document import load_or_build
    return load_or_build()


@dataclass
class AuditContext:
    figures_dir: Path | None = None          # where checks write their figures (None: no figures)
    deep: bool = False                       # longer trained-network protocols (audit --deep)
    document_provider: Callable = _default_document
    progress: bool = False
    figures: dict = field(default_factory=dict)      # figure name -> path written
    _memo: dict = field(default_factory=dict)
    _allowed: frozenset | None = None                # the running claim's needs (None: no claim running)

    @contextlib.contextmanager
    def declared(self, needs: frozenset):
        """Within this block only the shared results in ``needs`` may be asked for."""
        previous, self._allowed = self._allowed, frozenset(needs)
        try:
            yield
        finally:
            self._allowed = previous

    def _asking(self, need: str) -> None:
        if self._allowed is not None and need not in self._allowed:
            raise UndeclaredNeed(f"the check read '{need}', which its claim does not declare in verify/catalogue.py")

    @property
    def level(self):
        """The level of effort of the trained-network runs (deep.levels): ``long`` with ``audit --deep``."""
        from deep.levels import audit_level
        return audit_level(self.deep)

    @property
    def protocol_name(self) -> str:
        """What the trained-network claims rest on in this audit (deep.levels.audit_figure, audit_crosscheck)."""
        figures = "converged protocol, re-run" if self.deep else "converged protocol, stored evidence after a spot check"
        return f"Figs. 2-3: {figures}; linear cross-check: {self.level.name}"

    def memo(self, key, compute):
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    # ---------------------------------------------------------------- shared results
    def document(self):
        from derivations.errata import COUNTEREXAMPLE_SEED
        self._asking("document")
        note("precision", "derivation", "exact (SymPy symbolic algebra)")
        note("seeds", "counterexample_points", COUNTEREXAMPLE_SEED)
        return self.memo("document", self.document_provider)

    def comparisons(self, equation_prefix: str):
        """The derivation's comparisons of one printed equation (``"23"`` also gives 23.1-23.4)."""
        from .equations import comparisons_of
        return comparisons_of(self.document(), equation_prefix)

    def fig2(self):
        self._asking("fig2")

        def run():
            from deep.levels import audit_figure
            return audit_figure("fig2", self.deep, self.progress)
        return self._noted_training("fig2", self.memo("fig2", run))

    def fig3(self):
        self._asking("fig3")

        def run():
            from deep.levels import audit_figure
            return audit_figure("fig3", self.deep, self.progress)
        return self._noted_training("fig3", self.memo("fig3", run))

    def crosscheck(self):
        self._asking("crosscheck")

        def run():
            from deep.levels import audit_crosscheck
            return audit_crosscheck(self.deep)
        result = self.memo("crosscheck", run)
        note("seeds", "crosscheck_training", [int(x) for x in result.environment.get("seeds", [])])
        note("precision", "crosscheck_training", "torch float64")
        return result

    @staticmethod
    def _noted_training(figure: str, result):
        p = result.protocol
        note("seeds", f"{figure}_training", {"base_seed": p["seed"], "realisations": [int(x) for x in result.seeds],
                                             "protocol": p["name"]})
        note("precision", f"{figure}_training", f"torch {p['dtype']}; {p['mc_samples']} Monte-Carlo samples")
        return result

    def figure_path(self, name: str) -> Path | None:
        """Where to write figure ``name`` (recorded for the report), or None when figures are off."""
        if self.figures_dir is None:
            return None
        os.makedirs(self.figures_dir, exist_ok=True)
        path = Path(self.figures_dir) / name
        self.figures[name] = path
        return path

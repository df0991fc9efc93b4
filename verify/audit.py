"""The audit as a pipeline: schedule the claims by what they declare they need, run each check, collect verdicts.

A check that crashes is reported, the others still run. The order follows the claims' declared needs
(``Claim.needs``, verify/catalogue.py): first the checks that need nothing shared, while the derivation document is
built in a worker process (verify.derivation.DerivationJob) on the second core; then the checks that read the
document; then the trained-network checks, alone, once the worker has finished, since torch's threads and a busy
second process slow each other down by an order of magnitude (measured: Fig. 2's reduced run 5 s alone, 67 s beside
a cold derivation on two cores). The audit decides; verify.report formats.

>>> from verify.context import AuditContext
>>> r = run_audit(AuditContext(), only=["prop4"])
>>> [(x.claim.id, x.outcome.verdict) for x in r.results]
[('prop4', 'confirmed')]
>>> from verify.catalogue import claim
>>> [c.id for c in schedule([claim("fig2-kl-decreasing"), claim("prop1"), claim("prop4")])]
['prop4', 'prop1', 'fig2-kl-decreasing']
"""
from __future__ import annotations

import time
import traceback
from dataclasses import dataclass, field

from numerics import artifacts

from .catalogue import CLAIMS, DOCUMENT, Claim
from .ledger import recording
from .outcome import CheckIntegrityError, Outcome


@dataclass(frozen=True)
class ClaimResult:
    claim: Claim
    outcome: Outcome | None
    error: str | None
    seconds: float
    used: dict = field(default_factory=lambda: {"seeds": {}, "precision": {}})   # noted by the check (verify.ledger)
    command: tuple[str, ...] = ()

    @property
    def verdict(self) -> str:
        return self.outcome.verdict if self.outcome else "error"


@dataclass(frozen=True)
class AuditResult:
    results: tuple[ClaimResult, ...]
    wall_time: float
    options: dict
    versions: dict = field(default_factory=dict)
    command: tuple[str, ...] = ()            # the command line the audit answers to (recorded in every output)

    @property
    def crashed(self) -> list[ClaimResult]:
        return [r for r in self.results if r.outcome is None]

    def counts(self) -> dict:
        out = {}
        for r in self.results:
            out[r.verdict] = out.get(r.verdict, 0) + 1
        return out


def run_claim(claim: Claim, ctx, command: tuple[str, ...] = ()) -> ClaimResult:
    """Run one claim's check; it may read only the shared results the claim declares."""
    t0 = time.perf_counter()
    with recording() as used, ctx.declared(claim.needs):
        outcome, error = _check(claim, ctx)
    return ClaimResult(claim, outcome, error, time.perf_counter() - t0, used, tuple(command))


def _check(claim: Claim, ctx) -> tuple[Outcome | None, str | None]:
    try:
        return claim.check(ctx), None
    except CheckIntegrityError as err:
        return None, f"a support step failed (the toolkit disagrees with itself): {err}"
    except Exception as err:   # noqa: BLE001 - one crashing check must not stop the audit
        tb = traceback.extract_tb(err.__traceback__)[-1]
        return None, (f"{type(err).__name__}: {' '.join(str(err).split())[:500]} "
                      f"({tb.filename.split('/')[-1]}:{tb.lineno})")


def schedule(claims) -> list[Claim]:
    """The order to run ``claims`` in: those needing nothing shared, then the document's readers, then training."""
    def stage(c: Claim) -> int:
        return 2 if c.trained else 1 if DOCUMENT in c.needs else 0
    return sorted(claims, key=stage)        # stable: catalogue order within a stage


def run_audit(ctx, only: list[str] | None = None, progress=None, derivation=None,
              command: tuple[str, ...] = ()) -> AuditResult:
    """Run the selected claims (all by default) in :func:`schedule` order; results in catalogue order.

    ``derivation``: a running verify.derivation.DerivationJob (or None), waited for before the first trained check.
    """
    t0 = time.perf_counter()
    chosen = [c for c in CLAIMS if only is None or c.id in only]
    done = {}
    for c in schedule(chosen):
        if derivation is not None and c.trained:
            derivation.wait()
        if progress:
            progress(c)
        done[c.id] = run_claim(c, ctx, command)
    results = tuple(done[c.id] for c in chosen)
    return AuditResult(results=results, wall_time=time.perf_counter() - t0, versions=artifacts.versions(),
                       options={"only": only, "deep": ctx.deep, "protocol": ctx.protocol_name,
                                "hypothesis_profile": _profile()}, command=tuple(command))


def _profile() -> str:
    from .hunt import PROFILE_ENV, scale
    import os
    return f"{os.environ.get(PROFILE_ENV) or 'default'} (x{scale()} examples)"

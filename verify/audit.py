"""Run the claims catalogue and collect verdicts; a check that crashes is reported, the others still run.

The derivation document (SymPy, ~25 s when its on-disk cache is cold) is built by a separate
``derive`` process started at the beginning, so that it runs on the second core while the numeric
checks run here; the checks that need it (printed equations, Proposition 1) run next and read it from
the cache that process fills; the trained-network checks run last, alone, since torch's threads and a
busy second process slow each other down by an order of magnitude (measured: Fig. 2's reduced run
5 s alone, 67 s beside a cold derivation on two cores).

>>> from verify.context import AuditContext
>>> r = run_audit(AuditContext(), only=["prop4"])
>>> [(x.claim.id, x.outcome.verdict) for x in r.results]
[('prop4', 'confirmed')]
"""
from __future__ import annotations

import subprocess
import sys
import time
import traceback
from dataclasses import dataclass, field

from numerics import provenance

from .catalogue import CLAIMS, Claim
from .ledger import recording
from .outcome import CheckIntegrityError, Outcome


def needs_document(claim: Claim) -> bool:
    return claim.kind == "equation" or claim.id == "prop1"


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

    def record(self) -> dict:
        c, o = self.claim, self.outcome
        rec = {"id": c.id, "section": c.section, "statement": c.statement, "verdict": self.verdict,
               "evidence": o.evidence if o else f"the check crashed: {self.error}", "test": c.test, "kind": c.kind,
               "seconds": round(self.seconds, 3),
               "provenance": provenance.record(command=list(self.command), seeds=self.used["seeds"],
                                               precision=self.used["precision"], wall_time_seconds=self.seconds)}
        if o:
            rec["steps"] = [{"name": s.name, "holds": s.holds, "detail": s.detail, "equation": s.equation,
                             "role": s.role} for s in o.steps]
            for key in ("counterexample", "erratum", "condition", "reason", "protocol"):
                value = getattr(o, key)
                if value:
                    rec[key] = value
            if o.figures:
                rec["figures"] = list(o.figures)
            if o.data:
                rec["data"] = o.data
        else:
            rec["error"] = self.error
        return rec


@dataclass(frozen=True)
class AuditResult:
    results: tuple[ClaimResult, ...]
    wall_time: float
    options: dict
    versions: dict = field(default_factory=dict)

    @property
    def crashed(self) -> list[ClaimResult]:
        return [r for r in self.results if r.outcome is None]

    def counts(self) -> dict:
        out = {}
        for r in self.results:
            out[r.verdict] = out.get(r.verdict, 0) + 1
        return out


def run_claim(claim: Claim, ctx) -> ClaimResult:
    from .output import current_command
    t0 = time.perf_counter()
    with recording() as used:
        outcome, error = _check(claim, ctx)
    return ClaimResult(claim, outcome, error, time.perf_counter() - t0, used, tuple(current_command()))


def _check(claim: Claim, ctx) -> tuple[Outcome | None, str | None]:
    try:
        return claim.check(ctx), None
    except CheckIntegrityError as err:
        return None, f"a support step failed (the toolkit disagrees with itself): {err}"
    except Exception as err:   # noqa: BLE001 - one crashing check must not stop the audit
        tb = traceback.extract_tb(err.__traceback__)[-1]
        return None, (f"{type(err).__name__}: {' '.join(str(err).split())[:500]} "
                      f"({tb.filename.split('/')[-1]}:{tb.lineno})")


def start_derivation(out_dir) -> subprocess.Popen | None:
    """Start ``derive`` in its own process (it fills the document cache and writes LaTeX/PDF to out_dir)."""
    import os
    from pathlib import Path
    out_dir = Path(out_dir)
    root = str(Path(__file__).resolve().parent.parent)     # importable even from an uninstalled source tree
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)}
    try:   # run beside out_dir and name it relatively: the recorded command is the same in every run
        return subprocess.Popen([sys.executable, "-m", "verify", "derive", "--out", out_dir.name, "--json"],
                                cwd=out_dir.parent, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    except OSError:
        return None


def run_audit(ctx, only: list[str] | None = None, progress=None, derivation: subprocess.Popen | None = None) -> AuditResult:
    """Run the selected claims (all by default), document-free ones first; results in catalogue order."""
    t0 = time.perf_counter()
    chosen = [c for c in CLAIMS if only is None or c.id in only]
    order = ([c for c in chosen if not needs_document(c) and not c.trained]
             + [c for c in chosen if needs_document(c)] + [c for c in chosen if c.trained and not needs_document(c)])
    done = {}
    for claim in order:
        if derivation is not None and (needs_document(claim) or claim.trained) and derivation.poll() is None:
            derivation.wait()          # its cache makes ctx.document() a fast read
        if progress:
            progress(claim)
        done[claim.id] = run_claim(claim, ctx)
    results = tuple(done[c.id] for c in chosen)
    return AuditResult(results=results, wall_time=time.perf_counter() - t0, versions=provenance.versions(),
                       options={"only": only, "deep": ctx.deep, "protocol": ctx.protocol_name,
                                "hypothesis_profile": _profile()})


def _profile() -> str:
    from .hunt import PROFILE_ENV, scale
    import os
    return f"{os.environ.get(PROFILE_ENV) or 'default'} (x{scale()} examples)"

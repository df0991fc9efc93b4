"""The derivation document as an output: build it (or read its cache), write LaTeX, errata JSON and PDF, summarise.

One routine serves the ``derive`` command and the audit; the audit runs it in a worker process of
:mod:`concurrent.futures` (:class:`DerivationJob`) so that the SymPy build (~25 s with a cold cache) overlaps the
numeric checks on the second core, and the checks that need the document receive the worker's document.

>>> summary = {"pdf": {"compiled": False, "requested": False, "engine": None, "error": None}, "outputs": {}}
>>> pdf_status(summary)
'PDF not compiled (--no-pdf)'
"""
from __future__ import annotations

import multiprocessing
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

# What the derivation's outputs record as their precision (every output of derive and the audit's ledger).
DERIVATION_PRECISION = {"derivation": "exact (SymPy symbolic algebra)",
                        "counterexamples": "exact (SymPy, at random rational points)"}


def derivation_seeds() -> dict:
    """The seeds the derivation uses (its counterexamples are drawn at seeded random rational points)."""
    from derivations.errata import COUNTEREXAMPLE_SEED
    return {"counterexample_points": COUNTEREXAMPLE_SEED}


def summary_of(doc, written, pdf_requested: bool) -> dict:
    """The facts ``derive`` reports, as plain data (what ``--json`` prints)."""
    from derivations.latex_document import verdict_counts
    steps = [step for section in doc.sections for step in section.steps]
    failing = [step.key for step in steps if not step.holds]
    pdf_error = None
    if written.engine and not written.compiled:
        pdf_error = written.first_error or "the TeX engine failed (no error line in its log)"
    return {
        "command": "derive",
        "ok": not failing and pdf_error is None,
        "sections": len(doc.sections),
        "steps": {"total": len(steps), "holding": len(steps) - len(failing), "failing": failing},
        "comparisons": {"total": len(doc.comparisons), "by_verdict": verdict_counts(doc)},
        "errata": len(doc.errata),
        "outputs": {"tex": str(written.tex.resolve()), "errata": str(written.errata.resolve()),
                    "pdf": str(written.pdf.resolve()) if written.pdf else None},
        "pdf": {"requested": pdf_requested, "compiled": written.compiled, "engine": written.engine,
                "error": pdf_error},
    }


@dataclass(frozen=True)
class DerivationRun:
    """What one derivation run produced: the document, and the summary of what was written where."""

    document: object
    summary: dict


def write_derivation(out: Path, *, pdf: bool, command: tuple[str, ...], started: float | None = None) -> DerivationRun:
    """Build (or load) the document and write it into ``out`` (created); raises OSError when writing fails."""
    import time

    from derivations import document as document_module
    from derivations import latex
    from numerics.artifacts import record

    started = time.perf_counter() if started is None else started
    Path(out).mkdir(parents=True, exist_ok=True)   # first: an unwritable place fails before the ~25 s build
    doc = document_module.load_or_build()   # on-disk cache keyed by the derivation sources (BETAVAE_CACHE)
    stamp = record(command=list(command), seeds=derivation_seeds(), precision=DERIVATION_PRECISION,
                   wall_time_seconds=time.perf_counter() - started)
    written = latex.write(doc, Path(out), compile_pdf=None if pdf else False, provenance=stamp)
    return DerivationRun(doc, summary_of(doc, written, pdf_requested=pdf))


def pdf_status(summary: dict) -> str:
    pdf = summary["pdf"]
    if pdf["compiled"]:
        return f"wrote {summary['outputs']['pdf']} ({pdf['engine']})"
    if not pdf["requested"]:
        return "PDF not compiled (--no-pdf)"
    if pdf["engine"] is None:
        return "PDF not compiled (pdflatex not found on PATH)"
    return f"PDF FAILED to compile: {pdf['error']}"


def format_summary(summary: dict) -> str:
    """The human-readable summary of ``derive``."""
    steps = summary["steps"]
    by_verdict = ", ".join(f"{verdict} {n}" for verdict, n in summary["comparisons"]["by_verdict"].items())
    lines = [
        f"derive: {summary['sections']} sections, {steps['holding']}/{steps['total']} steps hold",
        f"comparisons: {summary['comparisons']['total']} ({by_verdict})",
        f"errata: {summary['errata']}",
        f"wrote {summary['outputs']['tex']}",
        f"wrote {summary['outputs']['errata']}",
        pdf_status(summary),
    ]
    if steps["failing"]:
        lines.insert(1, "FAILING steps: " + ", ".join(steps["failing"]))
    return "\n".join(lines)


class DerivationJob:
    """:func:`write_derivation` running in one worker process while the audit goes on.

    ``document()`` waits for the worker and returns its document; should the worker fail, the document is built
    here instead (the verdicts must not depend on the worker) and the failure is kept in ``problem``.
    """

    def __init__(self, out: Path, command: tuple[str, ...]):
        # spawn, not fork: the audit process may already hold torch's or BLAS's threads
        self._pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
        self._future: Future = self._pool.submit(write_derivation, Path(out), pdf=True, command=tuple(command))
        self.problem: str | None = None
        self._run: DerivationRun | None = None

    def wait(self) -> DerivationRun | None:
        """The worker's result (None, with ``problem`` set, when it failed); the worker process is ended."""
        if self._run is None and self.problem is None:
            try:
                self._run = self._future.result()
            except Exception as exc:     # noqa: BLE001 - a failed worker costs the derivation files, not the audit
                self.problem = f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"
            finally:
                self._pool.shutdown()
        return self._run

    def close(self) -> None:
        """End the worker: wait for a running build to finish (its files go into the audit's directory), drop one
        not yet started."""
        self._pool.shutdown(wait=True, cancel_futures=True)

    def document(self):
        run = self.wait()
        if run is not None:
            return run.document
        from derivations.document import load_or_build
        return load_or_build()

    def warnings(self) -> list[str]:
        """What the audit should say on stderr about the derivation (nothing when it went well)."""
        run = self.wait()
        if run is None:
            return [f"the derivation document was not written: {self.problem}"]
        out = []
        if run.summary["steps"]["failing"]:
            out.append("derivation steps do not hold: " + ", ".join(run.summary["steps"]["failing"]))
        if run.summary["pdf"]["error"]:
            out.append(f"the PDF did not compile: {run.summary['pdf']['error']}")
        return out

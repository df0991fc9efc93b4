"""Compiling a LaTeX source to PDF with pdflatex, in a temporary directory that nothing outlives.

The engine runs twice (a third time when its log asks for a rerun), non-interactively, without shell escape,
and with the TeX user cache (``TEXMFVAR``) pointed into the temporary directory as well, so a build writes
nothing outside it. The result is the PDF's bytes (None when the engine failed) and the log of the last run.

>>> first_error("This is pdfTeX\\n! Undefined control sequence.\\nl.3 \\\\undefinedmacro")
'! Undefined control sequence.'
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

ENGINE = "pdflatex"
ENGINE_TIMEOUT_SECONDS = 300


@dataclass(frozen=True)
class Compilation:
    """What one compilation produced: the PDF (None if the engine failed or timed out) and its log."""

    pdf: bytes | None
    log: str


def find_engine() -> str | None:
    """The path of pdflatex on PATH, or None."""
    return shutil.which(ENGINE)


def first_error(log: str) -> str:
    """The first ``!`` error line of a TeX log ('' if none)."""
    return next((line for line in log.splitlines() if line.startswith("!")), "")


def compile_pdf(tex: str, engine: str, job_name: str) -> Compilation:
    """Run ``engine`` on ``tex`` (ASCII) as ``job_name.tex`` in a temporary directory; return ``job_name.pdf``."""
    with tempfile.TemporaryDirectory(prefix="betavae-latex-") as workdir:
        work = Path(workdir)
        source = f"{job_name}.tex"
        (work / source).write_text(tex, encoding="ascii")
        env = dict(os.environ, TEXMFVAR=str(work / "texmf-var"), max_print_line="10000")
        command = [engine, "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape", source]
        log = ""
        for run in range(3):
            try:
                done = subprocess.run(command, cwd=work, env=env, stdin=subprocess.DEVNULL,
                                      capture_output=True, timeout=ENGINE_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                return Compilation(None, log + f"\n! {engine} timed out after {ENGINE_TIMEOUT_SECONDS} s")
            log = done.stdout.decode("utf-8", "replace") + done.stderr.decode("utf-8", "replace")
            if done.returncode != 0:
                return Compilation(None, log)
            if run >= 1 and "Rerun to get" not in log:
                break
        pdf = work / f"{job_name}.pdf"
        return Compilation(pdf.read_bytes() if pdf.exists() else None, log)

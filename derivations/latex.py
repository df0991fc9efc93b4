"""The derivation document written out: ``derivations.tex``, ``errata.json`` and, when pdflatex is there, the PDF.

:func:`write` composes the parts, each a module of its own:

* :mod:`derivations.latex_text` -- prose and typewriter text escaped to ASCII LaTeX (:func:`escape_text`);
* :mod:`derivations.latex_math` -- expressions typeset, broken into lines, or replaced by their size;
* :mod:`derivations.latex_document` -- the standalone LaTeX source (:func:`render`, :func:`verdict_counts`);
* :mod:`derivations.errata_json` -- one plain dictionary per erratum (:func:`errata_json`);
* :mod:`derivations.latex_engine` -- pdflatex, run in a temporary directory;
* :mod:`derivations.atomic_file` -- every output file written atomically.

:func:`render`, :func:`verdict_counts`, :func:`errata_json` and :func:`escape_text` are importable from here
too (the command line and its tests use them).

>>> import tempfile
>>> from derivations.document import Document
>>> with tempfile.TemporaryDirectory() as out:
...     result = write(Document((), ()), out, compile_pdf=False)
...     sorted(p.name for p in Path(out).iterdir()), result.compiled, result.pdf
(['derivations.tex', 'errata.json'], False, None)
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from . import latex_engine
from .atomic_file import atomic_write_bytes
from .errata_json import errata_json
from .latex_document import render

__all__ = ["TEX_NAME", "PDF_NAME", "ERRATA_NAME", "EngineMissing", "WriteResult", "write"]

TEX_NAME = "derivations.tex"
PDF_NAME = "derivations.pdf"
ERRATA_NAME = "errata.json"


class EngineMissing(RuntimeError):
    """A PDF was required but no TeX engine is on PATH."""


@dataclass(frozen=True)
class WriteResult:
    """The files :func:`write` wrote, and what the TeX engine (if any ran) said."""

    tex: Path
    pdf: Path | None
    errata: Path
    compiled: bool
    engine: str | None
    log: str

    @property
    def first_error(self) -> str:
        """The first ``!`` error line of the TeX log ('' if none)."""
        return latex_engine.first_error(self.log)


def write(doc, out_dir: Path, compile_pdf: bool | None = None, provenance: dict | None = None) -> WriteResult:
    """Write derivations.tex and errata.json into ``out_dir`` (created if missing), and the PDF.

    ``provenance``: a record (toolkit and library versions, command, precision) stamped on each
    errata entry and stated once in the document.

    ``compile_pdf``: True requires the engine (:class:`EngineMissing` is raised before anything is
    written), False skips it, None compiles when the engine is on PATH. A derivations.pdf left in
    ``out_dir`` by an earlier run is removed when no new one is produced, so the directory never
    holds a PDF of another build.
    """
    out_dir = Path(out_dir)
    engine = latex_engine.find_engine() if compile_pdf is not False else None
    if compile_pdf and engine is None:
        raise EngineMissing(f"{latex_engine.ENGINE} not found on PATH")
    tex = render(doc, provenance)
    errata = json.dumps(errata_json(doc, provenance), indent=2, ensure_ascii=False) + "\n"
    out_dir.mkdir(parents=True, exist_ok=True)
    tex_path, errata_path, pdf_path = out_dir / TEX_NAME, out_dir / ERRATA_NAME, out_dir / PDF_NAME
    atomic_write_bytes(tex_path, tex.encode("ascii"))
    atomic_write_bytes(errata_path, errata.encode("utf-8"))
    compiled = None if engine is None else latex_engine.compile_pdf(tex, engine, job_name=Path(TEX_NAME).stem)
    pdf_bytes, log = (None, "") if compiled is None else (compiled.pdf, compiled.log)
    if pdf_bytes is not None:
        atomic_write_bytes(pdf_path, pdf_bytes)
    elif pdf_path.exists():
        pdf_path.unlink()
        log += f"\nremoved {pdf_path} from an earlier build"
    return WriteResult(tex=tex_path, pdf=pdf_path if pdf_bytes is not None else None, errata=errata_path,
                       compiled=pdf_bytes is not None, engine=latex_engine.ENGINE if engine else None, log=log)

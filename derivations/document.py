"""The whole derivation as one object: ordered sections of proof steps and the paper comparisons.

The full build takes about 25 s (SymPy), so the example builds one section:

>>> section_builders()["gaussian"]().holds
True
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from .comparison import Comparison
from .steps import Section


@dataclass(frozen=True)
class Document:
    sections: tuple[Section, ...]
    comparisons: tuple[Comparison, ...]

    @property
    def errata(self) -> tuple[Comparison, ...]:
        return tuple(c for c in self.comparisons if c.is_erratum)

    @property
    def holds(self) -> bool:
        return all(s.holds for s in self.sections)


def cache_key() -> str:
    """Hash of the derivation sources and the SymPy version: a cached document is reused only if both match."""
    import hashlib
    from pathlib import Path

    import sympy
    h = hashlib.sha256(sympy.__version__.encode())
    for path in sorted(Path(__file__).parent.glob("*.py")):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def load_or_build(cache_dir=None) -> Document:
    """The document from the on-disk cache when its key matches, else built (and cached).

    Tests call :func:`build_document` directly so that every proof is recomputed; the command
    line uses this to skip the ~50 s rebuild when nothing changed.
    """
    import os
    import pickle

    from .atomic_file import atomic_write_bytes
    from pathlib import Path

    root = Path(cache_dir or os.environ.get("BETAVAE_CACHE", Path.home() / ".cache" / "betavae-audit"))
    path = root / f"document-{cache_key()}.pickle"
    try:
        with open(path, "rb") as fh:
            return pickle.load(fh)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
        pass
    doc = build_document()
    try:
        root.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, pickle.dumps(doc))
    except (OSError, pickle.PicklingError, TypeError, AttributeError):
        pass   # caching is an optimisation; an unpicklable or unwritable cache is not an error
    return doc


def section_builders() -> dict:
    """Every section of the derivation, in order, as key -> (cached) builder; nothing is built here."""
    from . import closed_form, codegen, gaussian, general_optimum, inference_error, objective, posterior, stationarity
    from . import proof_prop4, proofs_fixed_decoder, proofs_loglik_mie, proofs_propositions, proofs_units
    from . import proof_fig1_tie, theorem_orthogonal
    return {
        "gaussian": gaussian.engine_section,
        "identities": posterior.identities_section,
        "eq19": posterior.ground_truth_section,
        "eq24": posterior.model_posterior_section,
        "eq21": objective.objective_section,
        "eq23": stationarity.stationarity_section,
        "eq25": inference_error.inference_error_section,
        "closed": closed_form.elimination_section,
        "optimum": closed_form.optimum_section,
        "tie": closed_form.tie_section,
        "lemma-g": proofs_units.lemma_section,
        "unit-sums": proofs_units.structure_section,
        "prop1-proof": proofs_propositions.prop1_section,
        "prop2-proof": proofs_propositions.prop2_section,
        "prop3-proof": proofs_propositions.prop3_section,
        "loglik-proof": proofs_loglik_mie.loglik_section,
        "mie-proof": proofs_loglik_mie.mie_section,
        "sec4a-proof": proofs_fixed_decoder.fixed_decoder_section,
        **proof_prop4.section_builders(),
        **theorem_orthogonal.section_builders(),
        **proof_fig1_tie.section_builders(),
        "codegen": codegen.codegen_section,
        **general_optimum.section_builders(),
    }


@lru_cache(maxsize=None)
def build_document() -> Document:
    from .errata import all_comparisons
    sections = tuple(builder() for builder in section_builders().values())
    return Document(sections, tuple(all_comparisons()))

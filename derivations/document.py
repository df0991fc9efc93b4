"""The whole derivation as one object: ordered sections of proof steps and the paper comparisons.

>>> doc = build_document()          # doctest: +SKIP  (takes a few seconds, cached)
>>> all(s.holds for s in doc.sections)  # doctest: +SKIP
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


@lru_cache(maxsize=None)
def build_document() -> Document:
    from .gaussian import engine_section
    from .posterior import ground_truth_section, identities_section, model_posterior_section

    sections = [engine_section(), identities_section(), ground_truth_section(), model_posterior_section()]
    comparisons: list[Comparison] = []
    try:  # filled in as the derivation grows
        from .objective import objective_sections
        sections.extend(objective_sections())
        from .codegen import codegen_section
        sections.append(codegen_section())
    except ImportError:
        pass
    try:
        from .errata import all_comparisons
        comparisons.extend(all_comparisons())
    except ImportError:
        pass
    return Document(tuple(sections), tuple(comparisons))

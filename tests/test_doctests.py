"""Every module of the four packages carries a runnable example in its docstrings.

``pytest --doctest-modules`` (set in pyproject.toml) runs the examples of every module it collects, but it
cannot tell a module without any example from one whose examples passed: this test can. Modules whose name
starts with an underscore (package markers, the entry point ``verify/__main__.py``) are exempt; examples marked
``+SKIP`` do not count (the generated ``numerics/generated*.py`` carry theirs in ``derivations.codegen``'s header).
"""
import doctest
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("verify", "derivations", "numerics", "deep")

#: modules that have no runnable example yet (each should get one; a new module must not join this list)
WITHOUT_AN_EXAMPLE_YET = {
    "verify.checks_equations", "verify.checks_propositions", "verify.checks_tractable",
    "derivations.errata", "deep.betavae.evaluate", "deep.linear.plot",
    "deep.betavae.plots",
}


def public_modules() -> list[str]:
    names = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).with_suffix("")
            if not relative.name.startswith("_"):  # package markers and the entry point
                names.append(".".join(relative.parts))
    return names


def runnable_examples(name: str) -> int:
    tests = doctest.DocTestFinder().find(importlib.import_module(name))
    return sum(1 for test in tests for example in test.examples if not example.options.get(doctest.SKIP))


@pytest.mark.parametrize("name", [n for n in public_modules() if n not in WITHOUT_AN_EXAMPLE_YET])
def test_module_has_a_runnable_example(name):
    assert runnable_examples(name) > 0, f"{name} has no runnable example in its docstrings"

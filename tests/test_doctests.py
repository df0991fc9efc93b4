"""The runnable examples in the module docstrings."""
import doctest
import importlib

import pytest

MODULES = ["derivations.symbols", "derivations.steps", "derivations.gaussian", "derivations.explicit",
           "derivations.inference_error", "derivations.closed_form", "derivations.stationarity",
           "derivations.objective", "derivations.printed", "derivations.codegen", "derivations.posterior",
           "numerics.optimum", "numerics.curve", "numerics.problems", "numerics.stationary", "numerics.highprec",
           "verify.outcome", "verify.strategies", "verify.hunt", "verify.properties", "verify.checks_deep",
           "verify.checks_protocol", "verify.report", "verify.catalogue", "verify.context", "verify.cli", "verify.audit",
           "numerics.provenance", "verify.output", "verify.ledger", "derivations.appendix_bc", "derivations.notation",
           "verify.equations"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    assert result.attempted > 0, f"{name} has no runnable example"

"""Setup shared by the tests and the docstring examples (``pytest --doctest-modules`` collects both).

* What is never imported as a test module: the command-line entry point (importing it runs the command),
  the benchmarks (run by ``benchmarks/run_all.py``, not by pytest) and the build and output directories.
* Hypothesis profiles: "fast" by default, "thorough" with ``BETAVAE_HYPOTHESIS_PROFILE=thorough`` (the audit's
  own hunts read the same variable, see :mod:`verify.hunt`). No deadline: a high-precision or solver-backed
  example may take a second on a loaded machine, which is not a failure.
* The derivation document's on-disk cache goes to a per-session temporary directory, never the user's.
"""
import os

import pytest
from hypothesis import HealthCheck, settings

collect_ignore = ["verify/__main__.py", "setup.py"]
collect_ignore_glob = ["benchmarks/*", "build/*", "audit-out/*", "docs/*.py", "docs/examples/*", "*.egg-info/*"]

settings.register_profile("fast", max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("thorough" if os.environ.get("BETAVAE_HYPOTHESIS_PROFILE", "").lower() == "thorough" else "fast")


@pytest.fixture(scope="session", autouse=True)
def isolated_document_cache(tmp_path_factory):
    previous = os.environ.get("BETAVAE_CACHE")
    os.environ["BETAVAE_CACHE"] = str(tmp_path_factory.mktemp("document-cache"))
    yield
    if previous is None:
        os.environ.pop("BETAVAE_CACHE", None)
    else:
        os.environ["BETAVAE_CACHE"] = previous

"""Shared test setup: the document cache goes to a per-session temporary directory, never the user's."""
import os

import pytest
from hypothesis import HealthCheck, settings

# Hypothesis profiles: "fast" for the suite (default), "thorough" with BETAVAE_HYPOTHESIS_PROFILE=thorough
# (the audit's own hunts read the same variable, see verify.hunt). No deadline: a high-precision or
# solver-backed example may take a second on a loaded machine, which is not a failure.
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


@pytest.fixture(scope="session")
def audit_context():
    """One audit context for the claim tests (trained runs and the document are computed once).

    The document is rebuilt from the proofs (``build_document``, cached in this process only), never
    read from the on-disk cache."""
    from derivations.document import build_document
    from verify.context import AuditContext
    return AuditContext(document_provider=build_document)

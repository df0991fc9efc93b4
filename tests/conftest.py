"""Fixtures of the tests (the shared setup, for the docstring examples too, is in the root conftest.py)."""
import pytest


@pytest.fixture(scope="session")
def audit_context():
    """One audit context for the claim tests (trained runs and the document are computed once).

    The document is rebuilt from the proofs (``build_document``, cached in this process only), never
    read from the on-disk cache."""
    from derivations.document import build_document
    from verify.context import AuditContext
    return AuditContext(document_provider=build_document)


@pytest.fixture
def torch_one_thread():
    """torch on one thread for the test, then as it was (the trained-network tests: deterministic and not
    competing with a parallel test run for the cores)."""
    import torch
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)

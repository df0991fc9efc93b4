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

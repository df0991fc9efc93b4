"""Shared test setup: the document cache goes to a per-session temporary directory, never the user's."""
import os

import pytest


@pytest.fixture(scope="session", autouse=True)
def isolated_document_cache(tmp_path_factory):
    previous = os.environ.get("BETAVAE_CACHE")
    os.environ["BETAVAE_CACHE"] = str(tmp_path_factory.mktemp("document-cache"))
    yield
    if previous is None:
        os.environ.pop("BETAVAE_CACHE", None)
    else:
        os.environ["BETAVAE_CACHE"] = previous

"""The model files here are loaded by the probe tests (FILE.py:FACTORY), never collected as test modules."""
collect_ignore_glob = ["*.py"]

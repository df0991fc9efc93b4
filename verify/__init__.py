"""Command-line entry points of the beta-VAE audit (``betavae-audit`` / ``python -m verify``).

The derivation itself lives in :mod:`derivations`; this package only drives it and writes
its outputs. See :mod:`verify.cli`.
"""

__version__ = "0.1.0"

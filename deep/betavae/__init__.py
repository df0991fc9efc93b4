"""The deep beta-VAE of Section V and Appendix C (``train``: Fig. 2, ``--fig3``: Fig. 3).

:mod:`network` (the architecture), :mod:`batched` (every seed x beta model trained as one batched program),
:mod:`data` (digits, the mixing, the Fig. 3 canvas), :mod:`tie` (the true inference error, gauge-aligned by
:mod:`numerics.gauge`), :mod:`evaluate`, :mod:`protocol` (the presets), :mod:`experiments` (Fig. 2 and Fig. 3 runs),
:mod:`plots`.
"""

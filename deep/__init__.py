"""Trained torch networks that cross-check the theory (issue "deep").

* the linear model of Section IV.B, trained on the exact data-averaged objective and on samples,
  compared with the closed form of :mod:`numerics.optimum` (``crosscheck``);
* the deep beta-VAE of Section V / Appendix C, many seeds x betas trained as one batched
  program (``train``: Fig. 2, and ``--fig3``: Fig. 3).

``deep`` imports ``numerics``, never the other way round.
"""

"""The linear model of Section IV.B trained with torch and compared with the closed form (``crosscheck``).

:mod:`network` (the model, its exact and sampled objectives), :mod:`train` (path (a): L-BFGS and a second-order
finish on the exact objective; path (b): Adam on samples, then :mod:`refine`: Newton on one fresh sample's objective), :mod:`hessian_operators`, :mod:`metrics` (the trained
network's terms and its TIE, gauge-aligned by :mod:`numerics.gauge`), :mod:`compare` (against the closed form, with
path (b)'s predicted Monte-Carlo error and its second-order bias, :mod:`mc_bias`), :mod:`time_constants`,
:mod:`gradient_check`, and the cross-check itself: :mod:`plan`, :mod:`betas`, :mod:`crosscheck` (the runner),
:mod:`result`, :mod:`report` (the text table), :mod:`plot`.
"""

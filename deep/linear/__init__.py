"""The linear model of Section IV.B trained with torch and compared with the closed form (``crosscheck``).

:mod:`network` (the model, its exact and sampled objectives), :mod:`train` (path (a): L-BFGS and a second-order
finish on the exact objective; path (b): Adam on samples), :mod:`hessian_operators`, :mod:`metrics` (the trained
network's terms and its TIE, gauge-aligned by :mod:`numerics.gauge`), :mod:`compare` (against the closed form),
:mod:`gradient_check`, and the cross-check itself: :mod:`plan`, :mod:`betas`, :mod:`crosscheck` (the runner),
:mod:`result`, :mod:`report` (the text table), :mod:`plot`.
"""

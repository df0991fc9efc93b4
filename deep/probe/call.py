"""Calling a user's encoder or decoder: a float64 tensor in, checked float64 numpy arrays out.

* A torch module is evaluated as a *copy* (``copy.deepcopy``), in eval mode, under ``torch.no_grad()``, converted
  with ``.double()`` when any of its floating parameters or buffers is not float64 (a note says so), on the device
  of its parameters. The module the user passed is never changed.
* Any other callable is called as it is, with a float64 CPU tensor.
* The encoder returns the mean and the log-variance of q(z|x), each (n, k): a tuple or list of two, or a dict with
  ``mean`` (or ``mu``) and ``logvar`` (or ``log_var``, ``log_variance``). The decoder returns the mean of p(x|z),
  (n, N) (the paper's decoder has unit variance). Torch tensors or numpy arrays; finite; the log-variance within
  +-:data:`LOGVAR_LIMIT` (beyond, exp under- or overflows float64).

Every failure, in the user's code or in what it returned, is a :class:`deep.probe.load.ProbeInputError` naming the
input (``encoder`` or ``decoder``). Inputs are passed in chunks of at most :data:`BATCH_ELEMENTS` numbers.

>>> import numpy as np, torch
>>> class Heads(torch.nn.Linear):                  # mean and log-variance from one float32 linear layer
...     def forward(self, x): return super().forward(x).split(2, dim=1)
>>> enc = Encoder(Heads(3, 4), N=3, k=2)              # a float64 copy is evaluated
>>> mu, logvar = enc(np.zeros((5, 3)))
>>> mu.shape, logvar.dtype, enc.notes[0].startswith("encoder: a float64 copy")
((5, 2), dtype('float64'), True)
>>> Encoder(lambda x: x, N=3, k=2)(np.zeros((5, 3)))        # doctest: +ELLIPSIS
Traceback (most recent call last):
deep.probe.load.ProbeInputError: encoder: must return (mean, log-variance): ... got a Tensor
"""
from __future__ import annotations

import copy
import itertools

import numpy as np
import torch

from .load import ProbeInputError, describe

#: numbers per call of the user's function (chunks of rows)
BATCH_ELEMENTS = 2 ** 22
#: |log-variance| above which exp(log-variance) leaves float64's normal range
LOGVAR_LIMIT = 700.0
MEAN_KEYS, LOGVAR_KEYS = ("mean", "mu"), ("logvar", "log_var", "log_variance")


class UserFunction:
    """The user's callable, prepared (module docstring); calling it maps an (n, d) float64 array to its raw output
    for each chunk of rows (a list)."""

    def __init__(self, model, field: str):
        if not callable(model):
            raise ProbeInputError(field, f"a {type(model).__name__} is not a callable (a torch module or a function)")
        self.field, self.notes, self.device = field, [], torch.device("cpu")
        if isinstance(model, torch.nn.Module):
            model = self._prepared_module(model)
        self.function = model

    def _prepared_module(self, module: torch.nn.Module) -> torch.nn.Module:
        try:
            module = copy.deepcopy(module)
        except Exception as exc:
            raise ProbeInputError(self.field, f"the module cannot be copied ({describe(exc)}); the probe evaluates a "
                                              "copy so that your module is never changed") from None
        tensors = [t for t in itertools.chain(module.parameters(), module.buffers()) if t.is_floating_point()]
        kinds = sorted({str(t.dtype).replace("torch.", "") for t in tensors} - {"float64"})
        if kinds:
            module = module.double()
            self.notes.append(f"{self.field}: a float64 copy of the module was evaluated (its parameters were "
                              f"{', '.join(kinds)}); the module you passed is unchanged")
        if any(m.training and ("Dropout" in type(m).__name__ or "Norm" in type(m).__name__) for m in module.modules()):
            self.notes.append(f"{self.field}: evaluated in eval mode (a copy: dropout off, normalisation with its "
                              "running statistics)")
        module.eval()
        if tensors:
            self.device = tensors[0].device
        return module

    def __call__(self, x: np.ndarray) -> list:
        x = np.ascontiguousarray(x, dtype=np.float64)
        rows = max(1, BATCH_ELEMENTS // max(1, x.shape[1]))
        outputs = []
        with torch.no_grad():
            for start in range(0, len(x), rows):
                # a private copy: a user function that writes into its input must not rewrite the probe's draws
                chunk = torch.tensor(x[start:start + rows], dtype=torch.float64, device=self.device)
                try:
                    outputs.append(self.function(chunk))
                except (Exception, SystemExit) as exc:
                    raise ProbeInputError(self.field, f"calling it on a float64 tensor of shape "
                                                      f"{tuple(chunk.shape)} raised {describe(exc)}") from None
        return outputs

    def array(self, value, what: str, shape: tuple[int, int]) -> np.ndarray:
        """One output as a float64 array of ``shape``, finite; a note if it came in lower precision."""
        if isinstance(value, torch.Tensor):
            if value.layout != torch.strided:
                raise ProbeInputError(self.field, f"{what} must be a dense tensor, got layout {value.layout}")
            if value.is_floating_point() and value.dtype not in (torch.float16, torch.float32, torch.float64):
                note = (f"{self.field}: its outputs are {str(value.dtype).replace('torch.', '')}, not float64: the "
                        "affine test (relative tolerance 1e-10) cannot pass, so the values are Monte-Carlo estimates")
                if note not in self.notes:
                    self.notes.append(note)
                value = value.to(torch.float64)      # numpy has no bfloat16; float64 holds it exactly
            try:
                value = value.detach().cpu().numpy()
            except (TypeError, RuntimeError) as exc:
                raise ProbeInputError(self.field, f"{what} cannot be read as an array: {describe(exc)}") from None
        if not isinstance(value, np.ndarray) or not np.issubdtype(value.dtype, np.floating):
            kind = type(value).__name__ if not isinstance(value, np.ndarray) else f"array of {value.dtype}"
            raise ProbeInputError(self.field, f"{what} must be a real floating-point tensor or array, got a {kind}")
        if value.dtype != np.float64:
            note = (f"{self.field}: its outputs are {value.dtype}, not float64: the affine test (relative tolerance "
                    "1e-10) cannot pass, so the values are Monte-Carlo estimates")
            if note not in self.notes:
                self.notes.append(note)
        if value.shape != shape:
            raise ProbeInputError(self.field, f"{what} has shape {value.shape}, expected {shape}"
                                  + (f" (the problem has {'k' if self.field == 'encoder' else 'N'} = {shape[1]})"
                                     if value.ndim == 2 and value.shape[0] == shape[0] else ""))
        value = value.astype(np.float64)
        bad = ~np.isfinite(value)
        if bad.any():
            rows = int(bad.any(axis=1).sum())
            raise ProbeInputError(self.field, f"{what} contains NaN or inf (in {rows} of {shape[0]} rows)")
        return value


class Encoder(UserFunction):
    """x (n, N) -> (mean, log-variance), each (n, k), checked (module docstring)."""

    def __init__(self, model, N: int, k: int):
        super().__init__(model, "encoder")
        self.N, self.k = N, k

    def __call__(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        means, logvars = [], []
        for out, n in zip(super().__call__(x), _chunk_sizes(x, self.N)):
            mean, logvar = self._split(out)
            means.append(self.array(mean, "the mean", (n, self.k)))
            logvars.append(self.array(logvar, "the log-variance", (n, self.k)))
        logvar = np.concatenate(logvars)
        if np.abs(logvar).max(initial=0.0) > LOGVAR_LIMIT:
            raise ProbeInputError("encoder", f"the log-variance reaches {np.abs(logvar).max():.4g} in absolute value "
                                             f"(beyond {LOGVAR_LIMIT:g} exp under- or overflows float64)")
        return np.concatenate(means), logvar

    def stacked(self, x: np.ndarray) -> np.ndarray:
        """(mean, log-variance) side by side, (n, 2k): the map whose affinity decides the exact route."""
        return np.hstack(self(x))

    def _split(self, out):
        if isinstance(out, dict):
            mean = next((out[key] for key in MEAN_KEYS if key in out), None)
            logvar = next((out[key] for key in LOGVAR_KEYS if key in out), None)
            if mean is None or logvar is None:
                raise ProbeInputError("encoder", f"returned a dict with keys {sorted(map(str, out))}; expected "
                                                 "'mean' (or 'mu') and 'logvar' (or 'log_var', 'log_variance')")
            return mean, logvar
        if isinstance(out, (tuple, list)) and len(out) == 2:
            return out
        got = f"a {type(out).__name__} of length {len(out)}" if isinstance(out, (tuple, list)) else \
            f"a {type(out).__name__}"
        raise ProbeInputError("encoder", f"must return (mean, log-variance): a tuple or list of two (n, k) tensors, or "
                                         f"a dict with 'mean' and 'logvar'; got {got}")


class Decoder(UserFunction):
    """z (n, k) -> the mean of p(x|z), (n, N), checked (module docstring)."""

    def __init__(self, model, N: int, k: int):
        super().__init__(model, "decoder")
        self.N, self.k = N, k

    def __call__(self, z: np.ndarray) -> np.ndarray:
        outs = []
        for out, n in zip(super().__call__(z), _chunk_sizes(z, self.k)):
            if isinstance(out, (tuple, list, dict)):
                raise ProbeInputError("decoder", f"must return the mean of p(x|z) as one (n, N) tensor (the paper's "
                                                 f"decoder has unit variance), got a {type(out).__name__}")
            outs.append(self.array(out, "the output", (n, self.N)))
        return np.concatenate(outs)


def _chunk_sizes(x: np.ndarray, d: int) -> list[int]:
    rows = max(1, BATCH_ELEMENTS // max(1, d))
    return [min(rows, len(x) - start) for start in range(0, len(x), rows)]

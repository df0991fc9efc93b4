"""Generate ``numerics/generated.py`` from the derived SymPy expressions.

Run ``python -m derivations.codegen`` (or ``python -m verify derive``) to regenerate; a test
regenerates it and fails if the committed file differs.

Arrays follow the paper's shapes: W_mu, W_sigma (k, N); D (N, k); Sigma_x (N, N); biases as
column arrays (k, 1) / (N, 1); E_inv (k, k); F (k, N).

>>> src = generate()
>>> 'def objective(' in src and 'def grad_W_sigma(' in src
True
"""
from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path

import sympy as sp
from sympy.matrices.expressions.diagonal import DiagMatrix
from sympy.printing.numpy import NumPyPrinter
from sympy.printing.pycode import MpmathPrinter

from .closed_form import lam, mode_d2, mode_kl, mode_loglik, mode_mie, mode_reconstruction, mode_tie_weight
from .inference_error import inference_error_form
from .stationarity import gradient_forms, unit_variance_vector
from .steps import Section, concrete_method, prove
from .symbols import D, I_N, N, Sigma_x, W_mu, b_D, b_mu, b_sigma, beta, k, sigma_d2, sigma_p2

TARGET = Path(__file__).resolve().parent.parent / "numerics" / "generated.py"
TARGET_MP = TARGET.with_name("generated_mp.py")
PARAM_ARGS = "W_mu, b_mu, W_sigma, b_sigma, D, b_D, Sigma_x"
# the general model's variances are printed under the names the numeric code uses for them
VARIANCE_ARGS = {sigma_d2: sp.Symbol("decoder_variance", positive=True),
                 sigma_p2: sp.Symbol("prior_variance", positive=True)}


class MatrixNumPyPrinter(NumPyPrinter):
    """NumPy printer extended with the matrix constructs the derivation uses."""

    def __init__(self):
        super().__init__({"fully_qualified_modules": True, "strict": True})

    def _print_Trace(self, expr):
        return f"numpy.trace({self._print(expr.arg)})"

    def _print_DiagonalOf(self, expr):
        return f"numpy.diagonal({self._print(expr.arg)}).reshape(-1, 1)"

    def _print_DiagMatrix(self, expr):
        return f"numpy.diagflat({self._print(expr.args[0])})"

    def _print_HadamardProduct(self, expr):
        return "(" + " * ".join(f"({self._print(a)})" for a in expr.args) + ")"

    def _print_ElementwiseApplyFunction(self, expr):
        fn = expr.function
        name = fn.expr.func.__name__ if isinstance(fn, sp.Lambda) else fn.__name__
        fname = self._module_format("numpy." + name)
        return f"{fname}({self._print(expr.expr)})"

    def _print_OneMatrix(self, expr):
        return f"numpy.ones(({self._print(expr.rows)}, {self._print(expr.cols)}))"

    def _print_Identity(self, expr):
        return f"numpy.eye({self._print(expr.rows)})"

    def _print_log(self, expr):
        if isinstance(expr.args[0], sp.Determinant):
            return f"numpy.linalg.slogdet({self._print(expr.args[0].arg)})[1]"
        return super()._print_log(expr)

    def _print_MatMul(self, expr):
        coeff, mats = expr.as_coeff_matrices()
        body = " @ ".join(f"({self._print(m)})" for m in mats)
        return body if coeff == 1 else f"({self._print(coeff)}) * ({body})"


def _vectorised_objective_pieces():
    """The objective with the unit sums written as traces (checked against the sums in :func:`codegen_section`)."""
    e = unit_variance_vector()
    bias = D * b_mu + b_D
    recon = (-N * sp.log(2 * sp.pi) / 2
             - (sp.Trace((I_N - D * W_mu).T * (I_N - D * W_mu) * Sigma_x) + sp.Trace(bias.T * bias)
                + sp.Trace(D.T * D * DiagMatrix(e))) / 2)
    kl = (sp.Trace(DiagMatrix(e)) + sp.Trace(W_mu.T * W_mu * Sigma_x) + sp.Trace(b_mu.T * b_mu) - k
          - sp.Trace(sp.OneMatrix(1, k) * b_sigma)) / 2
    return recon, kl


def _vectorised_general_pieces():
    """Reconstruction and KL of the general model (decoder variance sigma_d2, prior N(0, sigma_p2 I)) as traces."""
    e = unit_variance_vector()
    bias = D * b_mu + b_D
    squared_error = (sp.Trace((I_N - D * W_mu).T * (I_N - D * W_mu) * Sigma_x) + sp.Trace(bias.T * bias)
                     + sp.Trace(D.T * D * DiagMatrix(e)))
    recon = -N * sp.log(2 * sp.pi * sigma_d2) / 2 - squared_error / (2 * sigma_d2)
    kl = ((sp.Trace(DiagMatrix(e)) + sp.Trace(W_mu.T * W_mu * Sigma_x) + sp.Trace(b_mu.T * b_mu)) / sigma_p2 - k
          - sp.Trace(sp.OneMatrix(1, k) * b_sigma) + k * sp.log(sigma_p2)) / 2
    return recon, kl


@lru_cache(maxsize=None)
def codegen_section(n: int = 3, kk: int = 2) -> Section:
    from .explicit import explicit
    from .objective import kl_expr, reconstruction_expr
    sec = Section("codegen", "Forms used for code generation",
                  "The generated numeric code prints vectorised forms; each is proved equal to the derived one.")
    recon, kl = _vectorised_objective_pieces()
    simp = lambda e: sp.expand(sp.powsimp(sp.expand(e), combine="exp"))  # noqa: E731
    sec.add(prove("codegen.reconstruction", "vectorised reconstruction = derived (unit sums)", explicit(recon, n, kk),
                  explicit(reconstruction_expr(), n, kk), concrete_method(n, kk), simplifier=simp))
    sec.add(prove("codegen.kl", "vectorised KL = derived (unit sums)", explicit(kl, n, kk),
                  explicit(kl_expr(), n, kk), concrete_method(n, kk), simplifier=simp))
    from .general_model import general_kl_expr, general_reconstruction_expr
    recon_g, kl_g = _vectorised_general_pieces()
    sec.add(prove("codegen.reconstruction_general", "vectorised general reconstruction = derived (unit sums)",
                  explicit(recon_g, n, kk), explicit(general_reconstruction_expr(), n, kk), concrete_method(n, kk),
                  simplifier=simp))
    sec.add(prove("codegen.kl_general", "vectorised general KL = derived (unit sums)", explicit(kl_g, n, kk),
                  explicit(general_kl_expr(), n, kk), concrete_method(n, kk), simplifier=simp))
    return sec


def _function(name, args, expr, printer, doc):
    body = printer.doprint(expr)
    lines = [f"def {name}({args}):", f'    """{doc}"""']
    if "N" in _names(body) or "k" in _names(body):
        lines.append("    N = Sigma_x.shape[0]" if "Sigma_x" in args else "    N = F.shape[1]")
        lines.append("    k = W_mu.shape[0]")
    lines.append(f"    return {body}")
    return "\n".join(lines) + "\n"


def _names(code):
    import re
    return set(re.findall(r"\b[A-Za-z_]\w*\b", code))


def generate() -> str:
    printer = MatrixNumPyPrinter()
    recon, kl = _vectorised_objective_pieces()
    parts = [
        '"""GENERATED by derivations/codegen.py from the SymPy derivation. DO NOT EDIT.\n\n'
        "Regenerate with:  python -m derivations.codegen\n\n"
        "Shapes: W_mu, W_sigma (k, N); D (N, k); Sigma_x (N, N); b_mu, b_sigma (k, 1); b_D (N, 1);\n"
        "E_inv (k, k) the posterior precision of eq. (26)/(27); F (k, N); decoder_variance, prior_variance:\n"
        "the general model's sigma_d^2 and sigma_p^2 (positive scalars; 1, 1 is the paper's model).\n\n"
        ">>> mode_d2(numpy.array([3.0, 1.5]), 2.0).tolist()     # d_i^2 = lambda_i - beta, 0 once collapsed\n"
        "[1.0, 0.0]\n"
        '"""\n',
        "import functools\n\nimport numpy\n\n",
    ]
    parts.append(_function("reconstruction", PARAM_ARGS, recon, printer,
                           "E_x E_q log p(x|z), every constant kept (eqs. 21, 38)."))
    parts.append(_function("kl", PARAM_ARGS, kl, printer, "E_x KL(q(z|x) || N(0, I_k)) (eqs. 21, 39)."))
    parts.append(_function("objective", PARAM_ARGS + ", beta", recon - beta * kl, printer,
                           "The full data-averaged beta-VAE objective (eq. 21 with its constants)."))
    recon_g, kl_g = (e.subs(VARIANCE_ARGS) for e in _vectorised_general_pieces())
    parts.append(_function("reconstruction_general", PARAM_ARGS + ", decoder_variance", recon_g, printer,
                           "E_x E_q log N(x; D z + b_D, decoder_variance I_N), every constant kept (general model)."))
    parts.append(_function("kl_general", PARAM_ARGS + ", prior_variance", kl_g, printer,
                           "E_x KL(q(z|x) || N(0, prior_variance I_k)) (general model)."))
    parts.append(_function("objective_general", PARAM_ARGS + ", beta, decoder_variance, prior_variance",
                           recon_g - beta * kl_g, printer,
                           "The general model's data-averaged objective (decoder and prior variances; 1, 1 is objective)."))
    for name, form in gradient_forms().items():
        parts.append(_function(f"grad_{name}", PARAM_ARGS + ", beta", form, printer,
                               f"dL/d{name} of the full objective (derived; cf. eqs. 42-47)."))
    parts.append(_function("inference_error", "W_mu, b_mu, W_sigma, b_sigma, Sigma_x, E_inv, F",
                           inference_error_form(), printer,
                           "E_x KL(q(z|x) || N(F x, E_inv^-1)): MIE with eq. (26), TIE with eq. (27) (eq. 25 "
                           "with the b_mu term)."))
    scalar = NumPyPrinter({"fully_qualified_modules": True})
    for fname, expr, args, doc in _mode_functions():
        body = scalar.doprint(expr.subs({lam: sp.Symbol("lam", positive=True)}))
        parts.append(f"def {fname}({args}):\n    \"\"\"{doc}\"\"\"\n    return {body}\n")
    return "\n\n".join(p.rstrip("\n") + "\n" for p in parts)


def _mode_functions():
    return (("mode_d2", mode_d2(), "lam, beta", "Squared decoder gain of a unit at the optimum."),
            ("mode_reconstruction", mode_reconstruction(), "lam, beta",
             "Unit term of -2(reconstruction + N/2 log 2pi) - (N - k)."),
            ("mode_kl", mode_kl(), "lam, beta", "Unit term of the KL at the optimum."),
            ("mode_loglik", mode_loglik(), "lam, beta", "Unit term of -2(log-likelihood + N/2 log 2pi) - (N - k)."),
            ("mode_mie", mode_mie(), "lam, beta", "Unit term of MIE at the optimum."),
            ("mode_tie_weight", mode_tie_weight(), "a, beta", "Weight of |Q_{m i}| in the gauge part of TIE."))


def generate_mp() -> str:
    """The per-unit closed forms printed for mpmath scalars (high-precision derivatives in beta).

    >>> 'def mode_kl(lam, beta):' in generate_mp()
    True
    """
    printer = MpmathPrinter({"fully_qualified_modules": True})
    parts = ['"""GENERATED by derivations/codegen.py from the SymPy derivation. DO NOT EDIT.\n\n'
             "Regenerate with:  python -m derivations.codegen\n\n"
             "Per-unit closed forms at the optimum for mpmath scalars lam = 1 + a (a an eigenvalue of A^T A)\n"
             "and beta; they evaluate at the precision of the caller's mpmath context (``mpmath.workdps``).\n\n"
             ">>> mode_d2(mpmath.mpf(3), mpmath.mpf(2))     # d_i^2 = lambda_i - beta for an active unit\n"
             "mpf('1.0')\n"
             '"""\n', "import mpmath\n\n"]
    for fname, expr, args, doc in _mode_functions():
        body = printer.doprint(expr.subs({lam: sp.Symbol("lam", positive=True)}))
        parts.append(f"def {fname}({args}):\n    \"\"\"{doc}\"\"\"\n    return {body}\n")
    return "\n\n".join(p.rstrip("\n") + "\n" for p in parts)


def write(target: Path = TARGET, target_mp: Path = TARGET_MP) -> tuple[Path, Path]:
    target.write_text(generate())
    target_mp.write_text(generate_mp())
    return target, target_mp


if __name__ == "__main__":
    for path in write(*(Path(a) for a in sys.argv[1:3])):
        print(f"wrote {path}")

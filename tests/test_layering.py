"""One-way dependencies: numerics never imports SymPy; derivations imports nothing but SymPy (and stdlib)."""
import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_numerics_does_not_import_sympy_at_run_time():
    code = ("import sys, numerics, numerics._generated, numerics.optimum; "
            "print('sympy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "False"


def _imports(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            yield node.module.split(".")[0]


def test_derivations_depends_on_sympy_alone():
    allowed = {"sympy", "__future__"} | set(sys.stdlib_module_names)
    for path in (ROOT / "derivations").glob("*.py"):
        bad = set(_imports(path)) - allowed
        assert not bad, f"{path.name} imports {bad}"


def test_deep_and_numerics_never_import_verify_and_deep_never_imports_sympy():
    """Dependencies run one way: verify -> deep -> numerics; derivations (SymPy) only through verify."""
    for package, banned in (("numerics", {"verify", "deep", "sympy", "derivations", "torch"}),
                            ("deep", {"verify", "sympy", "derivations"})):
        for path in (ROOT / package).glob("*.py"):
            bad = set(_imports(path)) & banned
            assert not bad, f"{package}/{path.name} imports {bad}"
    code = "import sys, deep.experiments, deep.crosscheck; print('sympy' in sys.modules, 'verify' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.split() == ["False", "False"]

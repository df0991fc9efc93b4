"""One-way dependencies (numerics never imports SymPy; derivations imports nothing but SymPy and the standard
library; verify -> deep -> numerics), and no private name imported across modules."""
import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_numerics_does_not_import_sympy_at_run_time():
    code = ("import sys, numerics, numerics.generated, numerics.optimum; "
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
    for path in (ROOT / "derivations").rglob("*.py"):
        bad = set(_imports(path)) - allowed
        assert not bad, f"{path.name} imports {bad}"


def test_deep_and_numerics_never_import_verify_and_deep_never_imports_sympy():
    """Dependencies run one way: verify -> deep -> numerics; derivations (SymPy) only through verify."""
    for package, banned in (("numerics", {"verify", "deep", "sympy", "derivations", "torch"}),
                            ("deep", {"verify", "sympy", "derivations"})):
        for path in (ROOT / package).rglob("*.py"):
            bad = set(_imports(path)) & banned
            assert not bad, f"{package}/{path.name} imports {bad}"
    code = "import sys, deep.betavae.experiments, deep.linear.crosscheck; print('sympy' in sys.modules, 'verify' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.split() == ["False", "False"]


PACKAGES = ("verify", "derivations", "numerics", "deep")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def private_imports(path: Path) -> list[str]:
    """``from M import _x`` and ``import M._x`` where M is one of the toolkit's modules: a private name used across
    modules (a module's own names, and dunders such as ``__version__``, are fine)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = _module_name(path).rsplit(".", 1)[0] if path.name != "__init__.py" else _module_name(path)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            if module.split(".")[0] not in PACKAGES:
                continue
            dotted = [p for p in module.split(".") if p.startswith("_") and not p.startswith("__")]
            names = [a.name for a in node.names if a.name.startswith("_") and not a.name.startswith("__")]
            found += [f"{module}.{n}" for n in names] + [module for _ in dotted[:1]]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] in PACKAGES and any(p.startswith("_") and not p.startswith("__") for p in parts):
                    found.append(alias.name)
    return found


def test_private_import_detector_can_fail(tmp_path):
    """The detector sees the forms a private import takes (so that the repository-wide test can fail)."""
    probe = ROOT / "verify" / "_layering_probe.py"
    probe.write_text("from numerics.tie_envelope import _x\nfrom . import _hidden\nimport numerics._private\n"
                     "from .hunt import hunt, __doc__\n", encoding="utf-8")
    try:
        assert private_imports(probe) == ["numerics.tie_envelope._x", "verify._hidden", "numerics._private"]
    finally:
        probe.unlink()


def test_no_private_name_is_imported_across_modules():
    offenders = {}
    for package in PACKAGES + ("tests", "benchmarks"):
        for path in sorted((ROOT / package).rglob("*.py")):
            found = private_imports(path)
            if found:
                offenders[str(path.relative_to(ROOT))] = found
    assert not offenders, f"private names imported across modules: {offenders}"

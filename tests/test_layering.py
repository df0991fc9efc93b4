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


def test_derivations_depends_on_sympy_and_z3_alone():
    # z3 decides the inequalities SymPy cannot settle (issue 14); nothing numeric, no numerics/verify/deep
    allowed = {"sympy", "z3", "__future__"} | set(sys.stdlib_module_names)
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


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def private_uses(source: str, package: str, *, attributes: bool = True) -> list[str]:
    """Private names of the toolkit's modules used from another module: ``from M import _x``, ``import M._x``
    and (with ``attributes``) ``m._x`` where ``m`` names an imported toolkit module. ``package`` is the dotted
    package the source sits in (for relative imports). A module's own names and dunders are fine."""
    tree = ast.parse(source)
    found, modules = [], set()       # modules: local names bound to toolkit modules or packages
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
            found += [module for p in module.split(".") if _private(p)][:1]
            for a in node.names:
                if _private(a.name):
                    found.append(f"{module}.{a.name}")
                elif a.name[:1].islower():        # possibly a submodule (from deep.linear import metrics as lm)
                    modules.add(a.asname or a.name)
        elif isinstance(node, ast.Import):
            for a in node.names:
                parts = a.name.split(".")
                if parts[0] in PACKAGES:
                    if any(_private(p) for p in parts):
                        found.append(a.name)
                    modules.add(a.asname or parts[0])
    if attributes:
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and _private(node.attr) and isinstance(node.value, ast.Name)
                    and node.value.id in modules):
                found.append(f"{node.value.id}.{node.attr}")
    return found


def test_private_use_detector_can_fail():
    """The detector sees every form a private use takes (so that the repository-wide test can fail)."""
    probe = ("from numerics.tie_envelope import _x\nfrom . import _hidden\nimport numerics._private\n"
             "from .hunt import hunt, __doc__\nfrom . import properties as P\nP._helper(1)\nP.public(2)\n")
    assert private_uses(probe, "verify") == ["numerics.tie_envelope._x", "verify._hidden", "numerics._private",
                                             "P._helper"]


def test_no_private_name_is_used_across_modules():
    """Across the packages and benchmarks nothing private is used; the tests may reach into internals (white-box
    tests, monkeypatching) but may not import a private name."""
    offenders = {}
    for package in PACKAGES + ("tests", "benchmarks"):
        for path in sorted((ROOT / package).rglob("*.py")):
            name = _module_name(path)
            found = private_uses(path.read_text(encoding="utf-8"),
                                 name if path.name == "__init__.py" else name.rsplit(".", 1)[0],
                                 attributes=package != "tests")
            if found:
                offenders[str(path.relative_to(ROOT))] = found
    assert not offenders, f"private names used across modules: {offenders}"

"""Importing a user's ``FILE.py:FACTORY`` and calling the factory, only when asked; every failure one typed error.

The probe runs the user's code: importing the file, calling ``FACTORY()`` and later calling what it returned. Each
can fail in the user's code, and each failure becomes a :class:`ProbeInputError` whose ``field`` names the input
(``encoder`` or ``decoder``; the command adds its flag) and whose ``problem`` is one line. Nothing here runs at
import time of this module: a file is imported only by :func:`load_factory`, which only the probe calls.

The file is imported under a private module name (never ``__main__``, so an ``if __name__ == "__main__":`` block
does not run), with its directory first on ``sys.path`` while it is imported (a sibling module it imports is found).

>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "model.py").write_text("def make():\\n    return lambda x: (x[:, :1], 0 * x[:, :1])\\n")
>>> loaded = load_factory(f"{folder / 'model.py'}:make", "encoder")
>>> callable(loaded.model), loaded.factory, len(loaded.sha256)
(True, 'make', 64)
>>> load_factory(f"{folder / 'model.py'}:nothing", "encoder")     # doctest: +ELLIPSIS
Traceback (most recent call last):
deep.probe.load.ProbeInputError: encoder: ...model.py defines no 'nothing' (it defines: make)
"""
from __future__ import annotations

import hashlib
import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path

from numerics.input_error import InputError

#: longest excerpt of a user's exception message kept in the one-line error
MESSAGE_CHARS = 200


class ProbeInputError(InputError):
    """A problem with what the user gave the probe; ``field`` is ``encoder``, ``decoder``, ``beta``, ``samples``,
    ``seed``, ``route`` or ``variances``, ``problem`` one line."""


def describe(exc: BaseException) -> str:
    """An exception as ``Type: message`` on one line, the message cut to :data:`MESSAGE_CHARS` characters.

    >>> describe(ValueError("bad\\nthing"))
    'ValueError: bad thing'
    """
    message = " ".join(str(exc).split())
    if len(message) > MESSAGE_CHARS:
        message = message[:MESSAGE_CHARS - 3] + "..."
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


@dataclass(frozen=True)
class LoadedModel:
    """What ``FACTORY()`` returned (``model``), and where it came from: the file, the factory's name, the file's
    SHA-256 (for the provenance: the numbers belong to this version of the file)."""

    model: object
    file: str
    factory: str
    sha256: str


def parse_spec(spec: str, field: str) -> tuple[Path, str]:
    """``FILE.py:FACTORY`` split at its last colon, checked for form (not for existence).

    >>> parse_spec("models/enc.py:make", "encoder")
    (PosixPath('models/enc.py'), 'make')
    """
    path, sep, name = str(spec).rpartition(":")
    if not sep or not path or not name:
        raise ProbeInputError(field, f"expected FILE.py:FACTORY (a Python file and the name of a function in it that "
                                     f"returns the model), got '{spec}'")
    if not name.isidentifier():
        raise ProbeInputError(field, f"'{name}' is not a Python name (expected FILE.py:FACTORY)")
    return Path(path), name


def check_spec(spec: str, field: str) -> tuple[Path, str, bytes]:
    """Everything about ``FILE.py:FACTORY`` that can be checked without running the file: its form, that the file
    exists and can be read (its bytes are returned); a command checks every spec before it imports any."""
    path, name = parse_spec(spec, field)
    if path.suffix != ".py":
        raise ProbeInputError(field, f"'{path}' is not a .py file (expected FILE.py:FACTORY)")
    if not path.is_file():
        raise ProbeInputError(field, f"'{path}' does not exist" if not path.exists() else f"'{path}' is not a file")
    try:
        return path, name, path.read_bytes()
    except OSError as exc:
        raise ProbeInputError(field, f"cannot read '{path}': {exc.strerror or exc}") from None


def load_factory(spec: str, field: str) -> LoadedModel:
    """Import ``FILE.py``, call ``FACTORY()`` and return what it returned (which must be callable)."""
    path, name, source = check_spec(spec, field)
    module = _import(path, field)
    factory = getattr(module, name, None)
    if factory is None:
        defined = sorted(k for k, v in vars(module).items() if callable(v) and not k.startswith("_")
                         and getattr(v, "__module__", None) == module.__name__)
        raise ProbeInputError(field, f"{path} defines no '{name}' (it defines: {', '.join(defined) or 'no functions'})")
    if not callable(factory):
        raise ProbeInputError(field, f"{path}: '{name}' is a {type(factory).__name__}, not a function")
    try:
        model = factory()
    except (Exception, SystemExit) as exc:
        raise ProbeInputError(field, f"{path}:{name}() raised {describe(exc)}") from None
    if not callable(model):
        raise ProbeInputError(field, f"{path}:{name}() returned a {type(model).__name__}, not a callable (a torch "
                                     "module or a function)")
    return LoadedModel(model, str(path), name, hashlib.sha256(source).hexdigest())


def _import(path: Path, field: str):
    resolved = path.resolve()
    module_name = f"betavae_probe_user_{field}_{hashlib.sha256(str(resolved).encode()).hexdigest()[:12]}"
    spec = importlib.util.spec_from_file_location(module_name, resolved)
    if spec is None or spec.loader is None:
        raise ProbeInputError(field, f"cannot import '{path}'")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module          # dataclasses and pickling look the module up while it runs
    sys.path.insert(0, str(resolved.parent))
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        sys.modules.pop(module_name, None)
        raise ProbeInputError(field, f"{path}: syntax error at line {exc.lineno}: {exc.msg}") from None
    except (Exception, SystemExit) as exc:
        sys.modules.pop(module_name, None)
        raise ProbeInputError(field, f"importing {path} raised {describe(exc)}") from None
    finally:
        if str(resolved.parent) in sys.path:
            sys.path.remove(str(resolved.parent))
    return module

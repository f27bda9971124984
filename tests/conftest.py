"""Test helpers: C fixtures compiled at test time, and CPython's native loader for comparison.

Fixtures are built with the compiler ``sysconfig`` names, into ``tests/.fixtures/<key>/``, where the
key hashes the source, the interpreter and its headers: a changed source is rebuilt, an unchanged
one is reused across runs and interpreters never share a build.
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import os
import shlex
import subprocess
import sys
import sysconfig
import types
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).parent
FIXTURES = HERE / "fixtures"
CACHE = Path(os.environ.get("EXTRUN_FIXTURE_CACHE", HERE / ".fixtures"))
EXT_SUFFIX = sysconfig.get_config_var("EXT_SUFFIX")


def build(name: str) -> str:
    """Compile ``tests/fixtures/<name>.c`` for the running interpreter; return the library path."""
    return compile_c(FIXTURES / f"{name}.c", name)


def compile_c(source: Path, name: str, salt: str = "") -> str:
    """Compile one C file into the extension library ``<name><EXT_SUFFIX>`` (cached)."""
    include = sysconfig.get_paths()["include"]
    key = hashlib.sha256(
        source.read_bytes()
        + f"{sys.version}|{sys.executable}|{include}|{EXT_SUFFIX}|{salt}".encode()
    ).hexdigest()[:16]
    out = CACHE / key / f"{name}{EXT_SUFFIX}"
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        cc = shlex.split(sysconfig.get_config_var("CC") or "cc")
        tmp = out.with_suffix(f".{os.getpid()}.tmp")
        cmd = [*cc, "-shared", "-fPIC", "-O1", "-g", "-Wall", "-I", include,
               str(source), "-o", str(tmp)]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode:
            raise RuntimeError(f"building {source.name} failed:\n{' '.join(cmd)}\n{proc.stderr}")
        tmp.replace(out)  # atomic: a concurrent run never sees half a library
    return str(out)


@pytest.fixture(scope="session")
def multiphase() -> str:
    return build("multiphase")


@pytest.fixture(scope="session")
def singlephase() -> str:
    return build("singlephase")


@pytest.fixture(scope="session")
def modexport() -> str:
    if sys.version_info < (3, 15):
        pytest.skip("PyModExport hooks are new in CPython 3.15")
    return build("modexport")


@pytest.fixture(scope="session")
def testmultiphase() -> str:
    """CPython's own fixture, where the interpreter ships it."""
    spec = importlib.util.find_spec("_testmultiphase")
    if spec is None or spec.origin is None or spec.origin == "built-in":
        pytest.skip("this interpreter has no _testmultiphase extension")
    return spec.origin


def native_load(path: str, name: str) -> types.ModuleType:
    """Load as CPython does, without touching sys.modules (test_loader's load_module_by_name)."""
    loader = importlib.machinery.ExtensionFileLoader(name, path)
    spec = importlib.util.spec_from_loader(name, loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def outcome(call: object, *args: object) -> tuple[str, str] | None:
    """(exception type, message) a call raises, or None."""
    try:
        call(*args)  # type: ignore[operator]
    except Exception as exc:
        return type(exc).__name__, str(exc)
    return None


@pytest.fixture
def clean_modules() -> Iterator[None]:
    """Restore sys.modules after a test that imports fixtures under their own names."""
    before = dict(sys.modules)
    yield
    for name in set(sys.modules) - set(before):
        del sys.modules[name]
    sys.modules.update(before)

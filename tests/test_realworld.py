"""Modules produced by real tools from PyPI: Cython (custom create) and mypyc (single-phase)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from extrun.loader import definition_for, load

from .conftest import (
    CACHE,
    EXT_SUFFIX,
    HERE,
    cythonize,
    integration_cmd,
    make_venv,
    tool_version,
)

SRC = str(Path(__file__).resolve().parent.parent / "src")
REAL = HERE / "realworld"


@pytest.fixture(scope="module")
def cyworld(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cyworld")
    shutil.copy(cythonize(REAL / "cyscript.py", "cyscript", root), root / f"cyscript{EXT_SUFFIX}")
    (root / "cypkg").mkdir()
    (root / "cypkg" / "__init__.py").write_text("")
    shutil.copy(cythonize(REAL / "cypkg" / "__main__.py", "cypkg.__main__", root),
                root / "cypkg" / f"__main__{EXT_SUFFIX}")
    return root


@pytest.fixture(scope="module")
def mypyc_module(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tool_version("mypy")
    pytest.importorskip("setuptools")
    debug = "d" if hasattr(sys, "gettotalrefcount") else ""
    out = CACHE / f"mypyc-{sys.implementation.cache_tag}{debug}"
    lib = out / f"mymod{EXT_SUFFIX}"
    source = REAL / "mymod.py"
    if not lib.exists() or lib.stat().st_mtime < source.stat().st_mtime:
        work = tmp_path_factory.mktemp("mypyc")
        shutil.copy(source, work / "mymod.py")
        proc = subprocess.run([sys.executable, "-m", "mypyc", "mymod.py"], cwd=work,
                              capture_output=True, text=True)
        if proc.returncode:
            pytest.fail(f"mypyc failed:\n{proc.stdout}\n{proc.stderr}")
        out.mkdir(parents=True, exist_ok=True)
        shutil.copy(work / f"mymod{EXT_SUFFIX}", lib)
    return out


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=SRC)
    return subprocess.run([sys.executable, "-m", "extrun", "run", *args], cwd=cwd,
                          capture_output=True, text=True, env=env, timeout=60)


def test_cython_script_runs_as_main(cyworld: Path) -> None:
    d = definition_for("cyscript", str(cyworld / f"cyscript{EXT_SUFFIX}"))
    assert d.kind == "multi-phase" and d.has_create  # Cython creates its own module
    proc = run(cyworld, "-m", "cyscript", "a", "--help")
    assert proc.returncode == 0, proc.stderr
    # __name__ is "__main__"; Point instances pickle and unpickle; __spec__ is the module's
    assert proc.stdout == "CY __main__ ['a', '--help'] 3 cyscript cyscript\n"


def test_cython_script_by_path(cyworld: Path) -> None:
    proc = run(cyworld, f"cyscript{EXT_SUFFIX}", "p")
    assert proc.stdout.startswith("CY __main__ ['p'] 3"), proc.stderr


def test_cython_strict_refuses(cyworld: Path) -> None:
    proc = run(cyworld, "--strict", "-m", "cyscript")
    assert proc.returncode == 1 and "Py_mod_create" in proc.stderr


def test_cython_package_with_compiled_main(cyworld: Path) -> None:
    proc = run(cyworld, "-m", "cypkg", "z")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "CYPKG __main__ cypkg ['z']\n"


def test_mypyc_module(mypyc_module: Path) -> None:
    path = str(mypyc_module / f"mymod{EXT_SUFFIX}")
    d = definition_for("mymod", path)
    if d.kind == "single-phase":  # mypyc emits single-phase init: loads, cannot run
        module = load(path, "mymod", register=False)
        assert module.double(21) == 42
        proc = run(mypyc_module, "-m", "mymod")
        assert proc.returncode == 1 and proc.stderr.count("\n") == 1
        assert "single-phase initialization" in proc.stderr
    else:
        proc = run(mypyc_module, "-m", "mymod", "x")
        assert proc.stdout == "MYPYC 42 ['x']\n", proc.stderr


def test_cython_through_the_integration(cyworld: Path, tmp_path: Path) -> None:
    """Plain `python -m` of a Cython script and of a package with a compiled __main__, in a
    fresh venv with the integration installed."""

    python, _ = make_venv(tmp_path / "venv")
    assert integration_cmd(python, "install").returncode == 0

    def python_m(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([python, "-m", *args], cwd=cyworld, capture_output=True,
                              text=True, timeout=60)

    proc = python_m("cyscript", "a")
    assert proc.stdout == "CY __main__ ['a'] 3 cyscript cyscript\n", proc.stderr
    proc = python_m("cypkg", "z")
    assert proc.stdout == "CYPKG __main__ cypkg ['z']\n", proc.stderr

"""Inspect and audit real packages from PyPI, built by different tools.

C (markupsafe), Cython (msgpack), PyO3/maturin (rpds-py), and a pybind11 module compiled here.
Installed by the nox sessions from binary wheels only (`.[realworld]`); skipped where absent.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shlex
import subprocess
import sys
import sysconfig

import pytest

from extrun import inspection
from extrun import static as static_reader

from .conftest import CACHE, EXT_SUFFIX
from .test_inspect import SUBINTERPRETER_PROBE, cli

PACKAGES = {  # distribution: (extension module, the tool that built it)
    "markupsafe": ("markupsafe._speedups", "C"),
    "msgpack": ("msgpack._cmsgpack", "Cython"),
    "rpds-py": ("rpds.rpds", "PyO3"),
}


def find_library(module: str) -> str | None:
    """The module's extension library, if it is installed (and loadable) here."""
    try:
        spec = importlib.util.find_spec(module)
    except ModuleNotFoundError:  # its package is not installed at all
        return None
    if spec is None or not spec.origin or not spec.origin.endswith(EXT_SUFFIX):
        return None
    return spec.origin


def library(module: str) -> str:
    path = find_library(module)
    if path is None:
        pytest.skip(f"{module} is not installed for this interpreter (pip install '.[realworld]')")
    return path


@pytest.fixture(scope="module")
def pybind11_module() -> str:
    pybind11 = pytest.importorskip("pybind11")
    source = b'#include <pybind11/pybind11.h>\nint add(int a, int b) { return a + b; }\n' \
             b'PYBIND11_MODULE(pbmod, m) { m.doc() = "a pybind11 module"; m.def("add", &add); }\n'
    key = hashlib.sha256(source + f"{sys.version}{sys.executable}{pybind11.__version__}".encode())
    out = CACHE / f"pybind11-{key.hexdigest()[:16]}" / f"pbmod{EXT_SUFFIX}"
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        (out.parent / "pbmod.cpp").write_bytes(source)
        cxx = shlex.split(sysconfig.get_config_var("CXX") or "c++")
        subprocess.run([*cxx, "-shared", "-fPIC", "-O0", "-std=c++17", "-I",
                        pybind11.get_include(), "-I", sysconfig.get_paths()["include"],
                        str(out.parent / "pbmod.cpp"), "-o", str(out)], check=True)
    return str(out)


@pytest.mark.parametrize("dist", sorted(PACKAGES))
def test_real_package_inspected(dist: str) -> None:
    module, tool = PACKAGES[dist]
    path = library(module)
    record = inspection.inspect_all([{"module": module, "path": path}])[0]
    assert record["status"] == "ok", (tool, record["reason"])
    assert record["kind"] in ("multi-phase", "single-phase", "slots")  # slots: 3.15 builds
    assert record["runnable_as_main"] == (record["kind"] != "single-phase")
    static = static_reader.static_record(module, path)
    assert static["kind"] in (None, record["kind"]), tool


def test_real_distributions_audited() -> None:
    for module, _ in PACKAGES.values():
        library(module)
    proc = cli("audit", "--json", *PACKAGES)
    records = {r["module"]: r for r in json.loads(proc.stdout)["modules"]}
    for dist, (module, _) in PACKAGES.items():
        assert records[module]["distribution"].lower() == dist.lower()
        assert records[module]["status"] == "ok"


def test_pybind11_module(pybind11_module: str) -> None:
    record = inspection.inspect_all([{"module": "pbmod", "path": pybind11_module}])[0]
    assert record["status"] == "ok"  # (its doc is set by its exec, not in its definition)
    assert record["kind"] in ("multi-phase", "single-phase", "slots")


@pytest.mark.skipif(sys.version_info < (3, 13), reason="needs _interpreters (3.13+)")
def test_real_verdicts_agree_with_cpython(pybind11_module: str) -> None:
    items = [("pbmod", pybind11_module)]
    for module, _ in PACKAGES.values():
        path = find_library(module)
        if path is not None:
            items.append((module, path))
    records = inspection.inspect_all([{"module": m, "path": p} for m, p in items])
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    proc = subprocess.run([sys.executable, "-c", SUBINTERPRETER_PROBE, json.dumps(items)],
                          capture_output=True, text=True, timeout=120, env=env)
    actual = json.loads(proc.stdout)
    for record in records:
        assert record["subinterpreters"] == actual[record["module"]], record["module"]

"""CPython's own tests of this interpreter's loader and runpy pass with extrun swapped in.

``tests/cpython_suites.py`` runs ``test.test_importlib.extension.test_loader`` (every test class
given extrun's ``ExtensionLoader``) and ``test.test_runpy`` (extrun's ``run_module``/``run_path``)
in a fresh process; the same tests unchanged give what CPython itself passes and skips here.
Every test must pass where CPython's passes, and be skipped only where CPython skips it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(os.path.dirname(HERE), "src")


def _outcomes(suite: str, native: bool) -> dict[str, str]:
    argv = [sys.executable, os.path.join(HERE, "cpython_suites.py"), suite, "--json"]
    env = {**os.environ, "PYTHONPATH": SRC}
    proc = subprocess.run(argv + ["--native"] * native, capture_output=True, text=True,
                          env=env, timeout=600)
    assert proc.stdout, f"the {suite} suite died (status {proc.returncode}):\n{proc.stderr}"
    outcomes: dict[str, str] = json.loads(proc.stdout.splitlines()[-1])
    summary = proc.stderr.strip().splitlines()[-1]
    print(f"{suite} ({'CPython' if native else 'extrun'}): {summary}")
    return outcomes


@pytest.mark.parametrize("suite", ["loader", "runpy"])
def test_cpython_suite(suite: str) -> None:
    module = {"loader": "test.test_importlib.extension.test_loader",
              "runpy": "test.test_runpy"}[suite]
    if importlib.util.find_spec("test") is None or importlib.util.find_spec(module) is None:
        pytest.skip(f"this interpreter has no test suite ({module})")  # pragma: no cover
    native = _outcomes(suite, native=True)
    ours = _outcomes(suite, native=False)
    assert native and set(ours) == set(native)
    differing = {t: (native[t], ours[t]) for t in native if ours[t] != native[t]}
    assert not differing, "\n".join(f"{t}: CPython {a}, extrun {b}"
                                    for t, (a, b) in sorted(differing.items()))
    assert "failed" not in native.values()

"""The GIL on free-threaded builds: every way extrun loads or runs a module does what CPython's
importer does (enable it around initialisation, keep it unless the module declares it can run
without it, CPython's warning, ``-X gil``), each compared with a native load in a fresh process.
On other builds the same runs show the GIL always enabled and no warning, as natively."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from .conftest import FIXTURES, compile_c

MODULES = ["gil_used", "gil_free", "gil_single", "gil_single_free"]
MULTI_PHASE = ["gil_used", "gil_free"]
SRC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src")

# Each snippet loads module NAME from PATH and leaves it in `m`.
LOADS = {
    "native": """
        import importlib.machinery, importlib.util
        loader = importlib.machinery.ExtensionFileLoader(NAME, PATH)
        spec = importlib.util.spec_from_loader(NAME, loader)
        m = importlib.util.module_from_spec(spec)
        loader.exec_module(m)
    """,
    "native import": "import importlib; m = importlib.import_module(NAME)",
    "ExtensionLoader": """
        import importlib.util, extrun
        loader = extrun.ExtensionLoader(NAME, PATH)
        m = importlib.util.module_from_spec(importlib.util.spec_from_loader(NAME, loader))
        loader.exec_module(m)
    """,
    "load": "import extrun; m = extrun.load(PATH, NAME)",
    "load_all": "import extrun; m = extrun.load_all(PATH, [NAME])[NAME]",
    "exec_in_module": """
        import types, extrun
        loader = extrun.ExtensionLoader(NAME, PATH)
        m = types.ModuleType(NAME)
        loader.exec_in_module(extrun.spec_for(loader), m)
    """,
    "run_module": """
        import types, extrun
        m = types.SimpleNamespace(**extrun.run_module(NAME))
    """,
    "run_path": """
        import types, extrun
        m = types.SimpleNamespace(**extrun.run_path(PATH))
    """,
}
REPORT = """
import json, sys, warnings
warnings.simplefilter("always")
before = sys._is_gil_enabled() if hasattr(sys, "_is_gil_enabled") else None
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    {load}
after = sys._is_gil_enabled() if hasattr(sys, "_is_gil_enabled") else None
print(json.dumps([before, after, m.gil_at_exec,
                  [(w.category.__name__, str(w.message)) for w in caught]]))
"""


@pytest.fixture(scope="session")
def libraries() -> dict[str, str]:
    """One library per module name (each holds all four hooks), so that import finds them."""
    return {name: compile_c(FIXTURES / "gil.c", name) for name in MODULES}


def _report(load: str, name: str, path: str, xoptions: list[str]) -> list[object]:
    code = REPORT.format(load=textwrap.indent(textwrap.dedent(load), "    ").strip())
    code = f"NAME, PATH = {name!r}, {path!r}\n" + code
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([SRC, os.path.dirname(path)])}
    env.pop("PYTHON_GIL", None)
    proc = subprocess.run([sys.executable, *xoptions, "-c", code], capture_output=True,
                          text=True, env=env, cwd=os.path.dirname(path))
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.splitlines()[-1])  # type: ignore[no-any-return]


@pytest.mark.parametrize("xoptions", [[], ["-X", "gil=0"], ["-X", "gil=1"]],
                         ids=["default", "gil=0", "gil=1"])
@pytest.mark.parametrize("name", MODULES)
@pytest.mark.parametrize("way", [w for w in LOADS if not w.startswith("native")])
def test_gil_as_native(libraries: dict[str, str], way: str, name: str,
                       xoptions: list[str]) -> None:
    if way.startswith(("run", "exec_in")) and name not in MULTI_PHASE:
        pytest.skip("single-phase modules cannot be executed in a module or run")
    path = libraries[name]
    native = _report(LOADS["native"], name, path, xoptions)
    assert _report(LOADS["native import"], name, path, xoptions) == native
    assert _report(LOADS[way], name, path, xoptions) == native


def test_free_threaded_gil_facts(libraries: dict[str, str]) -> None:
    """What the comparison above rests on, stated: on a free-threaded build an undeclared
    module enables the GIL with CPython's warning; a declared one leaves it off."""
    used = _report(LOADS["load"], "gil_used", libraries["gil_used"], [])
    free = _report(LOADS["load"], "gil_free", libraries["gil_free"], [])
    if "t" not in sys.abiflags:  # a default build: the GIL is always there
        assert used[:2] == free[:2] == [True, True] or used[:2] == [None, None]
        assert used[3] == free[3] == []
        return
    assert used[:3] == [False, True, True]
    assert used[3] == [["RuntimeWarning", "The global interpreter lock (GIL) has been enabled to "
                        "load module 'gil_used', which has not declared that it can run safely "
                        "without the GIL. To override this behavior and keep the GIL disabled "
                        "(at your own risk), run with PYTHON_GIL=0 or -Xgil=0."]]
    assert free == [False, False, False, []]

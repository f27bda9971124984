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
    if xoptions == ["-X", "gil=0"] and "t" not in sys.abiflags and sys.version_info >= (3, 13):
        pytest.skip("a default build refuses -X gil=0 (3.13+: a fatal error)")
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


# --- the free_threading verdict against what importing the module really does ------------

REALITY = """
import importlib, sys
name = sys.argv[1]
parent = name.rpartition(".")[0]
if parent:
    importlib.import_module(parent)
before = sys._is_gil_enabled()
importlib.import_module(name)
print(before, sys._is_gil_enabled())
"""


def _importable_extensions() -> list[tuple[str, str]]:
    """(module, path) of every extension module this interpreter can import: lib-dynload and
    site-packages (the real packages of .[realworld], numpy where installed)."""
    from extrun import audit

    items, _ = audit.collect([])
    return [(i["module"], i["path"]) for i in items
            if i["location"] in ("stdlib", "site-packages")]


@pytest.mark.skipif("t" not in sys.abiflags, reason="needs a free-threaded build")
def test_verdict_is_what_import_does(libraries: dict[str, str]) -> None:
    """Every importable extension module (lib-dynload, the fixtures, installed packages): the
    audit's free_threading verdict is True exactly when importing it, in a fresh process,
    leaves the GIL disabled."""
    from extrun import inspection

    modules = [*_importable_extensions(), *((n, p) for n, p in libraries.items())]
    records = inspection.inspect_all([{"module": m, "path": p} for m, p in modules], jobs=2)
    checked, skipped, wrong = 0, [], []
    for (name, path), record in zip(modules, records, strict=True):
        env = dict(os.environ, PYTHONPATH=os.path.dirname(path)) if name in libraries else None
        proc = subprocess.run([sys.executable, "-W", "ignore", "-c", REALITY, name],
                              capture_output=True, text=True, env=env, timeout=120)
        if proc.returncode or record["status"] != "ok":
            skipped.append(f"{name}: cannot be imported or inspected here")
            continue
        before, after = proc.stdout.split()
        if before == "True":  # its package already enabled the GIL: this import tells nothing
            skipped.append(f"{name}: its package enabled the GIL")
            continue
        checked += 1
        if record["free_threading"] != (after == "False"):
            wrong.append(f"{name}: verdict {record['free_threading']}, GIL after import {after}")
    print(f"free_threading verdicts checked against import: {checked} agree of {checked}; "
          f"{len(skipped)} not checkable: {skipped}")
    assert not wrong, wrong
    assert checked >= 20


def test_fail_on_gil_names_every_module(tmp_path: object, libraries: dict[str, str]) -> None:
    """--fail-on gil names each module that would enable the GIL, however many there are."""
    import shutil
    from pathlib import Path

    root = Path(str(tmp_path))
    for n in range(12):
        (root / f"pkg{n}").mkdir()
        (root / f"pkg{n}" / "__init__.py").write_text("")
        for name in ("gil_used", "gil_free"):
            shutil.copy(libraries[name], root / f"pkg{n}" / os.path.basename(libraries[name]))
    proc = subprocess.run([sys.executable, "-m", "extrun", "audit", str(root), "--fail-on", "gil"],
                          capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=SRC))
    # gil_free's slot exists from 3.13's headers on: built for 3.11, it declares nothing
    flagged = ["gil_free", "gil_used"] if sys.version_info < (3, 13) else ["gil_used"]
    expected = [f"pkg{n}.{m}" for n in sorted(range(12), key=str) for m in flagged]
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1] == (
        f"extrun audit: {len(expected)} module(s) gil: {', '.join(expected)}")


WARNING = "RuntimeWarning: The global interpreter lock (GIL) has been enabled to load module"


@pytest.mark.parametrize("name", MULTI_PHASE)
def test_gil_warning_through_the_command_line_and_the_integration(
        libraries: dict[str, str], name: str, tmp_path: object) -> None:
    """`extrun run -m X` and plain `python -m X` with the integration warn (and so enable the
    GIL) exactly when `python -c "import X"` does, with CPython's text."""
    from pathlib import Path

    from .conftest import integration_cmd, make_venv

    cwd = os.path.dirname(libraries[name])
    def stderr(python: str, *args: str, extra: dict[str, str] | None = None) -> str:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([SRC, cwd]), **(extra or {})}
        env.pop("PYTHON_GIL", None)
        proc = subprocess.run([python, "-W", "always", *args], capture_output=True, text=True,
                              env=env, cwd=cwd, timeout=60)
        assert proc.returncode == 0, proc.stderr
        return "\n".join(ln for ln in proc.stderr.splitlines() if "GIL" in ln)

    native = stderr(sys.executable, "-c", f"import {name}")
    assert (WARNING in native) == ("t" in sys.abiflags and name == "gil_used")
    assert stderr(sys.executable, "-m", "extrun", "run", "-m", name).count(WARNING) == (
        native.count(WARNING))
    python, _ = make_venv(Path(str(tmp_path)) / "venv")
    assert integration_cmd(python, "install").returncode == 0
    assert stderr(python, "-m", name).count(WARNING) == native.count(WARNING)

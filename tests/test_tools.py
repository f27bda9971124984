"""The tools people put in front of a module -- profilers, debuggers, tracers -- run an extension
module as they run a Python one: through the `python -m` integration, under `extrun run`, and
with extrun itself behind them. Each case beside the same tool with a Python target.

The targets: ``cyprof``, a script compiled with Cython (``profile=True``), and ``pyprof``, the
same source as a Python module.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import EXT_SUFFIX, HERE, cythonize, integration_cmd, make_venv

SRC = str(HERE.parent / "src")
OUT = "PROF __main__ [] 144"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tools")
    source = HERE / "realworld" / "cyprof.py"
    shutil.copy(cythonize(source, "cyprof", root), root / f"cyprof{EXT_SUFFIX}")
    shutil.copy(source, root / "pyprof.py")
    return root


@pytest.fixture(scope="module")
def integrated_venv(tmp_path_factory: pytest.TempPathFactory) -> str:
    python, _ = make_venv(tmp_path_factory.mktemp("integrated_venv"))
    assert integration_cmd(python, "install").returncode == 0
    return python


def run(python: str, world: Path, *args: str, stdin: str = "",
        extrun: bool = False) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.pop("PYTHONWARNINGS", None)
    if extrun:
        env["PYTHONPATH"] = SRC
    return subprocess.run([python, *args], cwd=world, capture_output=True, text=True, env=env,
                          input=stdin, timeout=120)


TOOLS = {
    "cProfile": (["-m", "cProfile", "-m"], ""),
    "profile": (["-m", "profile", "-m"], ""),
    "pdb": (["-m", "pdb", "-m"], "c\nq\n"),
    "trace": (["-m", "trace", "--count", "--missing", "--coverdir", "cover", "--module"], ""),
}


def native_failure(tool: str, target: str, world: Path) -> str | None:
    """Why TOOL cannot run TARGET's code even when python imports it natively (no extrun)."""
    if (tool, target) != ("profile", "cyprof"):
        return None
    (world / "importer.py").write_text("import cyprof\n")
    proc = run(sys.executable, world, "-m", "profile", "importer.py")
    if "AssertionError: ('Bad call'" in proc.stderr:  # profile.py's frame bookkeeping
        return "the profile module fails on Cython's profiling frames natively too"
    return None


def check(tool: str, proc: subprocess.CompletedProcess[str], target: str) -> None:
    """What the tool shows for the target, as for a Python one."""
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert OUT in proc.stdout, proc.stdout + proc.stderr
    assert "NameError" not in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    if tool in ("cProfile", "profile"):  # the Cython functions are named, as the Python ones
        assert "(fib)" in proc.stdout and "(work)" in proc.stdout, proc.stdout
    if tool == "pdb":
        assert "The program finished and will be restarted" in proc.stdout, proc.stdout


@pytest.mark.parametrize("target", ["pyprof", "cyprof"])
@pytest.mark.parametrize("tool", TOOLS)
def test_tool_with_the_integration(integrated_venv: str, world: Path, tool: str,
                                   target: str) -> None:
    """`python -m TOOL -m EXT` with the `python -m` integration installed."""
    args, stdin = TOOLS[tool]
    if why := native_failure(tool, target, world):
        pytest.skip(why)
    check(tool, run(integrated_venv, world, *args, target, stdin=stdin), target)


@pytest.mark.parametrize("target", ["pyprof", "cyprof"])
@pytest.mark.parametrize("tool", TOOLS)
def test_tool_under_extrun_run(world: Path, tool: str, target: str) -> None:
    """`extrun run -m TOOL -m EXT`, no integration: while extrun runs a program, runpy answers
    extension modules."""
    args, stdin = TOOLS[tool]
    if why := native_failure(tool, target, world):
        pytest.skip(why)
    check(tool, run(sys.executable, world, "-m", "extrun", "run", *args, target, stdin=stdin,
                    extrun=True), target)


@pytest.mark.parametrize("target", ["pyprof", "cyprof"])
@pytest.mark.parametrize("tool", TOOLS)
def test_extrun_behind_a_tool(world: Path, tool: str, target: str) -> None:
    """`python -m TOOL -m extrun run -m TARGET`: the tool's namespace is left alone and it
    reports as for a Python target."""
    args, stdin = TOOLS[tool]
    if why := native_failure(tool, target, world):
        pytest.skip(why)
    # TARGET without -m (a dotted name that is no path is a module): pdb 3.13 takes a second -m
    # for its own
    proc = run(sys.executable, world, *args, "extrun", "run", target, stdin=stdin, extrun=True)
    check(tool, proc, target)


def test_interactive_after_the_target(world: Path) -> None:
    """`extrun run -i` enters the prompt after the target as `python -i` does: no traceback
    before it, the session's own exit status."""
    stdin = "print('I', __name__, work())\nraise SystemExit(4)\n"
    for target in ("pyprof", "cyprof"):
        ours = run(sys.executable, world, "-m", "extrun", "run", "-i", "-m", target, stdin=stdin,
                   extrun=True)
        native = run(sys.executable, world, "-i", "-m", "pyprof", stdin=stdin)
        assert ours.returncode == native.returncode == 4
        assert ours.stdout == native.stdout == f"{OUT}\nI __main__ 144\n", ours.stderr
        assert "Traceback" not in ours.stderr and "SystemExit" not in ours.stderr
    missing = run(sys.executable, world, "-m", "extrun", "run", "-i", "-m", "no_such",
                  stdin="print('I')\n", extrun=True)
    assert missing.stderr.startswith("extrun: No module named no_such\n") and "I" in missing.stdout
    assert "Traceback" not in missing.stderr


@pytest.mark.parametrize("flags", [(), ("-W", "error::DeprecationWarning")])
def test_warnings_of_the_module_code_are_main_s(world: Path, flags: tuple[str, ...]) -> None:
    """A DeprecationWarning from an extension's top level, run as __main__, shows as a script's
    does (PEP 565: shown for __main__), and -W error raises it; never attributed to extrun."""
    ours = run(sys.executable, world, *flags, "-m", "extrun", "run", "-m", "cyprof", extrun=True)
    native = run(sys.executable, world, *flags, "-m", "pyprof")
    assert ours.returncode == native.returncode
    if flags:
        assert ours.stderr.splitlines()[-1] == native.stderr.splitlines()[-1] == (
            "DeprecationWarning: an old way")
        assert "extrun" not in ours.stderr
    else:
        assert ours.stdout == native.stdout == f"{OUT}\n"
        (line,) = [ln for ln in ours.stderr.splitlines() if "DeprecationWarning" in ln]
        assert line.endswith(": DeprecationWarning: an old way") and "extrun" not in line
        assert line.startswith(str(world / "cyprof"))  # its library (or its Cython source)


EXCEPTHOOK = """
import sys, traceback
def hook(kind, exc, tb):
    print("HOOK", [f.filename.rpartition("/")[2] + ":" + f.name for f in traceback.extract_tb(tb)])
sys.excepthook = hook
raise ValueError("mine")
"""


def test_programs_own_excepthook(world: Path) -> None:
    """A program's own sys.excepthook gets the traceback without extrun's frames between the
    launcher and the target's code (loader, C-API layer); what remains are the launcher's
    frames above it (documented in the README)."""
    (world / "hooking.py").write_text(EXCEPTHOOK)
    proc = run(sys.executable, world, "-m", "extrun", "run", "-m", "hooking", extrun=True)
    (line,) = [ln for ln in proc.stdout.splitlines() if ln.startswith("HOOK")]
    frames = eval(line[5:])
    assert frames[-1] == "hooking.py:<module>"
    launcher = ["__main__.py:<module>", "commandline.py:main", "commandline.py:run_as_main",
                "commandline.py:_run_main"]
    assert [f for f in frames if "runpy" not in f][:-1] == launcher, frames

"""extrun.run_module / extrun.run_path: runpy's drop-ins, extended to extension modules."""

from __future__ import annotations

import os
import runpy
import shutil
import sys
import types
from pathlib import Path

import pytest

import extrun
from extrun import commandline

from .conftest import EXT_SUFFIX, build


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "apimod.py").write_text("X = 1\nNAME = __name__\nFILE = __file__\n")
    (tmp_path / "apipkg").mkdir()
    (tmp_path / "apipkg" / "__init__.py").write_text("")
    (tmp_path / "apipkg" / "__main__.py").write_text("NAME = __name__\n")
    lib = build("mainprobe")
    shutil.copy(lib, tmp_path / f"mainprobe{EXT_SUFFIX}")
    shutil.copy(lib, tmp_path / f"mainprobe_create{EXT_SUFFIX}")
    (tmp_path / "extapp").mkdir()
    shutil.copy(lib, tmp_path / "extapp" / f"__main__{EXT_SUFFIX}")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "probescript", raising=False)
    return tmp_path


def comparable(d: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in d.items() if k != "__builtins__"}


@pytest.mark.parametrize("kwargs", [
    {}, {"run_name": "__main__"}, {"init_globals": {"Y": 2}}, {"alter_sys": True},
])
def test_run_module_python_as_runpy(tree: Path, kwargs: dict[str, object]) -> None:
    ours = extrun.run_module("apimod", **kwargs)  # type: ignore[arg-type]
    theirs = runpy.run_module("apimod", **kwargs)  # type: ignore[arg-type]
    assert comparable(ours) == comparable(theirs)


def test_run_module_package_as_runpy(tree: Path) -> None:
    assert comparable(extrun.run_module("apipkg")) == comparable(runpy.run_module("apipkg"))


@pytest.mark.parametrize("name", ["no_such_mod", ".rel", "apipkg.__main__.x"])
def test_run_module_errors_as_runpy(tree: Path, name: str) -> None:
    with pytest.raises(ImportError) as ours:
        extrun.run_module(name)
    with pytest.raises(ImportError) as theirs:
        runpy.run_module(name)
    assert str(ours.value) == str(theirs.value)


def test_run_path_python_as_runpy(tree: Path) -> None:
    script = str(tree / "apimod.py")
    assert comparable(extrun.run_path(script)) == comparable(runpy.run_path(script))
    pkg = str(tree / "apipkg")
    assert comparable(extrun.run_path(pkg, run_name="x")) == comparable(
        runpy.run_path(pkg, run_name="x"))


def test_run_module_extension(tree: Path) -> None:
    g = extrun.run_module("mainprobe", init_globals={"Y": 2}, run_name="probe_run")
    assert g["__name__"] == "probe_run" and g["Y"] == 2
    assert g["__spec__"].name == "mainprobe"  # type: ignore[attr-defined]
    assert g["__file__"] == str(tree / f"mainprobe{EXT_SUFFIX}")
    assert g["def_ok"]() is True and g["increment"]() == 1  # type: ignore[operator]
    assert "probe_run" not in sys.modules
    assert extrun.run_module("mainprobe_create", run_name="c")["__name__"] == "c"


def test_run_path_extension(tree: Path) -> None:
    g = extrun.run_path(str(tree / f"mainprobe{EXT_SUFFIX}"))
    assert g["__name__"] == "<run_path>" and g["def_ok"]() is True  # type: ignore[operator]
    g = extrun.run_path(str(tree / "extapp"), run_name="app")
    assert g["__name__"] == "app" and g["__spec__"].name == "__main__"  # type: ignore[attr-defined]
    assert str(tree / "extapp") not in sys.path


def test_run_module_single_phase_refused(tree: Path) -> None:
    shutil.copy(build("singlephase"), tree / f"sp_again{EXT_SUFFIX}")
    with pytest.raises(extrun.RunError, match="single-phase initialization"):
        extrun.run_module("sp_again")


# --- tracebacks: what is left out when python prints the target's uncaught exception ---------


def _traceback_through(*filenames: str) -> types.TracebackType | None:
    """A traceback whose frames come from code compiled under these file names, outermost first
    (a file name inside the extrun package makes an extrun frame)."""
    source = ("def f(n, more):\n    if more:\n        more[0](n, more[1:])\n"
              "    else:\n        raise ValueError(n)\n")
    functions = []
    for name in filenames:
        namespace: dict[str, object] = {}
        exec(compile(source, name, "exec"), namespace)
        functions.append(namespace["f"])
    try:
        functions[0](0, functions[1:])  # type: ignore[operator]
    except ValueError as exc:
        assert exc.__traceback__ is not None
        return exc.__traceback__.tb_next  # drop this test's own frame
    raise AssertionError


def _files(tb: types.TracebackType | None) -> list[str]:
    out = []
    while tb is not None:
        out.append(tb.tb_frame.f_code.co_filename)
        tb = tb.tb_next
    return out


EXTRUN_FILE = os.path.join(os.path.dirname(commandline.__file__), "cli.py")


def test_extrun_frames_are_left_out() -> None:
    tb = _traceback_through("<frozen runpy>", "launcher.py", EXTRUN_FILE, EXTRUN_FILE, "t.py")
    assert _files(commandline._without_extrun_frames(tb, keep_runpy=True)) == [
        "<frozen runpy>", "t.py"]
    tb = _traceback_through("<frozen runpy>", EXTRUN_FILE, "t.py", EXTRUN_FILE, "u.py")
    assert _files(commandline._without_extrun_frames(tb, keep_runpy=False)) == [
        "t.py", EXTRUN_FILE, "u.py"]  # only the run that launched the target


def test_extrun_own_exceptions_keep_their_frames() -> None:
    tb = _traceback_through("<frozen runpy>", EXTRUN_FILE, EXTRUN_FILE)
    assert _files(commandline._without_extrun_frames(tb, keep_runpy=True)) == [
        "<frozen runpy>", EXTRUN_FILE, EXTRUN_FILE]
    assert _files(commandline._without_extrun_frames(_traceback_through("t.py"), True)) == ["t.py"]

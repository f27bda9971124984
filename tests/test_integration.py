"""The opt-in `python -m` integration, in fresh venvs of the interpreter running the tests."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

import extrun
from extrun import integration

from .conftest import (
    COLLECTOR,
    assert_runpy_then_probescript,
    integration_cmd,
    make_venv,
    report,
)

SRC = str(Path(extrun.__file__).resolve().parent.parent)


def py(python: str, work: Path, *args: str, action: str = "",
       extra_env: dict[str, str] | None = None,
       stdin: str = "") -> subprocess.CompletedProcess[str]:
    environ = dict(os.environ, PROBESCRIPT_ACTION=action, PYTHONPATH=str(work / "scripts"))
    environ.update(extra_env or {})
    return subprocess.run([python, *args], cwd=work, capture_output=True, text=True,
                          env=environ, timeout=60, input=stdin)


def test_install_status_uninstall(env: tuple[str, Path]) -> None:
    python, site = env
    pth = site / integration.PTH_NAME
    assert integration_cmd(python, "status").stdout == "not installed\n"
    first = integration_cmd(python, "install")
    assert first.returncode == 0 and first.stdout == f"installed: {pth}\n"
    content = pth.read_text()
    again = integration_cmd(python, "install")  # idempotent
    assert again.stdout == f"already installed: {pth}\n" and pth.read_text() == content
    assert integration_cmd(python, "status").stdout == (
        f"installed: {pth}\nactive: python -m runs extension modules through extrun\n")
    assert integration_cmd(python, "uninstall").stdout == f"removed: {pth}\n"
    assert not pth.exists() and sorted(p.name for p in site.glob("extrun*")) == [
        "extrun-src.pth"]  # nothing left behind
    assert integration_cmd(python, "uninstall").stdout == "not installed\n"
    assert integration_cmd(python, "bogus").returncode == 2


@pytest.mark.parametrize("name", [integration.PTH_NAME, integration.LEGACY_PTH_NAME])
def test_status_says_when_the_file_is_outdated(env: tuple[str, Path], name: str) -> None:
    """A file another version wrote (extrun 0.1's was extrun-hook.pth): status says so, install
    replaces it, uninstall removes it."""
    python, site = env
    pth = site / name
    pth.write_text("import sys; sys.argv[0] == '-m' and exec('import extrun_of_old')\n")
    try:
        assert integration_cmd(python, "status").stdout.splitlines()[-1] == (
            f"inactive: {pth} was written by another version of extrun: run `extrun "
            "integration install`")
        current = site / integration.PTH_NAME
        assert integration_cmd(python, "install").stdout == f"installed: {current}\n"
        assert integration_cmd(python, "status").stdout.splitlines()[-1].startswith("active: ")
        assert (current.exists(), (site / integration.LEGACY_PTH_NAME).exists()) == (True, False)
    finally:
        integration_cmd(python, "uninstall")
    assert not pth.exists()


def test_hook_is_the_old_name_of_the_command(env: tuple[str, Path]) -> None:
    python, _ = env
    proc = subprocess.run([python, "-m", "extrun", "hook", "status"], capture_output=True,
                          text=True)
    assert (proc.returncode, proc.stdout) == (0, "not installed\n")


def test_user_site_not_writable(env: tuple[str, Path], tmp_path: Path) -> None:
    python, _ = env
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    proc = integration_cmd(python, "install", "--user",
                env=dict(os.environ, PYTHONUSERBASE=str(blocker / "base")))
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("extrun: cannot write ")


@pytest.fixture
def integrated(env: tuple[str, Path]) -> str:
    python, _ = env
    assert integration_cmd(python, "install").returncode == 0
    yield python  # type: ignore[misc]
    integration_cmd(python, "uninstall")


def test_python_m_extension(integrated: str, work: Path) -> None:
    r = report(py(integrated, work, "-m", "mainprobe", "a", "--help"))
    assert (r["name"], r["spec"], r["argv"]) == (
        "__main__", "mainprobe", [str(work / f"mainprobe{sysconfig.get_config_var('EXT_SUFFIX')}"),
                                  "a", "--help"])
    assert r["is_main"] and r["def_ok"] and r["thing_module_is_main"] and r["counter"] == 2
    assert r["path0"] == str(work)


def test_python_m_package_and_directory(integrated: str, work: Path) -> None:
    assert report(py(integrated, work, "-m", "extpkg"))["spec"] == "extpkg.__main__"
    r = report(py(integrated, work, "extdir", "d"))
    assert r["spec"] == "__main__" and r["argv"] == ["extdir", "d"]
    assert report(py(integrated, work, "-m", "mainprobe_create"))["is_main"]


def test_traceback_as_python_prints_it(integrated: str, work: Path) -> None:
    assert_runpy_then_probescript(py(integrated, work, "-m", "mainprobe", action="raise").stderr,
                              py(integrated, work, "-m", "pymod", "raise").stderr)


def test_single_phase_one_line(integrated: str, work: Path) -> None:
    proc = py(integrated, work, "-m", "sp_basic")
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1
    assert "single-phase initialization" in proc.stderr


@pytest.mark.parametrize("args", [
    ("-m", "pymod", "a"), ("-m", "pypkg", "x"), ("pydir",), ("app.zip",), ("pymod.py", "q"),
    ("-m", "no_such_module"), ("-m", "nomain"), ("-m", "nspkg"), ("-m", "pymod", "raise"),
    ("-c", "import sys; print(sorted(m for m in sys.modules if m.startswith('extrun')))"),
])
def test_python_targets_untouched(env: tuple[str, Path], work: Path,
                                  args: tuple[str, ...]) -> None:
    python, _ = env
    without = py(python, work, *args)
    assert integration_cmd(python, "install").returncode == 0
    try:
        with_hook = py(python, work, *args)
    finally:
        integration_cmd(python, "uninstall")
    assert (with_hook.returncode, with_hook.stdout, with_hook.stderr) == (
        without.returncode, without.stdout, without.stderr)


def test_only_the_hook_module_is_imported_at_start_up(env: tuple[str, Path],
                                                      work: Path) -> None:
    """What the .pth line costs every start: for -c nothing is imported; otherwise
    `_extrun_integration` (and nothing else), which puts the patch in place."""
    python, _ = env
    code = ("import sys, importlib.machinery as m; print(sorted(n for n in sys.modules if "
            "'extrun' in n), m.ExtensionFileLoader.get_code.__name__)")
    (work / "listall.py").write_text(code + "\n")
    assert integration_cmd(python, "install").returncode == 0
    try:
        for args, expected in ((["-c", code], "[] get_code\n"),
                               (["listall.py"], "['_extrun_integration'] extrun_get_code\n")):
            proc = py(python, work, *args)
            assert proc.stdout == expected, proc.stderr
    finally:
        removed = integration_cmd(python, "uninstall")
    site = Path(removed.stdout.split(": ", 1)[1].strip()).parent
    assert not list(site.glob("_extrun_integration*"))
    assert not list(site.glob("__pycache__/_extrun*"))


LIST_EXTRUN = ("import sys; print(sorted(m for m in sys.modules if m.startswith('extrun')))")


@pytest.mark.parametrize("args", [
    ("-c", LIST_EXTRUN), ("listmods.py",), ("listmods",), ("-m", "listmods"), ("listdir",),
    ("-m", "listpkg"),
])
def test_nothing_of_extrun_imported_for_other_targets(integrated: str, work: Path,
                                                      args: tuple[str, ...]) -> None:
    """Without -m, or with a target that is not an extension module, extrun stays unimported
    (a script without the .py suffix, as pip's console scripts, included)."""
    (work / "listmods.py").write_text(LIST_EXTRUN + "\n")
    (work / "listmods").write_text(LIST_EXTRUN + "\n")
    (work / "listdir").mkdir(exist_ok=True)
    (work / "listdir" / "__main__.py").write_text(LIST_EXTRUN + "\n")
    (work / "listpkg").mkdir(exist_ok=True)
    (work / "listpkg" / "__init__.py").write_text("")
    (work / "listpkg" / "__main__.py").write_text(LIST_EXTRUN + "\n")
    proc = py(integrated, work, *args)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "[]\n", "")


GET_CODE = """
import sys, importlib.machinery as m
print(m.ExtensionFileLoader.get_code(m.ExtensionFileLoader('mainprobe', sys.argv[1]), 'mainprobe'))
print(sorted(n for n in sys.modules if n.startswith('extrun')))
"""


def test_other_askers_get_the_original_answer(integrated: str, work: Path) -> None:
    """In a `python -m` run of a Python module, whoever asks an extension loader for code
    directly (not through runpy) gets CPython's answer."""
    (work / "askcode.py").write_text(GET_CODE)
    lib = str(next(work.glob("mainprobe.*")))
    proc = py(integrated, work, "-m", "askcode", lib)
    assert proc.stdout == "None\n['extrun', 'extrun._integration']\n", proc.stderr


RUN_PYMOD = """
import runpy
ns = runpy.run_module('pymod', run_name='__main__')
print('NS', ns['__name__'], sorted(k for k in ns if not k.startswith('__')))
"""

RUN_MODULE = """
import runpy, sys
ns = runpy.run_module('mainprobe', run_name='__main__')
print('NS', ns['__name__'], ns['__file__'] == ns['__spec__'].origin, 'increment' in ns)
try:
    runpy.run_module('sp_basic')
except ImportError as exc:
    print('ERR', type(exc).__name__, exc)
"""


@pytest.mark.parametrize("args", [("-m", "runmod"), ("runmod.py",), ("-",), ("-i",)])
def test_runpy_run_module_runs_extensions(integrated: str, work: Path,
                                          args: tuple[str, ...]) -> None:
    """Any runpy.run_module lookup of an extension module is answered (cProfile's, profile's,
    a program's own: in a module, a script, the REPL): it runs, and its namespace is what
    run_module returns; a module that cannot run is an ImportError for the caller."""
    (work / "runmod.py").write_text(RUN_MODULE)
    proc = py(integrated, work, *args, stdin=RUN_MODULE)
    assert proc.returncode == 0, proc.stderr
    assert report(proc)["name"] == "__main__"
    assert "NS __main__ True True" in proc.stdout
    assert "ERR RunError cannot run sp_basic" in proc.stdout


@pytest.mark.parametrize("args", [("runpymod.py",), ("-c", RUN_PYMOD)])
def test_runpy_run_module_python_target_as_python_does(integrated: str, work: Path,
                                                       args: tuple[str, ...]) -> None:
    """Beside it, run_module of a Python module in a script (patched) and in -c (not): what
    python prints without the integration."""
    (work / "runpymod.py").write_text(RUN_PYMOD)
    with_it = py(integrated, work, *args, "a")
    integration_cmd(integrated, "uninstall")
    try:
        without = py(integrated, work, *args, "a")
    finally:
        integration_cmd(integrated, "install")
    assert (with_it.returncode, with_it.stdout, with_it.stderr) == (
        without.returncode, without.stdout, without.stderr)
    assert "NS __main__" in with_it.stdout


STILL_PATCHED = """
import sys, _frozen_importlib_external as m
print(m.ExtensionFileLoader.get_code.__name__,
      m.ExtensionFileLoader('mainprobe', sys.argv[0]).get_code('mainprobe'))
"""


def test_patch_stays_for_the_run(integrated: str, work: Path) -> None:
    """After the target started the patch stays (so the program's own runpy lookups are
    answered), and direct askers still get the original answer."""
    proc = py(integrated, work, "-m", "mainprobe", action=f"exec:{STILL_PATCHED}")
    assert proc.stdout.splitlines()[-1] == "extrun_get_code None", proc.stderr


def test_collector_running_when_the_target_starts(integrated: str, work: Path) -> None:
    proc = py(integrated, work, "-m", "mainprobe", action=f"exec:{COLLECTOR}")
    assert proc.stdout.splitlines()[-1] == "GC True False True", proc.stdout + proc.stderr


def test_multiprocessing_through_the_hook(integrated: str, work: Path) -> None:
    proc = py(integrated, work, "-m", "mainprobe", action="mp-spawn")
    assert "CHILD __mp_main__ mainprobe True 1 2 2" in proc.stdout, proc.stderr


def test_stale_pth_is_harmless(env: tuple[str, Path], work: Path,
                               tmp_path: Path) -> None:
    python, site = make_venv(tmp_path / "stale")
    assert integration_cmd(python, "install").returncode == 0
    (site / "extrun-src.pth").unlink()  # extrun gone, its .pth file left behind
    proc = py(python, work, "-m", "pymod", "a")
    assert proc.returncode == 0 and proc.stderr == ""


def test_stays_out_of_the_way_if_runpy_differs(monkeypatch: pytest.MonkeyPatch) -> None:
    import runpy

    from extrun import _integration

    assert integration.inactive_reason() is None
    assert _integration.runpy_incompatibility(runpy) is None
    for name in ("_run_module_as_main", "_get_module_details", "_get_main_module_details",
                 "_run_code"):
        with monkeypatch.context() as m:
            if name in ("_run_module_as_main", "_get_module_details"):
                m.setattr(runpy, name, lambda *args: None)  # another signature / no get_code
            else:
                m.delattr(runpy, name)
            assert name in (integration.inactive_reason() or "")
            # and the hook answers as CPython does
            assert _integration.get_code(object(), "x", lambda loader, name: None) is None
    with monkeypatch.context() as m:
        m.delattr(sys.modules["_frozen_importlib_external"].ExtensionFileLoader, "get_code")
        assert "get_code" in (integration.inactive_reason() or "")


def test_python_318_ignores_pth_import_lines(monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert integration.pth_unsupported((3, 17)) is None
    reason = integration.pth_unsupported((3, 18))
    assert reason is not None and "PEP 829" in reason
    monkeypatch.setattr(integration, "pth_unsupported", lambda: reason)  # as on 3.18
    assert integration.main(["install"]) == 1  # refused before anything is written
    err = capsys.readouterr().err
    assert err == f"extrun: cannot install the integration: {reason}\n"
    assert integration.status()[1] == reason

"""``extrun run``: any module as __main__, compared with ``python`` itself (subprocesses)."""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import COLLECTOR, EXT_SUFFIX, SRC, assert_runpy_then_probescript, build, report


def run(work: Path, *args: str, native: bool = False, action: str = "",
        stdin: str | None = None, native_flags: bool = False) -> subprocess.CompletedProcess[str]:
    """``python ARGS`` (``native``) or ``python -m extrun run ARGS``; with ``native_flags``,
    ARGS starts with two interpreter options (e.g. ``-X gil=1``) given to python itself."""
    flags, args = (list(args[:2]), args[2:]) if native_flags else ([], args)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([SRC, str(work / "scripts")]),
               PROBESCRIPT_ACTION=action)
    env.pop("PYTHONINSPECT", None)
    cmd = ([sys.executable, *flags, *args] if native
           else [sys.executable, *flags, "-m", "extrun", "run", *args])
    return subprocess.run(cmd, cwd=work, capture_output=True, text=True, env=env, input=stdin,
                          timeout=60)


def same_as_python(work: Path, *args: str) -> None:
    ours, native = run(work, *args), run(work, *args, native=True)
    assert (ours.returncode, ours.stdout) == (native.returncode, native.stdout)


# --- Python targets: identical to python -m / python PATH -----------------------------------


@pytest.mark.parametrize("args", [
    ("-m", "pymod", "a", "--help"), ("-m", "pypkg", "x"), ("pymod.py", "q"), ("pydir",),
    ("app.zip", "z"), ("-m", "pymod", "exit3"), ("pymod.py", "exit3"),
])
def test_python_targets_as_python(work: Path, args: tuple[str, ...]) -> None:
    same_as_python(work, *args)


def test_python_target_relative_import(work: Path) -> None:
    ours = run(work, "-m", "pypkg.userel")
    assert ours.stdout == run(work, "-m", "pypkg.userel", native=True).stdout == "REL 42\n"


@pytest.mark.parametrize("args", [
    ("-m", "pymod", "raise"), ("-m", "pypkg", "raise"), ("pymod.py", "raise"),
    ("pydir", "raise"), ("app.zip", "raise"),
])
def test_python_uncaught_exception(work: Path, args: tuple[str, ...]) -> None:
    """The traceback is python's, line for line: extrun's own frames are not printed."""
    ours, native = run(work, *args), run(work, *args, native=True)
    assert ours.returncode == native.returncode == 1
    assert ours.stderr == native.stderr
    assert native.stderr.splitlines()[-1] == "ValueError: boom"


def test_programs_own_excepthook_sees_everything(work: Path) -> None:
    (work / "ownhook.py").write_text(
        "import sys\n"
        "sys.excepthook = lambda t, e, tb: print('HOOK', t.__name__, tb is not None)\n"
        "raise KeyError(1)\n")
    ours, native = run(work, "-m", "ownhook"), run(work, "-m", "ownhook", native=True)
    assert ours.stdout == native.stdout == "HOOK KeyError True\n"
    assert ours.returncode == native.returncode == 1


def errline(proc: subprocess.CompletedProcess[str]) -> tuple[int, str]:
    """(exit code, stderr with the program name removed); the message must be one line."""
    assert proc.stderr.count("\n") == 1, proc.stderr
    return proc.returncode, re.sub(r"^\S+: ", "", proc.stderr.strip())


@pytest.mark.parametrize("args", [
    ("-m", "no_such_module"), ("-m", "nomain"), ("-m", "nspkg"), ("-m", ".rel"),
    ("-m", "pypkg.nothing"), ("no_such_file.py",), ("nomain",),
])
def test_errors_as_python(work: Path, args: tuple[str, ...]) -> None:
    assert errline(run(work, *args)) == errline(run(work, *args, native=True))


# --- extension targets ----------------------------------------------------------------------


def test_extension_without_create_runs_in_real_main(work: Path) -> None:
    proc = run(work, "-m", "mainprobe", "a", "--help")
    assert proc.returncode == 0, proc.stderr
    r = report(proc)
    lib = str(work / f"mainprobe{EXT_SUFFIX}")
    assert (r["name"], r["file"], r["spec"], r["package"]) == ("__main__", lib, "mainprobe", "")
    assert r["doc"] == "The main probe." and r["cached"] is None
    assert r["argv"] == [lib, "a", "--help"] and r["path0"] == str(work)
    assert r["is_main"] and r["def_ok"] and r["thing_module_is_main"] and r["counter"] == 2
    assert r["loader"] == "ExtensionLoader"
    # exactly python -m's keys for a Python module (see test_python_targets_as_python) + content
    dunders = {"__name__", "__doc__", "__package__", "__loader__", "__spec__", "__builtins__",
               "__file__"}
    dunders |= {"__annotations__"} if sys.version_info < (3, 14) else set()
    dunders |= {"__cached__"} if sys.version_info < (3, 15) else set()
    assert set(r["keys"]) == dunders | {"Thing", "increment", "def_ok"}


def test_extension_with_create_becomes_main(work: Path) -> None:
    r = report(run(work, "-m", "mainprobe_create", "x"))
    assert r["name"] == "__main__" and r["spec"] == "mainprobe_create" and r["is_main"]
    assert r["argv"][1:] == ["x"]  # type: ignore[index]


def test_strict_refuses_create(work: Path) -> None:
    code, message = errline(run(work, "--strict", "-m", "mainprobe_create"))
    assert code == 1 and "Py_mod_create" in message and "PEP 547" in message


def test_single_phase_is_one_clear_line(work: Path) -> None:
    code, message = errline(run(work, "-m", "sp_basic"))
    assert code == 1
    assert "single-phase initialization" in message and "multi-phase" in message
    assert "sp_basic" in message


def test_extension_path_target(work: Path) -> None:
    r = report(run(work, f"./mainprobe{EXT_SUFFIX}", "p"))
    assert r["name"] == "__main__" and r["spec"] == "mainprobe"
    assert r["argv"] == [f"./mainprobe{EXT_SUFFIX}", "p"] and r["path0"] == str(work)


def test_package_with_extension_main(work: Path) -> None:
    r = report(run(work, "-m", "extpkg"))
    assert r["spec"] == "extpkg.__main__" and r["package"] == "extpkg" and r["def_ok"]


def test_directory_with_extension_main(work: Path) -> None:
    r = report(run(work, "extdir", "d"))
    assert r["spec"] == "__main__" and r["path0"] == str(work / "extdir")
    assert r["argv"] == ["extdir", "d"]


@pytest.mark.parametrize(("target", "cause"), [
    (f"nohook{EXT_SUFFIX}", "does not define module export function"),
    (f"corrupt{EXT_SUFFIX}", "invalid ELF header"),
])
def test_broken_libraries(work: Path, target: str, cause: str) -> None:
    code, message = errline(run(work, target))
    assert code == 1 and cause in message


def test_extension_exit_codes(work: Path) -> None:
    assert run(work, "-m", "mainprobe", action="exit3").returncode == 3
    proc = run(work, "-m", "mainprobe", action="raise")
    assert proc.returncode == 1 and proc.stderr.splitlines()[-1] == "ValueError: boom"


def test_extension_traceback_without_extrun_frames(work: Path) -> None:
    assert_runpy_then_probescript(run(work, "-m", "mainprobe", action="raise").stderr,
                              run(work, "-m", "pymod", "raise", native=True).stderr)


def test_keyboard_interrupt_as_python(work: Path) -> None:
    ours = run(work, "-m", "mainprobe", action="kbd")
    native = run(work, "-c", "raise KeyboardInterrupt", native=True)
    assert ours.returncode == native.returncode
    assert ours.stderr.splitlines()[-1] == native.stderr.splitlines()[-1]


@pytest.mark.parametrize("method", ["spawn", "forkserver"])
def test_multiprocessing_children_recreate_extension_main(work: Path, method: str) -> None:
    proc = run(work, "-m", "mainprobe", action=f"mp-{method}")
    assert proc.returncode == 0, proc.stderr
    # the child's __main__ is the extension, re-created (state and all) as __mp_main__, and a
    # function of the parent's __main__ unpickles as the child's own
    assert "CHILD __mp_main__ mainprobe True 1 2 2" in proc.stdout, proc.stdout + proc.stderr
    assert "CHILD EXIT 0" in proc.stdout


def test_multiprocessing_imported_before_the_target(work: Path) -> None:
    """multiprocessing.spawn already imported when the extension starts: patched at once."""
    code = ("import sys, multiprocessing.spawn; sys.argv[1:] = ['run', '-m', 'mainprobe']; "
            "from extrun.cli import main; main()")
    proc = run(work, "-c", code, native=True, action="mp-spawn")
    assert "CHILD __mp_main__ mainprobe True 1 2 2" in proc.stdout, proc.stdout + proc.stderr


def test_interactive(work: Path) -> None:
    proc = run(work, "-i", "-m", "mainprobe", stdin="print('I', __name__, increment())\n")
    assert "I __main__ 3" in proc.stdout, proc.stderr


def test_run_help_and_usage_errors(work: Path) -> None:
    assert run(work, "--help").stdout.startswith("usage: extrun run")
    assert run(work).returncode == 2
    assert run(work, "--bogus", "x").returncode == 2


CONSOLE_SCRIPT = """\
# -*- coding: utf-8 -*-
import re
import sys
from extrun.cli import main
if __name__ == '__main__':
    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])
    sys.exit(main())
"""


@pytest.mark.parametrize(("args", "code"), [
    (("-m", "mainprobe", "a"), 0), (("-m", "mainprobe_create"), 0), (("-m", "pymod", "x"), 0),
    (("-m", "pymod", "exit3"), 3), (("-m", "sp_basic"), 1), (("-m", "no_such"), 1),
])
def test_pip_console_script(work: Path, tmp_path: Path, args: tuple[str, ...], code: int) -> None:
    """pip's wrapper lives in __main__ and calls sys.exit(main()): the runner, which empties
    __main__, must end the process itself."""
    script = tmp_path / "extrun"
    script.write_text(CONSOLE_SCRIPT)
    proc = run(work, str(script), "run", *args, native=True)
    assert proc.returncode == code, proc.stderr
    assert "NameError" not in proc.stderr
    if code == 0 and args[1].startswith("mainprobe"):
        assert report(proc)["is_main"]


@pytest.mark.parametrize("target", [("-m", "mainprobe"), ("-m", "mainprobe_create"),
                                    ("-m", "gcprobe"), ("gcprobe.py",)])
def test_collector_running_when_the_target_starts(work: Path, target: tuple[str, ...]) -> None:
    """extrun pauses the cycle collector while it sets a target up; by the time the target's
    code runs it is collecting again, with nothing left frozen."""
    (work / "gcprobe.py").write_text(COLLECTOR + "\n")
    proc = run(work, *target, action=f"exec:{COLLECTOR}")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == "GC True False True", proc.stdout


@pytest.mark.parametrize(("before", "expected"), [
    ("gc.disable()", "GC False False False"), ("gc.freeze()", "GC True True True")])
def test_collector_state_of_the_program_left_alone(work: Path, before: str,
                                                   expected: str) -> None:
    """A collector the program disabled stays disabled; objects it froze stay frozen."""
    code = (f"import gc, sys; {before}; sys.argv[1:] = ['run', '-m', 'mainprobe']; "
            "from extrun.cli import main; main()")
    proc = run(work, "-c", code, native=True, action=f"exec:{COLLECTOR}")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == expected, proc.stdout


def _ours(module: str) -> bool:
    """extrun's own modules, and gc (built in: it loads no file), which pauses the collector
    while extrun sets a target up."""
    return module in ("extrun", "gc") or module.startswith("extrun.")


def test_run_path_is_lean(work: Path, tmp_path: Path) -> None:
    """extrun run loads nothing a target does not need: beyond what `python -m` itself loads,
    only extrun's own modules, and _ctypes for an extension target."""
    (tmp_path / "modlist.py").write_text("import sys\nprint(sorted(sys.modules))\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([SRC, str(tmp_path)]))
    native = subprocess.run([sys.executable, "-m", "modlist"], capture_output=True, text=True,
                            env=env, cwd=tmp_path)
    ours = subprocess.run([sys.executable, "-m", "extrun", "run", "-m", "modlist"],
                          capture_output=True, text=True, env=env, cwd=tmp_path)
    extra = set(ast.literal_eval(ours.stdout)) - set(ast.literal_eval(native.stdout))
    assert all(_ours(m) for m in extra), extra
    # python PATH (a script, a directory): what `python PATH` loads, what `python -m` (here the
    # launcher's) loads, extrun's own modules; nothing else (zipfile, say, costs ~10 ms)
    (tmp_path / "modsdir").mkdir()
    (tmp_path / "modsdir" / "__main__.py").write_text((tmp_path / "modlist.py").read_text())
    for target in ("modlist.py", "modsdir"):
        python = subprocess.run([sys.executable, target], capture_output=True, text=True,
                                env=env, cwd=tmp_path)
        ours = subprocess.run([sys.executable, "-m", "extrun", "run", target],
                              capture_output=True, text=True, env=env, cwd=tmp_path)
        extra = (set(ast.literal_eval(ours.stdout)) - set(ast.literal_eval(python.stdout))
                 - set(ast.literal_eval(native.stdout)))
        assert all(_ours(m) for m in extra), (target, extra)
    # what an extension target has loaded; -X gil=1: on a free-threaded build, printing the
    # warning that the undeclared mainprobe enables the GIL loads linecache and re, natively too
    proc = run(work, "-X", "gil=1", "-m", "mainprobe", action="mods", native_flags=True)
    # the same heavy modules as python itself has loaded at start-up (a .pth file of the
    # machine's may import re), and _ctypes
    heavy = ("argparse", "re", "enum", "typing", "dataclasses", "ctypes", "_ctypes")
    plain = run(work, "-X", "gil=1", "-c", f"import sys; print(sorted(m for m in {heavy!r} "
                "if m in sys.modules))", native=True, native_flags=True)
    expected = sorted({*ast.literal_eval(plain.stdout), "_ctypes"})
    assert f"MODS {expected}" in proc.stdout, proc.stdout + proc.stderr


@pytest.mark.parametrize(("name", "message"), [
    ("mp_export_null", "initialization of mp_export_null failed without raising an exception"),
    ("mp_export_unreported", "initialization of mp_export_unreported raised unreported exception"),
    ("mp_export_uninitialized", "init function of mp_export_uninitialized returned "
                                "uninitialized object"),
])
def test_broken_hook_is_one_line(tmp_path: Path, name: str, message: str) -> None:
    """A library whose export hook fails CPython's checks: one line, CPython's message, exit 1
    (as python's own exit status for a failed import); no traceback through extrun."""
    shutil.copy(build("multiphase"), tmp_path / f"{name}{EXT_SUFFIX}")
    env = dict(os.environ, PYTHONPATH=SRC)
    native = subprocess.run([sys.executable, "-c", f"import {name}"], capture_output=True,
                            text=True, cwd=tmp_path, env=env)
    assert native.stderr.splitlines()[-1] == f"SystemError: {message}"
    for target in (["-m", name], [f"{name}{EXT_SUFFIX}"]):
        proc = subprocess.run([sys.executable, "-m", "extrun", "run", *target],
                              capture_output=True, text=True, cwd=tmp_path, env=env)
        assert (proc.returncode, proc.stderr) == (1, f"extrun: {message}\n")


def test_c_target_exception_through_console_script_has_header(work: Path, tmp_path: Path) -> None:
    """An exception raised by an extension's C code (no Python frame of its own), run through
    pip's console script: python's header and one frame, as `python -c "import x"` prints."""
    shutil.copy(build("multiphase"), work / f"mp_exec_raise{EXT_SUFFIX}")
    script = tmp_path / "extrun"
    script.write_text(CONSOLE_SCRIPT)
    quiet = ("-W", "ignore::RuntimeWarning")  # free-threaded: that mp_exec_raise enables the GIL
    proc = run(work, *quiet, str(script), "run", "-m", "mp_exec_raise", native=True)
    native = run(work, *quiet, "-c", "import mp_exec_raise", native=True)
    assert proc.returncode == native.returncode == 1
    lines = proc.stderr.splitlines()
    assert lines[0] == native.stderr.splitlines()[0] == "Traceback (most recent call last):"
    assert lines[-1] == native.stderr.splitlines()[-1] == "RuntimeError: bad exec function"
    assert "extrun" not in "".join(lines[1:-1]).replace(str(script), "")


def test_pyc_script_loader_is_sourceless(work: Path, tmp_path: Path) -> None:
    """`python s.pyc` gives __main__ a SourcelessFileLoader (a source file a SourceFileLoader)."""
    import py_compile

    source = tmp_path / "s.py"
    source.write_text("print(type(__loader__).__name__, __loader__.name, __loader__.path == "
                      "__file__)\n")
    pyc = py_compile.compile(str(source), cfile=str(tmp_path / "s.pyc"))
    for target in (pyc, str(source)):
        native = run(work, target, native=True)
        ours = run(work, target)
        assert ours.stdout == native.stdout and native.returncode == 0, ours.stderr
    assert run(work, pyc).stdout.startswith("SourcelessFileLoader __main__ True")

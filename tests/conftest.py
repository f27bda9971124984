"""Test helpers: C fixtures compiled at test time, and CPython's native loader for comparison.

Fixtures are built with the compiler ``sysconfig`` names, into ``tests/.fixtures/<key>/``, where the
key hashes the source, the interpreter and its headers: a changed source is rebuilt, an unchanged
one is reused across runs and interpreters never share a build.
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import json
import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
import types
import venv
import zipfile
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


# --- targets for the runner, the integration and the tools: one directory, Python and C ------

SRC = str(HERE.parent / "src")

PROBESCRIPT = '''
import sys
HEAVY = ("argparse", "re", "enum", "typing", "dataclasses", "ctypes", "_ctypes")
LOADED_BEFORE_THIS_HOOK = sorted(m for m in HEAVY if m in sys.modules)
import json, os
def report(module):
    thing = getattr(module, "Thing", None)
    out = {
        "name": module.__name__, "file": module.__file__, "doc": module.__doc__,
        "spec": module.__spec__.name, "loader": type(module.__loader__).__name__,
        "package": module.__package__, "cached": getattr(module, "__cached__", None),
        "keys": sorted(k for k in vars(module)),
        "argv": sys.argv, "path0": sys.path[0],
        "is_main": sys.modules["__main__"] is module,
        "def_ok": module.def_ok() if hasattr(module, "def_ok") else None,
    }
    if thing is not None:
        module.increment(); module.increment()
        out["thing_module_is_main"] = thing().module() is module
        out["counter"] = thing().counter()
    print("REPORT " + json.dumps(out))
def on_exec(module):
    if module.__name__ not in ("__main__",):
        return
    report(module)
    action = os.environ.get("PROBESCRIPT_ACTION", "")
    if action == "exit3":
        raise SystemExit(3)
    if action == "raise":
        raise ValueError("boom")
    if action == "kbd":
        raise KeyboardInterrupt
    if action == "mods":
        print("MODS", LOADED_BEFORE_THIS_HOOK)
    if action.startswith("exec:"):
        exec(action[5:], {})
    if action.startswith("mp-"):
        import multiprocessing
        ctx = multiprocessing.get_context(action[3:])
        p = ctx.Process(target=child_report, args=(module.increment,))
        p.start(); p.join()
        print("CHILD EXIT", p.exitcode, flush=True)
def child_report(func):
    main = sys.modules["__main__"]
    print("CHILD", main.__name__, main.__spec__.name, main.def_ok(), func(), func(),
          main.Thing().counter(), flush=True)
'''

PYPROBE = '''
import sys
print(sorted((k, re.sub(" at 0x[0-9a-f]+", "", repr(v)) if k != "__builtins__" else "b")
             for k, v in globals().items() if k not in ("sys", "re")))
print(sys.argv, sys.path[0])
if len(sys.argv) > 1 and sys.argv[1] == "exit3": raise SystemExit(3)
if len(sys.argv) > 1 and sys.argv[1] == "raise": raise ValueError("boom")
'''


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory of targets: Python modules and packages, and extension libraries."""
    root = tmp_path_factory.mktemp("work")
    lib = build("mainprobe")
    (root / "scripts").mkdir()
    (root / "scripts" / "probescript.py").write_text(PROBESCRIPT)
    for name in ("mainprobe", "mainprobe_create"):
        shutil.copy(lib, root / f"{name}{EXT_SUFFIX}")
    shutil.copy(build("singlephase"), root / f"sp_basic{EXT_SUFFIX}")
    shutil.copy(lib, root / f"nohook{EXT_SUFFIX}")
    (root / f"corrupt{EXT_SUFFIX}").write_text("not a library\n" * 100)
    (root / "extpkg").mkdir()
    (root / "extpkg" / "__init__.py").write_text("")
    shutil.copy(lib, root / "extpkg" / f"__main__{EXT_SUFFIX}")
    (root / "extdir").mkdir()
    shutil.copy(lib, root / "extdir" / f"__main__{EXT_SUFFIX}")
    probe = "import re\n" + PYPROBE
    (root / "pymod.py").write_text(probe)
    (root / "pypkg").mkdir()
    (root / "pypkg" / "__init__.py").write_text("")
    (root / "pypkg" / "__main__.py").write_text(probe)
    (root / "pypkg" / "rel.py").write_text("VALUE = 42\n")
    (root / "pypkg" / "userel.py").write_text("from .rel import VALUE\nprint('REL', VALUE)\n")
    (root / "nomain").mkdir()
    (root / "nomain" / "__init__.py").write_text("")
    (root / "nspkg").mkdir()
    (root / "pydir").mkdir()
    (root / "pydir" / "__main__.py").write_text(probe)
    with zipfile.ZipFile(root / "app.zip", "w") as z:
        z.writestr("__main__.py", probe)
    return root


def report(proc: subprocess.CompletedProcess[str]) -> dict[str, object]:
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("REPORT ")]
    assert len(lines) == 1, (proc.stdout, proc.stderr)
    return json.loads(lines[0][7:])  # type: ignore[no-any-return]


def assert_runpy_then_probescript(ours: str, python: str) -> None:
    """``ours`` (an extension target's traceback) is as python prints a -m target's: the same
    two runpy frames as ``python`` (a Python -m target's), then the target's module frame
    (its library, line 1, as a Python target's file), then the Python code it called."""
    frames = [ln for ln in ours.splitlines() if ln.startswith("  File ")]
    runpy_frames = [ln for ln in python.splitlines() if ln.startswith("  File ")][:2]
    assert frames[:2] == runpy_frames and "runpy" in runpy_frames[0]  # frozen or not (debug)
    assert len(frames) == 4 and "extrun" not in ours
    assert frames[2].endswith(f'{EXT_SUFFIX}", line 1, in <module>') and "mainprobe" in frames[2]
    assert "probescript.py" in frames[3]


COLLECTOR = ("import gc\n"  # enabled, nothing frozen, and it does collect
             "n = gc.get_stats()[0]['collections']\n"
             "for _ in range(5000): a = []; a.append(a)\n"
             "print('GC', gc.isenabled(), gc.get_freeze_count() > 0,"
             " gc.get_stats()[0]['collections'] > n)")


# --- fresh venvs and the python -m integration ------------------------------------------------


def make_venv(root: Path) -> tuple[str, Path]:
    """A fresh venv (no pip) in which extrun is importable; returns (python, site-packages)."""
    venv.create(root, with_pip=False, symlinks=os.name != "nt")
    python = str(root / "bin" / "python")
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True).stdout.strip()
    site = Path(purelib)
    (site / "extrun-src.pth").write_text(SRC + "\n")
    return python, site


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    return make_venv(tmp_path_factory.mktemp("venv"))


def integration_cmd(python: str, *args: str, **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([python, "-m", "extrun", "integration", *args], capture_output=True,
                          text=True, timeout=60, **kw)  # type: ignore[call-overload]




# --- tools from PyPI ------------------------------------------------------------------------


def tool_version(module: str) -> str:
    try:
        mod = __import__(module)
    except ImportError:
        pytest.skip(f"{module} is not installed (pip install '.[test]')")
    return str(getattr(mod, "__version__", "?"))


def cythonize(source: Path, module_name: str, workdir: Path) -> str:
    """Cython -> C -> a library for this interpreter (the C step is cached)."""
    version = tool_version("Cython")
    c_file = workdir / (module_name.replace(".", "_") + ".c")
    subprocess.run([sys.executable, "-m", "cython", "-3", "--module-name", module_name,
                    str(source), "-o", str(c_file)], check=True, capture_output=True)
    return compile_c(c_file, module_name.rpartition(".")[2], salt=f"cython {version}")



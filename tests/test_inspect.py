"""extrun inspect / audit: records, verdicts, crash isolation, static inference."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import extrun
from extrun import audit, inspection
from extrun import static as static_reader
from extrun.names import extension_suffixes

from .conftest import EXT_SUFFIX, build

SRC = str(Path(extrun.__file__).resolve().parent.parent)
FIELDS = {"module", "path", "status", "kind", "hook", "m_size", "slots", "subinterpreters",
          "free_threading", "runnable_as_main", "reason"}


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory of extension modules of every kind, and misbehaving ones."""
    root = tmp_path_factory.mktemp("extensions")
    for name in ("mp_good", "mp_plain", "mp_create", "mp_export_raise"):
        shutil.copy(build("multiphase"), root / f"{name}{EXT_SUFFIX}")
    for name in ("sp_basic", "sp_again"):
        shutil.copy(build("singlephase"), root / f"{name}{EXT_SUFFIX}")
    for name in ("crasher", "hanger", "exiter", "chatty"):
        shutil.copy(build("misbehave"), root / f"{name}{EXT_SUFFIX}")
    if sys.version_info >= (3, 15):
        shutil.copy(build("modexport"), root / f"xp_good{EXT_SUFFIX}")
    return root


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "extrun", *args], capture_output=True,
                          text=True, cwd=cwd, env=dict(os.environ, PYTHONPATH=SRC), timeout=120)


def lib(tree: Path, name: str) -> str:
    return str(tree / f"{name}{EXT_SUFFIX}")


def test_multi_phase_record(tree: Path) -> None:
    r = inspection.inspect_one(module="mp_good", path=lib(tree, "mp_good"))
    assert set(r) >= FIELDS and r["status"] == "ok" and r["kind"] == "multi-phase"
    assert (r["hook"], r["m_size"], r["exec_slots"], r["create"]) == ("PyInit_mp_good", 16, 1,
                                                                       False)
    assert r["traverse"] and r["clear"] and r["free"]
    modern = sys.version_info >= (3, 12)  # the fixture declares the slots its headers know
    assert r["subinterpreters"] is modern and r["runnable_as_main"] is True
    assert r["free_threading"] is (sys.version_info >= (3, 13))
    assert [m["name"] for m in r["methods"]][:2] == ["increment", "def_is_attached"]


def test_plain_multi_phase_verdicts(tree: Path) -> None:
    r = inspection.inspect_one(module="mp_plain", path=lib(tree, "mp_plain"))
    assert (r["subinterpreters"], r["free_threading"], r["runnable_as_main"]) == (
        False, False, True)
    assert "Py_mod_multiple_interpreters" in r["reason"] and "Py_mod_gil" in r["reason"]


def test_single_phase_says_it_ran(tree: Path) -> None:
    r = inspection.inspect_one(module="sp_basic", path=lib(tree, "sp_basic"))
    assert r["kind"] == "single-phase" and r["m_size"] == -1
    assert (r["subinterpreters"], r["free_threading"], r["runnable_as_main"]) == (
        False, False, False)
    assert "ran its initialisation" in r["reason"]


def test_errors_are_records(tree: Path) -> None:
    r = inspection.inspect_one(module="mp_export_raise", path=lib(tree, "mp_export_raise"))
    assert r["status"] == "error" and "bad export function" in r["reason"]
    r = inspection.inspect_one(target="no_such_module_here")
    assert r["status"] == "error" and r["kind"] is None
    assert inspection.inspect_one(target="sys")["reason"].endswith("a built-in module")


def test_inspect_cli_child_process_json(tree: Path) -> None:
    stdlib = next(m for root, label in audit.environment_roots() if label == "stdlib"
                  for m, _ in audit._walk(root, extension_suffixes()))
    proc = cli("inspect", "--json", lib(tree, "mp_good"), lib(tree, "sp_basic"), stdlib,
               lib(tree, "crasher"))
    doc = json.loads(proc.stdout)
    assert doc["schema"] == inspection.SCHEMA
    statuses = [(m["module"], m["status"]) for m in doc["modules"]]
    assert statuses == [("mp_good", "ok"), ("sp_basic", "ok"), (stdlib, "ok"),
                        ("crasher", "crashed")]
    assert proc.returncode == 1  # not every target could be inspected
    assert "signal 11" in doc["modules"][3]["reason"]


def test_inspect_cli_human(tree: Path) -> None:
    proc = cli("inspect", lib(tree, "mp_good"))
    assert proc.returncode == 0
    assert "kind: multi-phase, export hook PyInit_mp_good" in proc.stdout
    assert "runnable as __main__: yes" in proc.stdout


def test_in_process_matches_child(tree: Path) -> None:
    child = json.loads(cli("inspect", "--json", lib(tree, "mp_plain")).stdout)["modules"][0]
    here = json.loads(cli("inspect", "--json", "--in-process", lib(tree, "mp_plain")).stdout)
    slot_values = ("slots",)  # addresses differ between processes
    strip = lambda r: {k: v for k, v in r.items() if k not in slot_values}  # noqa: E731
    assert strip(here["modules"][0]) == strip(child)


def test_audit_directory_isolates_misbehaving_modules(tree: Path) -> None:
    proc = cli("audit", "--json", "--timeout", "3", "--jobs", "2", str(tree))
    records = {m["module"]: m for m in json.loads(proc.stdout)["modules"]}
    assert records["crasher"]["status"] == "crashed"
    assert records["hanger"]["status"] == "timeout"
    assert records["exiter"]["status"] == "crashed" and "status 3" in records["exiter"]["reason"]
    assert records["chatty"]["status"] == "ok"  # its stdout did not corrupt the results
    assert records["mp_good"]["status"] == records["sp_again"]["status"] == "ok"
    assert all(m["location"] == str(tree) for m in records.values())


def test_audit_table_and_fail_on(tree: Path, tmp_path: Path) -> None:
    calm = tmp_path / "calm"
    calm.mkdir()
    for name in ("mp_good", "sp_basic"):
        shutil.copy(lib(tree, name), calm)
    proc = cli("audit", str(calm))
    assert proc.returncode == 0
    assert "2 extension modules: 1 multi-phase, 1 single-phase." in proc.stdout
    assert f"[{calm}]" in proc.stdout
    proc = cli("audit", str(calm), "--fail-on", "single-phase")
    assert proc.returncode == 1 and "1 module(s) single-phase: sp_basic" in proc.stderr
    assert cli("audit", str(calm), "--fail-on", "error").returncode == 0


def test_audit_environment_labels_stdlib() -> None:
    proc = cli("audit", "--json", "--static")
    records = json.loads(proc.stdout)["modules"]
    stdlib = [m for m in records if m["location"] == "stdlib"]
    assert stdlib and all(m["inferred"] for m in stdlib)
    assert {m["location"] for m in records} <= {"stdlib", "site-packages", ".pth", "PYTHONPATH"}


def test_audit_environment_is_what_sys_path_imports(tmp_path: Path) -> None:
    """Modules on PYTHONPATH and in directories a .pth file adds (editable installs) are part
    of the environment, labelled so; a module shadowed by an earlier entry is not importable
    and not listed."""
    lib = build("multiphase")
    env_dir, pth_dir, site_dir = tmp_path / "env", tmp_path / "pth", tmp_path / "site"
    for d in (env_dir, pth_dir, site_dir):
        d.mkdir()
    shutil.copy(lib, env_dir / f"mp_good{EXT_SUFFIX}")
    shutil.copy(lib, pth_dir / f"mp_good{EXT_SUFFIX}")  # shadowed by PYTHONPATH's
    shutil.copy(lib, pth_dir / f"mp_plain{EXT_SUFFIX}")
    (site_dir / "editable.pth").write_text(f"{pth_dir}\n")
    code = ("import site, sys; site.addsitedir(sys.argv.pop(1)); from extrun.cli import main; "
            "sys.exit(main(['audit', '--json', '--static']))")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([SRC, str(env_dir)]))
    proc = subprocess.run([sys.executable, "-c", code, str(site_dir)], capture_output=True,
                          text=True, env=env)
    records = {(r["module"], r["path"]): r["location"]
               for r in json.loads(proc.stdout)["modules"]}
    ours = {k: v for k, v in records.items() if k[1].startswith(str(tmp_path))}
    assert ours == {("mp_good", str(env_dir / f"mp_good{EXT_SUFFIX}")): "PYTHONPATH",
                    ("mp_plain", str(pth_dir / f"mp_plain{EXT_SUFFIX}")): ".pth"}


def test_static_agrees_with_loading(tree: Path) -> None:
    for name in ("mp_good", "mp_plain", "sp_basic", "sp_again", "mp_create"):
        static = static_reader.static_record(name, lib(tree, name))
        loaded = inspection.inspect_one(module=name, path=lib(tree, name))
        assert static["kind"] == loaded["kind"] and static["inferred"]
        assert static["runnable_as_main"] == loaded["runnable_as_main"]


def test_static_agrees_on_the_standard_library() -> None:
    roots = [p for p, label in audit.environment_roots() if label == "stdlib"]
    items = [(m, p) for root in roots for m, p in audit._walk(root, extension_suffixes())]
    assert items
    loaded = inspection.inspect_all([{"module": m, "path": p} for m, p in items], jobs=2)
    inferred = 0
    for (module, path), record in zip(items, loaded, strict=True):
        static = static_reader.static_record(module, path)
        if record["status"] == "ok" and static["kind"] is not None:  # None: it cannot tell
            assert static["kind"] == record["kind"], module
            inferred += 1
    assert inferred >= len(items) * 0.8


def test_wheel_is_read_statically(tree: Path, tmp_path: Path) -> None:
    wheel = tmp_path / "demo_pkg-1.0-cp311-cp311-linux_x86_64.whl"
    with zipfile.ZipFile(wheel, "w") as z:
        z.write(lib(tree, "mp_good"), f"demo_pkg/mp_good{EXT_SUFFIX}")
        z.write(lib(tree, "sp_basic"), "demo_pkg/sp_basic.cpython-399-x86_64-linux-gnu.so")
        z.writestr("demo_pkg/__init__.py", "")
    proc = cli("audit", "--json", str(wheel))
    records = {m["module"]: m for m in json.loads(proc.stdout)["modules"]}
    assert records["demo_pkg.mp_good"]["kind"] == "multi-phase"
    assert records["demo_pkg.sp_basic"]["kind"] == "single-phase"  # another version's library
    assert records["demo_pkg.mp_good"]["distribution"] == "demo_pkg"


def test_audit_distribution_argument() -> None:
    proc = cli("audit", "no-such-distribution-here")
    assert proc.returncode == 1 and proc.stderr.startswith("extrun: no-such-distribution-here")


@pytest.mark.skipif(sys.version_info < (3, 15), reason="PyModExport hooks are 3.15+")
def test_slots_module(tree: Path) -> None:
    r = inspection.inspect_one(module="xp_good", path=lib(tree, "xp_good"))
    assert r["kind"] == "slots" and r["hook"] == "PyModExport_xp_good"
    assert (r["subinterpreters"], r["free_threading"], r["runnable_as_main"]) == (
        True, True, True)
    assert static_reader.static_record("xp_good", lib(tree, "xp_good"))["kind"] == "slots"


SUBINTERPRETER_PROBE = """
import json, sys
import _interpreters as I
results = {}
for name, path in json.loads(sys.argv[1]):
    interp = I.create(I.new_config("isolated"))
    code = ("import importlib.machinery as m, importlib.util as u\\n"
            f"l = m.ExtensionFileLoader({name!r}, {path!r})\\n"
            f"s = u.spec_from_loader({name!r}, l)\\n"
            "l.exec_module(u.module_from_spec(s))\\n")
    failure = I.exec(interp, code)
    results[name] = failure is None or "subinterpreters" not in str(failure.msg)
    I.destroy(interp)
print(json.dumps(results))
"""


@pytest.mark.skipif(sys.version_info < (3, 13), reason="needs _interpreters (3.13+)")
def test_subinterpreter_verdicts_agree_with_cpython(tree: Path) -> None:
    """Our verdict == whether CPython itself loads the module in an isolated subinterpreter."""
    items = [(n, lib(tree, n)) for n in ("mp_good", "mp_plain", "mp_create", "sp_basic")]
    roots = [p for p, label in audit.environment_roots() if label == "stdlib"]
    items += [(m, p) for root in roots for m, p in audit._walk(root, extension_suffixes())
              if not m.startswith(("_tkinter", "_curses", "readline", "_test"))]
    if sys.version_info >= (3, 15):
        items.append(("xp_good", lib(tree, "xp_good")))
    records = inspection.inspect_all([{"module": m, "path": p} for m, p in items], jobs=2)
    proc = subprocess.run([sys.executable, "-c", SUBINTERPRETER_PROBE, json.dumps(items)],
                          capture_output=True, text=True, timeout=120)
    actual = json.loads(proc.stdout)
    compared = 0
    for record in records:
        if record["status"] == "ok":
            assert record["subinterpreters"] == actual[record["module"]], record["module"]
            compared += 1
    assert compared >= 20
    assert actual["mp_good"] and not actual["mp_plain"] and not actual["sp_basic"]


def test_audit_progress_only_on_a_terminal(tree: Path, tmp_path: Path) -> None:
    import pty

    calm = tmp_path / "calm"
    calm.mkdir()
    shutil.copy(lib(tree, "mp_good"), calm)
    assert cli("audit", str(calm)).stderr == ""  # not a terminal: no progress
    master, slave = pty.openpty()
    try:
        proc = subprocess.run([sys.executable, "-m", "extrun", "audit", str(calm)],
                              stdout=subprocess.PIPE, stderr=slave, timeout=60,
                              env=dict(os.environ, PYTHONPATH=SRC))
        os.close(slave)
        slave = -1
        seen = b""
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the terminal's other end is closed
                break
            if not chunk:
                break
            seen += chunk
    finally:
        os.close(master)
        if slave >= 0:
            os.close(slave)
    assert proc.returncode == 0
    assert b"inspecting extension modules: 1/1" in seen


COMPARED = ("kind", "m_size", "doc", "create", "exec_slots", "multiple_interpreters", "gil",
            "traverse", "clear", "free", "subinterpreters", "free_threading", "runnable_as_main")


def _comparable(r: dict[str, object]) -> dict[str, object]:
    out = {k: r[k] for k in COMPARED}
    out["methods"] = [m["name"] for m in r["methods"]]  # type: ignore[attr-defined]
    out["slot_ids"] = [s["id"] for s in r["slots"]]  # type: ignore[attr-defined]
    return out


def test_static_reads_what_loading_reads(tree: Path) -> None:
    """Every value the static reader reports (read from the data, not "unknown") is what the
    dynamic inspection reports, for the fixtures, the standard library's extension modules and
    the installed packages (C, Cython, PyO3, pybind11 where installed); the share it answers is
    printed."""
    items, _ = audit.collect([])
    modules = [(i["module"], i["path"]) for i in items
               if i["location"] in ("stdlib", "site-packages")]
    modules += [(n, lib(tree, n)) for n in ("mp_good", "mp_plain", "sp_basic", "mp_create")]
    loaded = inspection.inspect_all([{"module": m, "path": p} for m, p in modules], jobs=2)
    answered, multi, wrong = 0, 0, []
    for (module, path), dynamic in zip(modules, loaded, strict=True):
        if dynamic["status"] != "ok":
            continue
        static = static_reader.static_record(module, path)
        multi += dynamic["kind"] != "single-phase"
        if static["reason"].startswith("read from its data"):  # type: ignore[union-attr]
            answered += dynamic["kind"] != "single-phase"
            if _comparable(static) != _comparable(dynamic):  # type: ignore[arg-type]
                wrong.append((module, _comparable(static), _comparable(dynamic)))  # type: ignore[arg-type]
    print(f"static reader: {answered} of {multi} multi-phase modules answered from their data")
    assert not wrong, wrong
    assert answered

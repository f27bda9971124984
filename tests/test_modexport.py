"""3.15: PyModExport_* hooks returning PySlot arrays (PEP 793, PEP 820)."""

from __future__ import annotations

import types

import pytest

from extrun import _capi
from extrun.definition import SLOTS
from extrun.loader import ExtensionLoader, definition_for, load

from .conftest import native_load, outcome


def test_export_hook_definition(modexport: str) -> None:
    d = definition_for("xp_good", modexport)
    assert d.kind == SLOTS and d.hook.symbol == "PyModExport_xp_good"
    assert (d.m_name, d.doc, d.size) == ("xp_good", "A module defined by PyModExport.", 8)
    assert [m[0] for m in d.methods] == ["increment", "token_ok", "exec_calls"]
    assert d.exec_count == 1 and not d.has_create
    assert d.multiple_interpreters == 2 and d.gil == 1
    assert {s.name for s in d.slots} >= {"Py_mod_abi", "Py_mod_token"}
    assert d.unknown_slots == []


def test_export_hook_loads(modexport: str) -> None:
    m = load(modexport, "xp_good", register=False)
    assert m.answer == 42 and m.__doc__ == "A module defined by PyModExport."
    assert m.increment() == 1 and m.token_ok() is True
    assert _capi.module_get_def(m) == 0  # no PyModuleDef: a token instead
    assert _capi.module_get_state_size(m) == 8
    native = native_load(modexport, "xp_good")
    assert sorted(vars(m)) == sorted(vars(native))


def test_export_hook_preferred(modexport: str) -> None:
    assert definition_for("xp_both", modexport).hook.symbol == "PyModExport_xp_both"


@pytest.mark.parametrize("name", ["xp_null", "xp_raise"])
def test_bad_export_hooks_as_cpython(modexport: str, name: str) -> None:
    expected = outcome(native_load, modexport, name)
    assert expected is not None
    assert outcome(lambda: load(modexport, name, register=False)) == expected


def test_exec_in_module_with_slots(modexport: str) -> None:
    target = types.ModuleType("__main__")
    loader = ExtensionLoader("xp_good", modexport)
    spec = types.SimpleNamespace(name="xp_good", origin=modexport)
    before = load(modexport, "xp_good", register=False).exec_calls()
    loader.exec_in_module(spec, target)  # type: ignore[arg-type]
    assert target.answer == 42 and target.token_ok() is True
    assert target.increment() == 1 and target.exec_calls() == before + 1
    with pytest.raises(ImportError, match="already initialized"):
        loader.exec_in_module(spec, target)  # type: ignore[arg-type]


def test_export_hook_module_runs_as_main(modexport: str, tmp_path: object) -> None:
    import os
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    from .conftest import EXT_SUFFIX

    work = Path(str(tmp_path))
    shutil.copy(modexport, work / f"xp_good{EXT_SUFFIX}")
    src = str(Path(__file__).resolve().parent.parent / "src")
    proc = subprocess.run([sys.executable, "-m", "extrun", "run", "-m", "xp_good"], cwd=work,
                          capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=src))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "XP __main__ token_ok=True state=0\n"


def test_static_reader_reads_the_slot_array(modexport: str) -> None:
    """The PySlot array a PyModExport_* hook returns, read from the library's data: what
    loading the module reports."""
    from extrun import inspection
    from extrun.static import static_record

    static = static_record("xp_good", modexport)
    loaded = inspection.inspect_one(module="xp_good", path=modexport)
    assert str(static["reason"]).startswith("read from its data")
    for key in ("kind", "m_size", "doc", "create", "exec_slots", "multiple_interpreters", "gil",
                "traverse", "clear", "free", "subinterpreters", "free_threading"):
        assert static[key] == loaded[key], key  # type: ignore[literal-required]
    assert [s["id"] for s in static["slots"]] == [s["id"] for s in loaded["slots"]]
    assert [m["name"] for m in static["methods"]] == [m["name"] for m in loaded["methods"]]

"""The C-API layer: derived module layout, its verification, struct views, ownership."""

from __future__ import annotations

import sys
import types

import pytest

from extrun import _capi


def test_layout_is_derived_and_verified() -> None:
    layout = _capi.LAYOUT
    assert layout.token in layout.words
    assert all(_capi.HEAD <= off < types.ModuleType.__basicsize__ for off in layout.words)
    _capi.verify_layout(layout)  # idempotent: may run again at any time


@pytest.mark.skipif(sys.version_info >= (3, 15), reason="3.15 replaced md_def (PEP 793)")
def test_layout_up_to_314_is_md_def_after_md_dict() -> None:
    # The design notes' measurement: md_def right after md_dict; on free-threaded builds also
    # md_gil, the module object's last member
    md_def = types.ModuleType.__dictoffset__ + _capi.PTR
    md_gil = types.ModuleType.__basicsize__ - _capi.PTR
    assert _capi.LAYOUT.words == ((md_def, md_gil) if _capi.FREE_THREADED else (md_def,))


def test_layout_words_as_cpython_sets_them(multiphase: str) -> None:
    """A module extrun gave a definition (exec_in_module) holds, in every word of the layout, what
    a module CPython created from that definition holds (3.15: the token, its flag and the
    copies of m_size, traverse, clear, free and the exec function; free-threaded: md_gil)."""
    from extrun.loader import ExtensionLoader, spec_for

    from .conftest import native_load

    native = native_load(multiphase, "mp_good")
    loader = ExtensionLoader("mp_good", multiphase)
    ours = types.ModuleType("mp_good")
    loader.exec_in_module(spec_for(loader), ours)
    words = {off: (_capi.word(id(native) + off), _capi.word(id(ours) + off))
             for off in _capi.LAYOUT.words}
    assert all(a == b for a, b in words.values()), words
    assert _capi.module_get_def(ours) == _capi.module_get_def(native) != 0


def wrong_layouts() -> list[_capi.Layout]:
    real = _capi.LAYOUT
    shifted = tuple(off + _capi.PTR for off in real.words)
    md_def_311 = types.ModuleType.__dictoffset__ + _capi.PTR  # 3.11's md_def: md_state on 3.15
    candidates = [
        _capi.Layout(shifted, real.token + _capi.PTR),  # off by one word
        _capi.Layout((md_def_311,), md_def_311),  # another version's layout
        _capi.Layout((types.ModuleType.__dictoffset__,), types.ModuleType.__dictoffset__),
        _capi.Layout((), 0),
        _capi.Layout((4096,), 4096),  # outside the object
    ]
    return [c for c in candidates if set(c.words) != set(real.words)]


@pytest.mark.parametrize("layout", wrong_layouts(), ids=repr)
def test_wrong_layout_is_refused_before_any_write(layout: _capi.Layout) -> None:
    # an ImportError, so that `import extrun` fails as a missing module would, with the cause
    with pytest.raises(ImportError, match=r"extrun: .*(refusing|not a possible)") as info:
        _capi.verify_layout(layout)
    assert type(info.value) is _capi.LayoutError


def test_attach_refuses_initialised_module(multiphase: str) -> None:
    from extrun.loader import load

    module = load(multiphase, "mp_good", register=False)
    assert not _capi.is_plain(module)
    with pytest.raises(ImportError, match="already initialized"):
        _capi.attach(module, types.ModuleType("x"))
    with pytest.raises(TypeError):
        _capi.attach(types.ModuleType("x"), object())


def test_plain_module_is_plain() -> None:
    assert _capi.is_plain(types.ModuleType("fresh"))
    assert not _capi.is_plain(sys)  # a single-phase builtin module with a def


def test_steal_null_without_exception() -> None:
    with pytest.raises(SystemError, match="returned NULL without setting an exception"):
        _capi._steal(0, "Something")


def test_check_nonzero_without_exception() -> None:
    with pytest.raises(SystemError, match="returned -1 without setting an exception"):
        _capi._check(-1, "Something")


def test_steal_balances_references() -> None:
    obj = object()
    before = sys.getrefcount(obj)
    _capi.Py_IncRef(id(obj))  # what a C function returning a new reference does
    assert _capi._steal(id(obj), "x") is obj
    assert sys.getrefcount(obj) == before


def test_module_def_views(multiphase: str) -> None:
    from extrun.definition import find_hook, read_definition

    d = read_definition(find_hook("mp_good", multiphase))
    raw = _capi.read_moduledef(d.address)
    assert raw.m_name == b"mp_good"
    assert _capi.type_address(d.address) == _capi.MODULEDEF_TYPE
    names = [m[0] for m in _capi.read_methods(raw.m_methods)]
    assert names == ["increment", "def_is_attached", "counts", "argv0"]
    assert _capi.read_def_slots(0) == [] and _capi.read_methods(0) == []
    assert _capi.c_string(0) is None


def test_hook_call_propagates_exception(multiphase: str) -> None:
    from extrun.definition import find_hook

    with pytest.raises(RuntimeError, match="bad export function"):
        _capi.call_hook(find_hook("mp_export_raise", multiphase).address)
    assert _capi.call_hook(find_hook("mp_export_null", multiphase).address) == 0

"""ExtensionLoader: PEP 489 phases with CPython's behaviour, exec_in_module (PEP 547)."""

from __future__ import annotations

import gc
import importlib
import importlib.machinery
import importlib.util
import pickle
import sys
import types
import warnings

import pytest

import extrun
from extrun import _capi
from extrun.loader import ExtensionLoader, definition_for, load, load_all
from extrun.names import module_name_from_path

from .conftest import native_load, outcome

BAD = [
    "mp_bad_slot_large", "mp_bad_slot_negative", "mp_two_create", "mp_negative_size",
    "mp_create_null", "mp_create_raise", "mp_create_unreported", "mp_create_int_with_state",
    "mp_nonmodule_with_exec", "mp_exec_err", "mp_exec_raise", "mp_exec_unreported",
    "mp_export_null", "mp_export_raise", "mp_export_uninitialized",
]


def ours(path: str, name: str) -> types.ModuleType:
    return load(path, name, register=False)


@pytest.mark.parametrize("name", BAD)
def test_bad_module_as_cpython(multiphase: str, name: str) -> None:
    expected = outcome(native_load, multiphase, name)
    assert expected is not None
    assert outcome(ours, multiphase, name) == expected


def test_hook_returning_value_and_exception(multiphase: str) -> None:
    # a hook that returns its definition and leaves an exception set: CPython's SystemError,
    # with CPython's cause (none on 3.11, the hook's exception from 3.12)
    expected = outcome(native_load, multiphase, "mp_export_unreported")
    assert expected == ("SystemError",
                        "initialization of mp_export_unreported raised unreported exception")
    assert outcome(ours, multiphase, "mp_export_unreported") == expected
    causes = []
    for loader in (native_load, ours):
        with pytest.raises(SystemError) as info:
            loader(multiphase, "mp_export_unreported")
        causes.append(repr(info.value.__cause__))
    assert causes[0] == causes[1]


def test_good_module(multiphase: str) -> None:
    m = ours(multiphase, "mp_good")
    assert type(m) is types.ModuleType
    assert m.__name__ == "mp_good" and m.__file__ == multiphase
    assert m.__doc__ == "A good multi-phase module."
    assert isinstance(m.__loader__, importlib.machinery.ExtensionFileLoader)
    assert isinstance(m.__loader__, ExtensionLoader)
    assert m.__spec__.origin == multiphase and m.__package__ == ""
    assert not hasattr(m, "__path__")
    assert m.int_const == 1969
    assert m.def_is_attached() is True
    assert (m.increment(), m.increment()) == (1, 2)
    c = m.Counter()
    assert c.module_counter() == 2 and c.module_name() == "mp_good"
    assert m.increment.__module__ == "mp_good"


def test_same_as_native(multiphase: str) -> None:
    a, b = ours(multiphase, "mp_good"), native_load(multiphase, "mp_good")
    assert sorted(vars(a)) == sorted(vars(b))
    assert _capi.module_get_def(a) == _capi.module_get_def(b) != 0


def test_load_twice_gives_two_modules(multiphase: str) -> None:
    a, b = ours(multiphase, "mp_good"), ours(multiphase, "mp_good")
    assert a is not b and a.Counter is not b.Counter
    a.increment()
    assert a.Counter().module_counter() == 1 and b.Counter().module_counter() == 0


def test_submodule_one_letter_and_nonascii_names(multiphase: str) -> None:
    assert ours(multiphase, "pkg.mp_good").__name__ == "pkg.mp_good"
    assert ours(multiphase, "pkg.mp_good").Counter().module_name() == "pkg.mp_good"
    y = ours(multiphase, "y")
    assert y.__name__ == "y" and "y" not in sys.modules
    g = ours(multiphase, "mp_grüße")
    assert g.__name__ == "mp_grüße" and g.int_const == 1969


def test_null_and_no_slots(multiphase: str) -> None:
    assert ours(multiphase, "mp_null_slots").__name__ == "mp_null_slots"
    assert ours(multiphase, "mp_plain").__doc__ is None


def test_custom_create(multiphase: str) -> None:
    m = ours(multiphase, "mp_create")
    assert m.created_by == "create slot" and m.executed == 1


def test_nonmodule(multiphase: str) -> None:
    m = ours(multiphase, "mp_nonmodule")
    assert not isinstance(m, types.ModuleType)
    assert m.three == 3 and m.bar(10, 1) == 9


def test_reload_is_a_noop(multiphase: str, clean_modules: None) -> None:
    m = load(multiphase, "mp_good")
    cls, number = m.Counter, m.exec_number
    # importlib.reload() finds the spec again, then runs exactly this:
    assert importlib._bootstrap._exec(m.__spec__, m) is m  # type: ignore[attr-defined]
    assert m.Counter is cls and m.exec_number == number
    m.__loader__.exec_module(m)  # executing an executed module again does nothing
    assert m.exec_number == number


def test_exec_module_on_plain_module_as_cpython(multiphase: str) -> None:
    import _imp

    ours, native = types.ModuleType("mp_good"), types.ModuleType("mp_good")
    ExtensionLoader("mp_good", multiphase).exec_module(ours)
    _imp.exec_dynamic(native)  # 3.15's PyModule_Exec gives even a plain module a state
    assert _capi.is_plain(ours) == _capi.is_plain(native)
    assert vars(ours).keys() == vars(native).keys()


def test_import_through_a_finder(multiphase: str, clean_modules: None) -> None:
    spec = importlib.util.spec_from_file_location(
        "mp_good", multiphase, loader=ExtensionLoader("mp_good", multiphase))
    assert spec is not None
    m = importlib.util.module_from_spec(spec)
    sys.modules["mp_good"] = m
    spec.loader.exec_module(m)  # type: ignore[union-attr]
    assert importlib.import_module("mp_good") is m


def test_loader_api_as_extension_file_loader(multiphase: str) -> None:
    loader = ExtensionLoader("mp_good", multiphase)
    assert loader == ExtensionLoader("mp_good", multiphase)
    assert loader != ExtensionLoader("other", multiphase)
    assert loader != importlib.machinery.ExtensionFileLoader("mp_good", multiphase)
    assert hash(loader) == hash(ExtensionLoader("mp_good", multiphase))
    assert loader.get_filename("mp_good") == multiphase
    assert loader.get_code("mp_good") is None and loader.get_source("mp_good") is None
    assert loader.is_package("mp_good") is False
    suffix = importlib.machinery.EXTENSION_SUFFIXES[0]
    assert ExtensionLoader("pkg", f"/x/pkg/__init__{suffix}").is_package("pkg")
    with pytest.raises(ImportError):
        loader.get_filename("other")


@pytest.mark.skipif(not hasattr(importlib.machinery.ExtensionFileLoader, "load_module"),
                    reason="load_module() was removed in 3.15")
def test_load_module_shim(multiphase: str, clean_modules: None) -> None:
    loader = ExtensionLoader("mp_good", multiphase)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        m = loader.load_module("mp_good")
        assert sys.modules["mp_good"] is m and m.int_const == 1969
        assert loader.load_module("mp_good") is m
        with pytest.raises(ImportError):
            loader.load_module("XXX")


def test_load_registers_and_unregisters(multiphase: str, clean_modules: None) -> None:
    m = load(multiphase, "mp_good")
    assert sys.modules["mp_good"] is m
    with pytest.raises(RuntimeError):
        load(multiphase, "mp_exec_raise")
    assert "mp_exec_raise" not in sys.modules


def test_load_name_from_path(multiphase: str) -> None:
    assert module_name_from_path(multiphase) == "multiphase"
    assert module_name_from_path("/x/spam.so") == "spam"
    with pytest.raises(ImportError, match=r"\(PyInit_multiphase\)|PyInit_multiphase\)"):
        load(multiphase)


def test_load_all(multiphase: str) -> None:
    mods = load_all(multiphase, ["mp_good", "mp_plain"])
    assert set(mods) == {"mp_good", "mp_plain"}
    sys.modules.pop("mp_good"), sys.modules.pop("mp_plain")


def test_load_all_lists_the_library(testmultiphase: str) -> None:
    from extrun.static import exported_modules

    good = [n for n in exported_modules(testmultiphase) if n in (
        "_testmultiphase", "x", "_testmultiphase_null_slots", "＿インポートテスト")]
    mods = load_all(testmultiphase, good)
    assert len(mods) == 4
    for n in good:
        sys.modules.pop(n, None)


def test_public_api() -> None:
    assert extrun.ExtensionLoader is ExtensionLoader
    assert extrun.load is load and extrun.load_all is load_all
    with pytest.raises(AttributeError):
        extrun.nothing_here  # noqa: B018


# --- exec_in_module (PEP 547) -----------------------------------------------------------------


def exec_in(path: str, name: str, module: types.ModuleType) -> None:
    loader = ExtensionLoader(name, path)
    spec = importlib.util.spec_from_loader(name, loader)
    loader.exec_in_module(spec, module)  # type: ignore[arg-type]


def test_exec_in_module(multiphase: str) -> None:
    target = types.ModuleType("__main__")
    target.preexisting = 1
    exec_in(multiphase, "mp_good", target)
    assert target.__name__ == "__main__" and target.preexisting == 1
    assert target.int_const == 1969 and target.__doc__ == "A good multi-phase module."
    assert target.def_is_attached() is True
    assert _capi.module_get_def(target) == definition_for("mp_good", multiphase).address
    assert target.increment() == 1
    assert target.Counter().module_counter() == 1
    assert target.Counter().module_name() == "__main__"
    assert target.increment.__module__ == "__main__"


def test_exec_in_module_runs_exec_once(multiphase: str) -> None:
    target = types.ModuleType("t")
    exec_in(multiphase, "mp_good", target)
    with pytest.raises(ImportError, match="already initialized"):
        exec_in(multiphase, "mp_good", target)
    with pytest.raises(ImportError, match="already initialized"):
        exec_in(multiphase, "mp_good", ours(multiphase, "mp_good"))


def test_exec_in_module_frees_state(multiphase: str) -> None:
    m = ours(multiphase, "mp_good")
    gc.collect()  # modules of earlier tests free their state now, not below
    before = m.counts()[1]
    target = types.ModuleType("t")
    exec_in(multiphase, "mp_good", target)
    del target
    gc.collect()
    assert m.counts()[1] == before + 1  # m_free ran exactly once, for the target


@pytest.mark.parametrize(("name", "message"), [
    ("mp_create", "has a Py_mod_create slot"),
    ("mp_nonmodule", "has a Py_mod_create slot"),
])
def test_exec_in_module_refuses_create(multiphase: str, name: str, message: str) -> None:
    with pytest.raises(ImportError, match=message) as info:
        exec_in(multiphase, name, types.ModuleType("t"))
    assert info.value.name == name and info.value.path == multiphase


def test_exec_in_module_refuses_single_phase(singlephase: str) -> None:
    with pytest.raises(ImportError, match="single-phase initialization"):
        exec_in(singlephase, "sp_again", types.ModuleType("t"))


def test_exec_in_module_validates_like_create(multiphase: str) -> None:
    for name in ("mp_bad_slot_large", "mp_negative_size", "mp_exec_raise"):
        target = types.ModuleType("t")
        expected = outcome(native_load, multiphase, name)
        got = outcome(exec_in, multiphase, name, target)
        assert got is not None and expected is not None
        assert got[0] == expected[0] and got[1] == expected[1].replace(name, name)


def test_exec_in_module_needs_a_module(multiphase: str) -> None:
    with pytest.raises(TypeError):
        exec_in(multiphase, "mp_good", object())  # type: ignore[arg-type]


def test_exec_in_module_subclass(multiphase: str) -> None:
    class Sub(types.ModuleType):
        pass

    target = Sub("sub")
    exec_in(multiphase, "mp_good", target)
    assert target.increment() == 1 and target.def_is_attached()


# --- CPython's own fixture ------------------------------------------------------------------

TESTMULTIPHASE_BAD = [
    "bad_slot_large", "bad_slot_negative", "create_int_with_state", "negative_size",
    "export_null", "export_uninitialized", "export_raise", "create_null", "create_raise",
    "create_unreported_exception", "nonmodule_with_exec_slots", "exec_err", "exec_raise",
    "exec_unreported_exception",
]


@pytest.mark.parametrize("base", TESTMULTIPHASE_BAD)
def test_testmultiphase_bad_modules(testmultiphase: str, base: str) -> None:
    name = "_testmultiphase_" + base
    expected = outcome(native_load, testmultiphase, name)
    assert expected is not None and expected[0] == "SystemError"
    assert outcome(ours, testmultiphase, name) == expected


def test_testmultiphase_unreported_export(testmultiphase: str) -> None:
    with pytest.raises(SystemError):  # same type; message differs (see above)
        ours(testmultiphase, "_testmultiphase_export_unreported_exception")


def test_testmultiphase_functionality(testmultiphase: str) -> None:
    m = ours(testmultiphase, "_testmultiphase")
    ex = m.Example()
    assert ex.demo("abcd") == "abcd" and ex.demo() is None
    assert m.foo(9, 9) == 18
    assert isinstance(m.Str(), str) and m.Str(1) + "23" == "123"
    with pytest.raises(m.error):
        raise m.error()
    assert m.int_const == 1969 and m.str_const == "something different"
    assert m.call_state_registration_func(0) is None
    with pytest.raises(SystemError):
        m.call_state_registration_func(1)


@pytest.mark.parametrize(("name", "doc"), [
    ("_testmultiphase_zkouška_načtení", "Module named in Czech"),
    ("＿インポートテスト", "Module named in Japanese"),
])
def test_testmultiphase_nonascii(testmultiphase: str, name: str, doc: str) -> None:
    m = ours(testmultiphase, name)
    assert m.__name__ == name and m.__doc__ == doc


def test_testmultiphase_names(testmultiphase: str) -> None:
    assert ours(testmultiphase, "pkg._testmultiphase").str_const == "something different"
    assert ours(testmultiphase, "x").__name__ == "x"
    nm = ours(testmultiphase, "_testmultiphase_nonmodule_with_methods")
    assert nm.three == 3 and nm.bar(10, 1) == 9
    assert ours(testmultiphase, "_testmultiphase_null_slots").__name__.endswith("null_slots")
    with pytest.raises(ImportError) as info:
        ours(testmultiphase, "asdfjkl;")
    assert info.value.name == "asdfjkl;"
    with pytest.raises(ImportError) as info:
        ours(testmultiphase, "fo\xf3")
    assert info.value.name == "fo\xf3"


def test_testmultiphase_meth_state_access_in_main_like_module(testmultiphase: str) -> None:
    target = types.ModuleType("__main__")
    exec_in(testmultiphase, "_testmultiphase_meth_state_access", target)
    obj = target.StateAccessType()
    assert obj.get_defining_module() is target
    obj.increment_count_clinic()
    assert obj.get_count() == 1


def test_pickle_from_executed_module(testmultiphase: str, clean_modules: None) -> None:
    m = load(testmultiphase, "_testmultiphase")
    assert pickle.loads(pickle.dumps(m.foo)) is m.foo


def test_verbose_message_as_importlib(multiphase: str) -> None:
    """python -v: the same line importlib prints for an extension module, "# " prefix included."""
    import os
    import subprocess

    src = os.path.dirname(os.path.dirname(extrun.__file__))
    lines = {}
    for how in ("importlib.machinery.ExtensionFileLoader", "extrun.ExtensionLoader"):
        code = (f"import importlib.machinery, importlib.util, extrun\n"
                f"loader = {how}('mp_good', {multiphase!r})\n"
                "spec = importlib.util.spec_from_loader('mp_good', loader)\n"
                "loader.exec_module(importlib.util.module_from_spec(spec))\n")
        proc = subprocess.run([sys.executable, "-v", "-c", code], capture_output=True, text=True,
                              env=dict(os.environ, PYTHONPATH=src))
        lines[how] = [ln for ln in proc.stderr.splitlines()
                      if ln.startswith("# extension module 'mp_good'")]
    assert lines["extrun.ExtensionLoader"] == lines["importlib.machinery.ExtensionFileLoader"]
    assert lines["extrun.ExtensionLoader"] == [
        f"# extension module 'mp_good' loaded from {multiphase!r}",
        f"# extension module 'mp_good' executed from {multiphase!r}"]

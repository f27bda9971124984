"""Finding export hooks: names, punycode, dlopen failures, ELF listing."""

from __future__ import annotations

import os
import sys

import pytest

from extrun import definition as hooks
from extrun import names
from extrun import static as elf

from .conftest import outcome


@pytest.mark.parametrize(("name", "expected"), [
    ("spam", ("", "spam")),
    ("pkg.sub.spam", ("", "spam")),
    ("mp_grüße", ("U", "mp_gre_fta5u")),
    ("＿インポートテスト", ("U", "eckzbwbhc6jpgzcx415x")),  # CPython's own symbol
])
def test_encoded_name(name: str, expected: tuple[str, str]) -> None:
    assert names.encoded_name(name) == expected


def test_find_hook(multiphase: str) -> None:
    hook = hooks.find_hook("pkg.mp_good", multiphase)
    assert (hook.symbol, hook.kind, hook.name, hook.path) == (
        "PyInit_mp_good", "init", "pkg.mp_good", multiphase)
    assert hooks.find_hook("mp_grüße", multiphase).symbol == "PyInitU_mp_gre_fta5u"
    assert "PyInit_mp_good" in repr(hook)


def native_create(name: str, path: str) -> None:
    import _imp
    import importlib.machinery
    import importlib.util

    loader = importlib.machinery.ExtensionFileLoader(name, path)
    _imp.create_dynamic(importlib.util.spec_from_loader(name, loader))


@pytest.mark.parametrize("name", ["no_such_module", "pkg.no_such", "caf\xe9"])
def test_missing_hook_as_cpython(multiphase: str, name: str) -> None:
    with pytest.raises(ImportError) as info:
        hooks.find_hook(name, multiphase)
    assert (info.value.name, info.value.path) == (name, multiphase)
    assert outcome(hooks.find_hook, name, multiphase) == outcome(native_create, name, multiphase)


@pytest.mark.parametrize("kind", ["missing", "not_elf", "directory"])
def test_dlopen_failure_as_cpython(tmp_path: os.PathLike[str], kind: str) -> None:
    path = os.path.join(tmp_path, "broken.so")
    if kind == "not_elf":
        with open(path, "w") as f:
            f.write("not a library\n")
    elif kind == "directory":
        os.mkdir(path)
    with pytest.raises(ImportError) as info:
        hooks.find_hook("pkg.broken", path)
    assert info.value.path == path
    assert info.value.name == "broken"  # CPython names the short name here
    assert path in str(info.value)
    assert outcome(hooks.find_hook, "pkg.broken", path) == outcome(
        native_create, "pkg.broken", path)


def test_unreadable_library(tmp_path: os.PathLike[str], multiphase: str) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads any file")
    path = os.path.join(tmp_path, "locked.so")
    with open(multiphase, "rb") as src, open(path, "wb") as dst:
        dst.write(src.read())
    os.chmod(path, 0)
    with pytest.raises(ImportError, match="Permission denied"):
        hooks.find_hook("mp_good", path)


def test_relative_path_is_opened_as_a_path(multiphase: str, monkeypatch: pytest.MonkeyPatch
                                           ) -> None:
    monkeypatch.chdir(os.path.dirname(multiphase))
    assert hooks.find_hook("mp_plain", os.path.basename(multiphase)).symbol == "PyInit_mp_plain"


def test_bad_argument_types(multiphase: str) -> None:
    with pytest.raises(TypeError):
        hooks.find_hook(b"x", multiphase)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        hooks.find_hook("", multiphase)
    with pytest.raises(TypeError):
        hooks.find_hook("x", None)  # type: ignore[arg-type]


def test_exported_modules(multiphase: str, singlephase: str) -> None:
    names = elf.exported_modules(multiphase)
    assert {"mp_good", "y", "mp_grüße", "mp_plain", "mp_export_raise"} <= set(names)
    assert "PyInit_mp_good" in elf.exported_symbols(multiphase)
    assert "sp_grüße" in elf.exported_modules(singlephase)


def test_exported_modules_of_cpython_fixture(testmultiphase: str) -> None:
    names = elf.exported_modules(testmultiphase)
    assert {"_testmultiphase", "x", "_testmultiphase_zkouška_načtení",
            "＿インポートテスト"} <= set(names)


def test_exported_symbols_not_elf(tmp_path: os.PathLike[str]) -> None:
    path = os.path.join(tmp_path, "x.so")
    with open(path, "wb") as f:
        f.write(b"MZ not elf")
    with pytest.raises(ImportError, match="not an ELF library"):
        elf.exported_symbols(path)


@pytest.mark.skipif(sys.version_info < (3, 15), reason="PyModExport hooks are 3.15+")
def test_missing_hook_names_both_hooks_on_315(multiphase: str) -> None:
    with pytest.raises(ImportError, match=r"\(PyModExport_nope or PyInit_nope\)"):
        hooks.find_hook("nope", multiphase)

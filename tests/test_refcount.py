"""Reference counts stay stable across many load/exec cycles (needs a debug build)."""

from __future__ import annotations

import gc
import sys
import types

import pytest

from extrun.loader import ExtensionLoader, load

pytestmark = pytest.mark.skipif(not hasattr(sys, "gettotalrefcount"),
                                reason="needs a debug build (sys.gettotalrefcount)")


def cycles(path: str, n: int) -> None:
    loader = ExtensionLoader("mp_good", path)
    spec = types.SimpleNamespace(name="mp_good", origin=path)
    for _ in range(n):
        m = load(path, "mp_good", register=False)
        m.Counter().module_counter()
        target = types.ModuleType("t")
        loader.exec_in_module(spec, target)  # type: ignore[arg-type]
        del m, target
    gc.collect()


def test_total_refcount_stable(multiphase: str) -> None:
    cycles(multiphase, 50)  # warm caches (definitions, interned strings, type caches)
    before = sys.gettotalrefcount()  # type: ignore[attr-defined]
    cycles(multiphase, 1000)
    after = sys.gettotalrefcount()  # type: ignore[attr-defined]
    assert abs(after - before) < 50, (before, after)

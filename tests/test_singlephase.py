"""Single-phase modules load as natively; re-import follows CPython's extensions cache."""

from __future__ import annotations

import sys

import pytest

import extrun
from extrun.definition import SINGLE_PHASE
from extrun.loader import definition_for, load

from .conftest import native_load, outcome


def test_single_phase_loads(singlephase: str, clean_modules: None) -> None:
    m = load(singlephase, "sp_basic")
    assert m.__name__ == "sp_basic" and m.__file__ == singlephase
    assert m.__doc__ == "single-phase, m_size -1"
    assert sys.modules["sp_basic"] is m
    assert m.find_self() is m  # PyState_AddModule registered it, as CPython does
    assert definition_for("sp_basic", singlephase).kind == SINGLE_PHASE


def test_reimport_m_size_minus_one_copies_the_dict(singlephase: str, clean_modules: None
                                                   ) -> None:
    first = load(singlephase, "sp_basic")
    calls = first.init_calls()
    del sys.modules["sp_basic"]
    again = load(singlephase, "sp_basic")
    assert again is not first
    assert again.init_calls() == calls  # the hook did not run again
    assert again.init_number == first.init_number
    assert again.__file__ == singlephase
    assert again.find_self() is again


def test_reimport_m_size_zero_runs_the_hook_again(singlephase: str, clean_modules: None
                                                  ) -> None:
    first = load(singlephase, "sp_again")
    calls = first.init_calls()
    del sys.modules["sp_again"]
    again = load(singlephase, "sp_again")
    assert again is not first and again.init_calls() == calls + 1


def test_single_phase_submodule_name(singlephase: str, clean_modules: None) -> None:
    assert load(singlephase, "pkg.sp_again").__name__ == "pkg.sp_again"


@pytest.mark.parametrize("name", ["sp_nonmodule", "sp_nodef", "sp_raise", "sp_grüße"])
def test_bad_single_phase_as_cpython(singlephase: str, name: str, clean_modules: None) -> None:
    expected = outcome(native_load, singlephase, name)
    assert expected is not None
    sys.modules.pop(name, None)
    assert outcome(load, singlephase, name) == expected


SEQUENCE = """
import importlib.machinery, importlib.util, json, sys
import extrun
path, name, order = sys.argv[1], sys.argv[2], sys.argv[3]
seen = []
for who in order:
    loader = (extrun.ExtensionLoader if who == "e" else importlib.machinery.ExtensionFileLoader)(
        name, path)
    spec = importlib.util.spec_from_loader(name, loader)
    m = importlib.util.module_from_spec(spec)
    loader.exec_module(m)
    seen.append([m.init_calls(), m.init_number if hasattr(m, "init_number") else None,
                 m.find_self() is m if name == "sp_basic" else None])
    sys.modules.pop(name, None)
print(json.dumps(seen))
"""


@pytest.mark.parametrize("name", ["sp_basic", "sp_again"])
@pytest.mark.parametrize("order", ["nn", "ee", "ne", "en", "nen", "ene", "eenn"])
def test_any_sequence_of_loads_as_cpythons_cache(singlephase: str, name: str,
                                                 order: str) -> None:
    """Loads of one single-phase library through CPython's importer (n) and extrun (e), in any
    order, in a fresh process: what each load gives is what all-native loads give (how often
    the hook ran, the dict it copied, PyState's module), and nothing aborts."""
    import json
    import os
    import subprocess

    def run(sequence: str) -> object:
        proc = subprocess.run([sys.executable, "-c", SEQUENCE, singlephase, name, sequence],
                              capture_output=True, text=True, timeout=60,
                              env=dict(os.environ, PYTHONPATH=os.path.dirname(
                                  os.path.dirname(extrun.__file__))))
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout)

    assert run(order) == run("n" * len(order))

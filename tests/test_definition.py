"""Definitions: what a hook exported, read without running module code."""

from __future__ import annotations

import sys

import pytest

from extrun.definition import find_hook
from extrun.loader import definition_for
from extrun.names import MULTI_PHASE, SINGLE_PHASE, slot_name


def test_multi_phase_definition(multiphase: str) -> None:
    d = definition_for("mp_good", multiphase)
    assert d.kind == MULTI_PHASE and d.hook.symbol == "PyInit_mp_good"
    assert (d.m_name, d.doc, d.size) == ("mp_good", "A good multi-phase module.", 16)
    assert d.methods[0] == ("increment", 0x0004, "Increment the counter in the module state.")
    assert d.traverse and d.clear and d.free
    assert d.exec_count == 1 and not d.has_create and d.unknown_slots == []
    assert "mp_good" in repr(d) and d.module is None


def test_version_specific_slots(multiphase: str) -> None:
    d = definition_for("mp_good", multiphase)
    # the fixture declares each slot where its headers know it
    assert d.multiple_interpreters == (2 if sys.version_info >= (3, 12) else None)
    assert d.gil == (1 if sys.version_info >= (3, 13) else None)
    names = [s.name for s in d.slots]
    assert names[0] == "Py_mod_exec"


def test_reading_runs_no_module_code(multiphase: str) -> None:
    from extrun.definition import find_hook as fh
    from extrun.definition import read_definition

    d = read_definition(fh("mp_create", multiphase))  # a create slot that would set attributes
    assert d.has_create and d.exec_count == 1 and d.module is None


def test_unknown_slots_kept_as_numbers(multiphase: str) -> None:
    d = definition_for("mp_bad_slot_large", multiphase)
    assert d.unknown_slots == [0x7FFF]
    assert definition_for("mp_bad_slot_negative", multiphase).unknown_slots == [-1]
    assert "32767" in repr(d.slots[0])


@pytest.mark.parametrize(("slot_id", "version", "name"), [
    (1, (3, 11), "Py_mod_create"), (3, (3, 11), None), (3, (3, 12),
                                                         "Py_mod_multiple_interpreters"),
    (4, (3, 12), None), (4, (3, 13), "Py_mod_gil"), (84, (3, 14), None),
    (84, (3, 15), "Py_mod_create"), (110, (3, 15), "Py_mod_token"), (999, (3, 15), None),
])
def test_slot_names_by_version(slot_id: int, version: tuple[int, int], name: str | None) -> None:
    assert slot_name(slot_id, version) == name


def test_single_phase_definition_keeps_its_module(singlephase: str) -> None:
    from extrun.definition import read_definition

    d = read_definition(find_hook("sp_again", singlephase))
    assert d.kind == SINGLE_PHASE and d.module is not None and d.size == 0
    assert [m[0] for m in d.methods] == ["init_calls", "find_self"]

"""Many threads at once: loading, executing in existing modules and inspecting, and `import
extrun` racing itself. No crash, no corrupted state, bounded in time. Meant for the
free-threaded build (where the threads really run in parallel) and the debug build (which
checks reference counts and asserts), and run on every build."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import types

import pytest

import extrun
from extrun import inspection
from extrun.loader import ExtensionLoader, definition_for, load, spec_for

THREADS = 8
ROUNDS = 40
SRC = os.path.dirname(os.path.dirname(os.path.abspath(extrun.__file__)))


def _in_threads(work: object, seconds: float = 120) -> list[BaseException]:
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait()
            for round_ in range(ROUNDS):
                work(index, round_)  # type: ignore[operator]
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds)
    assert not any(t.is_alive() for t in threads), "threads still running: a deadlock?"
    return errors


def test_load_exec_inspect_at_once(multiphase: str, singlephase: str) -> None:
    def work(index: int, round_: int) -> None:
        kind = (index + round_) % 4
        if kind == 0:
            m = load(multiphase, "mp_good", register=False)
            assert m.increment() == 1 and m.Counter().module_counter() == 1
        elif kind == 1:
            loader = ExtensionLoader("mp_plain", multiphase)
            module = types.ModuleType("mp_plain")
            loader.exec_in_module(spec_for(loader), module)
            assert module.__name__ == "mp_plain"
        elif kind == 2:
            assert inspection.inspect_one(module="mp_good", path=multiphase)["status"] == "ok"
        else:
            d = definition_for("sp_basic", singlephase)
            assert d.kind == "single-phase"

    assert _in_threads(work) == []
    # the single-phase hook ran once, however many threads asked for it at once
    assert definition_for("sp_basic", singlephase) is definition_for("sp_basic", singlephase)


def test_static_reading_at_once(tmp_path: object, multiphase: str) -> None:
    """The static reader in many threads over more libraries than it keeps parsed (copies of
    one, each a file of its own): every record is the one a single thread makes."""
    import shutil
    from pathlib import Path

    from extrun.static import static_record

    copies = []
    for i in range(12):
        copy = Path(str(tmp_path)) / f"copy{i}" / os.path.basename(multiphase)
        copy.parent.mkdir()
        shutil.copyfile(multiphase, copy)
        copies.append(str(copy))
    expected = {k: v for k, v in static_record("mp_good", copies[0]).items() if k != "path"}

    def work(index: int, round_: int) -> None:
        r = static_record("mp_good", copies[(index * 7 + round_) % len(copies)])
        assert {k: v for k, v in r.items() if k != "path"} == expected, r

    assert _in_threads(work) == []


def test_import_extrun_racing_itself() -> None:
    code = textwrap.dedent(f"""
        import sys, threading
        barrier = threading.Barrier({THREADS})
        done = []
        def go():
            barrier.wait()
            import extrun.loader, extrun._capi
            done.append(extrun._capi.LAYOUT)
        threads = [threading.Thread(target=go) for _ in range({THREADS})]
        for t in threads: t.start()
        for t in threads: t.join(60)
        assert len(done) == {THREADS} and len(set(map(id, done))) == 1, done
        print("OK")
    """)
    for _ in range(5):
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              env=dict(os.environ, PYTHONPATH=SRC), timeout=120)
        assert proc.stdout.strip() == "OK", proc.stderr


@pytest.mark.skipif(not hasattr(sys, "_is_gil_enabled"), reason="sys._is_gil_enabled is 3.13+")
def test_threads_left_free_when_modules_declare_it(multiphase: str) -> None:
    """On a free-threaded build, modules that declare Py_mod_gil = Py_MOD_GIL_NOT_USED
    (mp_good does) leave the GIL off however many threads load them."""
    before = sys._is_gil_enabled()
    assert _in_threads(lambda i, r: load(multiphase, "mp_good", register=False)) == []
    assert sys._is_gil_enabled() == before

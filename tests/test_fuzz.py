"""Malformed libraries: truncated, bit-flipped and random versions of real ones.

The static reader makes a record of each (``ok`` or ``error`` with a one-line reason) and
never raises; the dynamic audit, whose workers load them for real, makes a record of each
(``crashed`` where a library takes its worker down) and goes on. Seeded and bounded.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from extrun.static import static_record, wheel

from .conftest import EXT_SUFFIX, build

SRC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src")


def variants(data: bytes, count: int, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    out = [data[:n] for n in (0, 1, 4, 5, 6, 16, 52, 63, 64, 65)]  # tiny: the ELF header
    while len(out) < count:
        kind = rng.randrange(3)
        if kind == 0:  # truncated anywhere
            out.append(data[:rng.randrange(len(data))])
        elif kind == 1:  # a few bits flipped, mostly in the headers and tables
            flipped = bytearray(data)
            for _ in range(rng.randint(1, 16)):
                pos = rng.randrange(min(len(data), 4096)) if rng.random() < 0.7 else \
                    rng.randrange(len(data))
                flipped[pos] ^= 1 << rng.randrange(8)
            out.append(bytes(flipped))
        else:  # random bytes that start like an ELF file
            out.append(data[:rng.choice((4, 6, 16, 64))] + rng.randbytes(rng.randrange(4096)))
    return out


@pytest.fixture(scope="module")
def real() -> list[bytes]:
    return [Path(build(name)).read_bytes() for name in ("multiphase", "singlephase")]


def test_static_reader_makes_a_record_of_every_malformed_library(real: list[bytes]) -> None:
    statuses = {"ok": 0, "error": 0}
    for i, data in enumerate(real):
        for variant in variants(data, 200, seed=i):
            r = static_record("mp_good", "fuzzed.so", variant)
            assert r["status"] in statuses, r
            assert "\n" not in str(r["reason"])
            statuses[str(r["status"])] += 1
    assert statuses["error"] > 0
    print(f"static reader, 400 variants: {statuses}")


def test_static_reader_on_files_and_wheels(tmp_path: Path, real: list[bytes]) -> None:
    for n, data in enumerate(variants(real[0], 40, seed=7)):
        path = tmp_path / f"f{n}{EXT_SUFFIX}"
        path.write_bytes(data)
        assert static_record("mp_good", str(path))["status"] in ("ok", "error")
    whl = tmp_path / "fuzz-1.0-cp311-cp311-linux_x86_64.whl"
    with zipfile.ZipFile(whl, "w") as z:
        for n, data in enumerate(variants(real[0], 20, seed=8)):
            z.writestr(f"fuzz/m{n}.cpython-311-x86_64-linux-gnu.so", data)
    records = wheel(str(whl))
    assert len(records) == 20 and {r["status"] for r in records} <= {"ok", "error"}
    (tmp_path / "broken.whl").write_bytes(whl.read_bytes()[:200])
    (record,) = wheel(str(tmp_path / "broken.whl"))
    assert record["status"] == "error" and "cannot read the wheel" in str(record["reason"])


def test_zip_member_claiming_gigabytes_is_not_read(tmp_path: Path) -> None:
    whl = tmp_path / "bomb-1.0-cp311-cp311-linux_x86_64.whl"
    with zipfile.ZipFile(whl, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("bomb.cpython-311-x86_64-linux-gnu.so", b"\0" * (1 << 20))
    raw = bytearray(whl.read_bytes())
    # the central directory's uncompressed size (offset 24 in its entry) now claims 3 GiB
    central = raw.rindex(b"PK\x01\x02")
    raw[central + 24:central + 28] = (3 << 30).to_bytes(4, "little")
    whl.write_bytes(bytes(raw))
    (record,) = wheel(str(whl))
    assert record["status"] == "error" and "more than extrun reads" in str(record["reason"])


def test_dynamic_audit_survives_malformed_libraries(tmp_path: Path, real: list[bytes]) -> None:
    for n, data in enumerate(variants(real[0], 40, seed=11)):
        (tmp_path / f"m{n}{EXT_SUFFIX}").write_bytes(data)
    proc = subprocess.run([sys.executable, "-m", "extrun", "audit", str(tmp_path), "--json",
                           "--jobs", "2", "--timeout", "20"], capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=SRC), timeout=300)
    assert proc.returncode == 0, proc.stderr
    records = json.loads(proc.stdout)["modules"]
    assert len(records) == 40
    assert {r["status"] for r in records} <= {"ok", "error", "crashed", "timeout"}


def test_abi3t_wheel_module_without_modexport_is_flagged(tmp_path: Path,
                                                         real: list[bytes]) -> None:
    """A module of an abi3t wheel (PEP 803) defined with a PyModuleDef, not PyModExport_*:
    flagged, as abi3t makes the object header a PyModuleDef needs opaque."""
    whl = tmp_path / "x-1.0-cp315-abi3t-manylinux_2_28_x86_64.whl"
    with zipfile.ZipFile(whl, "w") as z:
        z.writestr("mp_good.abi3t.so", real[0])
    (r,) = wheel(str(whl))
    assert r["status"] == "ok" and "not what abi3t asks: PEP 803" in str(r["reason"])


def test_a_big_library_is_not_read_whole(tmp_path: Path, real: list[bytes]) -> None:
    """A library on disk is memory-mapped: reading one of 100 MB (a real library, padded after
    its segments) adds far less than 100 MB to the reading process's peak memory."""
    big = tmp_path / f"mp_good{EXT_SUFFIX}"
    with open(big, "wb") as f:
        f.write(real[0])
        f.truncate(len(real[0]) + (100 << 20))
    code = ("import resource, sys; from extrun.static import static_record; "
            "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss; "
            "r = static_record('mp_good', sys.argv[1]); "
            "print(r['status'], resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)")
    proc = subprocess.run([sys.executable, "-c", code, str(big)], capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=SRC), timeout=120)
    status, grown_kib = proc.stdout.split()
    assert status == "ok", proc.stderr
    assert int(grown_kib) < 20 * 1024, f"{int(grown_kib) // 1024} MiB"


BIG_MODULE = r"""
#include <Python.h>
/* 96 MiB of read-only data the static reader searches through (for the module's name) */
__attribute__((used)) static const char table[96 << 20] = {1};
static int ex(PyObject *m) { return PyModule_AddIntConstant(m, "first", table[0]); }
static PyModuleDef_Slot slots[] = {{Py_mod_exec, ex}, {0, NULL}};
static PyModuleDef def = {PyModuleDef_HEAD_INIT, "bigmod", .m_slots = slots};
PyMODINIT_FUNC PyInit_bigmod(void) { return PyModuleDef_Init(&def); }
"""


def test_a_big_wheel_member_is_not_held_whole(tmp_path: Path) -> None:
    """A wheel member of ~100 MB (a library whose read-only data is a 96 MiB table), deflated
    in the wheel, is read in place: the reading process's peak memory grows far less than the
    member's size, though every byte of its data is searched."""
    import shlex
    import sysconfig

    source = tmp_path / "bigmod.c"
    source.write_text(BIG_MODULE)
    library = tmp_path / f"bigmod{EXT_SUFFIX}"
    cc = shlex.split(sysconfig.get_config_var("CC") or "cc")
    subprocess.run([*cc, "-shared", "-fPIC", "-O1", "-I", sysconfig.get_paths()["include"],
                    str(source), "-o", str(library)], check=True)
    assert library.stat().st_size > 96 << 20
    whl = tmp_path / "big-1.0-cp311-cp311-linux_x86_64.whl"
    with zipfile.ZipFile(whl, "w", zipfile.ZIP_DEFLATED) as z:
        z.write(library, library.name)
    library.unlink()
    code = ("import resource, sys; from extrun.static import wheel; "
            "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss; "
            "(r,) = wheel(sys.argv[1]); "
            "print(r['status'], r['free_threading'], "
            "resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)")
    proc = subprocess.run([sys.executable, "-c", code, str(whl)], capture_output=True,
                          text=True, env=dict(os.environ, PYTHONPATH=SRC), timeout=120)
    status, free_threading, grown_kib = proc.stdout.split()
    assert (status, free_threading) == ("ok", "False"), proc.stderr
    assert int(grown_kib) < 20 * 1024, f"{int(grown_kib) // 1024} MiB"

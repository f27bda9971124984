"""The static reader on real free-threaded wheels from PyPI (numpy, markupsafe, rpds-py, cp313t)
for manylinux x86_64 and aarch64 (ELF), win_amd64 and win_arm64 (PE) and macOS arm64 (Mach-O;
x86-64 and a universal file for markupsafe, which has them): every module gets a free-threading
verdict, read from its data without loading anything, the same on every platform, and on the
free-threaded 3.13t the same as the dynamic audit of the installed packages; malformed versions
of a real .pyd are error records. The wheels are fetched once into the fixture cache; without
the network (no PyPI) the tests skip."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from extrun import inspection
from extrun.static import _ELF, wheel, wheel_tags

from .conftest import CACHE

PROJECTS = {"numpy": "2.4.6", "markupsafe": "3.0.3", "rpds-py": "2026.5.1"}
PLATFORMS = {"x86_64": ("manylinux_2_28_x86_64", "manylinux_2_17_x86_64"),
             "aarch64": ("manylinux_2_28_aarch64", "manylinux_2_17_aarch64"),
             "win_amd64": ("win_amd64",),
             "macos_arm64": ("macosx_11_0_arm64", "macosx_14_0_arm64")}
FORMATS = {"x86_64": "ELF x86-64", "aarch64": "ELF aarch64", "win_amd64": "PE x86-64",
           "win_arm64": "PE aarch64", "macos_arm64": "Mach-O arm64",
           "macos_x86_64": "Mach-O x86-64"}


def _fetch(arch: str, platforms: tuple[str, ...], names: list[str]) -> list[Path]:
    """The cp313t wheels of the projects ``names`` for ``platforms``, fetched once into the
    fixture cache (skips without PyPI)."""
    where = CACHE / "wheels" / arch
    where.mkdir(parents=True, exist_ok=True)
    if len(list(where.glob("*.whl"))) < len(names):
        proc = subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", str(where),
             "--only-binary=:all:", "--python-version=3.13", "--abi=cp313t",
             *(f"--platform={p}" for p in platforms),
             *(f"{name}=={PROJECTS[name]}" for name in names)],
            capture_output=True, text=True, timeout=600)
        if proc.returncode:
            pytest.skip(f"cannot fetch the wheels: {proc.stderr.strip()[-200:]}")
    return sorted(where.glob("*.whl"))


@pytest.fixture(scope="module")
def wheels() -> dict[str, list[Path]]:
    return {arch: _fetch(arch, platforms, list(PROJECTS)) for arch, platforms in PLATFORMS.items()}


def _verdicts(paths: list[Path], arch: str = "x86_64") -> dict[str, bool | None]:
    verdicts = {}
    for path in paths:
        assert wheel_tags(str(path)) == ((3, 13), True)
        for r in wheel(str(path)):
            assert r["status"] == "ok" and r.get("format") == FORMATS[arch], r
            assert str(r["reason"]).startswith("read from its data"), r
            verdicts[str(r["module"])] = r["free_threading"]
    return verdicts


def test_every_module_gets_a_verdict_on_every_platform(wheels: dict[str, list[Path]]) -> None:
    by_platform = {arch: _verdicts(paths, arch) for arch, paths in wheels.items()}
    x86 = by_platform["x86_64"]
    assert x86 and all(v == x86 for v in by_platform.values()), by_platform
    assert None not in x86.values(), [m for m, v in x86.items() if v is None]
    print(f"static verdicts of {len(x86)} modules in {len(wheels['x86_64'])} cp313t wheels, "
          f"the same on {', '.join(by_platform)}")


@pytest.mark.parametrize(("platform", "suffix"), [("win_amd64", ".pyd"), ("macos_arm64", ".so")])
def test_malformed_libraries_are_error_records(wheels: dict[str, list[Path]], platform: str,
                                               suffix: str) -> None:
    """Truncated and bit-flipped versions of a real .pyd and Mach-O library: a record each,
    never an exception."""
    import random
    import zipfile

    from extrun.static import static_record

    (path,) = [p for p in wheels[platform] if p.name.startswith("markupsafe")]
    with zipfile.ZipFile(path) as z:
        member = next(n for n in z.namelist() if n.endswith(suffix))
        data = z.read(member)
    rng = random.Random(3)
    for n in range(150):
        if n % 2:
            variant = data[:rng.randrange(len(data))]
        else:
            flipped = bytearray(data)
            for _ in range(8):
                flipped[rng.randrange(min(len(data), 8192))] ^= 1 << rng.randrange(8)
            variant = bytes(flipped)
        r = static_record("markupsafe._speedups", "x" + suffix, variant)
        assert r["status"] in ("ok", "error") and "\n" not in str(r["reason"])


@pytest.mark.skipif("t" not in sys.abiflags or sys.version_info[:2] != (3, 13),
                    reason="the wheels are for the free-threaded 3.13")
def test_static_verdicts_are_the_dynamic_ones(wheels: dict[str, list[Path]]) -> None:
    """The installed packages (the same versions, from the same kind of wheels), inspected by
    loading them, give the verdicts read from the wheels."""
    import importlib.util

    static = _verdicts(wheels["x86_64"])
    items = []
    for module in static:
        try:
            spec = importlib.util.find_spec(module)
        except ImportError:
            spec = None
        if spec is not None and spec.origin:
            items.append({"module": module, "path": spec.origin})
    if not items:
        pytest.skip("numpy, markupsafe and rpds-py are not installed here")
    for r in inspection.inspect_all(items, jobs=2):
        assert r["status"] == "ok" and r["free_threading"] == static[str(r["module"])], r


def test_windows_arm64(wheels: dict[str, list[Path]]) -> None:
    """numpy's and markupsafe's win_arm64 cp313t wheels (rpds-py has none): every module read
    from its data (PE, arm64), with the verdicts of the other platforms."""
    arm = _verdicts(_fetch("win_arm64", ("win_arm64",), ["numpy", "markupsafe"]), "win_arm64")
    x86 = _verdicts([p for p in wheels["x86_64"] if not p.name.startswith("rpds")])
    assert len(arm) >= 20 and arm == x86, (arm, x86)


def test_macos_x86_64_and_universal(wheels: dict[str, list[Path]], tmp_path: Path) -> None:
    """markupsafe's macOS x86-64 wheel, and a universal file made of its arm64 and x86-64
    libraries (as universal2 wheels hold them): the same verdict, read from each slice."""
    import struct
    import zipfile

    from extrun.static import static_record

    intel_wheel = _fetch("macos_x86_64", ("macosx_10_13_x86_64",), ["markupsafe"])
    x86 = _verdicts(intel_wheel, "macos_x86_64")
    assert x86 == {"markupsafe._speedups": True}

    def library(path: Path) -> bytes:
        with zipfile.ZipFile(path) as z:
            return z.read(next(n for n in z.namelist() if n.endswith(".so")))

    arm = library(next(p for p in wheels["macos_arm64"] if p.name.startswith("markupsafe")))
    intel = library(intel_wheel[0])
    align = 1 << 14
    first = align
    second = -(-(first + len(arm)) // align) * align
    fat = bytearray(second + len(intel))
    fat[:8] = struct.pack(">II", 0xCAFEBABE, 2)
    fat[8:48] = struct.pack(">iiIII", 0x0100000C, 0, first, len(arm), 14) + struct.pack(
        ">iiIII", 0x01000007, 3, second, len(intel), 14)
    fat[first:first + len(arm)] = arm
    fat[second:] = intel
    r = static_record("markupsafe._speedups", "x.cpython-313t-darwin.so", bytes(fat),
                      (3, 13), True)
    assert r["format"] == "Mach-O universal (arm64, x86-64)", r
    assert str(r["reason"]).startswith("read from its data") and r["free_threading"] is True



def _pyelftools_view(data: bytes) -> tuple[object, ...]:
    """What pyelftools (the reference) reads of an ELF file: machine, class, byte order,
    PT_LOAD segments, dynamic symbols by extrun's rule, and sections (types as numbers)."""
    import io

    from elftools.elf.elffile import ELFFile
    from elftools.elf.enums import ENUM_E_MACHINE, ENUM_SH_TYPE_BASE

    numbers = {**ENUM_SH_TYPE_BASE, **ENUM_E_MACHINE}
    elf = ELFFile(io.BytesIO(data))
    segments = [(p["p_vaddr"], p["p_filesz"], p["p_memsz"], p["p_offset"])
                for p in elf.iter_segments() if p["p_type"] == "PT_LOAD"]
    defined, imported = [], []
    table = elf.get_section_by_name(".dynsym")
    for sym in table.iter_symbols() if table is not None else ():
        if not sym.name:
            continue
        if sym["st_shndx"] == "SHN_UNDEF":
            imported.append(sym.name)
        elif sym["st_info"]["type"] == "STT_FUNC":
            defined.append(sym.name)
    sections = [(numbers.get(s["sh_type"], s["sh_type"]), s["sh_flags"], s["sh_addr"],
                 s["sh_offset"], s["sh_size"], s["sh_link"], s["sh_entsize"])
                for s in elf.iter_sections()]
    return (numbers.get(elf["e_machine"], elf["e_machine"]), elf.elfclass, elf.little_endian,
            segments, defined, imported, sections)


def _extrun_view(data: bytes) -> tuple[object, ...]:
    from extrun.static import _symbols

    elf = _ELF(data)
    return (elf.machine, 64 if elf.wide else 32, elf.little, elf.segments, *_symbols(elf),
            elf.sections)


def _elf_libraries(wheels: dict[str, list[Path]] | None) -> dict[str, bytes]:
    """This interpreter's lib-dynload and the test fixtures; or the cached wheels' ELF members."""
    import _ctypes  # an extension module of every CPython: in lib-dynload
    import zipfile

    if wheels is None:
        return {str(p): p.read_bytes() for p in [
            *sorted(Path(_ctypes.__file__).parent.glob("*.so"))[:40],
            *sorted(CACHE.glob("*/*.so"))[:60]]}
    found = {}
    for arch in ("x86_64", "aarch64"):
        for path in wheels[arch]:
            with zipfile.ZipFile(path) as z:
                found.update({f"{path.name}!{n}": z.read(n) for n in z.namelist()
                              if n.endswith(".so")})
    return found


def test_elf_headers_are_pyelftools_ones(multiphase: str) -> None:
    """extrun's ELF header reader (struct, gABI layouts) against pyelftools on this interpreter's
    lib-dynload and the test fixtures: the same machine, class, byte order, sections, loadable
    segments and dynamic symbols."""
    import struct

    libraries = {multiphase: Path(multiphase).read_bytes(), **_elf_libraries(None)}
    assert len(libraries) > 20
    # and one whose section count is in section 0 (e_shnum 0: the gABI's extended numbering)
    data = bytearray(next(iter(libraries.values())))
    shoff, shnum = struct.unpack_from("<Q", data, 0x28)[0], struct.unpack_from("<H", data, 0x3C)[0]
    struct.pack_into("<H", data, 0x3C, 0)
    struct.pack_into("<Q", data, shoff + 32, shnum)  # section 0's sh_size
    libraries["extended numbering"] = bytes(data)
    for where, data in libraries.items():
        assert _extrun_view(data) == _pyelftools_view(data), where
    assert len(_ELF(libraries["extended numbering"]).sections) == shnum


def test_elf_headers_of_wheels_are_pyelftools_ones(wheels: dict[str, list[Path]]) -> None:
    """The same for every ELF library of the cached x86_64 and aarch64 wheels."""
    libraries = _elf_libraries(wheels)
    assert len(libraries) >= 10
    for where, data in libraries.items():
        assert _extrun_view(data) == _pyelftools_view(data), where

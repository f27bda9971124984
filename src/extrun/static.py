"""The static reader: what a library declares, read from its bytes; nothing of it is loaded
or run. It reads ELF dynamic symbols, so it works on wheels that are not installed (read member
by member, in memory) and on other Python versions' libraries: the init kind is inferred from
the C-API functions a library imports (``PyModuleDef_Init``: multi-phase, ``PyModule_Create2``:
single-phase, a ``PyModExport_*`` hook: a 3.15 slot array). Malformed input (truncated,
foreign or hostile files and wheels) is an ``error`` record with a one-line reason.

Also used to list the modules one library defines (PEP 489's "multiple modules in one
library").
"""

from __future__ import annotations

import os
import struct

from .inspection import record, verdicts
from .names import MULTI_PHASE, SINGLE_PHASE, SLOTS, hook_symbols

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .inspection import Record

__all__ = ["dynamic_symbols", "exported_modules", "exported_symbols", "static_record", "wheel"]


def exported_symbols(path: str) -> list[str]:
    """Names of the functions an ELF library defines in its dynamic symbol table."""
    return dynamic_symbols(path)[0]


def dynamic_symbols(path: str, data: bytes | None = None) -> tuple[list[str], list[str]]:
    """(functions the ELF library defines, symbols it imports) from its dynamic symbol table.

    ``data``: the file's bytes, when they do not come from ``path`` (a wheel member).
    """
    if data is None:
        with open(path, "rb") as f:
            data = f.read()
    if data[:4] != b"\x7fELF":
        raise ImportError(f"{path}: not an ELF library", path=path)
    wide, order = data[4] == 2, "<" if data[5] == 1 else ">"
    if wide:
        shoff, = struct.unpack_from(order + "Q", data, 0x28)
        shentsize, shnum = struct.unpack_from(order + "HH", data, 0x3A)
        sh_fmt, sym_fmt = order + "IIQQQQIIQQ", order + "IBBHQQ"
    else:
        shoff, = struct.unpack_from(order + "I", data, 0x20)
        shentsize, shnum = struct.unpack_from(order + "HH", data, 0x2E)
        sh_fmt, sym_fmt = order + "IIIIIIIIII", order + "IIIBBH"
    sections = [struct.unpack_from(sh_fmt, data, shoff + i * shentsize) for i in range(shnum)]
    names: list[str] = []
    imported: list[str] = []
    for sh in sections:
        if sh[1] != 11:  # SHT_DYNSYM
            continue
        offset, size, link, entsize = sh[4], sh[5], sh[6], sh[9]
        strtab = sections[link][4]
        for pos in range(offset, offset + size, entsize):
            sym = struct.unpack_from(sym_fmt, data, pos)
            st_name, st_info, st_shndx = (sym[0], sym[1], sym[3]) if wide else (
                sym[0], sym[3], sym[5])
            if not st_name:
                continue
            end = data.index(b"\0", strtab + st_name)
            name = data[strtab + st_name:end].decode("utf-8", "replace")
            if st_shndx == 0:  # undefined: resolved against the interpreter or other libraries
                imported.append(name)
            elif st_info & 0xF == 2:  # STT_FUNC
                names.append(name)
    return names, imported


def exported_modules(path: str) -> list[str]:
    """The module names whose export hooks (PyInit_/PyInitU_/PyModExport_...) ``path`` defines."""
    from .names import module_of_hook

    found: dict[str, None] = {}
    for symbol in exported_symbols(path):
        name = module_of_hook(symbol)
        if name:
            found[name] = None
    return list(found)


def static_record(module: str, path: str, data: bytes | None = None) -> Record:
    """What a library's symbols say, without loading it (``data``: its bytes, for a wheel)."""
    r = record(module, path)
    r["inferred"] = True
    try:
        defined, imported = dynamic_symbols(path, data)
    except (OSError, ImportError) as exc:
        r.update({"status": "error", "reason": f"cannot read its symbols: {exc}"})
        return r
    except Exception as exc:
        r.update({"status": "error", "reason": f"cannot read its symbols: malformed ELF file "
                 f"({type(exc).__name__}: {exc})".replace("\n", " ")})
        return r
    (export, _), (init, _) = hook_symbols(module, export=True)
    if export in defined:
        r.update({"kind": SLOTS, "hook": export})
    elif init in defined:
        r["hook"] = init
        multi, single = "PyModuleDef_Init" in imported, "PyModule_Create2" in imported
        if multi != single:
            r["kind"] = MULTI_PHASE if multi else SINGLE_PHASE
    else:
        r.update({"status": "error", "reason": f"defines no export hook for {module}"})
        return r
    if r["kind"] is None:
        r["reason"] = ("the library imports both PyModuleDef_Init and PyModule_Create2: its "
                       "modules may be of both kinds" if r["hook"] and "PyModuleDef_Init" in
                       imported else "its symbols do not tell its init kind")
        return r
    sets_gil = "PyUnstable_Module_SetGIL" in imported
    main, sub, ft, reasons = verdicts(r["kind"], None, None, sets_gil)
    if r["kind"] != SINGLE_PHASE:  # slot values are data: unknown without loading it
        sub = ft = None
        reasons = ["its slots are data: inspect it without --static for subinterpreter and "
                   "free-threading support"]
    r.update({"runnable_as_main": main, "subinterpreters": sub, "free_threading": ft,
             "reason": "; ".join(["inferred from the C-API functions it imports", *reasons])})
    return r


_MAX_MEMBER = 1 << 30  # a wheel member claiming more is not read (a zip bomb, or no library)


def wheel(path: str) -> list[Record]:
    """Static records of every extension module in a wheel file (any Python version's)."""
    import zipfile

    name, _, rest = os.path.basename(path).partition("-")
    version = rest.partition("-")[0]
    records = []
    try:
        z = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile, ValueError) as exc:
        r = record(name, path)
        r.update({"status": "error", "inferred": True, "reason": f"cannot read the wheel: {exc}",
                 "location": path, "distribution": name, "version": version})
        return [r]
    with z:
        for info in sorted(z.infolist(), key=lambda i: i.filename):
            member = info.filename
            base = member.rsplit("/", 1)[-1]
            if not (base.endswith((".so", ".pyd")) and ".data/" not in member):
                continue
            stem = base.split(".", 1)[0]
            package = member.split("/")[:-1]
            module = ".".join([*package, stem])
            if not all(p.isidentifier() for p in module.split(".")):
                continue
            where = f"{path}!{member}"
            if info.file_size > _MAX_MEMBER:
                r = record(module, where, "error", f"the wheel says it holds {info.file_size} "
                           f"bytes, more than extrun reads ({_MAX_MEMBER})", inferred=True)
            else:
                try:
                    r = static_record(module, where, z.read(member))
                except Exception as exc:  # a corrupt member of a hostile wheel
                    r = record(module, where, "error", "cannot read it from the wheel: "
                               f"{type(exc).__name__}: {exc}", inferred=True)
            r.update({"location": path, "distribution": name, "version": version})
            records.append(r)
    return records

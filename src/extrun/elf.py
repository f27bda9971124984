"""What a library exports, read from the file: nothing of the library is loaded or run.

Used to list the modules one library defines (PEP 489's "multiple modules in one library"), and
for inspecting libraries that must not, or cannot, be loaded here.
"""

from __future__ import annotations

import struct

__all__ = ["dynamic_symbols", "exported_modules", "exported_symbols"]


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

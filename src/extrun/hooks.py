"""Find a module's export hook in its library, as CPython's ``importdl.c`` does.

The hook's name comes from the last component of the module name: ``PyInit_<name>`` for ASCII
names, ``PyInitU_<punycode>`` (hyphens to underscores) otherwise (PEP 489). On 3.15+
``PyModExport_<name>`` / ``PyModExportU_<punycode>`` (PEP 793) is looked up first and preferred.
"""

from __future__ import annotations

import os

from . import _capi

__all__ = ["Hook", "encoded_name", "find_hook", "open_library"]


class Hook:
    """An export hook found in a library: its symbol, address and kind (``init``/``export``)."""

    __slots__ = ("address", "kind", "name", "path", "symbol")

    def __init__(self, name: str, path: str, symbol: str, address: int, kind: str) -> None:
        self.name = name  # the module's full name
        self.path = path
        self.symbol = symbol  # e.g. "PyInit_spam"
        self.address = address
        self.kind = kind  # "init": PyInit_* (PEP 489), "export": PyModExport_* (PEP 793)

    def __repr__(self) -> str:
        return f"<Hook {self.symbol} in {self.path!r}>"


def encoded_name(name: str) -> tuple[str, str]:
    """(suffix for the ASCII prefix or "U" for the punycode one, encoded short name)."""
    short = name.rpartition(".")[2]
    try:
        encoded = short.encode("ascii")
        unicode = ""
    except UnicodeEncodeError:
        encoded = short.encode("punycode")
        unicode = "U"
    return unicode, encoded.replace(b"-", b"_").decode("ascii")


_libraries: dict[str, int] = {}


def open_library(name: str, path: str) -> int:
    """dlopen ``path`` with the interpreter's flags (``sys.getdlopenflags()``), as CPython does.

    Failure is CPython's: ``ImportError(<dlerror text>, name=<short name>, path=path)``.
    Libraries are never closed, as CPython never closes an extension's library. Returns the
    library's handle.
    """
    handle = _libraries.get(path)
    if handle is None:
        try:
            handle = _capi.dlopen(path if os.sep in path else "." + os.sep + path)
        except OSError as exc:
            raise ImportError(str(exc), name=name.rpartition(".")[2], path=path) from None
        _libraries[path] = handle
    return handle


def find_hook(name: str, path: str) -> Hook:
    """The export hook of module ``name`` in the library at ``path``; ImportError if none."""
    if not isinstance(name, str) or not name:
        raise TypeError("module name must be a non-empty string")
    if not isinstance(path, str):
        raise TypeError("module filename must be a string")
    handle = open_library(name, path)
    u, short = encoded_name(name)
    candidates = [(f"PyInit{u}_{short}", "init")]
    if _capi.HAS_SLOTS_API:
        candidates.insert(0, (f"PyModExport{u}_{short}", "export"))
    for symbol, kind in candidates:
        address = _capi.dlsym(handle, symbol)
        if address:
            return Hook(name, path, symbol, address, kind)
    wanted = " or ".join(s for s, _ in candidates)
    raise ImportError(f"dynamic module does not define module export function ({wanted})",
                      name=name, path=path)


def exported_symbols(path: str) -> list[str]:
    """Names of the functions an ELF library defines in its dynamic symbol table.

    Reads the file only: nothing of the library is loaded or run.
    """
    import struct

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
    names = []
    for sh in sections:
        if sh[1] != 11:  # SHT_DYNSYM
            continue
        offset, size, link, entsize = sh[4], sh[5], sh[6], sh[9]
        strtab = sections[link][4]
        for pos in range(offset, offset + size, entsize):
            sym = struct.unpack_from(sym_fmt, data, pos)
            st_name, st_info, st_shndx = (sym[0], sym[1], sym[3]) if wide else (
                sym[0], sym[3], sym[5])
            if st_shndx == 0 or st_info & 0xF != 2:  # undefined, or not STT_FUNC
                continue
            end = data.index(b"\0", strtab + st_name)
            names.append(data[strtab + st_name:end].decode("utf-8", "replace"))
    return names


def exported_modules(path: str) -> list[str]:
    """The module names whose export hooks (PyInit_/PyInitU_/PyModExport_...) ``path`` defines."""
    found: dict[str, None] = {}
    for symbol in exported_symbols(path):
        prefix, _, encoded = symbol.partition("_")
        if prefix in ("PyInit", "PyModExport") and encoded:
            found[encoded] = None
        elif prefix in ("PyInitU", "PyModExportU") and encoded:
            basic, delimiter, deltas = encoded.rpartition("_")  # only the last "-" was replaced
            punycode = f"{basic}-{deltas}" if delimiter else encoded
            found[punycode.encode("ascii").decode("punycode")] = None
    return list(found)

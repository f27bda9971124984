"""Find a module's export hook in its library, as CPython's ``importdl.c`` does.

The hook's name comes from the last component of the module name: ``PyInit_<name>`` for ASCII
names, ``PyInitU_<punycode>`` (hyphens to underscores) otherwise (PEP 489). On 3.15+
``PyModExport_<name>`` / ``PyModExportU_<punycode>`` (PEP 793) is looked up first and preferred.
"""


import os

from .names import hook_symbols

__all__ = ["Hook", "find_hook", "open_library"]


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


_libraries: dict[str, int] = {}


def open_library(name: str, path: str) -> int:
    """dlopen ``path`` with the interpreter's flags (``sys.getdlopenflags()``), as CPython does.

    Failure is CPython's: ``ImportError(<dlerror text>, name=<short name>, path=path)``.
    Libraries are never closed, as CPython never closes an extension's library. Returns the
    library's handle.
    """
    from . import _capi

    handle = _libraries.get(path)
    if handle is None:
        try:
            handle = _capi.dlopen(path if os.sep in path else "." + os.sep + path)
        except OSError as exc:
            raise ImportError(str(exc), name=name.rpartition(".")[2], path=path) from None
        _libraries[path] = handle
    return handle


def find_hook(name: str, path: str) -> "Hook":
    """The export hook of module ``name`` in the library at ``path``; ImportError if none."""
    if not isinstance(name, str) or not name:
        raise TypeError("module name must be a non-empty string")
    if not isinstance(path, str):
        raise TypeError("module filename must be a string")
    from . import _capi

    handle = open_library(name, path)
    candidates = hook_symbols(name, export=_capi.HAS_SLOTS_API)
    for symbol, kind in candidates:
        address = _capi.dlsym(handle, symbol)
        if address:
            return Hook(name, path, symbol, address, kind)
    wanted = " or ".join(s for s, _ in candidates)
    raise ImportError(f"dynamic module does not define module export function ({wanted})",
                      name=name, path=path)

"""Find a module's export hook in its library, as CPython's ``importdl.c`` does.

The hook's name comes from the last component of the module name: ``PyInit_<name>`` for ASCII
names, ``PyInitU_<punycode>`` (hyphens to underscores) otherwise (PEP 489). On 3.15+
``PyModExport_<name>`` / ``PyModExportU_<punycode>`` (PEP 793) is looked up first and preferred.
"""


import os

__all__ = ["Hook", "encoded_name", "extension_suffixes", "find_hook", "module_name_from_path",
           "open_library"]


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


def extension_suffixes() -> tuple[str, ...]:
    """This interpreter's extension module suffixes, longest first (the first that matches)."""
    import importlib.machinery as machinery  # see loader.py

    return tuple(sorted(machinery.EXTENSION_SUFFIXES, key=len, reverse=True))


def module_name_from_path(path: str) -> str:
    """``spam`` for ``.../spam.cpython-311-x86_64-linux-gnu.so`` (any extension suffix)."""
    base = os.path.basename(path)
    for suffix in extension_suffixes():
        if base.endswith(suffix):
            return base[: -len(suffix)]
    return base.partition(".")[0]


# The names above need no ctypes (`extrun inspect --static`, audits); finding a hook does.

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

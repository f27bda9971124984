"""What CPython calls things, in one place and without ctypes: init kinds, module slot ids (both
numberings), export-hook symbols, module names from library paths, and whether a command-line
target is a path or a module name.

Imported by the loader's ``definition``, the C-API layer's probe, inspection, the audit and the
static reader alike; importing it loads nothing beyond ``os`` (``extension_suffixes`` imports
``importlib.machinery`` when first called).
"""

import os

__all__ = [
    "MULTI_PHASE", "SINGLE_PHASE", "SLOTS", "SLOT_IDS", "encoded_name", "extension_suffixes",
    "hook_symbols", "is_path", "module_name_from_path", "module_of_hook", "slot_name",
]

# What an export hook gives: a PyModuleDef (PEP 489), a module it initialised itself, or a 3.15
# PySlot array (PEP 793).
MULTI_PHASE = "multi-phase"
SINGLE_PHASE = "single-phase"
SLOTS = "slots"

# Module slot ids, by the version that introduced them. 3.15 renumbered them (PEP 820:
# Include/slots_generated.h) and accepts both numberings for Py_mod_create .. Py_mod_gil.
_SLOTS: dict[int, tuple[tuple[int, int], str]] = {
    1: ((3, 5), "Py_mod_create"),
    2: ((3, 5), "Py_mod_exec"),
    3: ((3, 12), "Py_mod_multiple_interpreters"),
    4: ((3, 13), "Py_mod_gil"),
    84: ((3, 15), "Py_mod_create"),
    85: ((3, 15), "Py_mod_exec"),
    86: ((3, 15), "Py_mod_multiple_interpreters"),
    87: ((3, 15), "Py_mod_gil"),
    92: ((3, 15), "Py_slot_subslots"),
    94: ((3, 15), "Py_mod_slots"),
    100: ((3, 15), "Py_mod_name"),
    101: ((3, 15), "Py_mod_doc"),
    102: ((3, 15), "Py_mod_state_size"),
    103: ((3, 15), "Py_mod_methods"),
    104: ((3, 15), "Py_mod_state_traverse"),
    105: ((3, 15), "Py_mod_state_clear"),
    106: ((3, 15), "Py_mod_state_free"),
    109: ((3, 15), "Py_mod_abi"),
    110: ((3, 15), "Py_mod_token"),
}
# name -> id, in the 3.15 numbering where a slot has two (what a 3.15 PySlot array holds)
SLOT_IDS: dict[str, int] = {name: slot_id for slot_id, (_, name) in sorted(_SLOTS.items())}


def slot_name(slot_id: int, version: tuple[int, ...]) -> str | None:
    """The slot's name if CPython ``version`` knows the id, else None (unknown)."""
    known = _SLOTS.get(slot_id)
    return known[1] if known is not None and tuple(version[:2]) >= known[0] else None


# --- export hooks -----------------------------------------------------------------------------


def encoded_name(name: str) -> tuple[str, str]:
    """("" for an ASCII last component, else "U"; that component as the hook spells it):
    ``PyInit_<name>``, or ``PyInitU_<punycode>`` with hyphens made underscores (PEP 489)."""
    short = name.rpartition(".")[2]
    try:
        encoded = short.encode("ascii")
        unicode = ""
    except UnicodeEncodeError:
        encoded = short.encode("punycode")
        unicode = "U"
    return unicode, encoded.replace(b"-", b"_").decode("ascii")


def hook_symbols(name: str, export: bool) -> list[tuple[str, str]]:
    """(symbol, kind) of module ``name``'s export hooks in the order CPython looks them up:
    3.15's ``PyModExport_*`` (kind "export", PEP 793) first where ``export``, then ``PyInit_*``
    (kind "init")."""
    u, short = encoded_name(name)
    init = [(f"PyInit{u}_{short}", "init")]
    return [(f"PyModExport{u}_{short}", "export"), *init] if export else init


def module_of_hook(symbol: str) -> str | None:
    """The module name an export-hook symbol names (``PyInit_spam`` -> ``spam``), or None."""
    prefix, _, encoded = symbol.partition("_")
    if not encoded:
        return None
    if prefix in ("PyInit", "PyModExport"):
        return encoded
    if prefix in ("PyInitU", "PyModExportU"):
        basic, delimiter, deltas = encoded.rpartition("_")  # only the last "-" was replaced
        try:
            return (f"{basic}-{deltas}" if delimiter else encoded).encode("ascii").decode(
                "punycode")
        except UnicodeError:
            return None
    return None


# --- libraries and targets --------------------------------------------------------------------


def extension_suffixes() -> tuple[str, ...]:
    """This interpreter's extension module suffixes, longest first (the first that matches)."""
    # `import ... as`, not `from importlib.machinery import`: on 3.15 the latter probes
    # importlib.machinery.__path__, whose module __getattr__ imports warnings
    import importlib.machinery as machinery

    return tuple(sorted(machinery.EXTENSION_SUFFIXES, key=len, reverse=True))


def module_name_from_path(path: str) -> str:
    """``spam`` for ``.../spam.cpython-311-x86_64-linux-gnu.so`` (any extension suffix)."""
    base = os.path.basename(path)
    for suffix in extension_suffixes():
        if base.endswith(suffix):
            return base[: -len(suffix)]
    return base.partition(".")[0]


# what python itself runs as a file, and what extension libraries are called on any platform
_FILE_SUFFIXES = (".py", ".pyc", ".pyw", ".pyz", ".zip", ".so", ".pyd")


def is_path(target: str) -> bool:
    """Whether a command-line target names a file or directory rather than a module: it exists,
    has a path separator, or is named like a file; a dotted name of identifiers is a module."""
    if os.path.exists(target) or os.sep in target or (os.altsep and os.altsep in target):
        return True
    if target.endswith((*_FILE_SUFFIXES, *extension_suffixes())):
        return True
    return not all(part.isidentifier() for part in target.split("."))

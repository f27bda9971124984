"""An export hook and what it exported: a multi-phase definition, a single-phase module, or
slots.

The hook is found as CPython's ``importdl.c`` finds it: its name comes from the last component
of the module name, ``PyInit_<name>`` for ASCII names, ``PyInitU_<punycode>`` (hyphens to
underscores) otherwise (PEP 489); on 3.15+ ``PyModExport_<name>`` / ``PyModExportU_<punycode>``
(PEP 793) is looked up first and preferred. (Finding a hook and reading what it returns live in
one module: each module on the run path costs start-up time, see benchmarks/README.md.)

Reading a multi-phase definition (PEP 489) or a 3.15 slot array (PEP 793) runs no module code
beyond the hook itself. A single-phase hook *is* the module's initialisation: the module it
returns is kept on the definition so that it is never initialised twice.

The checks on the hook's result, and their messages, are those of CPython's
``_PyImport_RunModInitFunc`` (``Python/importdl.c``).
"""


import os
import types

from . import _capi
from .names import MULTI_PHASE, SINGLE_PHASE, SLOTS, encoded_name, hook_symbols, slot_name

__all__ = ["MULTI_PHASE", "SINGLE_PHASE", "SLOTS", "Definition", "Hook", "Slot", "find_hook",
           "open_library", "read_definition"]


# --- export hooks -----------------------------------------------------------------------------


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
    handle = open_library(name, path)
    candidates = hook_symbols(name, export=_capi.HAS_SLOTS_API)
    for symbol, kind in candidates:
        address = _capi.dlsym(handle, symbol)
        if address:
            return Hook(name, path, symbol, address, kind)
    wanted = " or ".join(s for s, _ in candidates)
    raise ImportError(f"dynamic module does not define module export function ({wanted})",
                      name=name, path=path)


# --- what a hook exported ---------------------------------------------------------------------


class Slot:
    """One slot: its id, its name (None where this interpreter does not know the id), value."""

    __slots__ = ("flags", "id", "name", "value")

    def __init__(self, slot_id: int, value: int, flags: int = 0) -> None:
        self.id = slot_id
        self.name = slot_name(slot_id, _capi.VERSION)
        self.value = value
        self.flags = flags  # PySlot flags (3.15 slot arrays only)

    def __repr__(self) -> str:
        return f"Slot({self.name or self.id}, {self.value:#x})"


class Definition:
    """What a module's export hook returned, read without executing the module."""

    __slots__ = (
        "address",
        "clear",
        "doc",
        "free",
        "hook",
        "kind",
        "m_name",
        "methods",
        "methods_address",
        "module",
        "size",
        "slots",
        "traverse",
    )

    def __init__(self, hook: Hook, kind: str, address: int) -> None:
        self.hook = hook
        self.kind = kind  # MULTI_PHASE, SINGLE_PHASE or SLOTS
        self.address = address  # the PyModuleDef (or, for SLOTS, the PySlot array)
        self.module: types.ModuleType | None = None  # single-phase: the module the hook made
        self.m_name: str | None = None
        self.doc: str | None = None
        self.size = 0
        self.methods: list[tuple[str, int, str | None]] = []
        self.methods_address = 0  # the PyMethodDef array, for PyModule_AddFunctions
        self.slots: list[Slot] = []
        self.traverse = self.clear = self.free = False

    @property
    def name(self) -> str:
        return self.hook.name

    @property
    def path(self) -> str:
        return self.hook.path

    def _values(self, name: str) -> list[int]:
        return [s.value for s in self.slots if s.name == name]

    @property
    def has_create(self) -> bool:
        return bool(self._values("Py_mod_create"))

    @property
    def exec_count(self) -> int:
        return len(self._values("Py_mod_exec"))

    @property
    def multiple_interpreters(self) -> int | None:
        """The ``Py_mod_multiple_interpreters`` value (0 not supported, 1 supported, 2 own GIL)."""
        values = self._values("Py_mod_multiple_interpreters")
        return values[0] if values else None

    @property
    def gil(self) -> int | None:
        """The ``Py_mod_gil`` value (0 ``Py_MOD_GIL_USED``, 1 ``Py_MOD_GIL_NOT_USED``)."""
        values = self._values("Py_mod_gil")
        return values[0] if values else None

    @property
    def unknown_slots(self) -> list[int]:
        return [s.id for s in self.slots if s.name is None]

    def __repr__(self) -> str:
        return f"<Definition {self.kind} {self.name!r} from {self.path!r}>"


def read_definition(hook: Hook) -> "Definition":
    """Call the hook and describe what it returned, raising as CPython's loader does."""
    try:
        result = _capi.call_hook(hook.address)
    except BaseException as exc:
        _raise_as_cpython(hook, exc)
        raise
    unicode, short = encoded_name(hook.name)
    if hook.kind == "export":
        if not result:
            raise SystemError(f"module export hook for module {hook.name!r} failed "
                              "without setting an exception")
        return _from_pyslots(hook, result)
    if not result:
        raise SystemError(f"initialization of {short} failed without raising an exception")
    tp = _capi.type_address(result)
    if tp == 0:
        raise SystemError(f"init function of {short} returned uninitialized object")
    if tp == _capi.MODULEDEF_TYPE:
        return _from_moduledef(hook, result)
    if unicode:
        raise SystemError(f"initialization of {short} did not return PyModuleDef")
    return _from_singlephase(hook, result, short)


def _raise_as_cpython(hook: Hook, exc: BaseException) -> None:
    """The hook left an exception set. CPython raises it as is if the hook returned NULL, and
    ``SystemError("... raised unreported exception")`` from it if the hook returned a value;
    ctypes drops the value in both cases, so only CPython's importer can tell them apart. It
    is asked (``_imp.create_dynamic``, which calls the hook again and checks its result itself):
    if it says "unreported", that is raised; otherwise (the hook returned NULL, or it failed
    or succeeded differently the second time) the first exception goes on. Only a hook that
    already failed is ever called twice."""
    if not isinstance(exc, Exception):
        return  # KeyboardInterrupt, SystemExit: nothing to learn
    import _imp
    import importlib.machinery as machinery

    spec = machinery.ModuleSpec(hook.name, None, origin=hook.path)
    try:
        module = _imp.create_dynamic(spec)
    except SystemError as native:
        if "raised unreported exception" in str(native):
            raise native from native.__cause__  # CPython's own (3.11: no cause; 3.12+: exc)
    except BaseException:
        return
    else:
        del module  # a hook that failed once and then did not: the first failure stands


def _fill_from_moduledef(d: "Definition", address: int) -> int:
    """Fill ``d`` from the PyModuleDef at ``address``; returns its m_slots pointer."""
    raw = _capi.read_moduledef(address)
    d.m_name = raw.m_name.decode("utf-8", "replace") if raw.m_name else None
    d.doc = raw.m_doc.decode("utf-8", "replace") if raw.m_doc is not None else None
    d.size = raw.m_size
    d.methods_address = raw.m_methods or 0
    d.methods = _capi.read_methods(d.methods_address)
    d.traverse, d.clear, d.free = bool(raw.m_traverse), bool(raw.m_clear), bool(raw.m_free)
    return raw.m_slots or 0


def _from_moduledef(hook: Hook, address: int) -> "Definition":
    d = Definition(hook, MULTI_PHASE, address)
    d.slots = [Slot(i, v) for i, v in _capi.read_def_slots(_fill_from_moduledef(d, address))]
    return d


def _from_singlephase(hook: Hook, address: int, short: str) -> "Definition":
    module = _capi._steal(address, hook.symbol)  # the hook gave us a new reference
    if not isinstance(module, types.ModuleType):
        raise SystemError(f"initialization of {short} did not return an extension module")
    def_address = _capi.module_get_def(module)
    if not def_address:
        valid = "a valid" if _capi.VERSION >= (3, 13) else "an"  # 3.13 reworded it
        raise SystemError(f"initialization of {short} did not return {valid} extension module")
    d = Definition(hook, SINGLE_PHASE, def_address)
    _fill_from_moduledef(d, def_address)
    d.module = module
    return d


def _from_pyslots(hook: Hook, address: int) -> "Definition":
    d = Definition(hook, SLOTS, address)
    d.slots = [Slot(i, v, f) for i, f, v in _capi.read_pyslots(address)]
    for s in d.slots:
        if s.name == "Py_mod_name":
            d.m_name = _capi.c_string(s.value)
        elif s.name == "Py_mod_doc":
            d.doc = _capi.c_string(s.value)
        elif s.name == "Py_mod_state_size":
            d.size = s.value
        elif s.name == "Py_mod_methods":
            d.methods_address = s.value
            d.methods = _capi.read_methods(s.value)
        elif s.name in ("Py_mod_state_traverse", "Py_mod_state_clear", "Py_mod_state_free"):
            setattr(d, s.name.rpartition("_")[2], bool(s.value))
    return d

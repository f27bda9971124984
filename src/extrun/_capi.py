"""The only ctypes in extrun: C-API prototypes, struct views and the module object layout.

Everything that touches raw memory is here so that it can be audited in one place.

Ownership rules used throughout:
- C functions returning a *new* reference are declared ``c_void_p`` and turned into Python
  objects with :func:`_steal`, which takes over that reference explicitly.
- Objects are passed to C functions as their address (``id()``), declared ``c_void_p``: the
  caller's own reference keeps them alive for the call (no ``py_object`` type to make).
- A ``PyModuleDef`` is static memory that CPython gives refcount 1; extrun handles definitions
  only as integer addresses and never holds a Python reference to one, so it can never be
  decref'ed to zero.
- Every C function is called as ``PYFUNCTYPE`` makes it: the GIL stays held and ctypes raises
  any exception the call leaves set; return values are checked on top of that.

The one object layout extrun needs -- which words of a module object a definition sets -- is not
written down per version. :func:`_probe_layout` derives it from the running interpreter by comparing
a module CPython creates from a known definition with a plain module, and :func:`verify_layout`
checks it before extrun writes into any module of the program's: it reads a second module
CPython creates, then gives a scratch module of its own those words and executes it once, and
refuses (:class:`LayoutError`) if anything does not match. Both modules of a comparison are
created with the same name object, so ``md_name`` (a pointer to it) never differs and is never
taken for part of the definition's words; ``md_dict`` is excluded by its known offset.
"""


import _ctypes
import sys
import types
from _ctypes import (
    FUNCFLAG_CDECL,
    FUNCFLAG_PYTHONAPI,
    CFuncPtr,
    _SimpleCData,
    addressof,
    sizeof,
)

from .names import SLOT_IDS

if sys.implementation.name != "cpython" or sys.version_info < (3, 11):  # pragma: no cover
    raise ImportError(
        "extrun needs CPython >= 3.11 (it drives CPython's C API); this is "
        f"{sys.implementation.name} {sys.version.split()[0]}"
    )

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs start-up time
if TYPE_CHECKING:
    from typing import Any

# The three C types the run path needs, made as ctypes/__init__.py makes them, on the _ctypes
# C module: importing the ctypes package would double the start-up cost of `extrun run`. Each
# type made costs start-up time (benchmarks/README.md), so there are few: Py_ssize_t is read as
# a pointer-sized word (:func:`signed`), memory comes from bytearrays, objects are passed by
# address.


if TYPE_CHECKING:  # the ctypes package's types are the same, as far as types go
    from ctypes import c_char_p, c_int, c_void_p
else:  # name -> ctypes type code, as ctypes/__init__.py defines them
    (c_void_p, c_int, c_char_p) = (
        type(name, (_SimpleCData,), {"_type_": code}) for name, code in (
            ("c_void_p", "P"), ("c_int", "i"), ("c_char_p", "z")))


PTR = sizeof(c_void_p)
_SIGN = 1 << (8 * PTR - 1)
if sys.maxsize != _SIGN - 1:  # pragma: no cover - Py_ssize_t is pointer-sized on every platform
    raise ImportError("extrun: Py_ssize_t is not pointer-sized here; refusing to run")


def signed(value: int | None) -> int:
    """A pointer-sized word (as ``c_void_p`` reads it: unsigned, None for 0) as a Py_ssize_t."""
    return ((value or 0) ^ _SIGN) - _SIGN


SSIZE_T = "Py_ssize_t"  # a Struct field type: a pointer-sized word, read through signed()


class _PythonAPIFunction(CFuncPtr):
    """What ctypes.PYFUNCTYPE makes (the GIL stays held; ctypes raises the exception a call
    leaves set), as ctypes.pythonapi's function class: the signature is set on each function,
    not one class per signature (each class made costs start-up time)."""

    _flags_ = FUNCFLAG_CDECL | FUNCFLAG_PYTHONAPI
    _restype_ = c_int


def _function(address: int, restype: "Any", *argtypes: "Any") -> "Any":
    """The C function at ``address``, called as ``restype f(argtypes...)``."""
    fn = _PythonAPIFunction(address)
    fn.restype = restype
    fn.argtypes = argtypes
    return fn


VERSION = sys.version_info[:2]
HEAD = object.__basicsize__  # sizeof(PyObject), default or free-threaded build
OB_TYPE = HEAD - PTR  # ob_type is the last member of PyObject in every build
API_VERSION = sys.api_version
_PROCESS: int = _ctypes.dlopen(None, sys.getdlopenflags())  # type: ignore[arg-type]


def dlopen(path: str) -> int:
    """dlopen ``path`` with the interpreter's flags; OSError(dlerror text) on failure."""
    return _ctypes.dlopen(path, sys.getdlopenflags())


def dlsym(handle: int, name: str) -> int:
    """The address of ``name`` in the library, or 0."""
    try:
        return _ctypes.dlsym(handle, name)
    except OSError:
        return 0


# (restype, *argtypes); a PyObject * argument is the object's address (see the module's doc)
_SIGNATURES: "dict[str, tuple[Any, ...]]" = {
    "Py_IncRef": (None, c_void_p),
    "Py_DecRef": (None, c_void_p),
    "PyModule_NewObject": (c_void_p, c_void_p),
    "PyModule_FromDefAndSpec2": (c_void_p, c_void_p, c_void_p, c_int),
    "PyModule_ExecDef": (c_int, c_void_p, c_void_p),
    "PyModule_AddFunctions": (c_int, c_void_p, c_void_p),
    "PyModule_GetDef": (c_void_p, c_void_p),
    "PyModule_GetState": (c_void_p, c_void_p),
    "PyState_AddModule": (c_int, c_void_p, c_void_p),
    "PyState_FindModule": (c_void_p, c_void_p),
    "PyModule_FromSlotsAndSpec": (c_void_p, c_void_p, c_void_p),  # 3.15+
    "PyModule_Exec": (c_int, c_void_p),  # 3.15+
    "PyModule_GetStateSize": (c_int, c_void_p, c_void_p),  # 3.15+
}
_functions: "dict[str, Any]" = {}


def _api(name: str) -> "Any":
    """The C-API function ``name``, its prototype made on first use (start-up cost)."""
    fn = _functions.get(name)
    if fn is None:
        address = dlsym(_PROCESS, name)
        if not address:  # pragma: no cover
            raise ImportError(f"extrun: this interpreter does not export {name}")
        fn = _functions[name] = _function(address, *_SIGNATURES[name])
    return fn


HAS_SLOTS_API = bool(dlsym(_PROCESS, "PyModule_FromSlotsAndSpec"))  # 3.15+: PEP 793
_PACKAGE_CONTEXT = dlsym(_PROCESS, "_Py_PackageContext")  # exported up to 3.11 only
HAS_PACKAGE_CONTEXT = bool(_PACKAGE_CONTEXT)


def swap_package_context(context: str | None) -> str | None:
    """Set 3.11's ``_Py_PackageContext`` (a no-op where it is not exported); returns the old one.

    The encoded bytes stay referenced from ``_context`` while CPython may read them.
    """
    if not _PACKAGE_CONTEXT:
        return None
    slot = c_char_p.from_address(_PACKAGE_CONTEXT)
    old: bytes | None = slot.value
    _context[0] = context.encode("utf-8") if context is not None else None
    slot.value = _context[0]
    return old.decode("utf-8") if old is not None else None


_context: list[bytes | None] = [None]


def Py_DecRef(address: int) -> None:
    _api("Py_DecRef")(address)


def Py_IncRef(address: int) -> None:
    _api("Py_IncRef")(address)


# --- references -------------------------------------------------------------------------------


def _steal(address: int | None, what: str) -> object:
    """Take over the new reference a C function returned (NULL without an exception: a bug)."""
    if not address:
        raise SystemError(f"{what} returned NULL without setting an exception")
    obj = _ctypes.PyObj_FromPtr(address)  # +1 for the Python object
    Py_DecRef(address)  # ... and give back the one the C function handed us
    return obj


def _check(result: int, what: str) -> None:
    """Check an int-returning call; ctypes already raised if an exception was set."""
    if result != 0:
        raise SystemError(f"{what} returned {result} without setting an exception")


def word(address: int) -> int:
    return c_void_p.from_address(address).value or 0


def type_address(address: int) -> int:
    """The ob_type of the object at ``address`` (0 for a definition never passed to Init)."""
    return word(address + OB_TYPE)


MODULEDEF_TYPE = dlsym(_PROCESS, "PyModuleDef_Type")


# --- struct views ---------------------------------------------------------------------------
#
# Not ctypes.Structure: since 3.14 defining one imports the ctypes package (its layout code moved
# to ctypes._layout), a large part of the run path's cost. The offsets are computed by C's rules,
# as ctypes does.


class Struct:
    """A C struct's layout: field offsets by C's alignment rules, and its size."""

    __slots__ = ("fields", "name", "size")

    def __init__(self, name: str, *fields: "tuple[str, Any]", head: int = 0) -> None:
        self.name = name
        self.fields: dict[str, tuple[int, Any, bool]] = {}  # name -> (offset, type, signed)
        offset, align_max = head, PTR if head else 1
        for field, ctype in fields:
            is_ssize = ctype is SSIZE_T
            if is_ssize:
                ctype = c_void_p
            align = _ctypes.alignment(ctype)
            offset = -(-offset // align) * align
            self.fields[field] = (offset, ctype, is_ssize)
            offset += sizeof(ctype)
            align_max = max(align_max, align)
        self.size = -(-offset // align_max) * align_max

    def read(self, address: int, field: str) -> "Any":
        offset, ctype, is_ssize = self.fields[field]
        value = ctype.from_address(address + offset).value
        return signed(value) if is_ssize else value

    def write(self, address: int, **values: object) -> None:
        for field, value in values.items():
            offset, ctype, _ = self.fields[field]
            ctype.from_address(address + offset).value = value

    def new(self, count: int = 1, **values: object) -> int:
        """Zeroed static memory for ``count`` of these (kept for the life of the process)."""
        address = _static_memory(self.size * count)
        self.write(address, **values)
        return address


PyModuleDef_Slot = Struct("PyModuleDef_Slot", ("slot", c_int), ("value", c_void_p))
PyMethodDef = Struct("PyMethodDef", ("ml_name", c_char_p), ("ml_meth", c_void_p),
                     ("ml_flags", c_int), ("ml_doc", c_char_p))
PyModuleDef = Struct(  # after PyModuleDef_Base's PyObject_HEAD, default or free-threaded
    "PyModuleDef", ("m_init", c_void_p), ("m_index", SSIZE_T), ("m_copy", c_void_p),
    ("m_name", c_char_p), ("m_doc", c_char_p), ("m_size", SSIZE_T), ("m_methods", c_void_p),
    ("m_slots", c_void_p), ("m_traverse", c_void_p), ("m_clear", c_void_p),
    ("m_free", c_void_p), head=HEAD)


# 3.15's slot arrays (PEP 820) have fixed-size fields: PySlot is u16 id, u16 flags, u32 reserved
# and an 8-byte union; PyABIInfo u8 major, u8 minor, u16 flags, u32 build and ABI versions.
# They are read and written as bytes in this machine's byte order: no ctypes types to make.
PYSLOT_SIZE = 16


def _pack(*fields: "tuple[int, int]") -> bytes:
    """A C struct's bytes from its (size, value) fields, laid out so that none needs padding."""
    return b"".join(value.to_bytes(size, sys.byteorder) for size, value in fields)


def _read_bytes(address: int, size: int) -> bytes:
    """``size`` bytes (a multiple of the word size) at ``address``, read a word at a time."""
    return b"".join(word(address + off).to_bytes(PTR, sys.byteorder)
                    for off in range(0, size, PTR))


FREE_THREADED = "t" in getattr(sys, "abiflags", "")  # Py_GIL_DISABLED build

_MODULEDEF_SIZE = _ctypes.PyObj_FromPtr(MODULEDEF_TYPE).__basicsize__
if PyModuleDef.size != _MODULEDEF_SIZE:  # pragma: no cover
    raise ImportError(
        f"extrun: PyModuleDef is {_MODULEDEF_SIZE} bytes in this interpreter, not the "
        f"{PyModuleDef.size} extrun derives; refusing to run"
    )


def read_moduledef(address: int) -> "Any":
    """The fields of the ``PyModuleDef`` at ``address``, read once: plain values as attributes
    (nothing points into it)."""
    return types.SimpleNamespace(**{f: PyModuleDef.read(address, f) for f in PyModuleDef.fields})


def read_methods(address: int) -> list[tuple[str, int, str | None]]:
    """(name, flags, doc) of a NULL-terminated ``PyMethodDef`` array."""
    out = []
    while address:
        name = PyMethodDef.read(address, "ml_name")
        if name is None:
            break
        doc = PyMethodDef.read(address, "ml_doc")
        out.append((name.decode("utf-8", "replace"), PyMethodDef.read(address, "ml_flags"),
                    doc.decode("utf-8", "replace") if doc is not None else None))
        address += PyMethodDef.size
    return out


def read_def_slots(address: int) -> list[tuple[int, int]]:
    """(id, value) of a ``PyModuleDef_Slot`` array, up to its {0, NULL} terminator."""
    out = []
    while address:
        slot = PyModuleDef_Slot.read(address, "slot")
        if slot == 0:
            break
        out.append((slot, PyModuleDef_Slot.read(address, "value") or 0))
        address += PyModuleDef_Slot.size
    return out


def read_pyslots(address: int) -> list[tuple[int, int, int]]:
    """(id, flags, value) of a 3.15 ``PySlot`` array, up to its ``Py_slot_end``."""
    out = []
    order = sys.byteorder
    while address:
        raw = _read_bytes(address, PYSLOT_SIZE)
        slot_id = int.from_bytes(raw[0:2], order)
        if slot_id == 0:
            break
        out.append((slot_id, int.from_bytes(raw[2:4], order), int.from_bytes(raw[8:16], order)))
        address += PYSLOT_SIZE
    return out


def c_string(address: int) -> str | None:
    """The NUL-terminated UTF-8 string at ``address`` (None for NULL)."""
    value: bytes | None = c_char_p(address).value if address else None
    return value.decode("utf-8", "replace") if value is not None else None


# --- export hooks ---------------------------------------------------------------------------


def call_hook(address: int) -> int:
    """Call ``PyInit_*``/``PyModExport_*`` with the GIL held; returns the raw pointer (0: NULL).

    An exception the hook leaves set is raised by ctypes. ctypes drops the return value in that
    case, so a hook that returns a value *and* sets an exception cannot be told apart from one
    that returns NULL; CPython would wrap the former in SystemError (see the README).
    """
    result: int | None = _function(address, c_void_p)()
    return result or 0


# --- C-API calls ----------------------------------------------------------------------------
#
# Each passes its object arguments by address: the caller's references keep them alive.


def module_from_def_and_spec(def_address: int, spec: object) -> object:
    return _steal(_api("PyModule_FromDefAndSpec2")(def_address, id(spec), API_VERSION),
                  "PyModule_FromDefAndSpec2")


def module_from_slots_and_spec(slots_address: int, spec: object) -> object:
    return _steal(_api("PyModule_FromSlotsAndSpec")(slots_address, id(spec)),
                  "PyModule_FromSlotsAndSpec")


def _direct(function: "Any", *args: object) -> "Any":
    return function(*args)


def module_exec_def(module: object, def_address: int, call: "Any" = _direct) -> None:
    """``PyModule_ExecDef``, called as ``call(function, *args)``: the Python frame the module's
    code then runs under (see :func:`extrun.loader.module_frame`)."""
    _check(call(_api("PyModule_ExecDef"), id(module), def_address), "PyModule_ExecDef")


def module_exec(module: object, call: "Any" = _direct) -> None:
    """``PyModule_Exec`` (3.15), called as :func:`module_exec_def` is."""
    _check(call(_api("PyModule_Exec"), id(module)), "PyModule_Exec")


def module_add_functions(module: object, methods_address: int) -> None:
    _check(_api("PyModule_AddFunctions")(id(module), methods_address), "PyModule_AddFunctions")


def module_get_def(module: object) -> int:
    address: int | None = _api("PyModule_GetDef")(id(module))
    return address or 0


def module_get_state(module: object) -> int:
    address: int | None = _api("PyModule_GetState")(id(module))
    return address or 0


def module_get_state_size(module: object) -> int | None:
    if not HAS_SLOTS_API:
        return None
    out = c_void_p()  # a Py_ssize_t
    _check(_api("PyModule_GetStateSize")(id(module), addressof(out)), "PyModule_GetStateSize")
    return signed(out.value)


def state_add_module(module: object, def_address: int) -> None:
    """Register a single-phase module for ``PyState_FindModule``, as CPython's importer does
    (with its private ``_PyState_AddModule``). The public function aborts the process ("module
    ... already added") if the module is registered already, as a hook that calls it itself
    leaves it; then there is nothing to do."""
    if _api("PyState_FindModule")(def_address) == id(module):
        return
    _check(_api("PyState_AddModule")(id(module), def_address), "PyState_AddModule")


def plain_module(name: str) -> types.ModuleType:
    mod = _steal(_api("PyModule_NewObject")(id(name)), "PyModule_NewObject")
    assert isinstance(mod, types.ModuleType)
    return mod


# --- the module layout ----------------------------------------------------------------------


class LayoutError(ImportError):
    """The module object layout could not be derived or verified: extrun refuses to write."""


class Layout:
    """Offsets (from a module object's start) of the words a definition sets on a module."""

    __slots__ = ("gil", "plain", "token", "words")

    def __init__(self, words: tuple[int, ...], token: int,
                 plain: "tuple[tuple[int, int, int], ...]" = (), gil: int | None = None) -> None:
        self.words = words  # every word that differs between a def-created and a plain module
        self.token = token  # the word holding the def (md_def up to 3.14, md_token on 3.15)
        self.gil = gil  # free-threaded builds: md_gil, the module's Py_mod_gil declaration
        # (offset, mask of the bytes a definition sets, their value in a plain module): a word
        # may hold a one-byte flag next to padding CPython never initialises
        self.plain = plain

    def __repr__(self) -> str:
        return f"Layout(words={self.words}, token={self.token})"


_keep: list[object] = []  # probe definitions: must outlive every module using them


def _static_memory(size: int, data: bytes = b"") -> int:
    """Zeroed memory that lives as long as the process (it plays static C memory), starting
    with ``data``: a bytearray's buffer, locked against resizing by the ctypes view that gives
    its address (no array type to make)."""
    buffer = bytearray(max(size, len(data), PTR))
    buffer[:len(data)] = data
    view = c_void_p.from_buffer(buffer)  # holds an export of the buffer, and so the buffer
    _keep.append(view)
    address: int = addressof(view)
    if address % PTR:  # pragma: no cover - CPython's allocators align to 16 (8 on 32-bit)
        raise LayoutError("extrun: got unaligned memory for a C struct; refusing to run")
    return address


def _c_string(data: bytes) -> int:
    """A NUL-terminated copy of ``data`` that lives as long as the process."""
    return _static_memory(len(data) + 1, data)


# The probe's state functions are C-API functions of the types CPython calls them as:
# traverseproc PyObject_VisitManagedDict (3.13+; before, a module object copies none of them, so
# NULL does), inquiry PyCallable_Check, freefunc PyMem_Free; its exec slot PyCallable_Check too.
# The probe only needs them non-NULL (the layout is every word a definition makes differ from a
# plain module) and never runs them: a probe module is never executed, so its state stays NULL,
# and CPython calls no state function of a module with m_size > 0 and no state.
_STATE_TRAVERSE = dlsym(_PROCESS, "PyObject_VisitManagedDict") or None
_STATE_CLEAR = _EXEC = dlsym(_PROCESS, "PyCallable_Check")
_STATE_FREE = dlsym(_PROCESS, "PyMem_Free")
_PROBE_SPEC = types.SimpleNamespace(name="_extrun_probe")  # CPython reads only a spec's name
_PROBE_NAME = _c_string(_PROBE_SPEC.name.encode())


# From 3.13 the probe also declares Py_mod_gil = Py_MOD_GIL_NOT_USED (accepted by 3.15 in this
# numbering too): on free-threaded builds a module object keeps it (md_gil), so the derived
# layout includes that word and a module given a definition gets its GIL declaration with it.
_GIL_SLOTS = (PyModuleDef_Slot.new(2, slot=4, value=1) if VERSION >= (3, 13) else None)


def _probe_def(size: int, with_state_functions: bool) -> int:
    """A static PyModuleDef with the given m_size and, optionally, state functions (and, from
    3.13, a ``Py_mod_gil`` slot)."""
    on = with_state_functions
    return PyModuleDef.new(m_name=_PROBE_NAME, m_doc=_c_string(b"extrun layout probe"),
                           m_size=size, m_traverse=_STATE_TRAVERSE if on else None,
                           m_clear=_STATE_CLEAR if on else None,
                           m_free=_STATE_FREE if on else None, m_slots=_GIL_SLOTS)


def _words(obj: object) -> list[int]:
    """Every word of a module object."""
    base = id(obj)
    return [word(base + off) for off in range(0, types.ModuleType.__basicsize__, PTR)]


def _differing(a: list[int], b: list[int]) -> set[int]:
    """Offsets (after the object header, except md_dict) of the words that differ."""
    skip = types.ModuleType.__dictoffset__
    return {i * PTR for i, (x, y) in enumerate(zip(a, b, strict=True))
            if x != y and i * PTR >= HEAD and i * PTR != skip}


def _probe_layout() -> "Layout":
    def_a = _probe_def(0x5EED0, with_state_functions=True)
    made = [module_from_def_and_spec(def_a, _PROBE_SPEC)]
    if HAS_SLOTS_API:  # a module created from a slot array also carries its exec function
        made.append(_probe_slots_module())
    plain = _words(plain_module(_PROBE_SPEC.name))
    made_words = [_words(m) for m in made]
    words = sorted(set().union(*(_differing(m, plain) for m in made_words)))
    tokens = [off for off in words if made_words[0][off // PTR] == def_a]
    if len(tokens) != 1:
        raise LayoutError(f"extrun: found {len(tokens)} words holding the definition in a "
                          "module object; refusing to run")
    masks = []
    for off in words:
        changed = 0
        for m in made_words:
            changed |= m[off // PTR] ^ plain[off // PTR]
        mask = sum(0xFF << shift for shift in range(0, 8 * PTR, 8) if changed >> shift & 0xFF)
        masks.append((off, mask, plain[off // PTR] & mask))
    gil = None
    if FREE_THREADED:  # md_gil: the one other word that holds the probe's Py_MOD_GIL_NOT_USED
        gils = [off for off in words if off != tokens[0] and made_words[0][off // PTR] == 1
                and plain[off // PTR] == 0]
        if len(gils) != 1:
            raise LayoutError(f"extrun: found {len(gils)} words holding Py_mod_gil in a module "
                              "object of this free-threaded build; refusing to run")
        gil = gils[0]
    return Layout(tuple(words), tokens[0], tuple(masks), gil)


def _probe_slots_module() -> object:
    """3.15: a module from a slot array with every slot a module object copies set."""
    abi_info = _pack((1, 1), (1, 0), (2, 0x4 if FREE_THREADED else 0x2),  # PyABIInfo
                     (4, sys.hexversion), (4, sys.hexversion))
    values = {"Py_mod_name": _PROBE_NAME, "Py_mod_state_size": 0x5EED2,
              "Py_mod_state_traverse": _STATE_TRAVERSE, "Py_mod_state_clear": _STATE_CLEAR,
              "Py_mod_state_free": _STATE_FREE, "Py_mod_exec": _EXEC,  # none of them run
              "Py_mod_gil": 1,  # Py_MOD_GIL_NOT_USED
              "Py_mod_token": _c_string(b"token"),
              "Py_mod_abi": _static_memory(len(abi_info), abi_info)}
    slots = b"".join(_pack((2, SLOT_IDS[name]), (2, 0), (4, 0), (8, value or 0))
                     for name, value in values.items())
    address = _static_memory(len(slots) + PYSLOT_SIZE, slots)  # zeroed: then Py_slot_end
    return module_from_slots_and_spec(address, _PROBE_SPEC)


def verify_layout(layout: "Layout") -> None:
    """Check that ``layout`` describes this interpreter's module objects, before extrun writes
    into any module but its own scratch ones.

    A second definition with other values must set no word outside ``layout.words`` and hold its
    address at ``layout.token``; then a scratch module given those words (swapped from the
    module CPython created) must answer the public C API as one CPython created:
    ``PyModule_GetDef`` finds the def, and executing it (``PyModule_ExecDef``) allocates its
    state. Raises :class:`LayoutError` instead of ever writing with a wrong layout elsewhere.
    """
    def_b = _probe_def(24, with_state_functions=False)
    made = module_from_def_and_spec(def_b, _PROBE_SPEC)
    base = types.ModuleType.__basicsize__
    words = set(layout.words)
    if (not words or any(off < HEAD or off + PTR > base or off % PTR for off in words)
            or layout.token not in words or types.ModuleType.__dictoffset__ in words):
        raise LayoutError(f"extrun: {layout} is not a possible module object layout here")
    extra = _differing(_words(made), _words(plain_module(_PROBE_SPEC.name))) - words
    if extra or word(id(made) + layout.token) != def_b:
        raise LayoutError(f"extrun: {layout} does not match a module created by CPython "
                          f"(unexplained words at {sorted(extra)}); refusing to run")
    target = plain_module(_PROBE_SPEC.name)
    _swap(made, target, layout)
    if module_get_def(target) != def_b or module_get_def(made) != 0:
        raise LayoutError("extrun: a module given the definition's words does not report it; "
                          "refusing to run")
    module_exec_def(target, def_b)
    state = module_get_state(target)
    if not state or module_get_state_size(target) not in (None, 24):
        raise LayoutError("extrun: a module given the definition's words got no state; "
                          "refusing to run")


def _swap(a: object, b: object, layout: "Layout") -> None:
    """Exchange the definition's words between two module objects."""
    for off in layout.words:
        pa = c_void_p.from_address(id(a) + off)
        pb = c_void_p.from_address(id(b) + off)
        pa.value, pb.value = pb.value, pa.value


LAYOUT = _probe_layout()
verify_layout(LAYOUT)


def module_gil(module: object) -> int | None:
    """A free-threaded build's md_gil of ``module`` (0 ``Py_MOD_GIL_USED``, 1 ``NOT_USED``):
    what CPython's importer reads after a module's initialisation; None on other builds."""
    if LAYOUT.gil is None or type(module) is not types.ModuleType:
        return None
    return word(id(module) + LAYOUT.gil)


def is_plain(module: object) -> bool:
    """True if no definition was ever given to ``module`` (and it has no state)."""
    return not module_get_state(module) and all(
        word(id(module) + off) & mask == value for off, mask, value in LAYOUT.plain)


def attach(module: types.ModuleType, template: object) -> None:
    """Give ``module`` the definition CPython attached to ``template``, which becomes plain.

    ``template`` is a module CPython itself created from the definition (and so validated);
    exchanging the words the verified layout names leaves ``module`` exactly as CPython would
    have created it, and ``template`` safe to drop (no state, no def: its m_free never runs).
    """
    if type(template) is not types.ModuleType or not isinstance(module, types.ModuleType):
        raise TypeError("attach() needs two module objects")
    if not is_plain(module):
        raise ImportError(f"module {module.__name__!r} is already initialized")
    _swap(template, module, LAYOUT)

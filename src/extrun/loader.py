"""``ExtensionLoader``: PEP 489 loading phase by phase, plus PEP 547's ``exec_in_module``.

Import's create phase is CPython's own (``_imp.create_dynamic``: its checks, its cache of
single-phase modules, its GIL handling); its exec phase is extrun's (``PyModule_ExecDef`` /
``PyModule_Exec``). ``exec_in_module`` and running as ``__main__`` find the hook, read the
definition, let CPython create (and so validate) a module from it and give its definition to
an existing module, then execute. The C API itself validates slots and runs create/exec, so
errors are CPython's own.
"""


# `import ... as`, not `from importlib.machinery import`: on 3.15 the latter probes
# importlib.machinery.__path__, whose module __getattr__ imports warnings
import _imp
import _thread
import importlib.machinery as machinery
import sys
import types

# importlib's own frame for calls into a module's code (frozen, loaded already): warnings and
# tracebacks of an import through extrun name the frames a native import's do
from importlib._bootstrap import _call_with_frames_removed  # type: ignore[attr-defined]

from . import _capi
from .definition import SINGLE_PHASE, SLOTS, Definition, find_hook, read_definition
from .names import module_name_from_path

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["ExtensionLoader", "definition_for", "load", "load_all", "spec_for"]

# (path, name) -> Definition. Multi-phase hooks are pure, so this only saves work; for
# single-phase modules it is CPython's extensions cache: the hook must not run twice.
_definitions: dict[tuple[str, str], Definition] = {}
# (path, name) -> the dict a single-phase module with m_size == -1 had after its first load
_single_phase_copies: dict[tuple[str, str], dict[str, object]] = {}


# One lock for the caches: a single-phase hook must run once however many threads ask at once
# (free-threaded builds run them in parallel). Re-entrant: a hook may load another module.
_lock = _thread.RLock()


def definition_for(name: str, path: str) -> Definition:
    """The definition module ``name`` exports from ``path`` (cached per library and name)."""
    key = (path, name)
    d = _definitions.get(key)
    if d is None:
        with _lock:
            d = _definitions.get(key)
            if d is None:
                d = _read_single_phase_aware(name, path)
                _definitions[key] = d
    return d


def _read_single_phase_aware(name: str, path: str) -> Definition:
    hook = find_hook(name, path)
    # 3.11's package context tells a single-phase PyModule_Create a submodule's full name;
    # where CPython keeps it private, _finish_single_phase sets the name afterwards
    context = _capi.swap_package_context(name)
    try:
        return read_definition(hook)
    finally:
        _capi.swap_package_context(context)


def _spec_name(spec: object) -> str:
    name = getattr(spec, "name", None)
    if not isinstance(name, str):
        raise TypeError("module name must be a string")
    return name


class ExtensionLoader(machinery.ExtensionFileLoader):
    """A drop-in ``ExtensionFileLoader``: CPython's create phase, extrun's exec phases
    (``exec_module`` as importing does, ``exec_as_script`` and ``exec_in_module`` as running
    a module does)."""

    def create_module(self, spec: machinery.ModuleSpec) -> types.ModuleType:
        """CPython's create phase itself (``_imp.create_dynamic``, as ``ExtensionFileLoader``):
        its checks and messages, its extension cache for single-phase modules (shared with the
        native importer, in any order of loads), and on free-threaded builds its GIL handling.
        Only a single-phase module whose hook extrun already ran in this process (reading its
        definition) is finished by extrun, as CPython finishes one: its hook must not run
        again."""
        name = _spec_name(spec)
        d = _definitions.get((self.path, name))
        if d is not None and d.kind == SINGLE_PHASE:
            with _lock:
                return _single_phase_module(d, name, self.path)
        module = _create_as_cpython(spec)
        if sys.flags.verbose:  # importlib's _verbose_message
            print(f"# extension module {name!r} loaded from {self.path!r}", file=sys.stderr)
        return module  # type: ignore[return-value]

    def exec_module(self, module: types.ModuleType) -> None:
        """Execute as ``_imp.exec_dynamic``: once, and only modules created from a definition;
        from importlib's own frame, as CPython calls it (warnings are attributed alike)."""
        _exec_created(module, _call_with_frames_removed)
        if sys.flags.verbose:
            print(f"# extension module {self.name!r} executed from {self.path!r}",
                  file=sys.stderr)

    def exec_as_script(self, module: types.ModuleType) -> None:
        """Execute a module :meth:`create_module` made, as extrun runs one for the user rather
        than imports it: its code runs under a frame that stands for it (:func:`module_frame`),
        so that its warnings are its own."""
        _exec_created(module, module_frame(module, self.path))

    def exec_in_module(self, spec: machinery.ModuleSpec, module: types.ModuleType) -> None:
        """Run the definition's exec phase on an existing module object (PEP 547).

        The module gets the definition (so ``PyModule_GetDef``, ``PyModule_GetState`` and
        ``PyType_GetModuleByDef`` work on it), state allocated per ``m_size``, the methods and
        doc, then its exec slots run. ImportError if the definition needs its own create
        function, is single-phase, or the module was already initialised.
        """
        name = _spec_name(spec)
        d = definition_for(name, self.path)
        if d.kind == SINGLE_PHASE:
            raise ImportError(f"{name} uses single-phase initialization; it cannot be "
                              "executed in an existing module", name=name, path=self.path)
        if d.has_create:
            raise ImportError(f"{name} has a Py_mod_create slot; it cannot be executed in an "
                              "existing module", name=name, path=self.path)
        if not isinstance(module, types.ModuleType):
            raise TypeError(f"exec_in_module() needs a module, not {type(module).__name__}")
        if not _capi.is_plain(module):
            raise ImportError(f"module {module.__name__!r} is already initialized",
                              name=name, path=self.path)
        # CPython creates (and so validates) a module from the definition; it takes its place.
        template = _create(d, spec)
        _capi.attach(module, template)
        del template
        if d.methods:
            _capi.module_add_functions(module, d.methods_address)
        if d.doc is not None:
            module.__doc__ = d.doc
        _exec_created(module, module_frame(module, self.path))


def _create(d: Definition, spec: machinery.ModuleSpec) -> object:
    """CPython's create phase for a multi-phase definition or a 3.15 slot array: a module that
    takes the definition exec_in_module gives to an existing one (free-threaded builds: created
    by CPython's importer itself, for its GIL handling)."""
    if _capi.FREE_THREADED:
        return _create_as_cpython(spec)
    if d.kind == SLOTS:
        return _capi.module_from_slots_and_spec(d.address, spec)
    return _capi.module_from_def_and_spec(d.address, spec)


def _create_as_cpython(spec: machinery.ModuleSpec) -> object:
    """The create phase by CPython's own importer (``_imp.create_dynamic``). On free-threaded
    builds it enables the GIL around the module's initialisation and keeps it enabled unless
    the module declares ``Py_mod_gil = Py_MOD_GIL_NOT_USED`` (or, single-phase, calls
    ``PyUnstable_Module_SetGIL``), with its RuntimeWarning, honouring ``-X gil``. Those steps
    (``_PyEval_EnableGILTransient``, ``_PyImport_CheckGILForModule``) are private and not
    exported; this is their one public route, and it makes the GIL CPython's by construction.
    Single-phase modules use CPython's own extension cache."""
    # as importlib calls it, so that CPython's warning names the same frame as for an import
    return _call_with_frames_removed(_imp.create_dynamic, spec)


def _exec_created(module: object, call: "Callable[..., object]") -> None:
    """``exec_builtin_or_dynamic``: skip non-modules, modules without a def and executed ones.
    ``call(function, *args)`` calls the C function (see :func:`module_frame`)."""
    if not isinstance(module, types.ModuleType) or _capi.module_get_state(module):
        return
    if _capi.HAS_SLOTS_API:
        _capi.module_exec(module, call)
        return
    def_address = _capi.module_get_def(module)
    if def_address:
        _capi.module_exec_def(module, def_address, call)


def _call(function: "Callable[..., object]", *args: object) -> object: return function(*args)


def module_frame(module: types.ModuleType, path: str) -> "Callable[..., object]":
    """A ``call(function, *args)`` whose frame stands for an extension module's own code while
    extrun executes it for the user (``exec_in_module``, running it): file its library, line 1,
    ``<module>``, globals naming the module. Warnings its code raises are attributed to it, as a
    script's top level (so a ``__main__``'s show, and ``-W error`` raises them), tracebacks show
    it as the module's frame, and a debugger stops there first (pdb waits for a line of its
    target's file). Not the module's own dict as globals: a tracer that follows frames whose
    globals have a ``__file__`` (trace) would count lines of a binary file and fail reading it.
    """
    code = _call.__code__.replace(co_filename=path, co_name="<module>", co_qualname="<module>",
                                  co_firstlineno=1)
    namespace = {"__name__": module.__name__, "__builtins__": __builtins__}
    return types.FunctionType(code, namespace)  # one line, line 1: see _call


def _single_phase_module(d: Definition, name: str, path: str) -> types.ModuleType:
    """A single-phase module as CPython gives it: the hook's module the first time, then
    (m_size == -1) a new module holding a copy of the first one's dict, or (m_size >= 0) the
    result of running the hook again."""
    key = (path, name)
    if d.module is None and d.size == -1:  # a new module with a copy of the first one's dict
        module = sys.modules.get(name) or types.ModuleType(name)
        module.__dict__.update(_single_phase_copies[key])
        sys.modules[name] = module
        _capi.state_add_module(module, d.address)
        return module
    # the first load, whose hook already ran while reading the definition, or (m_size >= 0)
    # running the hook again, the same way
    fresh = d if d.module is not None else _read_single_phase_aware(name, path)
    created, fresh.module = fresh.module, None
    assert created is not None
    _finish_single_phase(created, d, name, path)
    if d.size == -1:
        _single_phase_copies[key] = dict(created.__dict__)
    return created


def _finish_single_phase(module: types.ModuleType, d: Definition, name: str, path: str) -> None:
    """What CPython does after a single-phase hook: __file__, sys.modules, PyState."""
    short = name.rpartition(".")[2]
    if not _capi.HAS_PACKAGE_CONTEXT and "." in name and module.__name__ == short:
        module.__name__ = name  # what the package context would have given PyModule_Create
    module.__file__ = path
    sys.modules[name] = module
    _capi.state_add_module(module, d.address)


def spec_for(loader: "ExtensionLoader") -> machinery.ModuleSpec:
    """The spec ``import`` would give the loader's module (origin: the library)."""
    spec = machinery.ModuleSpec(loader.name, loader, origin=loader.path,
                                is_package=loader.is_package(loader.name))
    spec.has_location = True
    return spec


def load(path: str, name: str | None = None, *, register: bool = True) -> types.ModuleType:
    """Load the extension module ``name`` (default: from the file name) from ``path``.

    Any library, any name: the name only decides which hook is called. As ``import``, the module
    is in ``sys.modules`` while it executes (unless ``register`` is false) and removed if that
    fails.
    """
    from importlib._bootstrap import module_from_spec

    if name is None:
        name = module_name_from_path(path)
    loader = ExtensionLoader(name, path)
    module: types.ModuleType = module_from_spec(spec_for(loader))
    if register:
        sys.modules[name] = module
    try:
        loader.exec_module(module)
    except BaseException:
        if register and sys.modules.get(name) is module:
            del sys.modules[name]
        raise
    return module


def load_all(path: str, names: list[str] | None = None) -> dict[str, types.ModuleType]:
    """Load several modules exported by one library (PEP 489 "Multiple modules in one library").

    ``names`` defaults to every module whose export hook the library defines.
    """
    if names is None:
        from .static import exported_modules

        names = exported_modules(path)
    return {name: load(path, name) for name in names}

"""Run any module as ``__main__``, extension modules included (PEP 547 and beyond).

Python targets get ``runpy``'s behaviour exactly: the lookup below is ``runpy``'s
``_get_module_details`` (same messages), except that where runpy stops with "No code object
available" for an extension module, extrun goes on:

- a multi-phase definition without ``Py_mod_create`` is executed *in* the existing ``__main__``
  module (``ExtensionLoader.exec_in_module``): def attached, state allocated, exec slots run;
- one with ``Py_mod_create`` (Cython) is created by its create function, installed as
  ``sys.modules["__main__"]`` with ``__name__ == "__main__"``, then executed;
- a single-phase module cannot be run: one line says why and how to fix it.

It is runpy's API extended (:func:`run_module`, :func:`run_path`, :func:`run_in_namespace` for
the code a runpy lookup is given); :mod:`extrun.commandline` is the ``python`` command line on
top of it. On the run path: it imports nothing beyond what ``python -m`` itself loads; ctypes
(via :mod:`extrun.loader`) only for extension targets.
"""


# `import ... as`, not `from importlib.machinery import`: on 3.15 the latter probes
# importlib.machinery.__path__, whose module __getattr__ imports warnings
import importlib.machinery as machinery
import os
import sys
import types

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from types import CodeType
    from typing import Any

    from .definition import Definition

__all__ = ["RunError", "run_module", "run_path"]


# --- the cycle collector while extrun sets up a target (`extrun run`, the integration) -------
#
# extrun's set-up (its modules, ctypes types, the layout probe) allocates a few thousand
# objects. Left to the collector, they trigger collections of the younger generations, and on
# 3.11 one of those falls while they still hold most of what the interpreter's own start-up
# made, which `python -m` does not pay so early (benchmarks/README.md has the figures). So the
# collector is paused from the start of the set-up, and when the target's code is about to run,
# everything made so far is moved into the oldest generation (gc.freeze() then gc.unfreeze():
# two list splices) and the collector resumes. The target starts with empty younger
# generations, as after a full collection; the objects set aside are examined by full
# collections, where the next collections of the younger ones would have moved them anyway.
# Nothing is paused if the collector is already disabled or objects are frozen (unfreezing
# would release those too). From 3.13 the youngest generation holds 2000 objects, not 700 (and
# 3.14's collector is incremental): the set-up fits in it, and importing gc would cost more than
# pausing saves, so nothing is done there. Paused by `extrun run` (cli) and the integration
# (_integration); resumed where the target's code starts (here and in commandline).

_collector_paused = False


def pause_collector() -> None:
    global _collector_paused
    if sys.version_info >= (3, 13):
        return
    import gc

    if gc.isenabled() and not gc.get_freeze_count():
        gc.disable()
        _collector_paused = True


def resume_collector() -> None:
    """The target's code runs next (a no-op unless :func:`pause_collector` paused it)."""
    global _collector_paused
    if _collector_paused:
        _collector_paused = False
        import gc

        gc.freeze()
        gc.unfreeze()
        gc.enable()


class RunError(ImportError):
    """The target cannot be run; the message is one line naming it and the cause. The command
    line also raises it where runpy raises its private ``_Error`` (a one-line exit)."""


def _is_extension(spec: machinery.ModuleSpec) -> bool:
    return isinstance(spec.loader, machinery.ExtensionFileLoader)


def _get_module_details(mod_name: str, error: type[Exception] = ImportError
                        ) -> "tuple[str, machinery.ModuleSpec, CodeType | None]":
    """runpy._get_module_details, but an extension module gives (name, spec, None)."""
    import importlib.util

    if mod_name.startswith("."):
        raise error("Relative module names not supported", **_error_name(error, mod_name))
    pkg_name, _, _ = mod_name.rpartition(".")
    if pkg_name:
        try:
            __import__(pkg_name)
        except ImportError as e:
            if e.name is None or (e.name != pkg_name and not pkg_name.startswith(e.name + ".")):
                raise
        existing = sys.modules.get(mod_name)
        if existing is not None and not hasattr(existing, "__path__"):
            from warnings import warn

            warn(RuntimeWarning(
                f"{mod_name!r} found in sys.modules after import of package {pkg_name!r}, but "
                f"prior to execution of {mod_name!r}; this may result in unpredictable "
                "behaviour"), stacklevel=2)
    try:
        spec = importlib.util.find_spec(mod_name)
    except (ImportError, AttributeError, TypeError, ValueError) as ex:
        msg = f"Error while finding module specification for {mod_name!r} " \
              f"({type(ex).__name__}: {ex})"
        if mod_name.endswith(".py"):
            msg += f". Try using '{mod_name[:-3]}' instead of '{mod_name}' as the module name."
        raise error(msg, **_error_name(error, mod_name)) from ex
    if spec is None:
        raise error(f"No module named {mod_name}", **_error_name(error, mod_name))
    if spec.submodule_search_locations is not None:
        if mod_name == "__main__" or mod_name.endswith(".__main__"):
            raise error("Cannot use package as __main__ module", **_error_name(error, mod_name))
        try:
            return _get_module_details(mod_name + ".__main__", error)
        except error as e:
            if mod_name not in sys.modules:
                raise
            raise error(f"{e}; {mod_name!r} is a package and cannot be directly executed",
                        **_error_name(error, mod_name)) from None
    loader = spec.loader
    if loader is None:
        raise error(f"{mod_name!r} is a namespace package and cannot be executed",
                    **_error_name(error, mod_name))
    if _is_extension(spec):
        return mod_name, spec, None
    try:
        code = loader.get_code(mod_name)  # type: ignore[attr-defined]
    except ImportError as e:
        raise error(format(e), **_error_name(error, mod_name)) from e
    if code is None:
        raise error(f"No code object available for {mod_name}", **_error_name(error, mod_name))
    return mod_name, spec, code


def _error_name(error: type[Exception], name: str) -> dict[str, str]:
    """``{"name": name}`` where this interpreter's runpy sets ``ImportError.name`` on its lookup
    errors (a fix of 2026, gh-149117, in 3.13 and 3.14 patch releases too): asked of runpy
    itself, so that every release matches its own."""
    if not issubclass(error, ImportError):
        return {}
    import runpy

    sets_name = "kwargs" in runpy._get_module_details.__code__.co_varnames  # type: ignore[attr-defined]
    return {"name": name} if sets_name else {}


def _get_main_module_details(error: type[Exception] = ImportError
                             ) -> "tuple[str, machinery.ModuleSpec, CodeType | None]":
    """runpy._get_main_module_details: ``__main__`` of the directory/zip at sys.path[0]."""
    main_name = "__main__"
    saved_main = sys.modules[main_name]
    del sys.modules[main_name]
    try:
        return _get_module_details(main_name)
    except ImportError as exc:
        if main_name in str(exc):
            raise error(f"can't find {main_name!r} module in {sys.path[0]!r}",
                        **_error_name(error, main_name)) from exc
        raise
    finally:
        sys.modules[main_name] = saved_main


_SETS_CACHED = sys.version_info < (3, 15)  # 3.15's runpy and scripts no longer set __cached__


def _namespace(run_globals: dict[str, object], mod_name: str, spec: machinery.ModuleSpec,
               pkg_name: str | None = None) -> None:
    """runpy._run_code's dunders (a spec always: scripts are runpy's or _run_script's)."""
    run_globals.update(__name__=mod_name, __file__=spec.origin, __doc__=None,
                       __loader__=spec.loader, __spec__=spec,
                       __package__=spec.parent if pkg_name is None else pkg_name)
    if _SETS_CACHED:
        run_globals["__cached__"] = spec.cached


# --- extension modules ----------------------------------------------------------------------


def _extension_spec(spec: machinery.ModuleSpec) -> machinery.ModuleSpec:
    """The spec with extrun's loader in place of importlib's (same name and origin)."""
    from .loader import ExtensionLoader

    assert spec.origin is not None
    if not isinstance(spec.loader, ExtensionLoader):
        spec.loader = ExtensionLoader(spec.name, spec.origin)
    return spec


def _check_runnable(spec: machinery.ModuleSpec, strict: bool) -> "Definition":
    """The definition, or RunError saying in one line why it cannot run as a script."""
    from .definition import SINGLE_PHASE
    from .loader import definition_for

    assert spec.origin is not None
    try:
        d = definition_for(spec.name, spec.origin)
    except ImportError as exc:
        if exc.path != spec.origin:  # raised by the module's own hook: its traceback matters
            raise
        raise RunError(f"cannot load {spec.name} from {spec.origin}: {exc}", name=spec.name,
                       path=spec.origin) from None
    except SystemError as exc:  # the hook's result failed CPython's checks: a broken library
        raise RunError(str(exc), name=spec.name, path=spec.origin) from None
    if d.kind == SINGLE_PHASE:
        raise RunError(f"cannot run {spec.name} ({spec.origin}) as __main__: it uses "
                       "single-phase initialization; port it to multi-phase initialization "
                       "(PEP 489) to run it", name=spec.name, path=spec.origin)
    if strict and d.has_create:
        raise RunError(f"cannot run {spec.name} as __main__ with --strict: it has a "
                       "Py_mod_create slot, so it cannot be executed in the existing __main__ "
                       "module (PEP 547)", name=spec.name, path=spec.origin)
    return d


def _run_extension(spec: machinery.ModuleSpec, module: types.ModuleType, run_name: str,
                   install: "Callable[[types.ModuleType], None] | None" = None,
                   strict: bool = False, pkg_name: str | None = None) -> types.ModuleType:
    """Execute an extension's definition as ``run_name``, in ``module`` if it can be.

    ``module``'s namespace gets runpy's dunders first. A definition with its own create function
    gets a new module instead, with the same dunders, passed to ``install`` before it executes.
    Returns the module that was executed.
    """
    spec = _extension_spec(spec)
    d = _check_runnable(spec, strict)
    resume_collector()  # module code runs from here on
    loader = spec.loader
    assert loader is not None
    if not d.has_create:
        _namespace(module.__dict__, run_name, spec, pkg_name)
        loader.exec_in_module(spec, module)  # type: ignore[attr-defined]
        return module
    created = loader.create_module(spec)
    if not isinstance(created, types.ModuleType):
        raise RunError(f"cannot run {spec.name} as __main__: its create function returned "
                       f"{type(created).__name__}, not a module", name=spec.name)
    _namespace(created.__dict__, run_name, spec, pkg_name)
    if install is not None:
        install(created)
    loader.exec_as_script(created)  # type: ignore[attr-defined]
    return created


# --- the Python API: runpy.run_module / runpy.run_path, extended --------------------------


def _run_details(spec: machinery.ModuleSpec, code: "CodeType | None",
                 init_globals: dict[str, object] | None, run_name: str, alter_sys: bool,
                 pkg_name: str | None = None, argv0: object = None) -> dict[str, object]:
    """runpy's ``_run_module_code``: ``sys.argv[0]`` is ``argv0`` (runpy.run_path's own
    argument, for a directory or zip file) or else the module's origin."""
    if code is not None and not alter_sys:
        run_globals: dict[str, object] = {}
        if init_globals is not None:
            run_globals.update(init_globals)
        _namespace(run_globals, run_name, spec, pkg_name)
        exec(code, run_globals)
        return run_globals
    # runpy's _TempModule and _ModifiedArgv0, written out (two classes cost start-up time)
    module = types.ModuleType(run_name)
    saved_module = sys.modules.get(run_name)
    saved_argv0 = sys.argv[0]
    sys.modules[run_name] = module
    sys.argv[0] = spec.origin if argv0 is None else argv0  # type: ignore[call-overload]
    try:
        if init_globals is not None:
            module.__dict__.update(init_globals)
        if code is not None:
            _namespace(module.__dict__, run_name, spec, pkg_name)
            exec(code, module.__dict__)
            return module.__dict__.copy()

        def install(created: types.ModuleType) -> None:
            if init_globals is not None:
                created.__dict__.update(init_globals)
            sys.modules[run_name] = created

        executed = _run_extension(spec, module, run_name, install, pkg_name=pkg_name)
        return executed.__dict__.copy()
    finally:
        sys.argv[0] = saved_argv0
        if saved_module is not None:
            sys.modules[run_name] = saved_module
        else:
            del sys.modules[run_name]


def run_module(mod_name: str, init_globals: dict[str, object] | None = None,
               run_name: str | None = None, alter_sys: bool = False) -> dict[str, object]:
    """``runpy.run_module``, extended to extension modules; returns the module's globals.

    An extension module always runs in a module object (it needs one for its state), which is
    in ``sys.modules[run_name]`` while it executes; the globals of a copy are returned, as
    runpy does with ``alter_sys=True``.
    """
    mod_name, spec, code = _get_module_details(mod_name)
    if run_name is None:
        run_name = mod_name
    return _run_details(spec, code, init_globals, run_name, alter_sys or code is None)


def run_path(path_name: str | os.PathLike[str], init_globals: dict[str, object] | None = None,
             run_name: str | None = None) -> dict[str, object]:
    """``runpy.run_path``, extended: the path may also be an extension module's library, or a
    directory or zip file whose ``__main__`` is one."""
    if run_name is None:
        run_name = "<run_path>"
    pkg_name = run_name.rpartition(".")[0]
    path = os.fsdecode(path_name)
    if _is_library(path):
        spec = _library_spec(path)
        return _run_details(spec, None, init_globals, run_name, True, pkg_name)
    from pkgutil import get_importer

    if get_importer(path_name) is None:  # a source or compiled file: runpy's own case
        import runpy

        return runpy.run_path(path_name, init_globals, run_name)  # type: ignore[arg-type]
    # runpy puts the argument itself on sys.path and in sys.argv[0]; from 3.12 decoded first
    entry: Any = path if sys.version_info >= (3, 12) else path_name
    sys.path.insert(0, entry)
    try:
        _, spec, code = _get_main_module_details()
        return _run_details(spec, code, init_globals, run_name, True, pkg_name, entry)
    finally:
        if entry in sys.path:
            sys.path.remove(entry)


def _is_library(path: str) -> bool:
    return os.path.isfile(path) and path.endswith(tuple(machinery.EXTENSION_SUFFIXES))


def _library_spec(path: str) -> machinery.ModuleSpec:
    from .loader import ExtensionLoader, spec_for
    from .names import module_name_from_path

    return spec_for(ExtensionLoader(module_name_from_path(path), os.path.abspath(path)))


def run_in_namespace(spec: machinery.ModuleSpec, namespace: dict[str, object],
                      strict: bool = False) -> None:
    """Run an extension where runpy, or a tool, runs a module's code in ``namespace``: in the
    module whose namespace it is (runpy's temporary module, ``__main__``), or, for a plain dict
    (``runpy.run_module`` without ``alter_sys``, trace), in a module of its own that is
    ``sys.modules[name]`` while it executes (as :func:`run_module` does), its namespace then
    handed over."""
    name = str(namespace.get("__name__") or spec.name)
    module = sys.modules.get(name)
    saved = None
    if module is None or module.__dict__ is not namespace:
        saved, module = module, types.ModuleType(name)
        sys.modules[name] = module
    try:
        def install(created: types.ModuleType) -> None:
            sys.modules[name] = created

        executed = _run_extension(spec, module, name, install, strict,
                                  namespace.get("__package__"))  # type: ignore[arg-type]
    finally:
        if module.__dict__ is not namespace:  # the module of its own is withdrawn
            if saved is not None:
                sys.modules[name] = saved
            elif sys.modules.get(name) is not None:
                del sys.modules[name]
    if executed.__dict__ is not namespace:
        namespace.update(executed.__dict__)



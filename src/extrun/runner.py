"""Run any module as ``__main__``, extension modules included (PEP 547 and beyond).

Python targets get ``runpy``'s behaviour exactly: the lookup below is ``runpy``'s
``_get_module_details`` (same messages), except that where runpy stops with "No code object
available" for an extension module, extrun goes on:

- a multi-phase definition without ``Py_mod_create`` is executed *in* the existing ``__main__``
  module (``ExtensionLoader.exec_in_module``): def attached, state allocated, exec slots run;
- one with ``Py_mod_create`` (Cython) is created by its create function, installed as
  ``sys.modules["__main__"]`` with ``__name__ == "__main__"``, then executed;
- a single-phase module cannot be run: one line says why and how to fix it.

This module is on the run path: it imports nothing beyond what ``python -m`` itself loads;
ctypes (via :mod:`extrun.loader`) only for extension targets.
"""


# `import ... as`, not `from importlib.machinery import`: on 3.15 the latter probes
# importlib.machinery.__path__, whose module __getattr__ imports warnings (0.5 ms at start-up)
import importlib.machinery as machinery
import os
import sys
import types

from . import _resume_collector

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from types import CodeType, TracebackType
    from typing import Any

    from .definition import Definition

__all__ = ["RunError", "run_module", "run_path"]


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
    from .loader import _exec_created, module_frame

    spec = _extension_spec(spec)
    d = _check_runnable(spec, strict)
    _resume_collector()  # module code runs from here on
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
    assert spec.origin is not None
    _exec_created(created, module_frame(created, spec.origin))
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


# --- the command line: python -m TARGET / python PATH ---------------------------------------


def _fresh_main() -> types.ModuleType:
    """The real ``__main__``, emptied of the launcher's names, as a fresh interpreter has it."""
    main = sys.modules["__main__"]
    _fresh(main.__dict__)
    return main


def _fresh(namespace: dict[str, object]) -> None:
    """``namespace`` emptied of the launcher's names, as a fresh ``__main__`` has it."""
    keep = {k: namespace[k] for k in ("__builtins__",) if k in namespace}
    had_annotations = "__annotations__" in namespace
    namespace.clear()
    namespace.update(keep)
    namespace.update(__name__="__main__", __doc__=None, __package__=None, __loader__=None,
                     __spec__=None)
    if had_annotations:
        namespace["__annotations__"] = {}


def _install_main(module: types.ModuleType) -> None:
    sys.modules["__main__"] = module


# --- tracebacks: the target's, as python prints them ------------------------------------------
#
# An exception the target leaves uncaught reaches the interpreter through extrun's own frames
# (launcher, runner, loader, C-API layer). When python prints it, those are left out, so that
# the traceback is python's: for `extrun run -m NAME` run as `python -m extrun`, the very same
# lines as `python -m NAME`. Only what is printed (and kept for post-mortem debugging) changes,
# and only while sys.excepthook is python's own; an exception of extrun's own keeps every frame.

_HERE = os.path.dirname(os.path.abspath(__file__))
_INTO_MODULE = ("module_exec_def", "module_exec", "call_hook", "module_from_def_and_spec",
                "module_from_slots_and_spec")  # _capi's calls into the module's own C code


def _is_extrun(code: "CodeType") -> bool:
    return os.path.dirname(code.co_filename) == _HERE


def _without_extrun_frames(tb: "TracebackType | None", keep_runpy: bool
                           ) -> "TracebackType | None":
    """``tb`` without the first run of extrun's frames (and what launched extrun, except runpy's
    frames when ``keep_runpy``), if the exception came from the target: a frame of its below
    them, or the innermost frame a call into its C code. Relinks ``tb`` in place."""
    entries = []
    while tb is not None:
        entries.append(tb)
        tb = tb.tb_next
    first = next((i for i, e in enumerate(entries) if _is_extrun(e.tb_frame.f_code)), None)
    if first is None:
        return entries[0] if entries else None
    end = first
    while end < len(entries) and _is_extrun(entries[end].tb_frame.f_code):
        end += 1
    if end == len(entries) and entries[-1].tb_frame.f_code.co_name not in _INTO_MODULE:
        return entries[0]  # extrun's own exception
    launcher = [e for e in entries[:first] if keep_runpy
                and e.tb_frame.f_code.co_filename in ("<frozen runpy>", _runpy_file())]
    # one frame at least: python prints the "Traceback (most recent call last):" header only
    # with one
    kept = [*launcher, *entries[end:]] or entries[:1]
    for i, entry in enumerate(kept):
        entry.tb_next = kept[i + 1] if i + 1 < len(kept) else None
    return kept[0]


def _runpy_file() -> str | None:
    return getattr(sys.modules.get("runpy"), "__file__", None)


def _print_as_python(keep_runpy: bool) -> None:
    """Have the uncaught exception now propagating printed without extrun's frames."""
    original = sys.excepthook
    if original is not sys.__excepthook__:  # the program's own hook sees everything
        return

    def excepthook(exc_type: "type[BaseException]", exc: BaseException,
                   tb: "TracebackType | None") -> None:
        sys.excepthook = original
        tb = _without_extrun_frames(tb, keep_runpy)
        if exc is not None:
            exc.__traceback__ = tb
        if getattr(sys, "last_traceback", None) is not None:
            sys.last_traceback = tb
        original(exc_type, exc, tb)

    sys.excepthook = excepthook


def _run_target(run: "Callable[..., object]", *args: object, keep_runpy: bool = True) -> None:
    """``run(*args)``: the target's execution, whose uncaught exceptions print as python's."""
    try:
        run(*args)
    except (SystemExit, RunError):
        raise
    except BaseException as exc:
        # extrun's frames between this one and the target's go from the exception itself, so
        # that a program's own sys.excepthook does not see them; the launcher's above are left
        # (it propagates through them), and only python's own excepthook leaves them out
        exc.__traceback__ = _without_extrun_frames(exc.__traceback__, keep_runpy=False)
        _print_as_python(keep_runpy)
        raise


def run_as_main(target: str, args: list[str], as_module: bool, strict: bool = False,
                namespace: dict[str, object] | None = None) -> None:
    """What ``python -m TARGET ARGS`` or ``python TARGET ARGS`` does, in ``namespace``: the one
    extrun's launcher runs in (``python -m extrun``: ``extrun/__main__.py``'s globals, which are
    the real ``__main__``'s or, behind a tool such as cProfile, the tool's namespace for its
    target). Without one (pip's console script, ``cli.main()`` called) it is the real
    ``__main__``, whose caller's names are gone by then: the process ends (``SystemExit``)."""
    from ._integration import install

    install()  # while extrun runs a program, runpy answers extension modules too
    if namespace is None or namespace is sys.modules["__main__"].__dict__:
        target_namespace = None
    else:
        target_namespace = namespace
    try:
        if as_module:
            _set_path0(os.getcwd())  # python -m: the current directory first, then the lookup
            _, spec, code = _get_module_details(target, RunError)
            sys.argv[:] = [spec.origin or target, *args]
            _run_main(spec, code, strict, target_namespace)
        else:
            _run_path_as_main(target, args, strict, target_namespace)
    except RunError as exc:
        sys.stderr.write(f"extrun: {exc}\n")
        if namespace is None or not sys.flags.inspect:
            raise SystemExit(1) from None
        return  # extrun run -i: the one line, then python's prompt (no SystemExit traceback)
    finally:
        _resume_collector()  # if the target never started
    if namespace is None:
        raise SystemExit(0)


def _run_main(spec: machinery.ModuleSpec, code: "CodeType | None", strict: bool,
              namespace: dict[str, object] | None = None) -> None:
    """Run the target as ``__main__``: in the real one, or (``namespace``) in a tool's."""
    if namespace is None:
        main = _fresh_main()
        namespace = main.__dict__
    else:
        _fresh(namespace)
    if code is not None:
        _namespace(namespace, "__main__", spec)
        _resume_collector()
        _run_target(exec, code, namespace)
    elif namespace is sys.modules["__main__"].__dict__:
        _support_multiprocessing()
        _run_target(_run_extension, spec, sys.modules["__main__"], "__main__", _install_main,
                    strict)
    else:
        _run_target(_run_in_namespace, spec, namespace, strict)


# --- multiprocessing: spawn and forkserver children re-create an extension __main__ ----------


def _support_multiprocessing() -> None:
    """Have multiprocessing's spawn/forkserver children re-create an extension ``__main__``
    (:mod:`extrun._spawn`), patching ``multiprocessing.spawn`` now or, until the program imports
    it, watching for it at no cost."""
    spawn = sys.modules.get("multiprocessing.spawn")
    if spawn is not None:
        from ._spawn import patch_parent

        patch_parent(spawn)
    else:
        sys.meta_path.insert(0, _SPAWN_WATCHER)


def _find_spawn(name: str, path: object = None, target: object = None
                ) -> machinery.ModuleSpec | None:
    """A meta path finder's find_spec: multiprocessing.spawn, patched once it has executed."""
    if name != "multiprocessing.spawn":
        return None
    sys.meta_path.remove(_SPAWN_WATCHER)
    from ._spawn import patched_spec

    return patched_spec(name, path)


_SPAWN_WATCHER = types.SimpleNamespace(find_spec=_find_spawn)  # a finder with no class to make


def run_integrated(spec: machinery.ModuleSpec, namespace: dict[str, object], as_main: bool) -> None:
    """What the code :func:`extrun._integration.get_code` gives runpy runs, in the
    ``namespace`` it is executed in. ``as_main``: for ``python -m``/``python DIR`` (runpy's
    ``_run_module_as_main``), as the process's ``__main__``; runpy has imported the parent
    packages, set ``sys.argv[0]`` and ``__main__``'s attributes, and errors are reported as
    runpy reports its own. Otherwise (``runpy.run_module``, a profiler, pdb, trace) the lookup's
    errors are exceptions for the asker to report.
    """
    try:
        if as_main:
            _support_multiprocessing()
            _run_target(_run_extension, spec, sys.modules["__main__"], "__main__", _install_main)
        else:
            _run_target(_run_in_namespace, spec, namespace)
    except RunError as exc:
        if not as_main:
            raise
        sys.exit(f"{sys.executable}: {exc}")
    finally:
        _resume_collector()  # if the target never started


def _run_in_namespace(spec: machinery.ModuleSpec, namespace: dict[str, object],
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


def _set_path0(entry: str) -> None:
    """Replace the launcher's sys.path[0] with the target's (unless -P/safe_path)."""
    if getattr(sys.flags, "safe_path", False):
        return
    if sys.path:
        sys.path[0] = entry
    else:
        sys.path.insert(0, entry)


def _run_path_as_main(path: str, args: list[str], strict: bool,
                      namespace: dict[str, object] | None) -> None:
    if _is_library(path):
        sys.argv[:] = [path, *args]
        _set_path0(os.path.dirname(os.path.realpath(path)))
        _run_main(_library_spec(path), None, strict, namespace)
        return
    absolute = os.path.abspath(path)
    if _importer(absolute) is not None:  # a directory or zip file
        sys.argv[:] = [path, *args]
        _set_path0(absolute)
        _, spec, code = _get_main_module_details(RunError)
        _run_main(spec, code, strict, namespace)
        return
    _run_script(path, args, namespace)


def _importer(path: str) -> object:
    """CPython's ``PyImport_GetImporter``, which ``python PATH`` asks whether PATH is something
    to import ``__main__`` from (a directory, a zip file) or a script: the first of
    ``sys.path_hooks`` that accepts it, cached in ``sys.path_importer_cache`` (None too).
    Not ``zipfile.is_zipfile``: importing zipfile costs ~10 ms."""
    cache = sys.path_importer_cache
    if path in cache:
        return cache[path]
    cache[path] = None  # as CPython does, against recursion
    for hook in sys.path_hooks:
        try:
            importer = hook(path)
        except ImportError:
            continue
        cache[path] = importer
        return importer
    return None


def _run_script(path: str, args: list[str], namespace: dict[str, object] | None) -> None:
    """``python PATH`` for a source (or compiled) file, in the real ``__main__`` or
    ``namespace``."""
    try:
        with open(path, "rb") as f:
            source = f.read()
    except OSError as exc:
        sys.stderr.write(f"extrun: can't open file {os.path.abspath(path)!r}: "
                         f"[Errno {exc.errno}] {exc.strerror}\n")
        raise SystemExit(2) from None
    sys.argv[:] = [path, *args]
    _set_path0(os.path.dirname(os.path.realpath(path)))  # as CPython's sys.path[0]
    if namespace is None:
        namespace = _fresh_main().__dict__
    else:
        _fresh(namespace)
    path = os.path.abspath(path)  # CPython makes the script's path absolute
    compiled = source[:4] == _pyc_magic()  # CPython's maybe_pyc_file, then its loader class
    loader = (machinery.SourcelessFileLoader if compiled else machinery.SourceFileLoader)
    namespace.update(__file__=path, __loader__=loader("__main__", path))
    if _SETS_CACHED:
        namespace["__cached__"] = None
    if compiled:
        import marshal

        code = marshal.loads(source[16:])
    else:
        code = compile(source, path, "exec", dont_inherit=True)
    _resume_collector()
    _run_target(exec, code, namespace, keep_runpy=False)  # python runs a script directly


def _pyc_magic() -> bytes:
    from importlib.util import MAGIC_NUMBER

    return MAGIC_NUMBER
